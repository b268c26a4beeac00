import RelayCore

/// Every setting of `chatrelay serve`, in the order `--help` and the README list them. The one source of their
/// flags, variables, defaults and help texts: the README's configuration table is ``markdownTable`` (a test keeps
/// it so).
public enum ServeSettings {
    public static let host = ServeSetting("host", "CHATRELAY_HOST", default: "127.0.0.1", "Address to bind")
    public static let port = ServeSetting("port", "CHATRELAY_PORT", default: "4000", "HTTP and WebSocket port")
    public static let redis = ServeSetting(
        "redis",
        "CHATRELAY_REDIS_URL",
        default: "redis://127.0.0.1:6379/0",
        "Redis to use: redis://[:PASSWORD@]HOST:PORT/DB (one server), redis-cluster://[:PASSWORD@]HOST:PORT[,HOST:PORT...] (a Redis Cluster; any reachable nodes as seeds), or redis-sentinel://[:PASSWORD@]HOST:PORT[,HOST:PORT...]/DB#MASTER for the master that these Sentinels name"
    )
    public static let prefix = ServeSetting("prefix", "CHATRELAY_PREFIX", default: "chat", "Prefix of every key and channel")
    public static let auth = ServeSetting("auth", "CHATRELAY_AUTH", default: "jwt", "jwt, or none for local development only")
    public static let jwtSecret = ServeSetting(
        "jwt-secret",
        "CHATRELAY_JWT_SECRET",
        default: nil,
        secret: true,
        "HS256 secret of at least 32 bytes; --auth jwt with no key at all (this, --jwt-public-key or --jwks-url) refuses to start (or CHATRELAY_JWT_SECRET_FILE, a file holding it)"
    )
    public static let historyMaxLen = ServeSetting(
        "history-max-len",
        "CHATRELAY_HISTORY_MAX_LEN",
        default: "0",
        "Per friendship, keep at least the newest N messages and drop older ones as new ones are stored (0 keeps all)"
    )
    public static let historyMaxAge = ServeSetting(
        "history-max-age",
        "CHATRELAY_HISTORY_MAX_AGE",
        default: "0",
        "Seconds a message is kept: older ones are never returned, are dropped as new ones are stored, and a quiet friendship's history expires whole (0 keeps all)"
    )
    public static let jwtPublicKey = ServeSetting(
        "jwt-public-key",
        "CHATRELAY_JWT_PUBLIC_KEY",
        default: nil,
        "PEM files (comma separated) of RS256, ES256 or EdDSA public keys that tokens may be signed with"
    )
    public static let jwksURL = ServeSetting(
        "jwks-url",
        "CHATRELAY_JWKS_URL",
        default: nil,
        "A JSON Web Key Set to verify tokens with, matched by kid; fetched at start, every 10 minutes (a minute after a failure) and when a token names a kid it lacks (at most once a minute); a failed fetch keeps the keys the node had"
    )
    public static let jwtAudience = ServeSetting(
        "jwt-audience",
        "CHATRELAY_JWT_AUDIENCE",
        default: nil,
        "When set, a token must carry this aud (or have it in its list)"
    )
    public static let jwtIssuer = ServeSetting("jwt-issuer", "CHATRELAY_JWT_ISSUER", default: nil, "When set, a token must carry this iss")
    public static let adminToken = ServeSetting(
        "admin-token",
        "CHATRELAY_ADMIN_TOKEN",
        default: nil,
        secret: true,
        "Bearer token of the admin API, at least 32 bytes under --auth jwt (or CHATRELAY_ADMIN_TOKEN_FILE, a file holding it)"
    )
    public static let heartbeat = ServeSetting("heartbeat", "CHATRELAY_HEARTBEAT", default: "10", "Seconds between pings")
    public static let minReplicas = ServeSetting(
        "min-replicas",
        "CHATRELAY_MIN_REPLICAS",
        default: "0",
        "Replicas that must have a message before it is acked; when they do not confirm within 1 s the send is answered unavailable (it may be stored; a retry with the same cid is safe)"
    )
    public static let nodeID = ServeSetting(
        "node-id",
        "CHATRELAY_NODE_ID",
        default: "host name and pid",
        computed: { RelayConfiguration.defaultNodeID() },
        "Name in logs and metrics"
    )
    public static let rate = ServeSetting(
        "rate",
        "CHATRELAY_RATE",
        default: "50",
        "Frames per second allowed to each socket, and to all of a user's sockets on the node together; 0 = no limit"
    )
    public static let burst = ServeSetting("burst", "CHATRELAY_BURST", default: "100", "Burst of frames allowed over the rate")
    public static let maxContent = ServeSetting("max-content", "CHATRELAY_MAX_CONTENT", default: "16384", "Largest content in bytes")
    public static let maxFrame = ServeSetting(
        "max-frame",
        "CHATRELAY_MAX_FRAME",
        default: "65536",
        "Largest frame in bytes; a larger one closes the socket with 1009"
    )
    public static let maxQueue = ServeSetting(
        "max-queue",
        "CHATRELAY_MAX_QUEUE",
        default: "4096",
        "Frames a slow socket may fall behind before it is closed with 1008"
    )
    public static let maxQueueBytes = ServeSetting("max-queue-bytes", "CHATRELAY_MAX_QUEUE_BYTES", default: "8388608", "The same bound in bytes")
    public static let maxConnections = ServeSetting(
        "max-connections",
        "CHATRELAY_MAX_CONNECTIONS",
        default: "the open-file limit less 256",
        computed: { String(FileDescriptorLimit.defaultMaximumConnections(reserve: RelayConfiguration.reservedFileDescriptors)) },
        "TCP connections (HTTP and WebSocket) held at once; one more is answered 503 and closed. The node raises its open-file limit to the hard limit at start"
    )
    public static let maxSocketsPerUser = ServeSetting(
        "max-sockets-per-user",
        "CHATRELAY_MAX_SOCKETS_PER_USER",
        default: "32",
        "Open sockets of one user on this node; one more upgrade is answered 429"
    )
    public static let requestTimeout = ServeSetting(
        "request-timeout",
        "CHATRELAY_REQUEST_TIMEOUT",
        default: "10",
        "Seconds a connection may take to send a whole request (head, then body), from its opening or its previous answer; then closed, answered 408 first when part of a request came"
    )
    public static let allowedOrigins = ServeSetting(
        "allowed-origins",
        "CHATRELAY_ALLOWED_ORIGINS",
        default: nil,
        "Origins (https://chat.example.com, comma separated) whose pages may open sockets besides the node's own; * allows any"
    )
    public static let adminPort = ServeSetting(
        "admin-port",
        "CHATRELAY_ADMIN_PORT",
        default: nil,
        "When set, the admin routes and /metrics are served only on this port, and the public port refuses the admin token"
    )
    public static let adminHost = ServeSetting(
        "admin-host",
        "CHATRELAY_ADMIN_HOST",
        default: "127.0.0.1",
        "Address the admin port binds"
    )
    public static let threads = ServeSetting(
        "threads",
        "CHATRELAY_THREADS",
        default: "1",
        "Event loop threads; one loop per node avoids handing every delivery across threads, so scale out by running a node per core"
    )
    public static let logLevel = ServeSetting(
        "log-level",
        "CHATRELAY_LOG_LEVEL",
        default: "notice",
        "trace, debug, info, notice, warning or error"
    )

    public static let all: [ServeSetting] = [
        host, port, redis, prefix, auth, jwtSecret, jwtPublicKey, jwksURL, jwtAudience, jwtIssuer, adminToken, historyMaxLen, historyMaxAge,
        heartbeat, minReplicas, nodeID, rate,
        burst, maxContent, maxFrame, maxQueue,
        maxQueueBytes, maxConnections, maxSocketsPerUser, requestTimeout, allowedOrigins, adminPort, adminHost, threads, logLevel,
    ]

    /// The README's table: flag, variable, default, meaning.
    public static var markdownTable: String {
        let rows = all.map { setting in
            "| `--\(setting.flag)` | `\(setting.variable)` | \(setting.defaultText.map { "`\($0)`" } ?? "none") | \(setting.summary) |"
        }
        return (["| flag | variable | default | meaning |", "|---|---|---|---|"] + rows).joined(separator: "\n")
    }
}
