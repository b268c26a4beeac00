import Hummingbird

/// The request context of every HTTP route.
struct RelayRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage

    init(source: Source) {
        coreContext = .init(source: source)
    }
}
