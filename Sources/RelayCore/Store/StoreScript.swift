import RedisClient

/// Stores a message and publishes it in one atomic step, so the order of a friendship's stream is also the order
/// in which every subscriber receives its messages, whichever nodes the friends send through.
///
/// A `cid` seen before (same user, same friendship, 24 h) returns the first id and neither stores nor publishes.
/// Both users' channels get the same delivered-message frame: the recipient's devices and the sender's other devices
/// receive it (the sending socket's node knows it from the store reply and skips that socket).
///
/// KEYS: history, cid record. ARGV: from, to, type, content, cid, frame body (fields between id and ts),
/// deliver:{to}, deliver:{from}.
enum StoreScript {
    static let script = RedisScript(
        """
        local cid = ARGV[5]
        if cid ~= '' then
          local first = redis.call('GET', KEYS[2])
          if first then return {first, 0} end
        end
        local id
        if cid ~= '' then
          id = redis.call('XADD', KEYS[1], '*', 'from', ARGV[1], 'to', ARGV[2], 'type', ARGV[3], 'content', ARGV[4], 'cid', cid)
          redis.call('SET', KEYS[2], id, 'EX', 86400)
        else
          id = redis.call('XADD', KEYS[1], '*', 'from', ARGV[1], 'to', ARGV[2], 'type', ARGV[3], 'content', ARGV[4])
        end
        local frame = '{"id":"' .. id .. '",' .. ARGV[6] .. ',"ts":' .. string.match(id, '^%d+') .. '}'
        redis.call('PUBLISH', ARGV[7], frame)
        redis.call('PUBLISH', ARGV[8], frame)
        return {id, 1}
        """
    )
}
