/// Why a directory operation was refused; the HTTP surface maps each case to a status.
public enum DirectoryError: Error, Sendable, Hashable {
    /// The input is malformed (400).
    case invalid(String)
    /// Nothing with that id (404).
    case notFound(String)
    /// The name or id is taken (409).
    case conflict(String)
}
