import ChatProtocol
import Foundation
import NIOCore
import RelayCore
import Testing

@Suite struct FrameTextTests {
    @Test func deliveredMessageHasTheContractsFieldsInOrder() {
        let message = StoredMessage(id: "1732700000000-3", friendship: "f", from: "a", to: "b", content: "hi \"there\"\n\u{1}", type: "text")
        #expect(
            ServerMessage.message(message)
                == #"{"id":"1732700000000-3","friend":"f","from":"a","to":"b","content":"hi \"there\"\n\u0001","type":"text","ts":1732700000000}"#
        )
    }

    @Test func escapedTextRoundTripsThroughAJSONParser() throws {
        let tricky = "quote \" backslash \\ tab \t nul \u{0} emoji 😀 é \u{2028}"
        var writer = JSONWriter()
        writer.field("content", tricky)
        let object = try JSONSerialization.jsonObject(with: Data(writer.finish().utf8)) as? [String: Any]
        #expect(object?["content"] as? String == tricky)
    }

    @Test func ackAndError() {
        #expect(String(buffer: ServerMessage.ack(cid: "c", id: "5-1")) == #"{"op":"ack","cid":"c","id":"5-1","ts":5}"#)
        #expect(String(buffer: ServerMessage.ack(cid: #"a"\b"#, id: "17-0")) == #"{"op":"ack","cid":"a\"\\b","id":"17-0","ts":17}"#)
        #expect(
            ServerMessage.error(RequestError(.notFriends, "no", cid: nil)) == #"{"op":"error","code":"not_friends","message":"no"}"#
        )
    }

    /// The body of a message read back from the stream: assembled in one copy when nothing needs escaping, escaped
    /// otherwise; both are the JSON of the same fields, and it starts with the head the store script is given.
    @Test(arguments: ["hello", "", "quote \" and \\ and \n", "emoji 😀 é"])
    func messageBodyIsTheJSONOfItsFields(content: String) throws {
        let body = ServerMessage.messageBody(friendship: "f1", from: "alice", to: "bob", content: content, type: "text")
        let object = try JSONSerialization.jsonObject(with: Data("{\(body)}".utf8)) as? [String: String]
        #expect(object == ["friend": "f1", "from": "alice", "to": "bob", "content": content, "type": "text"])
        #expect(body.hasPrefix(#""friend":"f1","from":"alice","to":"bob","content":"#))
        #expect(body.hasPrefix(ServerMessage.messageHead(friendship: "f1", from: "alice", to: "bob")))
    }

    /// The contract's key layout, with its cluster hash tags.
    @Test func hotKeys() {
        let keys = RedisKeys(prefix: "chat")
        #expect(keys.history("f1") == "chat:history:{f1}")
        #expect(keys.deliver("u1") == "chat:deliver:{u1}")
        #expect(keys.clientIDs(friendship: "f1", day: 20_419) == "chat:cids:{f1}:20419")
    }

    @Test func identifiers() {
        #expect(Identifier.isValid("5d1328295793f14020a979d5"))
        #expect(Identifier.isValid("a_b-C9"))
        #expect(!Identifier.isValid(""))
        #expect(!Identifier.isValid("a{b}"))
        #expect(!Identifier.isValid("a:b"))
        #expect(!Identifier.isValid("é"))
        #expect(!Identifier.isValid(String(repeating: "a", count: 65)))
        #expect(Identifier.generate().count == 24)
        #expect(Identifier.isValidStreamID("1732700000000-0"))
        #expect(Identifier.isValidStreamID("17"))
        #expect(!Identifier.isValidStreamID("1-2-3"))
        #expect(!Identifier.isValidStreamID("-1"))
        #expect(!Identifier.isValidStreamID("a-1"))
    }

    @Test func keysUseHashTags() {
        let keys = RedisKeys(prefix: "chat")
        #expect(keys.history("5d1328295793f14020a979d5") == "chat:history:{5d1328295793f14020a979d5}")
        #expect(keys.deliver("u") == "chat:deliver:{u}")
        #expect(keys.clientIDs(friendship: "f", day: 1).hasPrefix("chat:cids:{f}:"))
    }
}
