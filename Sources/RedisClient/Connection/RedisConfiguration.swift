import NIOCore

/// Where and how to connect, usually parsed from `redis://[user:password@]host:port[/db]`.
public struct RedisConfiguration: Sendable, Hashable {
    public var host: String
    public var port: Int
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

    /// Parses `redis://[user:password@]host[:port][/db]`; a password alone is `redis://:password@host`.
    public init(url: String) throws(RedisClientError) {
        self.init()
        let scheme = "redis://"
        guard url.hasPrefix(scheme) else {
            throw RedisClientError(.invalidURL, "\(url): expected redis://[user:password@]host:port[/db]")
        }
        var rest = Substring(url.dropFirst(scheme.count))
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
        if let colon = authority.lastIndex(of: ":") {
            guard let number = Int(authority[authority.index(after: colon)...]), (1...65535).contains(number) else {
                throw RedisClientError(.invalidURL, "\(url): the port must be a number from 1 to 65535")
            }
            port = number
            authority = authority[..<colon]
        }
        guard !authority.isEmpty else { throw RedisClientError(.invalidURL, "\(url): no host") }
        host = String(authority)
    }

    /// The URL without the password, for logs and error messages.
    public var redactedURL: String {
        var credentials = ""
        if username != nil || password != nil {
            credentials = "\(username ?? "")\(password == nil ? "" : ":***")@"
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
