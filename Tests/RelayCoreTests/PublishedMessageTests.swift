import ChatProtocol
import NIOCore
import Testing

@testable import RelayCore

@Suite struct PublishedMessageTests {
    let text = #"{"id":"5-1","friend":"f","from":"a","to":"b","content":"x \"quoted\" ,\"from\":\"b\"","type":"text","ts":5}"#

    @Test func readsTheKnownFieldsAndKeepsTheFrameAsPublished() throws {
        let frame = try #require(PublishedMessage(ByteBuffer(string: text), owner: "b"))
        #expect(String(buffer: frame.bytes) == text)
        #expect(frame.id == StreamID(milliseconds: 5, sequence: 1))
        #expect(frame.friendship == "f")
        #expect(!frame.isOwn)
    }

    @Test func aFrameOnItsSendersChannelIsOwn() throws {
        #expect(try #require(PublishedMessage(ByteBuffer(string: text), owner: "a")).isOwn)
        // A prefix of the sender's id is someone else.
        #expect(try #require(PublishedMessage(ByteBuffer(string: text), owner: "")).isOwn == false)
        #expect(try #require(PublishedMessage(ByteBuffer(string: text), owner: "ab")).isOwn == false)
    }

    @Test func aPayloadHandedOverGoesOutFromItsOwnBuffer() throws {
        // As the Redis client hands it over: room in front for the WebSocket header.
        var payload = ByteBuffer()
        payload.writeRepeatingByte(0, count: 16)
        payload.moveReaderIndex(forwardBy: 16)
        payload.writeString(text)
        // Outside `#require`, which would hold on to its argument.
        let parsed = PublishedMessage(payload, owner: "b")
        let frame = try #require(parsed)
        #expect(frame.bytes.readerIndex == 16)
        #expect(String(buffer: frame.bytes) == text)
    }

    @Test func aStoredMessageReadsAsItsLiveFrame() throws {
        let message = StoredMessage(id: "7-2", friendship: "f", from: "a", to: "b", content: "hi", type: "text")
        let frame = try #require(PublishedMessage(message, owner: "a"))
        #expect(frame.id == StreamID(milliseconds: 7, sequence: 2))
        #expect(frame.isOwn)
        #expect(String(buffer: frame.bytes) == ServerMessage.message(message))
        #expect(frame.bytes.readerIndex >= FrameBuffer.headerRoom)
    }

    @Test func otherShapesAreRefused() {
        let shapes = [
            "", "}", #"{"op":"broadcast"}"#, #"{"id":"x","friend":"f","from":"a","ts":1}"#, #"{"friend":"f","id":"5-1"}"#,
            #"{"id":"5-1","friend":"f","to":"b","ts":5}"#,
        ]
        for text in shapes {
            #expect(PublishedMessage(ByteBuffer(string: text), owner: "a") == nil, "\(text)")
        }
    }
}
