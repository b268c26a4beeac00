import RedisClient

/// The two steps of presence, each one script in the user's slot: one round trip whatever the number of friends, and
/// the check and the change in one atomic step, so that two nodes never both announce (or both miss) a change.
///
/// A user's presence key is a sorted set from node instance to the end of its lease, in Redis's clock (`TIME`, so
/// that nodes' clocks need not agree). A lease that ran out counts as gone; the key itself expires `keep`
/// milliseconds after its last lease, so that a crashed node's entries die with it even when no node sweeps them.
/// Announcements are published to each friend's `deliver` channel, named from the user's `friends` hash (same slot).
/// On a cluster the friends' channels live in other slots: given no channel prefix, a script that announces returns
/// the friends instead, for the node to publish to each.
enum PresenceScripts {
    /// The instance holds sockets of the user (its first one opened, or its lease is renewed). Publishes the online
    /// frame to every friend when no live lease was there before. Returns 1 (or the friends, on a cluster) when it
    /// announced.
    ///
    /// KEYS: presence, friends. ARGV: instance, online frame, deliver channel prefix, lease (ms), keep (ms).
    static let here = RedisScript(
        """
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
        local wasOnline = redis.call('ZCARD', KEYS[1]) > 0
        redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[1])
        local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
        redis.call('PEXPIREAT', KEYS[1], tonumber(last[2]) + tonumber(ARGV[5]))
        if wasOnline then return 0 end
        if ARGV[3] == '' then return redis.call('HKEYS', KEYS[2]) end
        for _, friend in ipairs(redis.call('HKEYS', KEYS[2])) do
          redis.call('PUBLISH', ARGV[3] .. friend .. '}', ARGV[2])
        end
        return 1
        """
    )

    /// The instance holds no socket of the user any more (its last one closed, or the instance died and another node
    /// sweeps it). Publishes the offline frame to every friend when that was the user's last live lease. Returns 1
    /// (or the friends, on a cluster) when it announced; nothing when the instance's entry was gone already (whoever removed it announced).
    ///
    /// KEYS: presence, friends. ARGV: instance, offline frame, deliver channel prefix.
    static let gone = RedisScript(
        """
        local removed = redis.call('ZREM', KEYS[1], ARGV[1])
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
        if removed == 0 or redis.call('ZCARD', KEYS[1]) > 0 then return 0 end
        if ARGV[3] == '' then return redis.call('HKEYS', KEYS[2]) end
        for _, friend in ipairs(redis.call('HKEYS', KEYS[2])) do
          redis.call('PUBLISH', ARGV[3] .. friend .. '}', ARGV[2])
        end
        return 1
        """
    )

    /// Renews the instance's own lease in the node set. Returns whether its entry was new (a first renewal, or the
    /// instance was swept), and the instances whose lease ran out (at most 16).
    ///
    /// KEYS: nodes. ARGV: instance, lease (ms).
    static let nodeLease = RedisScript(
        """
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        local added = redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
        return {added, redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 16)}
        """
    )
}
