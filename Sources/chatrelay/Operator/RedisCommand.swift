import ArgumentParser
import Foundation

struct RedisCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis",
        abstract: "What Redis holds, as a node sees it.",
        subcommands: [Memory.self]
    )

    struct Memory: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Redis's memory per server, and what the histories take: in all (estimated from MEMORY USAGE samples) and the largest."
        )
        @OptionGroup var node: NodeOptions
        @Option(help: "History streams to measure with MEMORY USAGE.") var sample = 200

        func run() async throws {
            let (status, json) = try await node.admin.call("GET", "/api/redis/memory?sample=\(sample)")
            guard status == 200 else { throw OperatorError("reading Redis's memory", status: status, json: json) }
            if node.json { return JSONLine.print(json) }
            for server in json["servers"] as? [[String: Any]] ?? [] {
                let used = server["used_bytes"] as? Int ?? 0
                let maximum = server["max_bytes"] as? Int ?? 0
                let share =
                    maximum > 0
                    ? " (\(String(format: "%.0f", Double(used) * 100 / Double(maximum)))% of maxmemory \(Self.size(maximum)))" : " (no maxmemory)"
                print("\(server["server"] as? String ?? "?")  used \(Self.size(used))\(share)  policy \(server["policy"] as? String ?? "?")")
            }
            let history = json["history"] as? [String: Any] ?? [:]
            let streams = history["streams"] as? Int ?? 0
            let sampled = history["sampled"] as? Int ?? 0
            let mean = sampled > 0 ? (history["sampled_bytes"] as? Int ?? 0) / sampled : 0
            print(
                "history  \(streams) friendships, about \(Self.size(history["estimated_bytes"] as? Int ?? 0)) (\(Self.size(mean)) each over \(sampled) sampled)"
            )
            for entry in history["largest"] as? [[String: Any]] ?? [] {
                print("  \(entry["friend"] as? String ?? "?")  \(Self.size(entry["bytes"] as? Int ?? 0))")
            }
        }

        static func size(_ bytes: Int) -> String {
            let units = ["B", "KiB", "MiB", "GiB", "TiB"]
            var value = Double(bytes)
            var unit = 0
            while value >= 1024, unit < units.count - 1 {
                value /= 1024
                unit += 1
            }
            return unit == 0 ? "\(bytes) B" : "\(String(format: "%.1f", value)) \(units[unit])"
        }
    }
}
