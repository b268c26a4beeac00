import Testing

/// Suites that load the machine (thousands of tasks, child processes) and suites that measure time (a 1 s heartbeat)
/// take turns instead of running beside each other.
///
/// Swift Testing runs every suite at once. On a 2-core machine a load spike from one suite can hold another suite's
/// task past a one-second deadline, and the heartbeat test would then rightly cut a client that is healthy but was
/// never scheduled to answer. The other suites still run in parallel.
public struct TakesTurns: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func provideScope(
        for test: Test,
        testCase: Test.Case?,
        performing function: @Sendable () async throws -> Void
    ) async throws {
        // A recursive suite trait is asked for the suite too; holding the turn there would lock out its own tests.
        guard testCase != nil else { return try await function() }
        await Turn.shared.acquire()
        do {
            try await function()
        } catch {
            await Turn.shared.release()
            throw error
        }
        await Turn.shared.release()
    }
}

extension Trait where Self == TakesTurns {
    public static var takesTurns: Self { Self() }
}

/// One turn, handed to waiters first come, first served.
actor Turn {
    static let shared = Turn()
    private var held = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        guard held else {
            held = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty {
            held = false
        } else {
            waiters.removeFirst().resume()
        }
    }
}
