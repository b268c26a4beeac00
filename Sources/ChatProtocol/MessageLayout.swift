/// The fixed text of a delivered-message frame, in the contract's field order:
/// `{"id":"ID","friend":"F","from":"A","to":"B","content":"C","type":"T","ts":MS}`.
///
/// The one source of that layout: the Swift writer (``ServerMessage``) and the store script's Lua (``StoreScript``,
/// which builds the live frame inside Redis) are both made from these pieces, so that a live frame and the same
/// message read back from the stream are the same bytes.
public enum MessageLayout {
    public static let idOpen = #"{"id":""#
    public static let idClose = #"","#
    public static let friendOpen = #""friend":""#
    public static let fromOpen = #"","from":""#
    public static let toOpen = #"","to":""#
    public static let contentOpen = #"","content":""#
    public static let typeOpen = #"","type":""#
    public static let typeClose = #"""#
    public static let tsOpen = #","ts":"#
    public static let close = "}"
    /// On a Redis Cluster a live frame ends with the friendship's previous id instead: `...,"ts":MS,"prev":"ID"}`.
    public static let prevOpen = #","prev":""#
    public static let prevClose = #""}"#

    /// `text` as a Lua string literal, for the store script. The pieces hold no quote or backslash of Lua's.
    public static func lua(_ text: String) -> String {
        precondition(!text.contains("'") && !text.contains("\\"), "not a plain Lua literal: \(text)")
        return "'" + text + "'"
    }
}
