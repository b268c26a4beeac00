/// The inputs the node reads from the network, each as a fuzz target: a function of arbitrary bytes that must neither
/// crash nor hang, and traps (`precondition`) when an invariant of the node's bounds breaks. libFuzzer drives them
/// (`scripts/fuzz.sh`), and `FuzzRegressionTests` runs them over the kept corpus and a short random mutation run.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// RFC 6455 frames as the socket's reader takes them, cut into reads at places the input chooses.
    case webSocketReader = "websocket-reader"
    /// A text frame's JSON as the session parses it, and the error frame that answers it.
    case clientRequest = "client-request"
    /// Bytes on a fresh connection: the request head guard in front of NIO's HTTP decoder.
    case requestHead = "request-head"

    public func run(_ input: [UInt8]) {
        switch self {
        case .webSocketReader: WebSocketReaderHarness.run(input)
        case .clientRequest: ClientRequestHarness.run(input)
        case .requestHead: RequestHeadHarness.run(input)
        }
    }
}
