/// The fixed text of a delivered-message frame, in the contract's field order:
/// `{"id":"ID","friend":"F","from":"A","to":"B","content":"C","type":"T","ts":MS}`.
///
/// The one source of that layout: the Swift writer (``OutboundFrame``) and the store script's Lua (``StoreScript``,
/// which builds the live frame inside Redis) are both made from these pieces, so that a live frame and the same
/// message read back from the stream are the same bytes.
enum MessageLayout {
    static let idOpen = #"{"id":""#
    static let idClose = #"","#
    static let friendOpen = #""friend":""#
    static let fromOpen = #"","from":""#
    static let toOpen = #"","to":""#
    static let contentOpen = #"","content":""#
    static let typeOpen = #"","type":""#
    static let typeClose = #"""#
    static let tsOpen = #","ts":"#
    static let close = "}"

    /// `text` as a Lua string literal, for the store script. The pieces hold no quote or backslash of Lua's.
    static func lua(_ text: String) -> String {
        precondition(!text.contains("'") && !text.contains("\\"), "not a plain Lua literal: \(text)")
        return "'" + text + "'"
    }
}
