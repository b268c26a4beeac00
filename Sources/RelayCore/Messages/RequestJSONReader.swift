/// Reads a client frame's JSON object in one pass over its bytes, straight into ``RawClientRequest``.
///
/// The profile of a node under load had Foundation's `JSONDecoder` at 8 to 10% of its CPU for these small objects.
/// This reader knows the fields a frame may carry, skips unknown ones (nesting up to ``maximumDepth``), and tells a
/// syntax error (`bad_json`) from a known field of the wrong type (`bad_message`), as the contract asks.
struct RequestJSONReader {
    static let maximumDepth = 64

    enum Failure: Error {
        case syntax
        /// A known field of the wrong type, with the frame's `cid` (when that is a string) for the error to carry.
        case wrongType(String, cid: String?)
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private let known: KnownIdentifiers
    private var index = 0
    /// The first known field of the wrong type; reported once the whole frame proved to be valid JSON.
    private var wrongField: String?

    private init(_ bytes: UnsafeBufferPointer<UInt8>, known: KnownIdentifiers) {
        self.bytes = bytes
        self.known = known
    }

    /// `known` strings are handed back for `friend`, `from` and `to` values with their bytes.
    static func read(_ bytes: UnsafeBufferPointer<UInt8>, known: KnownIdentifiers = .none) throws(Failure) -> RawClientRequest {
        var reader = RequestJSONReader(bytes, known: known)
        let frame = try reader.readFrame()
        if let field = reader.wrongField { throw .wrongType(field, cid: frame.cid) }
        return frame
    }

    private mutating func readFrame() throws(Failure) -> RawClientRequest {
        var frame = RawClientRequest()
        skipWhitespace()
        try readObject { (reader, key) throws(Failure) in try reader.readField(key, into: &frame) }
        skipWhitespace()
        guard index == bytes.count else { throw .syntax }
        return frame
    }

    /// `{"key": value, ...}`, from its opening brace; `member` reads each value, standing on it.
    private mutating func readObject(_ member: (inout RequestJSONReader, String) throws(Failure) -> Void) throws(Failure) {
        try readSequence(UInt8(ascii: "{"), UInt8(ascii: "}")) { (reader) throws(Failure) in
            let key = try reader.readString()
            reader.skipWhitespace()
            try reader.expect(UInt8(ascii: ":"))
            reader.skipWhitespace()
            try member(&reader, key)
        }
    }

    /// `open`, elements separated by commas, `close`, with whitespace anywhere between: an object or an array.
    private mutating func readSequence(
        _ open: UInt8,
        _ close: UInt8,
        _ element: (inout RequestJSONReader) throws(Failure) -> Void
    ) throws(Failure) {
        try expect(open)
        skipWhitespace()
        if peek() == close {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            try element(&self)
            skipWhitespace()
            if peek() == UInt8(ascii: ",") {
                index += 1
                continue
            }
            try expect(close)
            return
        }
    }

    private mutating func readField(_ key: String, into frame: inout RawClientRequest) throws(Failure) {
        switch key {
        case "op": frame.op = try readOptionalString(key)
        case "friend": frame.friend = try readOptionalString(key, known: known)
        case "from": frame.from = try readOptionalString(key, known: known)
        case "to": frame.to = try readOptionalString(key, known: known)
        case "content": frame.content = try readOptionalString(key)
        case "type": frame.type = try readOptionalString(key)
        case "cid": frame.cid = try readOptionalString(key)
        case "before": frame.before = try readOptionalString(key)
        case "since": frame.since = try readOptionalString(key)
        case "id": frame.id = try readOptionalString(key)
        case "token": frame.token = try readOptionalString(key)
        case "limit":
            switch peek() {
            case UInt8(ascii: "n"): try readNull()
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                frame.limit = try readInteger(key, saturating: true)
            default: try skipWrongType(key)
            }
        case "rid":
            switch peek() {
            case UInt8(ascii: "n"): try readNull()
            case UInt8(ascii: "\""): frame.rid = .string(try readString())
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                if let number = try readInteger(key) { frame.rid = .number(number) }
            default: try skipWrongType(key)
            }
        case "cursors":
            switch peek() {
            case UInt8(ascii: "n"): try readNull()
            case UInt8(ascii: "{"): frame.cursors = try readCursors()
            default: try skipWrongType(key)
            }
        default:
            try skipValue(depth: 1)
        }
    }

    /// `{"FID": "ID", ...}`; a value that is not a string is a wrong type named `cursors.FID`.
    private mutating func readCursors() throws(Failure) -> [String: String] {
        var cursors: [String: String] = [:]
        try readObject { (reader, friend) throws(Failure) in
            if reader.peek() == UInt8(ascii: "\"") {
                cursors[friend] = try reader.readString()
            } else {
                try reader.skipWrongType("cursors.\(friend)")
            }
        }
        return cursors
    }

    private mutating func readOptionalString(_ key: String, known: KnownIdentifiers = .none) throws(Failure) -> String? {
        switch peek() {
        case UInt8(ascii: "\""): return try readString(known: known)
        case UInt8(ascii: "n"):
            try readNull()
            return nil
        default:
            try skipWrongType(key)
            return nil
        }
    }

    private mutating func skipWrongType(_ key: String) throws(Failure) {
        try skipValue(depth: 1)
        if wrongField == nil { wrongField = key }
    }

