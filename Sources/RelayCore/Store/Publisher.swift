import NIOCore
import RedisClient

/// How frames reach users' channels: `PUBLISH` on one server, where the scripts that store or change something
/// publish in the same atomic step; `SPUBLISH` on a cluster, where a channel lives in its user's slot and a script can
/// only reach its own, so the node publishes what the script returns, one command per channel.
struct Publisher: Sendable {
    let redis: any RedisCommands
    /// True on a cluster: scripts are given no channels and return what to publish.
    let publishesAfterScripts: Bool

    init(redis: any RedisCommands, cluster: Bool) {
        self.redis = redis
        publishesAfterScripts = cluster
    }

    private var command: RedisArgument { publishesAfterScripts ? "SPUBLISH" : "PUBLISH" }

    /// A channel for a script to publish to, or an empty string (publish nothing) on a cluster.
    func scriptChannel(_ channel: String) -> RedisArgument {
        .string(publishesAfterScripts ? "" : channel)
    }

    /// Publishes without waiting for the reply: delivery is at most once anyway, and feeds fill what is missed.
    func publish(_ frame: RedisArgument, to channels: String...) {
        for channel in channels { redis.send([command, .string(channel), frame]) { _ in } }
    }

    /// Publishes and waits for Redis to take it, for a caller that must report failure (an admin's request).
    func publishNow(_ frame: RedisArgument, to channel: String) async throws {
        _ = try await redis.command([command, .string(channel), frame])
    }

    /// A broadcast frame. The contract lists `chat:broadcast` as a classic pub/sub channel, so on a cluster it is
    /// `PUBLISH`ed there for outside readers as well as `SPUBLISH`ed on the sharded channel of the same name, which the
    /// nodes subscribe (their subscriptions follow slots).
    func broadcast(_ frame: RedisArgument, to channel: String) async throws {
        _ = try await redis.command([command, .string(channel), frame])
        if publishesAfterScripts { _ = try await redis.command(["PUBLISH", .string(channel), frame]) }
    }
}
