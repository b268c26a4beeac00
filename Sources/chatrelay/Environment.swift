import Foundation

/// Flags fall back to `CHATRELAY_*` variables, then to the contract's defaults.
enum Environment {
    static func value(_ name: String) -> String? {
        ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }
}
