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

public struct IdleLoadReport: Sendable {
    public var opened = 0
    public var failed = 0
    /// Still open at the end (the heartbeat must not cut idle clients that answer pings).
    public var stillOpen = 0
    public var rssBeforeKiB: Int?
    public var rssDuringKiB: Int?
    /// CPU the node used while the sockets sat idle.
    public var idleCPU: CPUUse?

    public var kibPerSocket: Double? {
        guard let before = rssBeforeKiB, let during = rssDuringKiB, opened > 0 else { return nil }
        return Double(during - before) / Double(opened)
    }

    public var summary: String {
        var text = "idle: opened \(opened), failed \(failed), still open \(stillOpen)"
        if let kib = kibPerSocket, let before = rssBeforeKiB, let during = rssDuringKiB {
            text += "; node RSS \(before) -> \(during) KiB, \(String(format: "%.1f", kib)) KiB per socket"
        }
        if let cpu = idleCPU {
            text += String(format: "; idle CPU %.4f cores (user %.4f, kernel %.4f)", cpu.cores, cpu.userCores, cpu.systemCores)
        }
        return text
    }

    public var json: String {
        var fields = ["\"mode\":\"idle\"", "\"opened\":\(opened)", "\"failed\":\(failed)", "\"still_open\":\(stillOpen)"]
        if let kib = kibPerSocket { fields.append("\"kib_per_conn\":\(String(format: "%.1f", kib))") }
        if let cpu = idleCPU {
            fields.append("\"idle_cpu_cores\":\(String(format: "%.4f", cpu.cores))")
            fields.append("\"idle_user_cores\":\(String(format: "%.4f", cpu.userCores))")
            fields.append("\"idle_system_cores\":\(String(format: "%.4f", cpu.systemCores))")
        }
        return "{" + fields.joined(separator: ",") + "}"
    }
}

/// CPU cores a process used over a window, split between its own code and the kernel working for it: at idle
/// most of a relay's cost is the kernel's `write` and `read` per ping and pong.
public struct CPUUse: Sendable {
    public var userCores: Double
    public var systemCores: Double
    public var cores: Double { userCores + systemCores }
}

public enum IdleLoad {
    public static func run(_ options: IdleLoadOptions) async throws -> IdleLoadReport {
        guard !options.urls.isEmpty else { throw ChatClientError("no node URLs") }
        var report = IdleLoadReport()
        report.rssBeforeKiB = options.serverPID.flatMap(ProcessStats.residentKiB)
        let connections = await withTaskGroup(of: ChatConnection?.self) { group in
            var opened: [ChatConnection] = []
            var next = 0
            func addNext() {
                let index = next
                next += 1
                group.addTask {
                    var url = "\(options.urls[index % options.urls.count])/ws/idle-\(index)"
                    if let token = options.token { url += "?token=\((try? await token("idle-\(index)")) ?? "")" }
                    // Frames are read (so pings are answered) and dropped.
                    return try? await ChatConnection.connect(url: url) { _ in }
                }
            }
            for _ in 0..<min(64, options.connections) { addNext() }
            while let connection = await group.next() {
                if let connection { opened.append(connection) }
                if next < options.connections { addNext() }
            }
            return opened
        }
        report.opened = connections.count
        report.failed = options.connections - connections.count
        // Let the node settle, then measure over the rest of the hold.
        let settle = min(2.0, options.duration / 4)
        try? await Task.sleep(for: .seconds(settle))
        let cpuBefore = options.serverPID.flatMap(ProcessStats.cpuTime)
        let measuredFrom = ContinuousClock.now
        try? await Task.sleep(for: .seconds(max(0, options.duration - settle)))
        if let pid = options.serverPID, let before = cpuBefore, let after = ProcessStats.cpuTime(pid) {
            let elapsed = ContinuousClock.now - measuredFrom
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            report.idleCPU = CPUUse(
                userCores: (after.userSeconds - before.userSeconds) / seconds,
                systemCores: (after.systemSeconds - before.systemSeconds) / seconds
            )
        }
        report.rssDuringKiB = options.serverPID.flatMap(ProcessStats.residentKiB)
        report.stillOpen = connections.filter { !$0.isClosed }.count
        await withTaskGroup(of: Void.self) { group in
            for connection in connections { group.addTask { await connection.close() } }
        }
        return report
    }
}

/// A process's memory and CPU time from /proc (Linux).
enum ProcessStats {
    static func residentKiB(_ pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
        return line.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") }
    }

    static func cpuTime(_ pid: Int32) -> (userSeconds: Double, systemSeconds: Double)? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let afterName = stat.range(of: ") ")
        else { return nil }
        // Fields after the command name start at field 3; utime and stime are fields 14 and 15.
        let fields = stat[afterName.upperBound...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        return (user / ticksPerSecond, system / ticksPerSecond)
    }
}
