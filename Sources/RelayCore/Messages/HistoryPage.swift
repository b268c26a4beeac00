/// A page of history as it goes out, in a `history` frame or an HTTP body: bounded in bytes as well as in messages, so
/// that no page is larger than ``maximumBytes`` however large the messages (escaped control characters take six bytes
/// each) and the node never builds more than that.
public enum HistoryPage {
    public static let maximumBytes = 1 << 20

    /// The messages (given oldest first) that fit beside `overhead` bytes of frame around them, encoded and oldest
    /// first: the newest of them when `keepingNewest` (a page before `before`), else the oldest (a page after
    /// `after`). Each message but the first takes a comma too.
    public static func encode(
        _ messages: [StoredMessage],
        overhead: Int,
        keepingNewest: Bool,
        budget: Int = maximumBytes
    ) -> [String] {
        var encoded: [String] = []
        var size = overhead
        let order = keepingNewest ? Array(messages.indices.reversed()) : Array(messages.indices)
        for index in order {
            let text = ServerMessage.message(messages[index])
            let added = text.utf8.count + (encoded.isEmpty ? 0 : 1)
            guard size + added <= budget else { break }
            size += added
            encoded.append(text)
        }
        return keepingNewest ? encoded.reversed() : encoded
    }
}
