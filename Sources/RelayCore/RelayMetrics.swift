import ChatProtocol
import Metrics

/// The node's series, through swift-metrics (exported as Prometheus text by the surface), each labelled with the node
/// id and made at start-up, so that `/metrics` lists every one at zero before anything happened.
public final class RelayMetrics: Sendable {
    /// Open sockets on this node.
    public let openSockets: Meter
    /// Users with at least one socket on this node (their channels are subscribed).
    public let users: Meter
    public let socketOpens: Counter
    private let socketCloses: [SocketCloseReason: Counter]
    private let refusals: [RefusalReason: Counter]
    /// Send requests read from sockets.
    public let messagesReceived: Counter
    public let messagesStored: Counter
    /// Sends whose cid was stored already (a retry); acked with the first id.
    public let duplicateSends: Counter
    /// Messages written to sockets, live or from gap fills (a message to two sockets counts twice).
    public let messagesDelivered: Counter
    private let errorsSent: [ErrorCode: Counter]
    /// From a send handed to Redis to its store reply.
    public let storeDuration: Timer
    /// From a message's stream id (Redis's clock when it was stored) to its delivery on this node.
    public let deliveryLag: Timer
    public let syncRequests: Counter
    public let historyRequests: Counter
    /// Stream reads filling a socket's gap (at its opening, after a subscriber reconnect).
    public let gapFills: Counter
    public let gapFillMessages: Counter
    public let heartbeatPings: Counter
    public let heartbeatTerminations: Counter
    /// Bytes of server frames queued for sockets.
    public let outboundBytes: Counter
    /// Presence changes this node announced to friends, by `online` (`true`, `false`).
    private let presenceAnnouncements: [Bool: Counter]
    /// Dead node instances whose users this node took offline.
    public let nodesSwept: Counter
    /// Typing notices relayed to a friend.
    public let typingRelayed: Counter
    /// Read marks moved forward (older marks, which are ignored, are not counted).
    public let readMarksMoved: Counter
    /// Subscription probes that did not come back (each drops its subscriber connection).
    public let probesMissed: Counter
    /// Fetches of `--jwks-url`, by `result` (`ok`, `failed`), and the keys the node holds from it.
    private let keySetFetches: [Bool: Counter]
    private let keySetKeys: Gauge

    private let nodeID: String
    private let factory: any MetricsFactory

    public init(nodeID: String, factory: any MetricsFactory = MetricsSystem.factory) {
        self.nodeID = nodeID
        self.factory = factory
        let node = [("node", nodeID)]
        func counter(_ name: String, _ extra: [(String, String)] = []) -> Counter {
            Counter(label: name, dimensions: node + extra, factory: factory)
        }
        /// One counter per value of `label`, all made now.
        func counters<Value: RawRepresentable<String> & CaseIterable & Hashable>(_ name: String, by label: String, _: Value.Type) -> [Value: Counter]
        {
            Dictionary(uniqueKeysWithValues: Value.allCases.map { ($0, counter(name, [(label, $0.rawValue)])) })
        }
        func timer(_ name: String) -> Timer {
            Timer(label: name, dimensions: node, preferredDisplayUnit: .seconds, factory: factory)
        }
        openSockets = Meter(label: "chatrelay_open_sockets", dimensions: node, factory: factory)
        users = Meter(label: "chatrelay_users", dimensions: node, factory: factory)
        socketOpens = counter("chatrelay_socket_opens_total")
        socketCloses = counters("chatrelay_socket_closes_total", by: "reason", SocketCloseReason.self)
        refusals = counters("chatrelay_refusals_total", by: "reason", RefusalReason.self)
        messagesReceived = counter("chatrelay_messages_received_total")
        messagesStored = counter("chatrelay_messages_stored_total")
        duplicateSends = counter("chatrelay_duplicate_sends_total")
        messagesDelivered = counter("chatrelay_messages_delivered_total")
        errorsSent = counters("chatrelay_errors_sent_total", by: "code", ErrorCode.self)
        storeDuration = timer("chatrelay_store_duration_seconds")
        deliveryLag = timer("chatrelay_delivery_lag_seconds")
        syncRequests = counter("chatrelay_sync_requests_total")
        historyRequests = counter("chatrelay_history_requests_total")
        gapFills = counter("chatrelay_gap_fills_total")
        gapFillMessages = counter("chatrelay_gap_fill_messages_total")
        heartbeatPings = counter("chatrelay_heartbeat_pings_total")
        heartbeatTerminations = counter("chatrelay_heartbeat_terminations_total")
        outboundBytes = counter("chatrelay_outbound_bytes_total")
        presenceAnnouncements = [
            true: counter("chatrelay_presence_announcements_total", [("online", "true")]),
            false: counter("chatrelay_presence_announcements_total", [("online", "false")]),
        ]
        nodesSwept = counter("chatrelay_nodes_swept_total")
        typingRelayed = counter("chatrelay_typing_relayed_total")
        readMarksMoved = counter("chatrelay_read_marks_moved_total")
        probesMissed = counter("chatrelay_subscription_probes_missed_total")
        keySetFetches = [
            true: counter("chatrelay_jwks_fetches_total", [("result", "ok")]),
            false: counter("chatrelay_jwks_fetches_total", [("result", "failed")]),
        ]
        keySetKeys = Gauge(label: "chatrelay_jwks_keys", dimensions: node, factory: factory)
        // Meters start without a value; a gauge at zero is listed.
        openSockets.set(0)
        users.set(0)
    }

    /// Records nothing: for parts used without a node (tests, tools).
    public static var discarding: RelayMetrics { RelayMetrics(nodeID: "", factory: NOOPMetricsHandler.instance) }

    func closed(_ reason: SocketCloseReason) {
        socketCloses[reason]!.increment()
    }

    /// A connection or request was turned away for `reason`.
    /// Redis's used and maximum memory for one server, labelled with it (`server`): made when the server is first
    /// seen, as a cluster's primaries are known only then.
    func redisMemoryGauges(server: String) -> (used: Gauge, maximum: Gauge) {
        let dimensions = [("node", nodeID), ("server", server)]
        return (
            Gauge(label: "chatrelay_redis_used_memory_bytes", dimensions: dimensions, factory: factory),
            Gauge(label: "chatrelay_redis_maxmemory_bytes", dimensions: dimensions, factory: factory)
        )
    }

    func keySetFetched(succeeded: Bool, keys: Int) {
        keySetFetches[succeeded]!.increment()
        keySetKeys.record(keys)
    }

    public func refused(_ reason: RefusalReason) {
        refusals[reason]!.increment()
    }

    /// An error frame with `code` went to a socket.
    public func errorSent(_ code: ErrorCode) {
        errorsSent[code]!.increment()
    }

    func presenceAnnounced(online: Bool) {
        presenceAnnouncements[online]!.increment()
    }

    func stored(isNew: Bool) {
        (isNew ? messagesStored : duplicateSends).increment()
    }
}
