import ChatProtocol
import Foundation
import RelayCore
import Testing

/// The hand-written frame reader against JSON's corners, and against Foundation's parser on mutated frames.
@Suite struct RequestJSONReaderTests {
    let probe = ParserProbe(maximumContentBytes: 1024)
    var parser: ClientRequestParser { probe.parser }

    func parse(_ text: String) throws(RequestError) -> ClientRequest { try probe.parse(text) }
    func code(_ text: String) -> ErrorCode? { probe.code(text) }

    func content(_ text: String) throws -> String? {
        guard case .send(let request) = try parse(text) else { return nil }
        return request.content
    }

    @Test func escapesAndUnicodeDecode() throws {
        #expect(try content(#"{"friend":"f","content":"a\"b\\c\/d\n\t\r\b\f"}"#) == "a\"b\\c/d\n\t\r\u{08}\u{0C}")
        #expect(try content(#"{"friend":"f","content":"\u00e9\u4e2d\ud83d\ude00"}"#) == "é中😀")
        #expect(try content(#"{"friend":"f","content":"é中😀 raw"}"#) == "é中😀 raw")
        #expect(try content(" \n{ \"friend\" : \"f\" ,\t\"content\":\"x\" } \r\n") == "x")
        // Known fields set to null count as absent; unknown fields of any shape are skipped.
        #expect(try content(#"{"friend":"f","content":"x","cid":null,"x":[{"a":[true,false,null,-1.5e3]},{}],"y":{}}"#) == "x")
    }

    @Test func syntaxErrorsAreBadJSON() {
        for text in [
            #"{"friend":"f","content":"x"} trailing"#, #"{"friend":"f","content":"x",}"#, #"{"friend":"f" "content":"x"}"#,
            #"{"friend":"f","content":"\ud83d"}"#, #"{"friend":"f","content":"\ude00"}"#, #"{"friend":"f","content":"\x"}"#,
            "{\"friend\":\"f\",\"content\":\"tab\tinside\"}", #"{"friend":"f","content":"x","n":01}"#, #"{"friend":"f","n":1.}"#,
            #"{"friend":"f","n":-}"#, #"{"friend":"f","n":tru}"#, #"{friend:"f"}"#, "{", "}", "null", "",
            String(repeating: #"{"a":"#, count: 100) + "1" + String(repeating: "}", count: 100),
        ] {
            #expect(code(text) == .badJSON, "\(text.prefix(60))")
        }
        // Invalid UTF-8 inside a string.
        #expect((try? parser.parse(Array(#"{"friend":"f","content":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8))) == nil)
    }

    @Test func wrongTypesAreBadMessageAndKeepTheCid() throws {
        #expect(code(#"{"op":"history","friend":"f","limit":"5"}"#) == .badMessage)
        #expect(code(#"{"op":"history","friend":"f","limit":1.5}"#) == .badMessage)
        #expect(code(#"{"op":"sync","cursors":{"f":5}}"#) == .badMessage)
        #expect(code(#"{"op":"sync","cursors":[]}"#) == .badMessage)
        #expect(code(#"{"friend":["f"],"content":"x"}"#) == .badMessage)
        #expect(
            try parse(#"{"op":"history","friend":"f","limit":5.0,"rid":"r"}"#)
                == .history(HistoryRequest(friendship: "f", limit: 5, rid: .string("r")))
        )
    }

    @Test func agreesWithFoundationOnWhatIsAJSONObject() {
        let seed = Array(#"{"friend":"f1","content":"hé \"q\" \u00e9","n":[1,-2.5e3,{"a":null}],"t":true}"#.utf8)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5_000 {
            var bytes = seed
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                let index = Int.random(in: 0..<bytes.count, using: &generator)
                let printable = UInt8.random(in: 0x20...0x7E, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0 where bytes[index] < 0x80: bytes[index] = printable
                case 1 where bytes[index] < 0x80: bytes.remove(at: index)
                default: bytes.insert(printable, at: index)
                }
            }
            // Foundation also takes trailing commas, which RFC 8259 (and this reader) does not.
            let text = String(decoding: bytes, as: UTF8.self)
            if text.contains(try! Regex(#",\s*[}\]]"#)) { continue }
            let foundation = (try? JSONSerialization.jsonObject(with: Data(bytes))) is [String: Any]
            let ours: Bool
            do {
                _ = try parser.parse(bytes)
                ours = true
            } catch {
                ours = error.code != .badJSON
            }
            #expect(ours == foundation, "\(text)")
        }
    }
}
