import ChatProtocol
import Foundation
import RelayCore
import Testing

@Suite struct ClientRequestParserTests {
    let probe = ParserProbe(maximumContentBytes: 16)
    var parser: ClientRequestParser { probe.parser }

    func parse(_ text: String) throws(RequestError) -> ClientRequest { try probe.parse(text) }
    func code(_ text: String) -> ErrorCode? { probe.code(text) }

    @Test func theTutorialFrameParses() throws {
        let frame = try parse(#"{"friend":"f1","from":"a","to":"b","content":"hello","type":"text","extra":{"ignored":[1,2]}}"#)
        #expect(frame == .send(SendRequest(friendship: "f1", from: "a", to: "b", content: "hello", type: .text, cid: nil)))
        #expect(try parse(#"{"friend":"f1","content":"x"}"#) == .send(SendRequest(friendship: "f1", content: "x", type: .text)))
    }

    /// The last send's identifiers come back as the very same strings (no new storage), others as new equal ones.
    @Test func knownIdentifiersAreReusedNotCopied() throws {
        let friendship = "64f1c0ffee64f1c0ffee0001"
        let (alice, bob) = ("alice-the-first-user", "bob-the-second-user")
        let known = KnownIdentifiers(friendship, alice, bob)
        let frame = #"{"friend":"\#(friendship)","from":"\#(alice)","to":"\#(bob)","content":"hello","cid":"c1"}"#
        guard case .send(let request) = try parser.parse(Array(frame.utf8), known: known) else {
            Issue.record("not a send")
            return
        }
        #expect(request == SendRequest(friendship: friendship, from: alice, to: bob, content: "hello", type: .text, cid: "c1"))
        #expect(Self.storage(request.friendship) == Self.storage(friendship))
        #expect(Self.storage(request.from!) == Self.storage(alice))
        #expect(Self.storage(request.to!) == Self.storage(bob))

        // One byte off, or a prefix: new strings with the frame's value.
        let other = #"{"friend":"64f1c0ffee64f1c0ffee0002","from":"alice-the-first-use","content":"x"}"#
        guard case .send(let second) = try parser.parse(Array(other.utf8), known: known) else {
            Issue.record("not a send")
            return
        }
        #expect(second.friendship == "64f1c0ffee64f1c0ffee0002")
        #expect(second.from == "alice-the-first-use")
    }

    private static func storage(_ text: String) -> UnsafePointer<UInt8>? {
        text.utf8.withContiguousStorageIfAvailable { $0.baseAddress } ?? nil
    }

    @Test func otherOperations() throws {
        #expect(try parse(#"{"op":"ping"}"#) == .ping())
        #expect(try parse(#"{"op":"history","friend":"f","rid":7}"#) == .history(HistoryRequest(friendship: "f", limit: 50, rid: .number(7))))
        #expect(try parse(#"{"op":"sync","cursors":{"f":"1-0"},"since":"5"}"#) == .sync(SyncRequest(cursors: ["f": "1-0"], since: "5")))
    }

    @Test func errorsCarryTheContractsCodes() {
        #expect(code("") == .badJSON)
        #expect(code("[1,2]") == .badJSON)
        #expect(code("\"text\"") == .badJSON)
        #expect(code("{\"friend\":") == .badJSON)
        #expect(code(String(repeating: "[", count: 10_000)) == .badJSON)
        #expect(code(#"{"friend":"f","content":5}"#) == .badMessage)
        #expect(code(#"{"friend":7,"content":"x"}"#) == .badMessage)
        #expect(code(#"{"content":"x"}"#) == .badMessage)
        #expect(code(#"{"friend":"f"}"#) == .badMessage)
        #expect(code(#"{"friend":"f","content":""}"#) == .badMessage)
        #expect(code(#"{"friend":"f","content":"12345678901234567"}"#) == .badMessage)
        #expect(code(#"{"friend":"f","content":"x","type":"video"}"#) == .badMessage)
        #expect(code(#"{"friend":"f/../x","content":"x"}"#) == .badMessage)
        #expect(code(#"{"friend":"\#(String(repeating: "a", count: 65))","content":"x"}"#) == .badMessage)
        #expect(code(#"{"friend":"f","content":"x","cid":""}"#) == .badMessage)
        #expect(code(#"{"op":"fly"}"#) == .badMessage)
        #expect(code(#"{"op":"sync","cursors":{"f":"yesterday"}}"#) == .badMessage)
    }

    @Test func contentLimitCountsBytesNotCharacters() throws {
        // 16 bytes allowed: four 4-byte emoji fit, five do not.
        _ = try parse(#"{"friend":"f","content":"😀😀😀😀"}"#)
        #expect(code(#"{"friend":"f","content":"😀😀😀😀😀"}"#) == .badMessage)
    }

    @Test func cidRidesAlongOnErrors() {
        do {
            _ = try parse(#"{"friend":"f","content":"x","type":"video","cid":"c9"}"#)
            Issue.record("accepted")
        } catch {
            #expect(error.cid == "c9")
        }
    }

    /// Contract v2: whenever the frame's `cid` is a string, its error carries it, whatever else is wrong, wherever
    /// the cid stands in the frame and whatever the op.
    @Test(arguments: [
        #"{"friend":"f","content":5,"cid":"c9"}"#,
        #"{"cid":"c9","friend":"f","content":5}"#,
        #"{"friend":["f"],"content":"x","cid":"c9"}"#,
        #"{"friend":"f","content":"x","type":7,"cid":"c9"}"#,
        #"{"content":"x","cid":"c9"}"#,
        #"{"friend":"f","cid":"c9"}"#,
        #"{"friend":"f","content":"","cid":"c9"}"#,
        #"{"friend":"f/x","content":"x","cid":"c9"}"#,
        #"{"friend":"f","from":"a b","content":"x","cid":"c9"}"#,
        #"{"op":"fly","cid":"c9"}"#,
        #"{"op":7,"cid":"c9"}"#,
        #"{"op":"history","friend":"f","limit":0,"cid":"c9"}"#,
        #"{"op":"history","friend":"f","limit":"5","cid":"c9"}"#,
        #"{"op":"sync","cursors":{"f":5},"cid":"c9"}"#,
        #"{"op":"sync","since":"yesterday","cid":"c9"}"#,
    ])
    func everyErrorCarriesAStringCid(frame: String) {
        do {
            _ = try parse(frame)
            Issue.record("accepted \(frame)")
        } catch {
            #expect(error.code == .badMessage)
            #expect(error.cid == "c9", "\(frame)")
        }
    }

    @Test func aCidThatIsNotAStringIsNotEchoedAndAnOverlongOneIs() {
        #expect((try? parse(#"{"friend":"f","content":5,"cid":12}"#)) == nil)
        do {
            _ = try parse(#"{"friend":"f","content":5,"cid":12}"#)
        } catch {
            #expect(error.cid == nil)
        }
        let long = String(repeating: "c", count: 129)
        do {
            _ = try parse(#"{"friend":"f","content":"x","cid":"\#(long)"}"#)
            Issue.record("accepted a 129-character cid")
        } catch {
            #expect(error.cid == long)
        }
    }

    /// Contract v2: a `limit` over 500 is taken as 500; below 1 or not an integer stays `bad_message`.
    @Test func historyLimitIsCappedAt500() throws {
        func limit(_ value: String) throws(RequestError) -> Int? {
            guard case .history(let request) = try parse(#"{"op":"history","friend":"f","limit":\#(value)}"#) else { return nil }
            return request.limit
        }
        #expect(try limit("1") == 1)
        #expect(try limit("500") == 500)
        #expect(try limit("501") == 500)
        #expect(try limit("1000") == 500)
        #expect(try limit("1e3") == 500)
        #expect(try limit("99999999999999999999999") == 500)
        #expect(try limit("null") == 50)
        for refused in ["0", "-1", "-99999999999999999999999", "1.5", "\"5\"", "true", "[5]"] {
            #expect(code(#"{"op":"history","friend":"f","limit":\#(refused)}"#) == .badMessage, "\(refused)")
        }
    }

    @Test func mutatedFramesNeverCrashAndAlwaysAnswer() {
        let seed = Array(#"{"friend":"f1","from":"a","to":"b","content":"hello","type":"text","cid":"c"}"#.utf8)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<3_000 {
            var bytes = seed
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let index = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes[index] = UInt8.random(in: 0...255, using: &generator)
                case 1: bytes.remove(at: index)
                default: bytes.insert(UInt8.random(in: 0...255, using: &generator), at: index)
                }
            }
            do {
                _ = try parser.parse(bytes)
            } catch {
                // Every rejection renders as a valid JSON error frame.
                let frame = ServerMessage.error(error)
                let object = try? JSONSerialization.jsonObject(with: Data(frame.utf8)) as? [String: Any]
                #expect(object?["op"] as? String == "error")
            }
        }
    }
}
