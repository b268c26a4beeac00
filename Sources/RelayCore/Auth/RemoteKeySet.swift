import Logging
import ServiceLifecycle
import Synchronization

/// The keys of a JSON Web Key Set (`--jwks-url`), kept fresh by ``KeySetSchedule``'s rules. A fetch that succeeds
/// replaces the keys; one that fails keeps those the node had, and says so in the log and in
/// `chatrelay_jwks_fetches_total{result="failed"}`. Verifying never waits for a periodic fetch: only a token naming
/// an unknown `kid` waits, for the one fetch it may cause.
///
/// The HTTP request is the surface's (``fetch``), so that the core holds no HTTP client. A service: ``run()`` keeps
/// the schedule until graceful shutdown.
public final class RemoteKeySet: Sendable {
    public typealias Fetch = @Sendable () async throws -> [UInt8]

    private struct State {
        var keys: [VerificationKey] = []
        var schedule = KeySetSchedule()
        /// The fetch under way, which callers arriving meanwhile wait for instead of starting another.
        var inFlight: Task<Void, Never>?
    }

    /// For the logs: where the set comes from.
    public let location: String
    private let fetch: Fetch
    private let logger: Logger
    private let metrics: RelayMetrics
    private let state = Mutex(State())

    public init(location: String, logger: Logger, metrics: RelayMetrics, fetch: @escaping Fetch) {
        self.location = location
        self.fetch = fetch
        self.logger = logger
        self.metrics = metrics
    }

    public var keys: [VerificationKey] { state.withLock { $0.keys } }

    public func contains(kid: String) -> Bool {
        state.withLock { $0.keys.contains { $0.kid == kid } }
    }

    /// A token named `kid`, which the set lacks: fetches once if the schedule allows, and returns when that fetch (or
    /// one already under way) is done.
    func refresh(forUnknownKid kid: String) async {
        let allowed = state.withLock { $0.schedule.unknownKid(at: .now) }
        guard allowed else { return }
        logger.info("a token names a key the set lacks; fetching the set", metadata: ["kid": "\(kid)", "jwks": "\(location)"])
        await refreshNow()
    }

    /// Fetches the set now (or joins the fetch under way) and returns when it is done.
    public func refreshNow() async {
        let task = state.withLock { state -> Task<Void, Never> in
            if let running = state.inFlight { return running }
            let task = Task { await self.fetchOnce() }
            state.inFlight = task
            return task
        }
        await task.value
    }

    private func fetchOnce() async {
        var keys: [VerificationKey]?
        do {
            let document = try await KeySetDocument.parse(try await fetch())
            keys = document.keys
            logger.debug("key set fetched", metadata: ["keys": "\(document.keys.count)", "skipped": "\(document.skipped)", "jwks": "\(location)"])
        } catch {
            logger.warning(
                "cannot fetch the key set; keeping the keys the node had",
                metadata: ["jwks": "\(location)", "error": "\(error)", "keys": "\(self.keys.count)"]
            )
        }
        let count = state.withLock { state in
            state.inFlight = nil
            state.schedule.fetched(succeeded: keys != nil, at: .now)
            if let keys { state.keys = keys }
            return state.keys.count
        }
        metrics.keySetFetched(succeeded: keys != nil, keys: count)
    }
}

extension RemoteKeySet: Service {
    /// Fetches when the schedule says, until graceful shutdown. The first fetch is the start's (``refreshNow()``).
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let due = self.state.withLock { $0.schedule.nextFetch } ?? .now
                try? await Task.sleep(until: due, clock: .continuous)
                guard !Task.isCancelled else { return }
                // A fetch for an unknown kid may have moved the schedule on while this one slept.
                if let next = self.state.withLock({ $0.schedule.nextFetch }), next > .now { continue }
                await self.refreshNow()
            }
        }
    }
}
