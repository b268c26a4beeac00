import NIOCore

/// The answers a connection gets before (or instead of) the HTTP layer: a whole HTTP/1.1 response that closes the
/// connection, with the API's `{"error", "message"}` body.
enum CannedResponse {
    static func bytes(for refusal: RequestHeadMachine.Refusal, allocator: ByteBufferAllocator) -> ByteBuffer {
        let (reason, code, message) =
            switch refusal {
            case .requestTimeout: ("Request Timeout", "request_timeout", "the request did not arrive in time")
            case .headTooLarge: ("Request Header Fields Too Large", "head_too_large", "a request head is at most 16 KiB")
            case .notHTTP: ("Bad Request", "bad_request", "this is not an HTTP/1.1 request")
            case .overCapacity: ("Service Unavailable", "unavailable", "this node holds all the connections it may; try another node")
            }
        let body = #"{"error":"\#(code)","message":"\#(message)"}"#
        let text =
            "HTTP/1.1 \(refusal.status) \(reason)\r\nConnection: close\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
        return allocator.buffer(string: text)
    }
}
