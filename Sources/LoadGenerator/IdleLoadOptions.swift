import ChatClient
import Foundation

/// Holds many idle sockets open on one node, to measure what an idle socket costs the node.
public struct IdleLoadOptions: Sendable {
    public var urls: [String]
    public var connections = 1000
    public var duration: Double = 20
    /// The node's process id, to read its memory and CPU from /proc (same machine only).
    public var serverPID: Int32?
    public var token: (@Sendable (String) async throws -> String)?

    public init(urls: [String]) {
        self.urls = urls
    }
}