    private mutating func readNull() throws(Failure) {
        try expectLiteral("null")
    }

    /// A JSON number that must be a whole number; nil (and a wrong type) when it is not. Past `Int`'s range it is a
    /// wrong type too, unless `saturating`, where it becomes `Int.max` or `Int.min` (a limit that is only capped).
    private mutating func readInteger(_ key: String, saturating: Bool = false) throws(Failure) -> Int? {
        let start = index
        try skipNumber()
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if let value = Int(text) { return value }
        if let value = Double(text), value.rounded() == value {
            if let whole = Int(exactly: value) { return whole }
            if saturating { return value > 0 ? Int.max : Int.min }
        }
        if wrongField == nil { wrongField = key }
        return nil
    }

    // MARK: - Strings

    private mutating func readString(known: KnownIdentifiers = .none) throws(Failure) -> String {
        try expect(UInt8(ascii: "\""))
        let start = index
        var isASCII = true
        // Fast path: no escapes, the string is a slice of the frame.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
                index += 1
                if let match = known.match(slice) { return match }
                return try Self.string(slice, isASCII: isASCII)
            }
            if byte == UInt8(ascii: "\\") { return try readEscapedString(from: start) }
            if byte < 0x20 { throw .syntax }
            if byte >= 0x80 { isASCII = false }
            index += 1
        }
        throw .syntax
    }

    private mutating func readEscapedString(from start: Int) throws(Failure) -> String {
        var unescaped = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return try unescaped.withUnsafeBufferPointer { (buffer) throws(Failure) -> String in
                    try Self.string(buffer, isASCII: false)
                }
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { throw .syntax }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): unescaped.append(escape)
                case UInt8(ascii: "b"): unescaped.append(0x08)
                case UInt8(ascii: "f"): unescaped.append(0x0C)
                case UInt8(ascii: "n"): unescaped.append(0x0A)
                case UInt8(ascii: "r"): unescaped.append(0x0D)
                case UInt8(ascii: "t"): unescaped.append(0x09)
                case UInt8(ascii: "u"): try appendUnicodeEscape(to: &unescaped)
                default: throw .syntax
                }
            case 0..<0x20:
                throw .syntax
            default:
                unescaped.append(byte)
            }
        }
        throw .syntax
    }

    /// `\uXXXX`, or a surrogate pair `\uD83D\uDE00`; a lone surrogate is an error, as in Foundation's decoder.
    private mutating func appendUnicodeEscape(to output: inout [UInt8]) throws(Failure) {
        var scalar = try readHex4()
        if (0xD800..<0xDC00).contains(scalar) {
            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                throw .syntax
            }
            index += 2
            let low = try readHex4()
            guard (0xDC00..<0xE000).contains(low) else { throw .syntax }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00..<0xE000).contains(scalar) {
            throw .syntax
        }
        guard let unicode = Unicode.Scalar(scalar) else { throw .syntax }
        output.append(contentsOf: UTF8.encode(unicode)!)
    }

    private mutating func readHex4() throws(Failure) -> UInt32 {
        guard index + 4 <= bytes.count else { throw .syntax }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            index += 1
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw .syntax
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// Invalid UTF-8 inside a string is a syntax error, not something to repair silently.
    private static func string(_ bytes: UnsafeBufferPointer<UInt8>, isASCII: Bool) throws(Failure) -> String {
        if isASCII { return String(decoding: bytes, as: UTF8.self) }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .syntax }
        return text
    }

    // MARK: - Skipping

    private mutating func skipValue(depth: Int) throws(Failure) {
        guard depth <= Self.maximumDepth else { throw .syntax }
        switch peek() {
        case UInt8(ascii: "\""): _ = try readString()
        case UInt8(ascii: "{"):
            try readObject { (reader, _) throws(Failure) in try reader.skipValue(depth: depth + 1) }
        case UInt8(ascii: "["):
            try readSequence(UInt8(ascii: "["), UInt8(ascii: "]")) { (reader) throws(Failure) in try reader.skipValue(depth: depth + 1) }
        case UInt8(ascii: "t"): try expectLiteral("true")
        case UInt8(ascii: "f"): try expectLiteral("false")
        case UInt8(ascii: "n"): try expectLiteral("null")
        default: try skipNumber()
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    private mutating func skipNumber() throws(Failure) {
        if peek() == UInt8(ascii: "-") { index += 1 }
        if peek() == UInt8(ascii: "0") {
            index += 1
        } else {
            guard skipDigits() > 0 else { throw .syntax }
        }
        if peek() == UInt8(ascii: ".") {
            index += 1
            guard skipDigits() > 0 else { throw .syntax }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            index += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
            guard skipDigits() > 0 else { throw .syntax }
        }
    }

    private mutating func skipDigits() -> Int {
        let start = index
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
        return index - start
    }

    // MARK: - Bytes

    /// The next byte, or 0 (never valid here) at the end.
    private func peek() -> UInt8 {
        index < bytes.count ? bytes[index] : 0
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): index += 1
            default: return
            }
        }
    }

    private mutating func expect(_ byte: UInt8) throws(Failure) {
        guard peek() == byte else { throw .syntax }
        index += 1
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(Failure) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw .syntax }
        for offset in 0..<count where bytes[index + offset] != literal.utf8Start[offset] { throw .syntax }
        index += count
    }
}
