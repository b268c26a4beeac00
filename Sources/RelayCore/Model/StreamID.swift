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
        let parts = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard let ms = parts.first.flatMap({ UInt64($0) }) else { return nil }
        let seq = parts.count == 2 ? UInt64(parts[1]) : 0
        guard let seq else { return nil }
        self.init(milliseconds: ms, sequence: seq)
    }

    public static let zero = StreamID(milliseconds: 0, sequence: 0)

    /// The last id before millisecond `ms`: every entry stored at `ms` or later comes after it.
    public static func before(milliseconds ms: UInt64) -> StreamID {
        ms == 0 ? .zero : StreamID(milliseconds: ms - 1, sequence: .max)
    }

    public var description: String { "\(milliseconds)-\(sequence)" }

    public static func < (lhs: StreamID, rhs: StreamID) -> Bool {
        (lhs.milliseconds, lhs.sequence) < (rhs.milliseconds, rhs.sequence)
    }
}
