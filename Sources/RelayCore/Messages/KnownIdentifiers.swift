#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Identifiers a socket's next frame probably repeats: the friendship, sender and recipient of its last send.
///
/// The reader hands back these very strings when a frame's `friend`, `from` or `to` has their bytes, instead of
/// making new ones: ids of 16 bytes and more (generated ids have 24) are an allocation each, three per message.
public struct KnownIdentifiers: Sendable {
    var first: String?
    var second: String?
    var third: String?

    public static let none = KnownIdentifiers()

    public init(_ first: String? = nil, _ second: String? = nil, _ third: String? = nil) {
        self.first = first
        self.second = second
        self.third = third
    }

    /// The known string with exactly these bytes, if any.
    func match(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        if Self.equal(first, bytes) { return first }
        if Self.equal(second, bytes) { return second }
        if Self.equal(third, bytes) { return third }
        return nil
    }

    private static func equal(_ candidate: String?, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let candidate, candidate.utf8.count == bytes.count else { return false }
        let equal = candidate.utf8.withContiguousStorageIfAvailable { known in
            bytes.isEmpty || memcmp(known.baseAddress!, bytes.baseAddress!, bytes.count) == 0
        }
        return equal ?? candidate.utf8.elementsEqual(bytes)
    }
}
