import Metrics

/// A cluster client's own series: what changed in the cluster and what the client did about it.
final class ClusterMetrics: Sendable {
    /// Slot maps read that differed from the one before (a failover, a slot moved, a node added).
    let mapChanges: Counter
    /// `MOVED` and `ASK` answers followed.
    let moved: Counter
    let asked: Counter
    /// Channels subscribed again elsewhere after their slot moved or their primary died.
    let resubscriptions: Counter

    init(_ settings: RedisMetricsSettings) {
        let (dimensions, factory) = (settings.dimensions, settings.factory)
        mapChanges = Counter(label: "redis_cluster_map_changes_total", dimensions: dimensions, factory: factory)
        moved = Counter(label: "redis_cluster_redirects_total", dimensions: dimensions + [("kind", "moved")], factory: factory)
        asked = Counter(label: "redis_cluster_redirects_total", dimensions: dimensions + [("kind", "ask")], factory: factory)
        resubscriptions = Counter(label: "redis_cluster_resubscriptions_total", dimensions: dimensions, factory: factory)
    }
}
