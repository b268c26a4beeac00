import ChatProtocol
import RedisClient

/// How far each member of a friendship has read: stored in Redis (``RedisKeys/readMarks(_:)``), forward only.
public struct ReadMarks: Sendable {
    let redis: any RedisCommands
    let keys: RedisKeys
    let publisher: Publisher

    public enum Outcome: Sendable, Equatable {
        /// The mark moved; both members' sockets are told.
        case moved
        /// The mark was at or past the id already: nothing changes, nobody is told.
        case ignored
        /// The id is no message of the friendship.
        case unknownMessage
    }

    /// Marks `friendship` read by `user` up to `id`; `friend` is the other member.
    public func mark(_ friendship: String, user: String, friend: String, id: String) async throws -> Outcome {
        let frame = ServerMessage.read(friendship: friendship, user: user, id: id)
        let reply = try await redis.run(
            ReadMarkScript.script,
            keys: [.string(keys.history(friendship)), .string(keys.readMarks(friendship))],
            arguments: [
                .string(user), .string(id), .string(frame), publisher.scriptChannel(keys.deliver(user)),
                publisher.scriptChannel(keys.deliver(friend)),
            ]
        )
        switch reply {
        case .integer(-1): return .unknownMessage
        case .integer(0): return .ignored
        default:
            if publisher.publishesAfterScripts {
                publisher.publish(.string(frame), to: keys.deliver(user), keys.deliver(friend))
            }
            return .moved
        }
    }

    /// Per friendship, in one pipelined round trip: its newest message id, and the two members' marks.
    public func summaries(of user: String, in friendships: [(friendship: String, friend: String)]) async throws -> [ReadSummary] {
        let replies = friendships.map { entry in
            (
                last: redis.send(["XREVRANGE", .string(keys.history(entry.friendship)), "+", "-", "COUNT", "1"]),
                marks: redis.send(["HMGET", .string(keys.readMarks(entry.friendship)), .string(user), .string(entry.friend)])
            )
        }
        var summaries: [ReadSummary] = []
        for reply in replies {
            let last = MessageStore.firstID(in: try await reply.last.get())
            let marks = try await reply.marks.get().array ?? []
            summaries.append(ReadSummary(last: last, read: marks.first?.string, friendRead: marks.dropFirst().first?.string))
        }
        return summaries
    }
}

/// A friendship as the friends list shows it: the newest message id, how far this user and the friend have read.
public struct ReadSummary: Sendable, Equatable {
    public var last: String?
    public var read: String?
    public var friendRead: String?
}
