import ChatProtocol

/// A request id echoed back in answers; clients may use a string or a number.
public enum RequestID: Sendable, Hashable {
    case string(String)
    case number(Int)

    var json: String {
        switch self {
        case .string(let text): JSONString.quoted(text)
        case .number(let value): String(value)
        }
    }
}
