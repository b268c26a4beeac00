import Foundation

/// A program run to its end: its exit status and what it wrote.
public struct ProgramRun: Sendable {
    public var status: Int32
    public var output: String
    public var errors: String

    /// Output and errors together, for failure messages.
    public var said: String { output + errors }

    /// Runs `executable` to its end. Its pipes are read, and its exit waited for, on Dispatch's threads: blocking
    /// Swift's cooperative threads would starve the in-process nodes it may be talking to.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) async throws -> ProgramRun {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let (output, errors) = (Pipe(), Pipe())
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        ChildProcesses.started(process.processIdentifier)
        final class Collected: @unchecked Sendable { var errors = Data() }
        let collected = Collected()
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                let group = DispatchGroup()
                DispatchQueue.global().async(group: group) { collected.errors = errors.fileHandleForReading.readDataToEndOfFile() }
                let outputData = output.fileHandleForReading.readDataToEndOfFile()
                group.wait()
                process.waitUntilExit()
                ChildProcesses.ended(process.processIdentifier)
                continuation.resume(
                    returning: ProgramRun(
                        status: process.terminationStatus,
                        output: String(decoding: outputData, as: UTF8.self),
                        errors: String(decoding: collected.errors, as: UTF8.self)
                    )
                )
            }
        }
    }
}
