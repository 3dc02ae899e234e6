import Crypto
import Foundation

/// The pure rules of webhooks (API.md "Notifications and webhooks"): which events exist, which
/// addresses a delivery may reach, how a delivery is signed, and when a failed one is tried again.
enum WebhookRules {
    /// Every event type a webhook may subscribe to. `order.invoiced` is sent when the merchant
    /// records an invoice, `order.rated` when the order is rated (to the merchant's webhooks);
    /// `filing.confirmed` and `filing.returned` go to the organization's webhooks.
    static let eventTypes: [String] = [
        "order.placed", "order.confirmed", "order.rejected", "order.cancelled", "order.shipped", "order.accepted",
        "order.settled", "order.invoiced", "order.rated", "refund.requested", "refund.decided", "filing.confirmed",
        "filing.returned", "certificate.issued", "certificate.revoked",
    ]

    /// How many live webhooks one owner (a merchant, an organization, the admins) may keep.
    static let perOwner = 20

    /// A URL's longest accepted length.
    static let maxURLLength = 2048

    /// A webhook URL as registered: `https` only, a host, no credentials in it.
    struct Target: Equatable, Sendable {
        var url: String
        /// The host as it is resolved (an IPv6 literal without its brackets).
        var host: String
        var port: Int
    }

    /// The target of `text`, or the reason it is refused.
    static func target(_ text: String) -> Result<Target, TargetProblem> {
        let text = text.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { return .failure(.empty) }
        guard text.utf8.count <= maxURLLength else { return .failure(.tooLong) }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            return .failure(.malformed)
        }
        guard scheme == "https" else { return .failure(.notHTTPS) }
        guard components.user == nil, components.password == nil else { return .failure(.credentials) }
        guard var host = components.host?.lowercased(), !host.isEmpty else { return .failure(.malformed) }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return .failure(.malformed) }
        let port = components.port ?? 443
        guard (1...65535).contains(port) else { return .failure(.malformed) }
        return .success(Target(url: text, host: host, port: port))
    }

    enum TargetProblem: Error, Equatable {
        case empty, tooLong, malformed, notHTTPS, credentials

        var message: String {
            switch self {
            case .empty: "is required"
            case .tooLong: "must be at most \(WebhookRules.maxURLLength) characters"
            case .malformed: "must be an absolute URL with a host"
            case .notHTTPS: "must be an https:// URL"
            case .credentials: "must not carry a user name or password"
            }
        }
    }

    /// The subscribed event types: known, at least one, each once (in the order of `eventTypes`).
    static func events(_ requested: [String]) -> Result<[String], EventsProblem> {
        guard !requested.isEmpty else { return .failure(.empty) }
        if let unknown = requested.first(where: { !eventTypes.contains($0) }) { return .failure(.unknown(unknown)) }
        let wanted = Set(requested)
        return .success(eventTypes.filter(wanted.contains))
    }

    enum EventsProblem: Error, Equatable {
        case empty
        case unknown(String)

        var message: String {
            switch self {
            case .empty: "must name at least one event type"
            case .unknown(let type): "has an unknown event type \"\(type.prefix(60))\"; known: \(WebhookRules.eventTypes.joined(separator: ", "))"
            }
        }
    }

    /// Whether a delivery may go to `address` (4 or 16 bytes): only public unicast addresses;
    /// never loopback, private, shared (CGNAT), link-local (cloud metadata at 169.254.169.254),
    /// documentation, benchmarking, multicast or reserved ranges, nor IPv6 forms that embed them.
    static func isPublic(_ address: [UInt8]) -> Bool {
        switch address.count {
        case 4: return isPublicV4(address[0], address[1], address[2], address[3])
        case 16: return isPublicV6(address)
        default: return false
        }
    }

    private static func isPublicV4(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) -> Bool {
        switch (a, b, c) {
        case (0, _, _), (10, _, _), (127, _, _): return false
        case (100, 64...127, _): return false  // shared address space (CGNAT)
        case (169, 254, _): return false  // link-local, cloud metadata
        case (172, 16...31, _), (192, 168, _): return false
        case (192, 0, 0), (192, 0, 2), (198, 51, 100), (203, 0, 113): return false  // protocol assignments, documentation
        case (198, 18...19, _): return false  // benchmarking
        case (224...255, _, _): return false  // multicast, reserved, broadcast
        default: return true
        }
    }

    private static func isPublicV6(_ bytes: [UInt8]) -> Bool {
        guard bytes.count == 16 else { return false }
        let prefix = bytes.prefix(12)
        // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d, including :: and ::1).
        if prefix.dropLast(2).allSatisfy({ $0 == 0 }) && (prefix.suffix(2).allSatisfy { $0 == 0 } || prefix.suffix(2).allSatisfy { $0 == 0xFF }) {
            return isPublicV4(bytes[12], bytes[13], bytes[14], bytes[15])
        }
        // NAT64 (64:ff9b::/96) embeds an IPv4 address too.
        if bytes.prefix(12) == [0, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0] {
            return isPublicV4(bytes[12], bytes[13], bytes[14], bytes[15])
        }
        switch (bytes[0], bytes[1]) {
        case (0xFC...0xFD, _): return false  // unique local
        case (0xFE, 0x80...0xBF): return false  // link-local
        case (0xFE, 0xC0...0xFF): return false  // site-local (deprecated)
        case (0xFF, _): return false  // multicast
        case (0x20, 0x01) where bytes[2] == 0x0D && bytes[3] == 0xB8: return false  // documentation
        case (0x20, 0x02): return false  // 6to4 embeds an IPv4 address of any kind
        default: return (0x20...0x3F).contains(bytes[0])  // global unicast only
        }
    }

    /// `Bangfu-Signature` of `body` sent at `timestamp` (UNIX seconds): `t=…,v1=…`, the hex
    /// HMAC-SHA256 with the webhook's secret over `t + "." + body`.
    static func signature(secret: String, timestamp: Int64, body: [UInt8]) -> String {
        var signed = Array("\(timestamp).".utf8)
        signed.append(contentsOf: body)
        let mac = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Array(secret.utf8)))
        return "t=\(timestamp),v1=" + Array(mac).lowercaseHex
    }
}
