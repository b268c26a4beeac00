import ArgumentParser
import NIOCore
import NIOPosix

@main
struct ChatRelayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chatrelay",
        abstract: "A real-time chat relay: stateless nodes sharing one Redis.",
        subcommands: [ServeCommand.self, TokenCommand.self]
    )

    static func main() async {
        // Tasks run on the event loop threads, so a Redis reply or a socket read resumes its task without a thread hop.
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
