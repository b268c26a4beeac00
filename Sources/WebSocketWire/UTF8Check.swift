/// RFC 6455 §8.1's check on a text message (and §5.5.1's on a close reason), without making a `String` of it: the
/// relay's session parses a message's bytes where they lie, and a `String` per message (an allocation and a copy) was
/// only ever made to validate them.
public enum UTF8Check {
    @inlinable
    public static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        // Chat frames are mostly ASCII: eight bytes at a time until the first byte with its high bit set.
        var index = 0
        while index + 8 <= bytes.count {
            if bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { break }
            index += 8
        }
        while index < bytes.count, bytes[index] < 0x80 { index += 1 }
        guard index < bytes.count else { return true }
        // The rest by the standard library's decoder, which rejects what `String(validating:)` rejects: overlong
        // forms, surrogates, code points over U+10FFFF, and truncated sequences.
        var iterator = UnsafeRawBufferPointer(rebasing: bytes[index...]).makeIterator()
        var decoder = Unicode.UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }
}
