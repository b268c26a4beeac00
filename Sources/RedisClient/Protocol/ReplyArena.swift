import CHiredis

/// The nodes of the reply hiredis is reading, placed one after another in a few large blocks instead of a `calloc`
/// per node and per string: a delivered message is an array and three strings, five allocations and five frees
/// with hiredis's own functions, and a third of a node's allocations under load.
///
/// The nodes are still hiredis's `redisReply` structs, so the code that reads them is unchanged. A reply is read
/// before the next one starts, and nothing of it is kept (strings are copied out), so the arena is emptied after
/// every complete reply. Used on its reader's event loop only.
final class ReplyArena {
    /// Enough for a few hundred small replies; a larger reply takes blocks of its own, freed when it is done.
    private static let blockSize = 16 * 1024

    private var first: UnsafeMutableRawPointer?
    private var extra: [UnsafeMutableRawPointer] = []
    private var block: UnsafeMutableRawPointer?
    private var used = 0
    private var capacity = 0

    deinit {
        reset()
        first?.deallocate()
    }

    /// `size` bytes, 8-byte aligned and not zeroed.
    func allocate(_ size: Int) -> UnsafeMutableRawPointer {
        let rounded = (size + 7) & ~7
        if used + rounded > capacity { startBlock(for: rounded) }
        defer { used += rounded }
        return block! + used
    }

    /// Forgets every node; the first block stays for the next reply.
    func reset() {
        for block in extra { block.deallocate() }
        extra.removeAll(keepingCapacity: true)
        block = first
        used = 0
        capacity = first == nil ? 0 : Self.blockSize
    }

    private func startBlock(for size: Int) {
        if first == nil, size <= Self.blockSize {
            first = UnsafeMutableRawPointer.allocate(byteCount: Self.blockSize, alignment: 8)
            block = first
            capacity = Self.blockSize
        } else {
            let count = max(size, Self.blockSize)
            block = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 8)
            extra.append(block!)
            capacity = count
        }
        used = 0
    }

    // MARK: - hiredis's reply object functions

    /// Shared by every reader; hiredis keeps the pointer. Written once, read only after that.
    nonisolated(unsafe) static let functions: UnsafeMutablePointer<redisReplyObjectFunctions> = {
        let functions = UnsafeMutablePointer<redisReplyObjectFunctions>.allocate(capacity: 1)
        functions.initialize(
            to: redisReplyObjectFunctions(
                createString: { task, string, length in
                    let node = ReplyArena.node(for: task!)
                    let bytes = node.arena.allocate(length + 1).assumingMemoryBound(to: CChar.self)
                    if length > 0 { bytes.update(from: string!, count: length) }
                    bytes[length] = 0
                    node.pointer.pointee.str = bytes
                    node.pointer.pointee.len = length
                    return UnsafeMutableRawPointer(node.pointer)
                },
                createArray: { task, count in
                    let node = ReplyArena.node(for: task!)
                    let elements = Int(count)
                    node.pointer.pointee.elements = elements
                    if elements > 0 {
                        let vector = node.arena.allocate(elements * MemoryLayout<UnsafeMutablePointer<redisReply>?>.stride)
                            .bindMemory(to: UnsafeMutablePointer<redisReply>?.self, capacity: elements)
                        vector.initialize(repeating: nil, count: elements)
                        node.pointer.pointee.element = vector
                    }
                    return UnsafeMutableRawPointer(node.pointer)
                },
                createInteger: { task, value in
                    let node = ReplyArena.node(for: task!)
                    node.pointer.pointee.integer = value
                    return UnsafeMutableRawPointer(node.pointer)
                },
                createNil: { task in
                    // A nil bulk string or array is a nil node, whatever the task's type (as hiredis does it).
                    let node = ReplyArena.node(for: task!)
                    node.pointer.pointee.type = REDIS_REPLY_NIL
                    return UnsafeMutableRawPointer(node.pointer)
                },
                // Nodes go when the arena is emptied.
                freeObject: { _ in }
            )
        )
        return functions
    }()

    /// A zeroed node of the task's type, attached to its parent array as hiredis's own functions do.
    private static func node(
        for task: UnsafePointer<redisReadTask>
    ) -> (arena: ReplyArena, pointer: UnsafeMutablePointer<redisReply>) {
        let arena = Unmanaged<ReplyArena>.fromOpaque(task.pointee.privdata!).takeUnretainedValue()
        let pointer = arena.allocate(MemoryLayout<redisReply>.stride).bindMemory(to: redisReply.self, capacity: 1)
        pointer.initialize(to: redisReply())
        pointer.pointee.type = task.pointee.type
        if let parent = task.pointee.parent {
            let array = parent.pointee.obj.assumingMemoryBound(to: redisReply.self)
            array.pointee.element[Int(task.pointee.idx)] = pointer
        }
        return (arena, pointer)
    }
}
