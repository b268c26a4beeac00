import AsyncHTTPClient
import Foundation
import NIOCore
import RelayCore

/// The HTTP side of `--jwks-url`: a GET with AsyncHTTPClient's shared client (keep-alive connections, TLS with the
/// system's trust roots), bounded in time and size so that a slow or huge answer cannot hold the node.
public enum KeySetFetcher {
    static let timeout: TimeAmount = .seconds(5)
    /// Key sets are a few kilobytes; a provider's stays far below this.
    static let maximumBytes = 1024 * 1024

    public static func fetch(from url: String) throws -> RemoteKeySet.Fetch {
        guard let parsed = URL(string: url), let scheme = parsed.scheme, ["http", "https"].contains(scheme), parsed.host != nil else {
            throw KeySetFetchError(description: "not an http or https URL")
        }
        return {
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "Accept", value: "application/json")
            let response = try await HTTPClient.shared.execute(request, timeout: timeout)
            guard response.status == .ok else { throw KeySetFetchError(description: "\(url) answered \(response.status.code)") }
            return Array(buffer: try await response.body.collect(upTo: maximumBytes))
        }
    }
}

struct KeySetFetchError: Error, CustomStringConvertible {
    let description: String
}
