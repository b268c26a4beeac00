import ArgumentParser
import ChatClient
import Foundation

struct ListenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "listen",
        abstract: "Print what a user receives, one line a message, until Ctrl-C."
    )
    @OptionGroup var node: NodeOptions
    @OptionGroup var socket: UserSocketOptions
    @Argument(help: "The user's id or name.") var user: String

    func run() async throws {
        let found = try await node.admin.user(user)
        let json = node.json
        let connection = try await socket.connect(as: found.id, node: node) { frame in
            var line = frame
            if !json, let object = try? JSONSerialization.jsonObject(with: Data(frame.utf8)) as? [String: Any] {
                line = Self.line(object) ?? frame
            }
            // Written straight to the descriptor: print's buffer would hold the lines back from a pipe.
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }
        FileHandle.standardError.write(Data("listening as \(found.name) (\(found.id)); Ctrl-C to stop\n".utf8))
        while !connection.isClosed { try await Task.sleep(for: .milliseconds(200)) }
        throw OperatorError("the node closed the socket (code \(connection.closeCode.map(String.init) ?? "none"))")
    }

    /// A readable line for messages and the friends' events; nil for other frames, which are printed as they came.
    static func line(_ frame: [String: Any]) -> String? {
        let text = { (name: String) in frame[name] as? String ?? "?" }
        switch frame["op"] as? String {
        case nil where frame["id"] != nil: return HistoryCommand.line(frame)
        case "presence"?: return "presence  \(text("user")) \(frame["online"] as? Bool == true ? "online" : "offline")"
        case "typing"?: return "typing  \(text("user")) in \(text("friend"))"
        case "read"?: return "read  \(text("user")) read \(text("friend")) up to \(text("id"))"
        default: return nil
        }
    }
}
