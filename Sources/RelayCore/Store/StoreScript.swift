import ChatProtocol
import RedisClient

/// Stores a message and publishes it in one atomic step, so the order of a friendship's stream is also the order
/// in which every subscriber receives its messages, whichever nodes the friends send through.
///
/// A `cid` seen before (same user, same friendship, 24 h) returns the first id and neither stores nor publishes.
/// The cid records are a hash per friendship and day (field `USER:CID`, value the first id; see
/// ``RedisKeys/clientIDs(friendship:day:)``), written in the sending node's day and looked up in that day and the
/// day before, and in the last minute before midnight also the day after (a node whose clock is behind then still
/// finds what a node already past midnight wrote): a retry within 24 hours finds its record whatever node it
/// reaches. A bucket expires three days on: each socket's sends to a friendship ask for that (ARGV[9] non-empty)
/// until one of their records of the day is stored, not on every message. (A string key per cid with its own TTL
/// made Redis grow and rehash its keyspace and expiry tables on every message.)
/// Both users' channels get the same delivered-message frame: the recipient's devices and the sender's other devices
/// receive it (the sending socket's node knows it from the store reply and skips that socket).
///
/// On a cluster the channels live in other slots than the stream, so the script is given no channels (ARGV[7] empty):
/// it returns the frame, completed with the friendship's previous id (`"prev"`, `0-0` for the first message), for the
/// node to publish. A socket whose feed sees a `prev` it has not reached knows a message is missing (published late,
/// or never) and reads it from the stream first. A duplicate returns `{first, 0}` there too, for the node to publish
/// the stored message again.
///
/// A friendship that was unfriended (its hash gone) stores nothing: `{'', -1}`, so that a node holding it in its cache
/// answers `not_friends` and forgets it, and no stream is made again for a friendship that no longer exists.
///
/// Retention (``Retention``) trims in the same step, approximately (`~`: whole stream nodes, at most
/// ``Retention/trimLimit`` entries a store): by length inside the `XADD` itself on every store, and by age (`MINID`,
/// the node's clock less the age) and with the stream's expiry on the stores that ``StoreRoute`` says are due for it,
/// so that a friendship gone quiet is dropped whole without a command more on every store.
///
/// KEYS: history, friendship, cid records of the day, of the day before, and maybe of the day after (all in the
/// friendship's slot). ARGV: from, to, type, content, cid, the frame's head
/// (``ServerMessage/messageHead(friendship:from:to:)``; the script completes it in
/// ``ServerMessage/messageBody(friendship:from:to:content:type:)``'s layout), deliver:{to}, deliver:{from}, set the
/// day's expiry, the content escaped for JSON or empty when it needs no escaping (content is never empty), the
/// maximum length or empty, the oldest id to keep by age or empty, the stream's expiry in ms or empty.
enum StoreScript {
    private typealias L = MessageLayout

    static let script = RedisScript(
        """
        if redis.call('EXISTS', KEYS[2]) == 0 then return {'', -1} end
        local cid = ARGV[5]
        local field
        if cid ~= '' then
          field = ARGV[1] .. ':' .. cid
          for bucket = 3, #KEYS do
            local first = redis.call('HGET', KEYS[bucket], field)
            if first then return {first, 0} end
          end
        end
        local prev
        if ARGV[7] == '' then
          local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
          prev = newest[1] and newest[1][1] or '0-0'
        end
        local id
        if ARGV[11] == '' then
          if cid ~= '' then
            id = redis.call('XADD', KEYS[1], '*', 'from', ARGV[1], 'to', ARGV[2], 'type', ARGV[3], 'content', ARGV[4], 'cid', cid)
          else
            id = redis.call('XADD', KEYS[1], '*', 'from', ARGV[1], 'to', ARGV[2], 'type', ARGV[3], 'content', ARGV[4])
          end
        elseif cid ~= '' then
          id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[11], 'LIMIT', \(Retention.trimLimit), '*', 'from', ARGV[1], 'to', ARGV[2], 'type', ARGV[3], 'content', ARGV[4], 'cid', cid)
        else
          id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[11], 'LIMIT', \(Retention.trimLimit), '*', 'from', ARGV[1], 'to', ARGV[2], 'type', ARGV[3], 'content', ARGV[4])
        end
        if cid ~= '' then
          redis.call('HSET', KEYS[3], field, id)
          if ARGV[9] ~= '' then redis.call('EXPIRE', KEYS[3], 259200) end
        end
        if ARGV[12] ~= '' then redis.call('XTRIM', KEYS[1], 'MINID', '~', ARGV[12], 'LIMIT', \(Retention.trimLimit)) end
        if ARGV[13] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[13]) end
        local content = ARGV[10]
        if content == '' then content = ARGV[4] end
        local frame = \(L.lua(L.idOpen)) .. id .. \(L.lua(L.idClose)) .. ARGV[6] .. content .. \(L.lua(L.typeOpen)) .. ARGV[3] .. \(L.lua(L.typeClose + L.tsOpen)) .. string.match(id, '^%d+')
        if prev then return {id, 1, frame .. \(L.lua(L.prevOpen)) .. prev .. \(L.lua(L.prevClose))} end
        frame = frame .. \(L.lua(L.close))
        redis.call('PUBLISH', ARGV[7], frame)
        redis.call('PUBLISH', ARGV[8], frame)
        return {id, 1}
        """
    )
}
