/// A refusal or failure an operator command reports in one line, exiting non-zero.
struct OperatorError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }

    /// What the node answered, as a line: its `message` when it gave one.
    init(_ what: String, status: Int, json: [String: Any]) {
        let detail = json["message"] as? String ?? json["error"] as? String ?? "no details"
        description = "\(what): \(status == 0 ? "no answer" : "HTTP \(status)"): \(detail)"
    }
}
