/// A Redis Cluster hash slot: CRC16 (XMODEM) of the key's hash tag, modulo 16384.
///
/// The hash tag is what lies between the first `{` and the first `}` after it, when that is not empty; otherwise the
/// whole key is hashed. So `chat:history:{f1}` and `chat:cids:{f1}:20000` share a slot, as the contract's layout
/// means them to.
public struct HashSlot: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public static let count = 16384

    public init?(rawValue: Int) {
        guard (0..<Self.count).contains(rawValue) else { return nil }
        self.rawValue = UInt16(rawValue)
    }

    /// Read in place where the string's UTF-8 is contiguous (every native string): the cluster client hashes every
    /// command's key.
    public init(key: some StringProtocol) {
        if let value = key.utf8.withContiguousStorageIfAvailable({ Self.slot(of: $0) }) {
            rawValue = value
        } else {
            rawValue = Self.slot(of: Array(key.utf8))
        }
    }

    public init(keyBytes key: some RandomAccessCollection<UInt8>) {
        rawValue = Self.slot(of: key)
    }

    private static func slot(of key: some RandomAccessCollection<UInt8>) -> UInt16 {
        crc16(hashTag(of: key)) & UInt16(count - 1)
    }

    public static func < (lhs: HashSlot, rhs: HashSlot) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { String(rawValue) }

    /// The part of the key that is hashed.
    static func hashTag<Key: RandomAccessCollection<UInt8>>(of key: Key) -> Key.SubSequence {
        guard let open = key.firstIndex(of: UInt8(ascii: "{")),
            let close = key[key.index(after: open)...].firstIndex(of: UInt8(ascii: "}")), close > key.index(after: open)
        else { return key[...] }
        return key[key.index(after: open)..<close]
    }

    static func crc16(_ bytes: some Sequence<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)]
        }
        return crc
    }

    /// CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0), one entry per byte value.
    private static let table: [UInt16] = (0..<256).map { byte in
        var crc = UInt16(byte) << 8
        for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        return crc
    }
}
