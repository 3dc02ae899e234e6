import Foundation
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The addresses a webhook's host stands for, 4 or 16 bytes each: an IP literal is its own
/// address; a name is looked up with `getaddrinfo` on a thread pool of its own, never on an event
/// loop, nor ahead of the file work on NIO's shared pool (a name server that does not answer
/// holds a lookup thread for its timeout).
public struct HostResolver: Sendable {
    let resolve: @Sendable (String) async throws -> [[UInt8]]

    /// Two threads, started on first use and kept for the life of the process.
    private static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
        return pool
    }()

    public static let system = HostResolver { host in
        if let literal = HostResolver.literal(host) { return [literal] }
        return try await pool.runIfActive { try HostResolver.lookUp(host) }
    }

    func addresses(of host: String) async throws -> [[UInt8]] {
        try await resolve(host)
    }

    struct NotFound: Error {}

    /// The bytes of an IPv4 or IPv6 literal; nil for a name.
    static func literal(_ host: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    /// The text of an address (`93.184.215.14`, `2001:db8::1`), for connecting to it.
    static func text(of address: [UInt8]) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let family: Int32
        switch address.count {
        case 4: family = AF_INET
        case 16: family = AF_INET6
        default: return nil
        }
        let written = address.withUnsafeBytes { bytes in
            inet_ntop(family, bytes.baseAddress, &buffer, socklen_t(buffer.count))
        }
        guard written != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func lookUp(_ host: String) throws -> [[UInt8]] {
        var hints = addrinfo()
        #if canImport(Glibc)
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
            hints.ai_socktype = SOCK_STREAM
        #endif
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { throw NotFound() }
        defer { freeaddrinfo(first) }
        var addresses: [[UInt8]] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            if let socket = info.pointee.ai_addr {
                switch info.pointee.ai_family {
                case AF_INET:
                    socket.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                        var address = $0.pointee.sin_addr
                        addresses.append(withUnsafeBytes(of: &address) { Array($0) })
                    }
                case AF_INET6:
                    socket.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                        var address = $0.pointee.sin6_addr
                        addresses.append(withUnsafeBytes(of: &address) { Array($0) })
                    }
                default: break
                }
            }
            cursor = info.pointee.ai_next
        }
        guard !addresses.isEmpty else { throw NotFound() }
        return addresses
    }
}

extension HostResolver {
    /// The address a webhook for `host` may connect to: the first one `host` resolves to within
    /// 10 seconds, when every one it resolves to is public (`WebhookRules.isPublic`); else why not.
    /// Registration and every delivery ask the same.
    func publicAddress(of host: String) async -> Result<[UInt8], AddressRefusal> {
        guard let addresses = try? await withDeadline(seconds: 10, { try await addresses(of: host) }), let first = addresses.first
        else { return .failure(.unresolved) }
        return addresses.allSatisfy(WebhookRules.isPublic) ? .success(first) : .failure(.notPublic)
    }
}

enum AddressRefusal: Error {
    case unresolved, notPublic

    var message: String {
        switch self {
        case .unresolved: "does not resolve to an address"
        case .notPublic: "must resolve to a public address (not loopback, private or link-local)"
        }
    }
}
