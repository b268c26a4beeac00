import NIOCore
import RedisClient
import TestSupport
import Testing

@Suite(.takesTurns) struct PipeliningTests {
    @Test func tenThousandConcurrentCommandsEachGetTheirOwnReply() async throws {
        let redis = try await RedisServer()
        let client = RedisClient(configuration: redis.configuration)
        try await client.connect()
        defer { Task { await client.shutdown() } }

        let count = 10_000
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<count {
                group.addTask {
                    _ = try await client.command("SET", .string("key:\(index)"), .string("value:\(index)"))
                    let reply = try await client.command("GET", .string("key:\(index)"))
                    #expect(reply.string == "value:\(index)")
                }
            }
            try await group.waitForAll()
        }
        #expect(try await client.command("DBSIZE") == .integer(Int64(count)))

        // Futures issued without awaiting in between still come back in order, each with its own reply.
        let futures = (0..<count).map { _ in client.send(["INCR", "counter"]) }
        for (index, future) in futures.enumerated() {
            #expect(try await future.get() == .integer(Int64(index + 1)))
        }
    }

    @Test func commandsIssuedTogetherShareRoundTrips() async throws {
        let redis = try await RedisServer()
        let client = RedisClient(configuration: redis.configuration)
        try await client.connect()
        defer { Task { await client.shutdown() } }

        // Redis counts one "read" per batch it reads from the socket: 1,000 futures issued at once must reach it
        // in far fewer reads than 1,000 if they are flushed together.
        func totalReads() async throws -> Int {
            let info = try await client.command("INFO", "stats").string ?? ""
            let line = info.split(separator: "\r\n").first { $0.hasPrefix("total_reads_processed:") } ?? ""
            return Int(line.split(separator: ":").last ?? "") ?? -1
        }
        let before = try await totalReads()
        let futures = (0..<1_000).map { _ in client.send(["PING"]) }
        for future in futures { _ = try await future.get() }
        let reads = try await totalReads() - before
        #expect(reads > 0)
        // The callers run beside the event loop, which may flush a few times while they are still issuing; one
        // write per command would be 1,000 reads. (Quiet machine: under 20; all suites at once on 2 cores: up to ~70.)
        #expect(reads < 200, "1,000 pipelined PINGs took \(reads) socket reads")
    }
}
