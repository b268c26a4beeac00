import Metrics

/// Where a client's series go, and the labels they carry (a relay node adds its id).
public struct RedisMetricsSettings: Sendable {
    public var factory: any MetricsFactory
    public var dimensions: [(String, String)]

    public init(factory: any MetricsFactory = MetricsSystem.factory, dimensions: [(String, String)] = []) {
        self.factory = factory
        self.dimensions = dimensions
    }
}
