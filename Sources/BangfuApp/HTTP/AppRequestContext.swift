import Hummingbird
import NIOCore

/// A request's context: the caller's identity, resolved from the session token by `AuthMiddleware`.
public struct AppRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: Identity?
    public var requestID: String = ""
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
        self.clientAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }

    /// JSON bodies are limited to 1 MiB (API.md); uploads read their own, larger limits.
    public var maxUploadSize: Int { 1 << 20 }

    /// The caller's IP address as a string, for throttling, rate limits and logs; "unknown" when
    /// there is none (tests). `ClientAddressMiddleware` sets it from `X-Forwarded-For` when the
    /// peer is a trusted proxy.
    var clientAddress: String
    /// True when the request was relayed by a trusted proxy.
    var viaProxy = false

    /// True when the caller is on this machine's loopback interface, and not relayed by a proxy
    /// (a proxy on loopback relays the world).
    var isLoopback: Bool { !viaProxy && ClientAddress.isLoopback(clientAddress) }

    /// The signed-in identity, or 401.
    func requireIdentity() throws -> Identity {
        guard let identity else { throw DomainError.unauthenticated }
        return identity
    }

    /// The signed-in identity if it holds one of `roles`; 401 when nobody is signed in, 403 otherwise.
    func require(_ roles: Role...) throws -> Identity {
        try require(Set(roles))
    }

    func require(_ roles: Set<Role>) throws -> Identity {
        let identity = try requireIdentity()
        guard roles.contains(identity.role) else { throw DomainError.forbidden }
        return identity
    }
}
