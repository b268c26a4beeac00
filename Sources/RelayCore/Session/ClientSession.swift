import ChatProtocol
import Logging
import NIOCore
import RedisClient

/// Handles the frames of one socket: checks them, stores and answers.
///
/// Owned by the socket's reader, one frame at a time. Sends do not wait for Redis: the store goes into the
/// pipeline and the ack is written when its reply comes, so one socket can have many sends in flight, stored in
/// the order it sent them.
/// `@unchecked Sendable`: a session belongs to one socket, whose handler runs one frame at a time (a frame that
/// continues in a task holds back the socket's next frames until it is done).
public final class ClientSession: @unchecked Sendable {
    /// Shared by every session of the node.
    private let context: SessionContext
    private var conversations: Conversations { context.conversations }
    private var logger: Logger { context.logger }
    private var metrics: RelayMetrics { context.metrics }
    public let socket: any RelaySocket
    /// The socket's live delivery, told of the socket's sends and their ids so that it never hands the socket its own
    /// messages, live or in a catch-up.
    private let feed: SocketFeed
    /// The user's allowance on this node, shared with their other sockets here: every frame takes a token from it.
    private let allowance: UserAllowance
    private let parser: ClientRequestParser
    /// The route of the friendship this socket last sent to: a socket usually talks to one friend at a time, and
    /// the route's keys were 3 of the 40 allocations per message.
    private var lastRoute: StoreRoute?

    init(context: SessionContext, socket: any RelaySocket, feed: SocketFeed, allowance: UserAllowance) {
        self.context = context
        self.socket = socket
        self.feed = feed
        self.allowance = allowance
        parser = ClientRequestParser(maximumContentBytes: context.maximumContentBytes)
    }

    private var userID: String { socket.userID }

    /// Stream entries read and queued at a time during `sync`.
    static let syncPageSize = 100

    /// What is left to do for a frame once ``receive(_:)`` returns.
    public enum Handling: Sendable {
        /// Answered, or handed to Redis with its answer to follow: take the next frame.
        case done
        /// Needs Redis before it can go on (a history, a sync, a friendship not cached yet): run this, and take the
        /// socket's next frame only after it returned, so that frames are handled in the order they came.
        case continueInTask(@Sendable () async -> Void)
    }

    /// Handles one text frame on the caller's thread as far as it can without waiting; every answer goes out
    /// through the socket. The hot path (a send to a cached friendship) never leaves the event loop.
    public func receive(_ bytes: some Collection<UInt8>) -> Handling {
        let frame: ClientRequest
        do {
            frame = try parser.parse(bytes, known: lastRoute?.identifiers ?? .none)
        } catch {
            // A malformed frame takes a token too: otherwise garbage would draw error frames without limit.
            guard takeToken() else { return rateLimited(cid: error.cid) }
            sendError(error)
            return .done
        }
        guard takeToken() else { return rateLimited(cid: frame.cid) }
        switch frame {
        case .ping:
            socket.send(ServerMessage.pong)
            return .done
        case .send(let request):
            metrics.messagesReceived.increment()
            // A friendship never changes: the route of the last one sent to stands for it, without a cache lookup.
            if let route = lastRoute, route.friendship == request.friendship {
                perform { try self.store(request, on: route) }
                return .done
            }
            if let friendship = conversations.friendships.cached(request.friendship) {
                perform { try self.store(request, in: friendship) }
                return .done
            }
            return .continueInTask { await self.perform(frame) }
        case .sync(let request):
            metrics.syncRequests.increment()
            // From the moment the request is read, live frames of the friendships it replays wait for its `synced`.
            feed.beginSync(request.since == nil ? .only(Set(request.cursors.keys)) : .all)
            return .continueInTask { await self.perform(frame) }
        case .history:
            metrics.historyRequests.increment()
            return .continueInTask { await self.perform(frame) }
        case .typing(let friendship, let cid):
            if let known = conversations.friendships.cached(friendship) {
                perform { try self.relayTyping(in: known, cid: cid) }
                return .done
            }
            return .continueInTask { await self.perform(frame) }
        case .read, .refresh:
            return .continueInTask { await self.perform(frame) }
        }
    }

