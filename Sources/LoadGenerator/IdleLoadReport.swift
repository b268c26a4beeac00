import ChatClient
import Foundation

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
