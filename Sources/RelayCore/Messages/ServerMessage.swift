import ChatProtocol
import NIOCore

/// The text of every frame the server sends, in the contract's field order.
public enum ServerMessage {
    public static let pong = #"{"op":"pong"}"#
    public static let synced = #"{"op":"synced"}"#

    /// `synced` naming the friendships whose cursor was older than their oldest kept message.
    public static func synced(truncated: [String]) -> String {
        #"{"op":"synced","truncated":["# + truncated.map { #"""# + $0 + #"""# }.joined(separator: ",") + "]}"
    }

    /// To both members' sockets when their friendship ends.
    public static func unfriended(friendship: String) -> String {
        var writer = JSONWriter()
        writer.field("op", "unfriended")
        writer.field("friend", friendship)
        return writer.finish()
    }

    /// The fields of a delivered message after `id`, up to the content's opening quote. The store script builds the
    /// live frame from this head (made once per route), the content and the type, in ``messageBody``'s layout, so
    /// that a live frame and the same message read back from the stream are the same bytes.
    public static func messageHead(friendship: String, from: String, to: String) -> String {
        let (friendship, from, to) = (JSONString.escaped(friendship), JSONString.escaped(from), JSONString.escaped(to))
        // 41: the four field markers, `"friend":"` to `","content":"`.
        let capacity = 41 + friendship.utf8.count + from.utf8.count + to.utf8.count
        return TextAssembler.string(capacity: capacity) { text in
            text.append(MessageLayout.friendOpen)
            text.append(friendship)
            text.append(MessageLayout.fromOpen)
            text.append(from)
            text.append(MessageLayout.toOpen)
            text.append(to)
            text.append(MessageLayout.contentOpen)
        }
    }

    /// The fields between `id` and `ts` of a delivered message: ``messageHead(friendship:from:to:)``, the content,
    /// the type. For messages read back from the stream (history, sync, gap fills).
    public static func messageBody(friendship: String, from: String, to: String, content: String, type: String) -> String {
        let head = messageHead(friendship: friendship, from: from, to: to)
        let (content, type) = (JSONString.escaped(content), JSONString.escaped(type))
        // 11: `","type":"` and the closing quote.
        return TextAssembler.string(capacity: head.utf8.count + content.utf8.count + type.utf8.count + 11) { text in
            text.append(head)
            text.append(content)
            text.append(MessageLayout.typeOpen)
            text.append(type)
            text.append(MessageLayout.typeClose)
        }
    }

    public static func message(_ message: StoredMessage) -> String {
        let body = messageBody(
            friendship: message.friendship,
            from: message.from,
            to: message.to,
            content: message.content,
            type: message.type
        )
        return MessageLayout.idOpen + JSONString.escaped(message.id) + MessageLayout.idClose + body + MessageLayout.tsOpen
            + String(message.timestamp) + MessageLayout.close
    }

    /// A delivered message as a cluster publishes it: with the friendship's previous id (``MessageLayout/prevOpen``).
    public static func message(_ message: StoredMessage, previous: String) -> String {
        String(self.message(message).dropLast()) + MessageLayout.prevOpen + JSONString.escaped(previous) + MessageLayout.prevClose
    }

    /// One per send, on the hot path: written straight into a frame buffer. `id` comes from Redis (`MS-SEQ`,
    /// nothing to escape).
    public static func ack(cid: String, id: String) -> ByteBuffer {
        let millisecondsEnd = id.utf8.firstIndex(of: UInt8(ascii: "-")) ?? id.utf8.endIndex
        var frame = FrameBuffer.allocate(payloadCapacity: cid.utf8.count + 2 * id.utf8.count + 40)
        frame.writeStaticString(#"{"op":"ack","cid":"#)
        JSONWriter.writeQuoted(cid, to: &frame)
        frame.writeStaticString(#","id":""#)
        frame.writeString(id)
        frame.writeStaticString(#"","ts":"#)
        frame.writeSubstring(id[..<millisecondsEnd])
        frame.writeStaticString("}")
        return frame
    }

    public static func error(_ error: RequestError) -> String {
        var writer = JSONWriter()
        writer.field("op", "error")
        writer.field("code", error.code.rawValue)
        writer.field("message", error.message)
        writer.field("cid", error.cid)
        return writer.finish()
    }

    /// The newest of `messages` (oldest first) that fit in a frame of ``HistoryPage/maximumBytes``.
    public static func history(friendship: String, rid: RequestID?, messages: [StoredMessage]) -> String {
        func frame(_ items: [String]) -> String {
            var writer = JSONWriter(capacity: 64 + items.reduce(0) { $0 + $1.utf8.count + 1 })
            writer.field("op", "history")
            writer.field("friend", friendship)
            if let rid { writer.rawField("rid", rid.json) }
            writer.rawField("messages", "[" + items.joined(separator: ",") + "]")
            return writer.finish()
        }
        return frame(HistoryPage.encode(messages, overhead: frame([]).utf8.count, keepingNewest: true))
    }

    /// `{"messages": [...]}`, the HTTP route's body: the newest of `messages` that fit in ``HistoryPage/maximumBytes``,
    /// or the oldest for a page after a cursor.
    public static func historyBody(_ messages: [StoredMessage], keepingNewest: Bool) -> String {
        let (open, close) = (#"{"messages":["#, "]}")
        let items = HistoryPage.encode(messages, overhead: open.utf8.count + close.utf8.count, keepingNewest: keepingNewest)
        return open + items.joined(separator: ",") + close
    }

    public static func broadcast(content: String, type: String, timestamp: Int) -> String {
        var writer = JSONWriter()
        writer.field("op", "broadcast")
        writer.field("content", content)
        writer.field("type", type)
        writer.field("ts", timestamp)
        return writer.finish()
    }

    public static func presence(user: String, online: Bool, timestamp: Int) -> String {
        var writer = JSONWriter()
        writer.field("op", "presence")
        writer.field("user", user)
        writer.field("online", online)
        writer.field("ts", timestamp)
        return writer.finish()
    }

    public static func typing(friendship: String, user: String, timestamp: Int) -> String {
        var writer = JSONWriter()
        writer.field("op", "typing")
        writer.field("friend", friendship)
        writer.field("user", user)
        writer.field("ts", timestamp)
        return writer.finish()
    }

    /// The answer to a `refresh`: the socket now lives until `expiresAt` (Unix seconds).
    public static func refreshed(expiresAt: Int64, cid: String?) -> String {
        var writer = JSONWriter()
        writer.field("op", "refreshed")
        writer.field("exp", Int(expiresAt))
        if let cid { writer.field("cid", cid) }
        return writer.finish()
    }

    /// Published on a user's channel to end their sockets on every node; nodes act on it and never forward it.
    static let sessionEnded = #"{"op":"session_ended"}"#
    /// The same for an erased user (4004).
    static let sessionErased = #"{"op":"session_ended","reason":"erased"}"#

    public static func read(friendship: String, user: String, id: String) -> String {
        var writer = JSONWriter()
        writer.field("op", "read")
        writer.field("friend", friendship)
        writer.field("user", user)
        writer.field("id", id)
        return writer.finish()
    }
}