    /// One token from the user's bucket on this node, which all of their sockets here share.
    private func takeToken() -> Bool {
        context.allowances.take(allowance)
    }

    /// Every error frame goes out here, counted by its code.
    private func sendError(_ error: RequestError) {
        metrics.errorSent(error.code)
        socket.send(ServerMessage.error(error))
    }

    private func rateLimited(cid: String?) -> Handling {
        sendError(context.allowances.rateLimited(cid: cid))
        return .done
    }

    private func perform(_ frame: ClientRequest) async {
        do {
            switch frame {
            case .send(let request): try await send(request)
            case .history(let request): try await history(request)
            case .sync(let request): try await sync(request)
            case .ping: socket.send(ServerMessage.pong)
            case .typing(let friendship, let cid): try relayTyping(in: try await member(of: friendship, cid: cid), cid: cid)
            case .read(let request): try await markRead(request)
            case .refresh(let token, let cid): try await refresh(with: token, cid: cid)
            }
        } catch {
            answer(error, cid: frame.cid)
        }
    }

    private func perform(_ work: () throws -> Void) {
        do {
            try work()
        } catch {
            answer(error, cid: (error as? RequestError)?.cid)
        }
    }

    private func answer(_ error: any Error, cid: String?) {
        if let error = error as? RequestError {
            sendError(error.carrying(cid))
        } else {
            logger.debug("frame failed", metadata: ["error": "\(error)", "user": "\(userID)"])
            sendError(RequestError(.unavailable, "the store is unavailable; retry", cid: cid))
        }
    }

    private func send(_ request: SendRequest) async throws {
        try store(request, in: try await member(of: request.friendship, cid: request.cid))
    }

    /// Checks that the user is in the friendship, then stores through its route.
    private func store(_ request: SendRequest, in friendship: Friendship) throws {
        guard friendship.contains(userID) else {
            throw RequestError(.notFriends, "no friendship \(request.friendship) with this user", cid: request.cid)
        }
        let route = conversations.store.route(in: friendship, from: userID)
        lastRoute = route
        try store(request, on: route)
    }

    /// Checks the sender and recipient, then stores and publishes; the ack (or `unavailable`) follows Redis's answer.
    private func store(_ request: SendRequest, on route: StoreRoute) throws {
        if let from = request.from, from != route.sender {
            throw RequestError(.forbidden, "from must be the connection's user", cid: request.cid)
        }
        if let to = request.to, to != route.recipient {
            throw RequestError(.forbidden, "to is not the other member of the friendship", cid: request.cid)
        }
        let socket = self.socket
        let feed = self.feed
        let cid = request.cid
        let logger = logger
        let metrics = metrics
        let friendship = route.friendship
        let friendships = conversations.friendships
        feed.willStore(friendship: friendship)
        let handedOver = NIODeadline.now()
        conversations.store.store(route, content: request.content, type: request.type, cid: cid) { result in
            switch result {
            case .success(let receipt):
                metrics.storeDuration.recordNanoseconds(Int64(NIODeadline.now().uptimeNanoseconds - handedOver.uptimeNanoseconds))
                metrics.stored(isNew: receipt.isNew)
                feed.didStore(StreamID(receipt.id), friendship: friendship)
                guard receipt.replicated else {
                    metrics.errorSent(.unavailable)
                    let error = RequestError(
                        .unavailable,
                        "fewer replicas than --min-replicas confirmed it; it may be stored; retry with the same cid",
                        cid: cid
                    )
                    return socket.send(ServerMessage.error(error))
                }
                if let cid { socket.send(frame: ServerMessage.ack(cid: cid, id: receipt.id)) }
            case .failure(let gone as FriendshipGone):
                feed.didStore(nil, friendship: friendship)
                friendships.forget(gone.friendship)
                metrics.errorSent(.notFriends)
                socket.send(ServerMessage.error(RequestError(.notFriends, "friendship \(gone.friendship) was unfriended", cid: cid)))
            case .failure(let error):
                feed.didStore(nil, friendship: friendship)
                logger.debug("store failed", metadata: ["error": "\(error)"])
                metrics.errorSent(.unavailable)
                socket.send(ServerMessage.error(RequestError(.unavailable, "Redis could not store it; nothing was stored; retry", cid: cid)))
            }
        }
    }

