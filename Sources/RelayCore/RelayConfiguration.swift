import Foundation

/// Everything a relay node is configured with; the CLI fills it from flags and `CHATRELAY_*` variables.
public struct RelayConfiguration: Sendable {
    public var redisURL: String = "redis://127.0.0.1:6379/0"
    public var prefix: String = "chat"
    public var auth: AuthMode = .jwt
    public var jwtSecret: String?
    public var adminToken: String?
    /// Seconds between pings.
    public var heartbeat: Double = 10
    /// Replicas that must confirm a store (`WAIT`) before its ack; 0 acks once the master stored it.
    public var minimumReplicas = 0
    /// How long a store waits for those replicas before it is answered `unavailable`.
    public var replicaWaitMilliseconds = 1000
    public var nodeID: String = RelayConfiguration.defaultNodeID()
    /// Largest `content` in UTF-8 bytes.
    public var maximumContentBytes: Int = 16 * 1024
    /// Largest inbound WebSocket frame; a larger one closes the socket with 1009.
    public var maximumFrameBytes: Int = 64 * 1024
    /// Frames per second per socket on average, and the burst allowed over it.
    public var rate: Double = 50
    public var burst: Double = 100
    /// Frames a socket may fall behind before it is closed with 1008 (it recovers them with `sync`).
    public var maximumQueuedFrames: Int = 4096
    /// The same bound in bytes, whichever comes first.
    public var maximumQueuedBytes: Int = 8 * 1024 * 1024
    /// Seconds a Redis command may go unanswered before the connection is declared broken (and sends answer
    /// `unavailable`).
    public var redisCommandTimeout: Double = 3
    /// Seconds a connection to Redis may take, handshake included.
    public var redisConnectTimeout: Double = 3

    public init() {}

    public static func defaultNodeID() -> String {
        "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
    }
}
