import Foundation

/// Everything a relay node is configured with; the CLI fills it from flags and `CHATRELAY_*` variables.
public struct RelayConfiguration: Sendable {
    public var redisURL: String = "redis://127.0.0.1:6379/0"
    /// The password of a Redis URL that names none (`CHATRELAY_REDIS_PASSWORD_FILE`).
    public var redisPassword: String?
    public var prefix: String = "chat"
    public var auth: AuthMode = .jwt
    /// Per friendship, the newest messages kept at least (`--history-max-len`); 0 keeps all.
    public var historyMaximumLength = 0
    /// Seconds a message is kept and returned (`--history-max-age`); 0 keeps all.
    public var historyMaximumAge: Double = 0
    /// The HS256 secret; with the keys below, every key a user token may be signed with.
    public var jwtSecret: String?
    /// PEM files of RS256, ES256 or EdDSA public keys.
    public var jwtPublicKeyFiles: [String] = []
    /// A JSON Web Key Set, matched by `kid` (``RemoteKeySet``).
    public var jwksURL: String?
    /// When set, a token must carry this `aud` and this `iss`.
    public var jwtAudience: String?
    public var jwtIssuer: String?
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
    /// Open sockets one user may hold on this node; one more upgrade is answered 429.
    public var maximumSocketsPerUser: Int = 32
    /// TCP connections (HTTP and WebSocket) the node holds at once; one more is answered 503 and closed. Nil: the
    /// open-file limit less ``reservedFileDescriptors``.
    public var maximumConnections: Int?
    /// Seconds a connection may take to send a whole request head (and then its body), from its opening or its
    /// previous answer.
    public var requestTimeout: Double = 10
    /// Origins (`https://chat.example.com`) whose pages may open sockets besides the node's own; `*` allows any.
    public var allowedOrigins: [String] = []
    /// When set, the admin routes and `/metrics` are served only on this port, bound on ``adminHost``.
    public var adminPort: Int?
    public var adminHost: String = "127.0.0.1"
    /// How long the drain waits for sockets and requests to finish before the node closes what is left and exits.
    public var drainTime: Double = 5

    /// Descriptors kept back from ``maximumConnections``' default for Redis connections, files and the listeners.
    public static let reservedFileDescriptors = 256

    /// Seconds a Redis command may go unanswered before the connection is declared broken (and sends answer
    /// `unavailable`).
    public var redisCommandTimeout: Double = 3
    /// Seconds a connection to Redis may take, handshake included.
    public var redisConnectTimeout: Double = 3

    public init() {}

    public static func defaultNodeID() -> String {
        "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
    }

    var retention: Retention {
        Retention(maximumLength: historyMaximumLength, maximumAgeMilliseconds: Int64(historyMaximumAge * 1000))
    }
}
