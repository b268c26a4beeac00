import NIOCore
import Testing

@testable import RedisClient

/// Which key routes a command on a cluster: the first argument, a script's first key, none for keyless commands.
@Suite struct RoutingKeyTests {
    @Test func commandsGoByTheirFirstKeyAndScriptsByTheirFirstKey() {
        let history = HashSlot(key: "chat:history:{f1}")
        #expect(RoutingKey.slot(of: ["XRANGE", "chat:history:{f1}", "-", "+"]) == history)
        #expect(RoutingKey.slot(of: ["SPUBLISH", "chat:deliver:{u1}", "frame"]) == HashSlot(key: "chat:deliver:{u1}"))
        #expect(RoutingKey.slot(of: ["EVALSHA", "0123", .integer(2), "chat:history:{f1}", "chat:cids:{f1}:1", "arg"]) == history)
        #expect(RoutingKey.slot(of: ["EVAL", "return 1", .integer(1), "chat:history:{f1}"]) == history)
        #expect(RoutingKey.slot(of: [.bytes(ByteBuffer(string: "GET")), .bytes(ByteBuffer(string: "chat:history:{f1}"))]) == nil)
        #expect(RoutingKey.slot(of: ["GET", .bytes(ByteBuffer(string: "chat:history:{f1}"))]) == history)
        // A subcommand before the key.
        #expect(RoutingKey.slot(of: ["XINFO", "STREAM", "chat:history:{f1}"]) == history)
        #expect(RoutingKey.slot(of: ["MEMORY", "USAGE", "chat:history:{f1}", "SAMPLES", "0"]) == history)
    }

    @Test func keylessCommandsGoAnywhere() {
        for command: [RedisArgument] in [["TIME"], ["PING"], ["WAIT", .integer(1), .integer(1000)], ["EVALSHA", "0123", .integer(0), "arg"]] {
            #expect(RoutingKey.slot(of: command) == nil, "\(command)")
        }
    }
}
