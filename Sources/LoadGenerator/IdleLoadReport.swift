import ChatClient
import Foundation

public struct IdleLoadReport: Sendable {
    public var opened = 0
    public var failed = 0
    /// Still open at the end (the heartbeat must not cut idle clients that answer pings).
    public var stillOpen = 0
    public var rssBeforeKiB: Int?
    public var rssDuringKiB: Int?
    /// From the first upgrade to the last socket open (64 upgrades in flight at a time).
    public var openingSeconds: Double?
    /// The node's CPU (user and kernel) over the opening: what an upgrade costs it, whatever the client's speed.
    public var openingCPUSeconds: Double?
    /// CPU the node used while the sockets sat idle.
    public var idleCPU: CPUUse?

    public var kibPerSocket: Double? {
        guard let before = rssBeforeKiB, let during = rssDuringKiB, opened > 0 else { return nil }
        return Double(during - before) / Double(opened)
    }

    public var opensPerSecond: Double? {
        guard let seconds = openingSeconds, seconds > 0, opened > 0 else { return nil }
        return Double(opened) / seconds
    }

    /// The node's CPU per opened socket, in microseconds.
    public var cpuMicrosecondsPerOpen: Double? {
        guard let cpu = openingCPUSeconds, opened > 0 else { return nil }
        return cpu * 1e6 / Double(opened)
    }

    public var summary: String {
        var text = "idle: opened \(opened), failed \(failed), still open \(stillOpen)"
        if let rate = opensPerSecond { text += String(format: "; %.0f opens/s", rate) }
        if let cpu = cpuMicrosecondsPerOpen { text += String(format: ", node CPU %.0f µs per open", cpu) }
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
        if let rate = opensPerSecond { fields.append("\"opens_per_second\":\(String(format: "%.0f", rate))") }
        if let cpu = cpuMicrosecondsPerOpen { fields.append("\"node_cpu_us_per_open\":\(String(format: "%.0f", cpu))") }
        if let cpu = idleCPU {
            fields.append("\"idle_cpu_cores\":\(String(format: "%.4f", cpu.cores))")
            fields.append("\"idle_user_cores\":\(String(format: "%.4f", cpu.userCores))")
            fields.append("\"idle_system_cores\":\(String(format: "%.4f", cpu.systemCores))")
        }
        return "{" + fields.joined(separator: ",") + "}"
    }
}
