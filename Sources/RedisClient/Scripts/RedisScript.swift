import NIOConcurrencyHelpers
import NIOCore

/// A Lua script run with `EVALSHA`.
///
/// The client loads a script (`SCRIPT LOAD`) on its connection before the first `EVALSHA` that needs it, and again
/// on every new connection before that connection counts as ready, so calls go out as `EVALSHA` at once and in
/// the order they were made, also after a Redis restart. If the server still answers `NOSCRIPT` (someone ran
/// `SCRIPT FLUSH`), nothing ran, and that call falls back to `EVAL`, which caches the script again.
public final class RedisScript: Sendable, Hashable {
    public let source: String
    public let sha: String

    public init(_ source: String) {
        self.source = source
        sha = SHA1.hexDigest(source)
    }

    public static func == (lhs: RedisScript, rhs: RedisScript) -> Bool { lhs.sha == rhs.sha }
    public func hash(into hasher: inout Hasher) { hasher.combine(sha) }
}
