import ChatClient
import Foundation

/// CPU cores a process used over a window, split between its own code and the kernel working for it: at idle
/// most of a relay's cost is the kernel's `write` and `read` per ping and pong.
public struct CPUUse: Sendable {
    public var userCores: Double
    public var systemCores: Double
    public var cores: Double { userCores + systemCores }
}
