import ChatClient
import Foundation

public enum IdleLoad {
    public static func run(_ options: IdleLoadOptions) async throws -> IdleLoadReport {
        guard !options.urls.isEmpty else { throw ChatClientError("no node URLs") }
        var report = IdleLoadReport()
        report.rssBeforeKiB = options.serverPID.flatMap(ProcessStats.residentKiB)
        // Minted before the clock starts: signing (RSA especially) is the client's cost, not the node's.
        var minted: [String?] = Array(repeating: nil, count: options.connections)
        if let mint = options.token {
            for index in minted.indices { minted[index] = (try? await mint("idle-\(index)")) ?? "" }
        }
        let tokens = minted
        let openingStarted = ContinuousClock.now
        let cpuBeforeOpening = options.serverPID.flatMap(ProcessStats.cpuTime)
        let connections = await withTaskGroup(of: ChatConnection?.self) { group in
            var opened: [ChatConnection] = []
            var next = 0
            func addNext() {
                let index = next
                next += 1
                group.addTask {
                    let token = tokens[index]
                    // Frames are read (so pings are answered) and dropped.
                    return try? await ChatConnection.connect(url: "\(options.urls[index % options.urls.count])/ws/idle-\(index)", token: token) { _ in
                    }
                }
            }
            for _ in 0..<min(64, options.connections) { addNext() }
            while let connection = await group.next() {
                if let connection { opened.append(connection) }
                if next < options.connections { addNext() }
            }
            return opened
        }
        report.openingSeconds = (ContinuousClock.now - openingStarted).seconds
        if let pid = options.serverPID, let before = cpuBeforeOpening, let after = ProcessStats.cpuTime(pid) {
            report.openingCPUSeconds = (after.userSeconds - before.userSeconds) + (after.systemSeconds - before.systemSeconds)
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
            let seconds = (ContinuousClock.now - measuredFrom).seconds
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
