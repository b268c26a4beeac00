import RelayCore

/// Frame text through an ``InboundFrameParser``, for the parser's tests: the frame, or the error's code.
struct ParserProbe {
    let parser: InboundFrameParser

    init(maximumContentBytes: Int) {
        parser = InboundFrameParser(maximumContentBytes: maximumContentBytes)
    }

    func parse(_ text: String) throws(FrameError) -> InboundFrame { try parser.parse(Array(text.utf8)) }

    func code(_ text: String) -> ErrorCode? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error.code
        }
    }
}
