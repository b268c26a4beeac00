import ArgumentParser
import Foundation
import NIOCore
import NIOPosix

@main
struct ChatRelayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chatrelay",
        abstract: "A real-time chat relay: stateless nodes sharing one Redis.",
        subcommands: [
            ServeCommand.self, TokenCommand.self, BenchCommand.self, UserCommand.self, FriendCommand.self, FriendsCommand.self,
            HistoryCommand.self, SendCommand.self, ListenCommand.self, BroadcastCommand.self, RedisCommand.self,
        ]
    )

    static func main() async {
        unblockShutdownSignals()
        do {
            var command = try parseAsRoot()
            // Settings are read once, and before NIO's event loops exist: they cannot be resized later.
            let serveOptions = try (command as? ServeCommand)?.options()
            if let serveOptions { NIOSingletons.groupLoopCountSuggestion = serveOptions.threads }
            // Tasks run on the event loop threads, so a Redis reply or a socket read resumes its task without a thread hop.
            _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
            if let serve = command as? ServeCommand, let serveOptions {
                try await serve.run(serveOptions)
            } else if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

/// A parent may start us with SIGTERM and SIGINT blocked (a blocked mask is inherited across exec); the drain
/// depends on receiving them.
private func unblockShutdownSignals() {
    var signals = sigset_t()
    sigemptyset(&signals)
    sigaddset(&signals, SIGTERM)
    sigaddset(&signals, SIGINT)
    pthread_sigmask(SIG_UNBLOCK, &signals, nil)
}
