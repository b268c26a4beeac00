/// A Redis stream entry id, `MS-SEQ`, ordered as Redis orders them.
public struct StreamID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var milliseconds: UInt64
    public var sequence: UInt64

    public init(milliseconds: UInt64, sequence: UInt64) {
        self.milliseconds = milliseconds
        self.sequence = sequence
    }

    /// Parses `MS-SEQ` (or `MS`, as `MS-0`).
    public init?(_ text: some StringProtocol) {
        self.init(utf8: text.utf8)
    }

    /// Parses the bytes of `MS-SEQ` in one pass (on the delivery path, for every published frame).
    public init?(utf8 bytes: some Collection<UInt8>) {
        var parts: (UInt64, UInt64) = (0, 0)
        var digits = (0, 0)
        var inSequence = false
        for byte in bytes {
            if byte == UInt8(ascii: "-"), !inSequence {
                inSequence = true
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let digit = UInt64(byte - UInt8(ascii: "0"))
            if inSequence {
                let (times, overflow1) = parts.1.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times.addingReportingOverflow(digit)
                guard !overflow1, !overflow2 else { return nil }
                parts.1 = sum
                digits.1 += 1
            } else {
                let (times, overflow1) = parts.0.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times.addingReportingOverflow(digit)
                guard !overflow1, !overflow2 else { return nil }
                parts.0 = sum
                digits.0 += 1
            }
        }
        guard digits.0 > 0, !inSequence || digits.1 > 0 else { return nil }
        self.init(milliseconds: parts.0, sequence: parts.1)
    }

    public static let zero = StreamID(milliseconds: 0, sequence: 0)
    /// After every id Redis can give.
    public static let maximum = StreamID(milliseconds: .max, sequence: .max)

    /// The last id before millisecond `ms`: every entry stored at `ms` or later comes after it.
    public static func before(milliseconds ms: UInt64) -> StreamID {
        ms == 0 ? .zero : StreamID(milliseconds: ms - 1, sequence: .max)
    }

    public var description: String { "\(milliseconds)-\(sequence)" }

    public static func < (lhs: StreamID, rhs: StreamID) -> Bool {
        (lhs.milliseconds, lhs.sequence) < (rhs.milliseconds, rhs.sequence)
    }
}
