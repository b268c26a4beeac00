import ChatProtocol
import RelayCore

/// Frame text through an ``ClientRequestParser``, for the parser's tests: the frame, or the error's code.
struct ParserProbe {
    let parser: ClientRequestParser

    init(maximumContentBytes: Int) {
        parser = ClientRequestParser(maximumContentBytes: maximumContentBytes)
    }

    func parse(_ text: String) throws(RequestError) -> ClientRequest { try parser.parse(Array(text.utf8)) }

    func code(_ text: String) -> ErrorCode? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error.code
        }
    }
}
