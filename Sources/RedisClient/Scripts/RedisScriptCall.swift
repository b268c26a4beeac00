import NIOConcurrencyHelpers
import NIOCore

/// One `EVALSHA` of a script: its keys, then its arguments, appended in order into the command's one array.
public struct RedisScriptCall: Sendable {
    let script: RedisScript
    private(set) var command: [RedisArgument]

    /// `keys` and `arguments` are how many of each will be appended; the keys come first.
    public init(_ script: RedisScript, keys: Int, arguments: Int) {
        self.script = script
        command = []
        command.reserveCapacity(3 + keys + arguments)
        command.append("EVALSHA")
        command.append(.string(script.sha))
        command.append(.integer(keys))
    }

    public mutating func append(_ argument: RedisArgument) {
        command.append(argument)
    }
}