    /// Straight to the friend's channel: nothing is stored, and the friend's sockets on any node get it.
    private func relayTyping(in friendship: Friendship, cid: String?) throws {
        guard friendship.contains(userID) else {
            throw RequestError(.notFriends, "no friendship \(friendship.id) with this user", cid: cid)
        }
        let friend = friendship.other(than: userID)
        let frame = ServerMessage.typing(friendship: friendship.id, user: userID, timestamp: Int(WallClock.milliseconds))
        metrics.typingRelayed.increment()
        conversations.store.publisher.publish(.string(frame), to: conversations.store.keys.deliver(friend))
    }

    private func markRead(_ request: ReadRequest) async throws {
        let friendship = try await member(of: request.friendship, cid: request.cid)
        let outcome = try await conversations.readMarks.mark(
            friendship.id,
            user: userID,
            friend: friendship.other(than: userID),
            id: request.id
        )
        switch outcome {
        case .moved: metrics.readMarksMoved.increment()
        case .ignored: break
        case .unknownMessage:
            throw RequestError(.badMessage, "\(request.id) is no message of friendship \(friendship.id)", cid: request.cid)
        }
    }

    /// The socket lives on until the new token's `exp`; a token that is not valid, or is another user's, changes
    /// nothing.
    private func refresh(with token: String, cid: String?) async throws {
        guard let tokens = context.tokens else {
            throw RequestError(.badToken, "this node takes no tokens (--auth none): its sockets do not expire", cid: cid)
        }
        let verified: VerifiedToken
        do {
            verified = try await tokens.verify(token)
        } catch {
            throw RequestError(.badToken, error.description, cid: cid)
        }
        guard verified.userID == userID else { throw RequestError(.badToken, "the token is for another user", cid: cid) }
        context.heartbeats.extendToken(of: socket, until: verified.expiresAt)
        socket.send(ServerMessage.refreshed(expiresAt: verified.expiresAt, cid: cid))
    }

    private func history(_ request: HistoryRequest) async throws {
        _ = try await member(of: request.friendship, cid: request.cid)
        let messages = try await conversations.store.history(friendship: request.friendship, before: request.before, limit: request.limit)
        socket.send(ServerMessage.history(friendship: request.friendship, rid: request.rid, messages: messages))
    }

    /// Replays every entry after each cursor, then `synced`. The feed holds the live frames of these friendships
    /// from the moment the request was read (``receive(_:)``) until the replay is over, then lets through those the
    /// replay did not reach: ids keep rising per friendship, and nothing comes twice.
    private func sync(_ request: SyncRequest) async throws {
        var replayed: [String: StreamID] = [:]
        defer { feed.endSync(replayedThrough: replayed) }
        var plan = request.cursors.map { (friendship: $0.key, after: Optional($0.value)) }
        for entry in plan { _ = try await member(of: entry.friendship, cid: request.cid) }
        if let since = request.since {
            let named = Set(request.cursors.keys)
            let others = try await conversations.directory.friendshipIDs(of: userID).filter { !named.contains($0) }
            plan += others.map { (friendship: $0, after: Optional(since)) }
        }
        var truncated: [String] = []
        for entry in plan.sorted(by: { $0.friendship < $1.friendship }) {
            if let after = entry.after, try await conversations.store.isTruncated(friendship: entry.friendship, after: after) {
                truncated.append(entry.friendship)
            }
            try await conversations.store.all(friendship: entry.friendship, after: entry.after, pageSize: Self.syncPageSize) { page in
                await socket.waitForCapacity()
                for message in page { socket.send(ServerMessage.message(message)) }
                if let last = page.last.flatMap({ StreamID($0.id) }) { replayed[entry.friendship] = last }
            }
        }
        socket.send(truncated.isEmpty ? ServerMessage.synced : ServerMessage.synced(truncated: truncated))
    }

    /// The friendship, if it exists and the user is in it.
    private func member(of friendshipID: String, cid: String?) async throws -> Friendship {
        guard let friendship = try await conversations.friendships.friendship(friendshipID), friendship.contains(userID) else {
            throw RequestError(.notFriends, "no friendship \(friendshipID) with this user", cid: cid)
        }
        return friendship
    }
}
