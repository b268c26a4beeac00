// Pipelined throughput of the Redis client, printed next to redis-benchmark's for the same commands on the same
// Redis in the same run. Not a test: it prints figures.
//
//   redis-client-bench [--url redis://127.0.0.1:6379/0] [--requests 200000] [--callers 50]
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RedisClient

struct Options {
    var url = "redis://127.0.0.1:6379/0"
    var requests = 200_000
    var callers = 50

    init(arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let flag = iterator.next() {
            let value = iterator.next() ?? ""
            switch flag {
            case "--url": url = value
            case "--requests": requests = Int(value) ?? requests
            case "--callers": callers = Int(value) ?? callers
            default:
                FileHandle.standardError.write(Data("unknown flag \(flag)\n".utf8))
                exit(2)
            }
        }
    }
}

/// `callers` concurrent tasks, each sending its share of commands one after the other, as relay sockets do.
func measure(_ client: RedisClient, requests: Int, callers: Int, command: [RedisArgument]) async throws -> Double {
    let start = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for caller in 0..<callers {
            let share = requests / callers + (caller < requests % callers ? 1 : 0)
            group.addTask {
                for _ in 0..<share { _ = try await client.send(command).get() }
            }
        }
        try await group.waitForAll()
    }
    let elapsed = ContinuousClock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return Double(requests) / seconds
}

/// `callers` chains of futures: each reply sends that caller's next command from the event loop, with no task in
/// between. The ceiling of the client itself.
func measureChained(_ client: RedisClient, requests: Int, callers: Int, command: [RedisArgument]) async throws -> Double {
    let start = ContinuousClock.now
    let loop = MultiThreadedEventLoopGroup.singleton.any()
    let done = loop.makePromise(of: Void.self)
    let remaining = NIOLockedValueBox(requests)
    let finished = NIOLockedValueBox(0)
    @Sendable func next() {
        let go = remaining.withLockedValue { count -> Bool in
            guard count > 0 else { return false }
            count -= 1
            return true
        }
        guard go else {
            if finished.withLockedValue({
                $0 += 1
                return $0
            }) == callers {
                done.succeed()
            }
            return
        }
        client.send(command).whenComplete { _ in next() }
    }
    for _ in 0..<callers { next() }
    try await done.futureResult.get()
    let elapsed = ContinuousClock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return Double(requests) / seconds
}

/// Runs redis-benchmark (`connections` × `pipeline` in flight) and returns its requests per second, if it is installed.
func redisBenchmark(_ configuration: RedisConfiguration, requests: Int, connections: Int, pipeline: Int, command: [String]) -> Double? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-benchmark")
    var arguments = ["-h", configuration.host, "-p", "\(configuration.port)", "-c", "\(connections)", "-P", "\(pipeline)", "-n", "\(requests)", "-q"]
    if let password = configuration.password { arguments += ["-a", password] }
    process.arguments = arguments + command
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return nil }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    // redis-benchmark -q prints progress lines separated by \r, then "NAME: 123456.78 requests per second, ...".
    let text = String(decoding: data, as: UTF8.self).split(whereSeparator: { $0 == "\r" || $0 == "\n" }).last ?? ""
    guard let marker = text.range(of: " requests per second") else { return nil }
    return Double(text[..<marker.lowerBound].split(separator: " ").last ?? "")
}

// Tasks then run on the event loop threads: a reply resumes its caller without waking another thread.
_ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()

let options = Options(arguments: CommandLine.arguments)
let configuration = try RedisConfiguration(url: options.url)
let client = RedisClient(configuration: configuration)
try await client.connect()

let payload = String(repeating: "x", count: 100)
let cases: [(name: String, command: [String])] = [
    ("PING", ["PING"]),
    ("XADD 100 B", ["XADD", "bench:client:stream", "MAXLEN", "~", "100000", "*", "payload", payload]),
]
print("redis-client-bench: \(options.requests) requests, \(options.callers) callers in flight, \(configuration.redactedURL)")
// Two references: the issue's command (redis-benchmark's default 50 connections, each 50 deep: 2,500 in flight), and
// redis-benchmark with as many commands in flight as our callers, on one connection like ours.
print(
    "command        async callers req/s   future callers req/s   redis-benchmark -P 50 req/s   ratio"
        + "   redis-benchmark -c 1 -P \(options.callers) req/s   ratio"
)
for benchCase in cases {
    let arguments = benchCase.command.map { RedisArgument.string($0) }
    // A short warm-up so that connection set-up and first allocations are not measured.
    _ = try await measure(client, requests: min(10_000, options.requests), callers: options.callers, command: arguments)
    let tasks = try await measure(client, requests: options.requests, callers: options.callers, command: arguments)
    let chained = try await measureChained(client, requests: options.requests, callers: options.callers, command: arguments)
    let ours = max(tasks, chained)
    let issue = redisBenchmark(configuration, requests: options.requests, connections: 50, pipeline: 50, command: benchCase.command)
    let alike = redisBenchmark(configuration, requests: options.requests, connections: 1, pipeline: options.callers, command: benchCase.command)
    print(
        benchCase.name.padding(toLength: 15, withPad: " ", startingAt: 0)
            + String(format: "%19.0f", tasks) + String(format: "%23.0f", chained)
            + figure(issue).leftPadded(to: 29) + ratio(ours, issue).leftPadded(to: 8)
            + figure(alike).leftPadded(to: 35) + ratio(ours, alike).leftPadded(to: 8)
    )
}
_ = try await client.command("DEL", "bench:client:stream")
await client.shutdown()

func figure(_ value: Double?) -> String { value.map { String(format: "%.0f", $0) } ?? "n/a" }
func ratio(_ ours: Double, _ reference: Double?) -> String { reference.map { String(format: "%.2f", ours / $0) } ?? "n/a" }

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
