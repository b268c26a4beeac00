import Foundation

/// One JSON object as a line, keys sorted, for `--json`.
enum JSONLine {
    static func print(_ object: Any) {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        Swift.print(String(decoding: data, as: UTF8.self))
    }
}
