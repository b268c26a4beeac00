import NIOCore

/// Which key of a command decides its slot on a cluster: the first key, which for most commands ChatRelay sends is
/// the first argument, for a script the first of its keys, and after the subcommand for `XINFO`, `MEMORY` and `OBJECT`. Commands without a key go to any primary.
enum RoutingKey {
    private static let keyless: Set<String> = ["TIME", "PING", "INFO", "WAIT", "ROLE", "CLUSTER", "SCRIPT", "DBSIZE", "ECHO"]

    static func slot(of command: [RedisArgument]) -> HashSlot? {
        guard command.count > 1, case .string(let name) = command[0] else { return nil }
        switch name {
        case "EVALSHA", "EVAL", "FCALL":
            guard command.count > 3, case .integer(let keys) = command[2], keys > 0 else { return nil }
            return slot(of: command[3])
        case "XINFO", "MEMORY", "OBJECT":
            // A subcommand first, then the key (`XINFO STREAM key`).
            return command.count > 2 ? slot(of: command[2]) : nil
        default:
            return keyless.contains(name.uppercased()) ? nil : slot(of: command[1])
        }
    }

    private static func slot(of key: RedisArgument) -> HashSlot {
        switch key {
        case .string(let text): HashSlot(key: text)
        case .bytes(let bytes): HashSlot(keyBytes: bytes.readableBytesView)
        case .integer(let value): HashSlot(key: String(value))
        }
    }
}
