import NIOCore

/// Where and how to connect, usually parsed from `redis://[user:password@]host:port[/db]`, or from
/// `redis-sentinel://[user:password@]host:port[,host:port...][/db]#master` for a master that Sentinels name, or from
/// `redis-cluster://[user:password@]host:port[,host:port...]` for a Redis Cluster.
public struct RedisConfiguration: Sendable, Hashable {
    /// The server; with ``sentinel``, the master last resolved (each connection asks the Sentinels again).
    public var host: String
    public var port: Int
    /// Set for a `redis-sentinel://` URL: the master is looked up through these Sentinels on every connection.
    public var sentinel: RedisSentinelSettings?
    /// Set for a `redis-cluster://` URL: nodes to read the cluster's slot map from (``RedisClusterClient``).
    public var clusterSeeds: [RedisEndpoint]?
    public var username: String?
    public var password: String?
    public var database: Int
    public var connectTimeout: TimeAmount
    /// How long a command may wait for its reply before the connection is declared broken.
    public var commandTimeout: TimeAmount
    /// Reconnect delays start here and double up to ``maximumReconnectDelay`` (``Backoff``).
    public var initialReconnectDelay: TimeAmount
    public var maximumReconnectDelay: TimeAmount
    /// Sent with `CLIENT SETNAME` so that `CLIENT LIST` shows who is who.
    public var clientName: String?
    /// Free bytes in front of every pub/sub payload received, so that a consumer that forwards it behind a short
    /// header of its own writes the header in place instead of copying the payload.
    public var pushPayloadHeadroom = 0

    public init(
        host: String = "127.0.0.1",
        port: Int = 6379,
        username: String? = nil,
        password: String? = nil,
        database: Int = 0,
        connectTimeout: TimeAmount = .seconds(5),
        commandTimeout: TimeAmount = .seconds(5),
        initialReconnectDelay: TimeAmount = .milliseconds(50),
        maximumReconnectDelay: TimeAmount = .seconds(2),
        clientName: String? = nil
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.initialReconnectDelay = initialReconnectDelay
        self.maximumReconnectDelay = maximumReconnectDelay
        self.clientName = clientName
    }

    /// Parses `redis://[user:password@]host[:port][/db]` (a password alone is `redis://:password@host`) and
    /// `redis-sentinel://[user:password@]host[:port][,host[:port]...][/db]#master` (Sentinels on port 26379 unless
    /// given; the credentials and the database are the master's), and
    /// `redis-cluster://[user:password@]host[:port][,host[:port]...]` (seed nodes; a cluster has database 0 only).
    public init(url: String) throws(RedisClientError) {
        self.init()
        let isSentinel = url.hasPrefix(Self.sentinelScheme)
        let isCluster = url.hasPrefix(Self.clusterScheme)
        guard isSentinel || isCluster || url.hasPrefix(Self.scheme) else {
            let expected =
                "redis://[user:password@]host:port[/db], redis-cluster://host:port[,host:port...] or redis-sentinel://host:port[,host:port...][/db]#master"
            throw RedisClientError(.invalidURL, "\(url): expected \(expected)")
        }
        let schemeLength = isSentinel ? Self.sentinelScheme.count : isCluster ? Self.clusterScheme.count : Self.scheme.count
        var rest = Substring(url.dropFirst(schemeLength))
        var masterName: String?
        if isSentinel {
            guard let hash = rest.lastIndex(of: "#"), hash < rest.index(before: rest.endIndex) else {
                throw RedisClientError(.invalidURL, "\(url): name the master after #, as in redis-sentinel://host:26379/0#mymaster")
            }
            masterName = Self.percentDecoded(rest[rest.index(after: hash)...])
            rest = rest[..<hash]
        }
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let user = credentials[..<colon]
                username = user.isEmpty ? nil : Self.percentDecoded(user)
                password = Self.percentDecoded(credentials[credentials.index(after: colon)...])
            } else {
                password = Self.percentDecoded(credentials)
            }
        }
        var authority = rest
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            let path = rest[rest.index(after: slash)...]
            if !path.isEmpty {
                guard let db = Int(path), db >= 0 else {
                    throw RedisClientError(.invalidURL, "\(url): the database must be a number, not \(path)")
                }
                database = db
            }
        }
        if isCluster {
            guard database == 0 else { throw RedisClientError(.invalidURL, "\(url): a Redis Cluster has database 0 only") }
            let seeds = try authority.split(separator: ",", omittingEmptySubsequences: false).map {
                (part) throws(RedisClientError) in try Self.endpoint(part, defaultPort: 6379, in: url)
            }
            clusterSeeds = seeds
            host = seeds[0].host
            port = seeds[0].port
        } else if let masterName {
            let sentinels = try authority.split(separator: ",", omittingEmptySubsequences: false).map {
                (part) throws(RedisClientError) in try Self.endpoint(part, defaultPort: 26379, in: url)
            }
            sentinel = RedisSentinelSettings(sentinels: sentinels, masterName: masterName)
            host = sentinels[0].host
            port = sentinels[0].port
        } else {
            let endpoint = try Self.endpoint(authority, defaultPort: 6379, in: url)
            host = endpoint.host
            port = endpoint.port
        }
    }

    private static let scheme = "redis://"
    private static let sentinelScheme = "redis-sentinel://"
    private static let clusterScheme = "redis-cluster://"

    private static func endpoint(_ authority: Substring, defaultPort: Int, in url: String) throws(RedisClientError) -> RedisEndpoint {
        var authority = authority
        var port = defaultPort
        if let colon = authority.lastIndex(of: ":") {
            guard let number = Int(authority[authority.index(after: colon)...]), (1...65535).contains(number) else {
                throw RedisClientError(.invalidURL, "\(url): the port must be a number from 1 to 65535")
            }
            port = number
            authority = authority[..<colon]
        }
        guard !authority.isEmpty else { throw RedisClientError(.invalidURL, "\(url): no host") }
        return RedisEndpoint(host: String(authority), port: port)
    }

    /// The same settings for the server at `endpoint` (a cluster node, the master a Sentinel named): a node's
    /// connection names that node in its errors, not the cluster's seeds.
    public func at(_ endpoint: RedisEndpoint) -> RedisConfiguration {
        var configuration = self
        configuration.host = endpoint.host
        configuration.port = endpoint.port
        configuration.clusterSeeds = nil
        return configuration
    }

    /// The URL without the password, for logs and error messages.
    public var redactedURL: String {
        var credentials = ""
        if username != nil || password != nil {
            credentials = "\(username ?? "")\(password == nil ? "" : ":***")@"
        }
        if let clusterSeeds {
            return "redis-cluster://\(credentials)" + clusterSeeds.map(\.description).joined(separator: ",")
        }
        if let sentinel {
            let sentinels = sentinel.sentinels.map(\.description).joined(separator: ",")
            return "redis-sentinel://\(credentials)\(sentinels)/\(database)#\(sentinel.masterName)"
        }
        return "redis://\(credentials)\(host):\(port)/\(database)"
    }

    private static func percentDecoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
                let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
