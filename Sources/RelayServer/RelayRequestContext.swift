import Hummingbird

/// The request context of every HTTP route.
struct RelayRequestContext: RequestContext, PeerAddressContext {
    var coreContext: CoreRequestContextStorage
    let peerAddress: String?

    init(source: Source) {
        coreContext = .init(source: source)
        peerAddress = source.channel.remoteAddress?.ipAddress
    }
}

/// A context that knows the address of the connection's other end (the balancer's, behind one).
protocol PeerAddressContext: RequestContext {
    var peerAddress: String? { get }
}
