import ChatProtocol
import Foundation
import RelayCore

enum ClientRequestHarness {
    static let parser = ClientRequestParser(maximumContentBytes: 1024)

    /// Parses the input as a text frame; what is accepted keeps the contract's bounds, and the error frame that
    /// answers a refused one is JSON that carries the frame's cid.
    static func run(_ input: [UInt8]) {
        do {
            let request = try parser.parse(input)
            if let cid = request.cid { precondition(!cid.isEmpty && cid.utf8.count <= 128, "a cid out of bounds was accepted") }
            switch request {
            case .send(let send):
                precondition(Identifier.isValid(send.friendship), "an invalid friendship id was accepted")
                precondition(!send.content.isEmpty && send.content.utf8.count <= 1024, "content out of bounds was accepted")
            case .history(let history):
                precondition((1...ClientRequestParser.maximumHistoryLimit).contains(history.limit), "a history limit out of bounds")
                if let before = history.before { precondition(StreamID(before) != nil, "a before past 64 bits was accepted") }
            case .sync(let sync):
                for cursor in sync.cursors.values { precondition(StreamID(cursor) != nil, "a cursor past 64 bits was accepted") }
            case .read(let read):
                precondition(StreamID(read.id) != nil, "a read id past 64 bits was accepted")
            case .refresh(let token, _):
                precondition(!token.isEmpty, "a refresh without a token was accepted")
            case .ping, .typing:
                break
            }
        } catch {
            let frame = ServerMessage.error(error)
            let decoded = (try? JSONSerialization.jsonObject(with: Data(frame.utf8))) as? [String: Any]
            precondition(decoded != nil, "the error frame is not JSON: \(frame)")
            precondition(decoded?["cid"] as? String == error.cid, "the error frame lost its cid")
        }
    }
}
