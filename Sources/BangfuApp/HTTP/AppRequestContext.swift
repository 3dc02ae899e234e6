import Hummingbird
import NIOCore

/// Who is calling: resolved from the session token by `AuthMiddleware`.
public struct Identity: Sendable, Equatable {
    public var userId: String
    public var username: String
    public var role: Role
    public var displayName: String
    public var countyCode: String?
    /// SHA-256 of the session token, so sign-out can end exactly this session.
    var tokenHash: String
    /// True when the token came from the session cookie rather than the Authorization header.
    var viaCookie: Bool
}

public struct AppRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: Identity?
    public var requestID: String = ""
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    /// JSON bodies are limited to 1 MiB (API.md); uploads read their own, larger limits.
    public var maxUploadSize: Int { 1 << 20 }

    /// The caller's IP address as a string, for throttling; "unknown" when there is none (tests).
    var clientAddress: String { remoteAddress?.ipAddress ?? "unknown" }

    /// True when the peer is on the loopback interface.
    var isLoopback: Bool {
        guard let ip = remoteAddress?.ipAddress else { return false }
        return ip.hasPrefix("127.") || ip == "::1" || ip == "::ffff:127.0.0.1"
    }

    /// The signed-in identity, or 401.
    func requireIdentity() throws -> Identity {
        guard let identity else { throw APIError.unauthenticated }
        return identity
    }

    /// The signed-in identity if it holds one of `roles`; 401 when nobody is signed in, 403 otherwise.
    func require(_ roles: Role...) throws -> Identity {
        try require(Set(roles))
    }

    func require(_ roles: Set<Role>) throws -> Identity {
        let identity = try requireIdentity()
        guard roles.contains(identity.role) else { throw APIError.forbidden }
        return identity
    }
}
