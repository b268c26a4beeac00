import ChatProtocol
import Foundation
import Testing

/// The shared vocabulary's text helpers agree with a JSON parser, including on text that needs escapes.
@Suite struct ChatProtocolTests {
    @Test(arguments: ["plain", "quote \" and backslash \\", "line\nbreak\ttab", "\u{01}control", "emoji 😀 ü"])
    func sendTextParsesBackToItsFields(content: String) throws {
        let text = ClientRequestText.send(friendship: "f1", content: content, cid: "c-1")
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String]
        #expect(object == ["friend": "f1", "content": content, "cid": "c-1"])
    }

    @Test func fieldsOfTheRelaysOwnMessages() {
        let delivered = #"{"id":"5-0","friend":"f1","from":"a","to":"b","content":"hi","type":"text","ts":17}"#
        #expect(MessageFields.isDelivered(delivered))
        #expect(MessageFields.op(delivered) == nil)
        #expect(MessageFields.value("ts", in: delivered) == "17")
        #expect(MessageFields.value("content", in: delivered) == "hi")
        let ack = #"{"op":"ack","cid":"c-1","id":"5-0"}"#
        #expect(MessageFields.op(ack) == "ack")
        #expect(!MessageFields.isDelivered(ack))
        #expect(MessageFields.value("missing", in: ack) == nil)
    }
}
