import NIOCore
import Testing

@testable import RelayCore

@Suite struct PublishedFrameTests {
    let body = #"{"id":"5-1","friend":"f","from":"a","to":"b","content":"x \"quoted\" ,\"origin\":\"n/1\"","type":"text","ts":5"#

    @Test func recipientFrame() throws {
        let frame = try #require(PublishedFrame(ByteBuffer(string: body + "}")))
        #expect(String(buffer: frame.bytes) == body + "}")
        #expect(frame.id == StreamID(milliseconds: 5, sequence: 1))
        #expect(frame.friendship == "f")
        #expect(frame.origin == nil)
    }

    @Test func senderFrameCarriesOrigin() throws {
        let frame = try #require(PublishedFrame(ByteBuffer(string: body + #","origin":"node-1/7"}"#)))
        #expect(String(buffer: frame.bytes) == body + "}")
        #expect(frame.origin == "node-1/7")
    }

    /// A payload as the Redis client hands it over: nobody else holds it, with room in front.
    private func handedOver(_ text: String) -> ByteBuffer {
        var payload = ByteBuffer()
        payload.writeRepeatingByte(0, count: 16)
        payload.moveReaderIndex(forwardBy: 16)
        payload.writeString(text)
        return payload
    }

    @Test func aPayloadHandedOverIsCutToShapeInPlace() throws {
        // Outside `#require`, which would hold on to its argument.
        let parsed = PublishedFrame(handedOver(body + #","origin":"node-1/7"}"#))
        let frame = try #require(parsed)
        #expect(String(buffer: frame.bytes) == body + "}")
        #expect(frame.origin == "node-1/7")
        // Still the same buffer, room in front included; a copy would start a new frame buffer's 10 bytes in.
        #expect(frame.bytes.readerIndex == 16)
    }

    @Test func aPayloadHeldElsewhereIsCopiedAndLeftAsItWas() throws {
        let text = body + #","origin":"node-1/7"}"#
        let payload = handedOver(text)
        let frame = try #require(PublishedFrame(payload))
        #expect(String(buffer: frame.bytes) == body + "}")
        #expect(String(buffer: payload) == text)
    }

    @Test func otherShapesAreRefused() {
        for text in ["", "}", #"{"op":"broadcast"}"#, #"{"id":"x","friend":"f","ts":1}"#, #"{"friend":"f","id":"5-1"}"#] {
            #expect(PublishedFrame(ByteBuffer(string: text)) == nil, "\(text)")
        }
    }
}
