/// The text of a client's requests, as the contract spells them, for clients that write them without a JSON
/// encoder.
public enum ClientRequestText {
    /// `{"friend":F,"content":C,"cid":ID}` (`cid` left out when nil).
    public static func send(friendship: String, content: String, cid: String? = nil) -> String {
        var text = #"{"friend":"# + JSONString.quoted(friendship) + #","content":"# + JSONString.quoted(content)
        if let cid { text += #","cid":"# + JSONString.quoted(cid) }
        return text + "}"
    }
}
