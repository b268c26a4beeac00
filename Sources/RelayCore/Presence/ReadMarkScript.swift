import RedisClient

/// Moves a user's read mark in a friendship forward, and tells both members' sockets; in the friendship's slot (its
/// history and its marks), one atomic step, so two devices marking at once never move a mark backwards.
///
/// Returns the entry's id when the mark moved, 0 when the mark was at or past it already (ignored), and -1 when the
/// id is no entry of the friendship's stream.
///
/// KEYS: history, read marks. ARGV: user, id, the read frame, deliver:{user}, deliver:{friend} (both empty on a
/// cluster, where the node publishes: the channels live in other slots).
enum ReadMarkScript {
    static let script = RedisScript(
        """
        local entry = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2], 'COUNT', 1)
        if #entry == 0 then return -1 end
        local current = redis.call('HGET', KEYS[2], ARGV[1])
        if current then
          local cms, cseq = string.match(current, '^(%d+)-(%d+)$')
          local nms, nseq = string.match(ARGV[2], '^(%d+)-(%d+)$')
          cms, cseq, nms, nseq = tonumber(cms), tonumber(cseq), tonumber(nms), tonumber(nseq)
          if nms < cms or (nms == cms and nseq <= cseq) then return 0 end
        end
        redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
        if ARGV[4] ~= '' then
          redis.call('PUBLISH', ARGV[4], ARGV[3])
          redis.call('PUBLISH', ARGV[5], ARGV[3])
        end
        return ARGV[2]
        """
    )
}
