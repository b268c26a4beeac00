import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import RedisClient

public struct RelayStartError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
