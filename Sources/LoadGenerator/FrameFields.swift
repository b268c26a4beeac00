/// Reads a string or number field out of a relay frame without a JSON parser: the load generator must not be the
/// bottleneck, and the frames it reads are the relay's own, with the fields it looks for free of escapes.
enum FrameFields {
    /// The value of `"name":"value"` or `"name":123`, as text.
    static func value(_ name: String, in frame: String) -> Substring? {
        guard let marker = frame.range(of: "\"\(name)\":") else { return nil }
        var start = marker.upperBound
        guard start < frame.endIndex else { return nil }
        if frame[start] == "\"" {
            start = frame.index(after: start)
            guard let end = frame[start...].firstIndex(of: "\"") else { return nil }
            return frame[start..<end]
        }
        let end = frame[start...].firstIndex(where: { $0 == "," || $0 == "}" }) ?? frame.endIndex
        return frame[start..<end]
    }
}
