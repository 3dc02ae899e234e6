import Foundation
import HTTPTypes
import Hummingbird

#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 network, `192.0.2.0/24` or `2001:db8::/32`; a bare address is a network of one.
/// IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`) match IPv4 networks.
public struct CIDR: Sendable, Equatable, CustomStringConvertible {
    let bytes: [UInt8]
    let prefix: Int
    public let description: String

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let first = parts.first, let bytes = Self.address(String(first)) else { return nil }
        let maximum = bytes.count * 8
        if parts.count == 2 {
            guard let prefix = Int(parts[1]), (0...maximum).contains(prefix) else { return nil }
            self.prefix = prefix
        } else {
            self.prefix = maximum
        }
        self.bytes = bytes
        self.description = text
    }

    /// Whether `address` (text) lies in the network.
    public func contains(_ address: String) -> Bool {
        guard let other = Self.address(address), other.count == bytes.count else { return false }
        var remaining = prefix
        for (a, b) in zip(bytes, other) {
            if remaining <= 0 { return true }
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if a & mask != b & mask { return false }
            remaining -= bits
        }
        return true
    }

    /// The address's bytes (4 for IPv4, also when written IPv4-mapped; 16 for IPv6), or nil.
    static func address(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes.prefix(10).allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
            return Array(bytes.suffix(4))
        }
        return bytes
    }
}

/// Who the client is (API.md, issue 22): the connection's peer, unless the peer is a trusted
/// reverse proxy (`--trusted-proxy`), in which case the right-most address of `X-Forwarded-For`
/// that is not itself a trusted proxy. Entries to the left of that one are the client's own
/// words and are never believed.
public enum ClientAddress {
    /// The client's address and whether the request came through a trusted proxy.
    public static func resolve(peer: String?, forwardedFor: [String], trusted: [CIDR]) -> (address: String, proxied: Bool) {
        guard let peer else { return ("unknown", false) }
        guard trusted.contains(where: { $0.contains(peer) }) else { return (peer, false) }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        guard !hops.isEmpty else { return (peer, true) }
        var client = peer
        for hop in hops.reversed() {
            // A hop that is not an address means the chain cannot be read further: the last
            // trusted hop's word is all there is.
            guard CIDR.address(hop) != nil else { return (client, true) }
            client = hop
            if !trusted.contains(where: { $0.contains(hop) }) { return (hop, true) }
        }
        return (client, true)
    }

    static func isLoopback(_ address: String) -> Bool {
        guard let bytes = CIDR.address(address) else { return false }
        if bytes.count == 4 { return bytes.first == 127 }
        return bytes == [UInt8](repeating: 0, count: 15) + [1]
    }
}

/// Sets the request context's client address (for throttling, rate limits, logs and the
/// loopback rule of `/metrics`) from the peer and, behind a trusted proxy, `X-Forwarded-For`.
struct ClientAddressMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let trusted: [CIDR]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var context = context
        let (address, proxied) = ClientAddress.resolve(
            peer: context.remoteAddress?.ipAddress, forwardedFor: request.headers[values: .xForwardedFor], trusted: trusted)
        context.clientAddress = address
        context.viaProxy = proxied
        context.logger[metadataKey: "client"] = .string(address)
        return try await next(request, context)
    }
}

extension HTTPField.Name {
    static let xForwardedFor = Self("X-Forwarded-For")!
}
