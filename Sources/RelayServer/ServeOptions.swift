import Foundation
import Logging
import RelayCore

/// What `chatrelay serve` was given on its command line; nil where a flag was absent.
public struct ServeFlags: Sendable {
    public var host: String?
    public var port: Int?
    public var redis: String?
    public var prefix: String?
    public var auth: String?
    public var jwtSecret: String?
    public var jwtPublicKey: String?
    public var historyMaxLen: Int?
    public var historyMaxAge: Double?
    public var jwksURL: String?
    public var jwtAudience: String?
    public var jwtIssuer: String?
    public var adminToken: String?
    public var heartbeat: Double?
    public var minReplicas: Int?
    public var nodeID: String?
    public var rate: Double?
    public var burst: Double?
    public var maxContent: Int?
    public var maxFrame: Int?
    public var maxQueue: Int?
    public var maxQueueBytes: Int?
    public var maxConnections: Int?
    public var maxSocketsPerUser: Int?
    public var requestTimeout: Double?
    public var allowedOrigins: String?
    public var adminPort: Int?
    public var adminHost: String?
    public var threads: Int?
    public var logLevel: String?

    public init() {}
}

/// A node's settings once flags, variables and defaults are resolved (``ServeSettings``), read once at start-up.
public struct ServeOptions: Sendable {
    public var relay: RelayConfiguration
    public var host: String
    public var port: Int
    public var threads: Int
    public var logLevel: Logger.Level

    /// Every setting from its flag, else its variable in `environment`, else its default; a value that cannot be
    /// used throws a ``ServeSettingError`` naming the flag or variable.
    public init(_ flags: ServeFlags, environment: [String: String]) throws {
        typealias S = ServeSettings
        func text(_ setting: ServeSetting, _ flag: String?) throws -> String? { try setting.resolve(flag, environment: environment) }
        func number<N>(_ setting: ServeSetting, _ flag: N?, _ parse: (String) -> N?) throws -> N {
            // Every numeric setting has a default, so a value always comes.
            guard let value = try setting.resolve(flag, environment: environment, parse) else {
                throw ServeSettingError("--\(setting.flag) has no value")
            }
            return value
        }
        var relay = RelayConfiguration()
        relay.redisURL = try text(S.redis, flags.redis)!
        relay.prefix = try text(S.prefix, flags.prefix)!
        let authName = try text(S.auth, flags.auth)!
        guard let auth = AuthMode(rawValue: authName) else { throw ServeSettingError("--auth must be jwt or none, not \(authName)") }
        relay.auth = auth
        relay.jwtSecret = try text(S.jwtSecret, flags.jwtSecret)
        relay.jwtPublicKeyFiles = (try text(S.jwtPublicKey, flags.jwtPublicKey) ?? "").split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
        }.filter { !$0.isEmpty }
        relay.jwksURL = try text(S.jwksURL, flags.jwksURL)
        relay.jwtAudience = try text(S.jwtAudience, flags.jwtAudience)
        relay.jwtIssuer = try text(S.jwtIssuer, flags.jwtIssuer)
        relay.adminToken = try text(S.adminToken, flags.adminToken)
        relay.historyMaximumLength = try number(S.historyMaxLen, flags.historyMaxLen, Int.init)
        guard relay.historyMaximumLength >= 0 else { throw ServeSettingError("--history-max-len must be 0 or more") }
        relay.historyMaximumAge = try number(S.historyMaxAge, flags.historyMaxAge, Double.init)
        guard relay.historyMaximumAge >= 0 else { throw ServeSettingError("--history-max-age must be 0 or more") }
        relay.heartbeat = try number(S.heartbeat, flags.heartbeat, Double.init)
        guard relay.heartbeat > 0 else { throw ServeSettingError("--heartbeat must be positive") }
        relay.minimumReplicas = try number(S.minReplicas, flags.minReplicas, Int.init)
        guard relay.minimumReplicas >= 0 else { throw ServeSettingError("--min-replicas must be 0 or more") }
        relay.nodeID = try text(S.nodeID, flags.nodeID)!
        relay.rate = try number(S.rate, flags.rate, Double.init)
        relay.burst = try number(S.burst, flags.burst, Double.init)
        relay.maximumContentBytes = try number(S.maxContent, flags.maxContent, Int.init)
        relay.maximumFrameBytes = try number(S.maxFrame, flags.maxFrame, Int.init)
        relay.maximumQueuedFrames = try number(S.maxQueue, flags.maxQueue, Int.init)
        relay.maximumQueuedBytes = try number(S.maxQueueBytes, flags.maxQueueBytes, Int.init)
        relay.maximumConnections = try number(S.maxConnections, flags.maxConnections, Int.init)
        guard relay.maximumConnections! > 0 else { throw ServeSettingError("--max-connections must be positive") }
        relay.maximumSocketsPerUser = try number(S.maxSocketsPerUser, flags.maxSocketsPerUser, Int.init)
        guard relay.maximumSocketsPerUser > 0 else { throw ServeSettingError("--max-sockets-per-user must be positive") }
        relay.requestTimeout = try number(S.requestTimeout, flags.requestTimeout, Double.init)
        guard relay.requestTimeout > 0 else { throw ServeSettingError("--request-timeout must be positive") }
        relay.allowedOrigins = (try text(S.allowedOrigins, flags.allowedOrigins) ?? "").split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
        }.filter { !$0.isEmpty }
        relay.adminPort = try S.adminPort.resolve(flags.adminPort, environment: environment, Int.init)
        relay.adminHost = try text(S.adminHost, flags.adminHost)!
        relay.redisPassword = try ServeSetting.secretFromFile("CHATRELAY_REDIS_PASSWORD", environment: environment)
        self.relay = relay
        host = try text(S.host, flags.host)!
        port = try number(S.port, flags.port, Int.init)
        threads = max(1, try number(S.threads, flags.threads, Int.init))
        let levelName = try text(S.logLevel, flags.logLevel)!
        guard let level = Logger.Level(rawValue: levelName) else { throw ServeSettingError("unknown --log-level \(levelName)") }
        logLevel = level
    }
}
