import Foundation

/// One setting of `chatrelay serve`: its flag, its `CHATRELAY_*` variable, its default and what it means. The flag
/// wins over the variable, the variable over the default. ``ServeSettings`` lists them all.
public struct ServeSetting: Sendable {
    /// The long flag without its dashes.
    public let flag: String
    public let variable: String
    /// The default as the docs show it; nil when there is none.
    public let defaultText: String?
    /// The default as a value, when it is not the text itself (a computed one).
    private let defaultValue: @Sendable () -> String?
    public let summary: String
    /// A secret: its variable may name a file instead (`VARIABLE_FILE`), as Docker and Kubernetes secrets are given.
    public let isSecret: Bool

    init(
        _ flag: String,
        _ variable: String,
        default defaultText: String?,
        computed: (@Sendable () -> String)? = nil,
        secret: Bool = false,
        _ summary: String
    ) {
        self.isSecret = secret
        self.flag = flag
        self.variable = variable
        self.defaultText = defaultText
        if let computed {
            defaultValue = { computed() }
        } else {
            defaultValue = { defaultText }
        }
        self.summary = summary
    }

    /// The text `--help` shows.
    public var help: String {
        "\(summary) (\(variable)\(defaultText.map { ", default \($0)" } ?? ""))."
    }

    /// The flag's value if given, else the variable's, else the default; a variable that does not parse is an
    /// error naming it, never silently the default.
    public func resolve<Value>(_ flagValue: Value?, environment: [String: String], _ parse: (String) -> Value?) throws -> Value? {
        if let flagValue { return flagValue }
        if isSecret, let text = try Self.secretFromFile(variable, environment: environment) {
            guard let value = parse(text) else { throw ServeSettingError("\(variable)_FILE holds no valid value for --\(flag)") }
            return value
        }
        if let text = environment[variable], !text.isEmpty {
            guard let value = parse(text) else { throw ServeSettingError("\(variable)=\(text) is not a valid value for --\(flag)") }
            return value
        }
        return defaultValue().flatMap(parse)
    }

    public func resolve(_ flagValue: String?, environment: [String: String]) throws -> String? {
        try resolve(flagValue, environment: environment) { $0 }
    }

    /// The secret in the file that `VARIABLE_FILE` names, without one trailing newline; nil when that is unset. Set
    /// both ways, or naming a file that cannot be read, it is an error: a node must not start on the wrong secret.
    public static func secretFromFile(_ variable: String, environment: [String: String]) throws -> String? {
        guard let path = environment[variable + "_FILE"], !path.isEmpty else { return nil }
        if let direct = environment[variable], !direct.isEmpty {
            throw ServeSettingError("\(variable) and \(variable)_FILE are both set; give the secret one way")
        }
        guard let data = FileManager.default.contents(atPath: path), var text = String(data: data, encoding: .utf8) else {
            throw ServeSettingError("\(variable)_FILE=\(path) cannot be read")
        }
        if text.hasSuffix("\r\n") {
            text.removeLast(1)
        } else if text.hasSuffix("\n") {
            text.removeLast()
        }
        guard !text.isEmpty else { throw ServeSettingError("\(variable)_FILE=\(path) is empty") }
        return text
    }
}

/// A setting's value that cannot be used, with the flag or variable to fix.
public struct ServeSettingError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
