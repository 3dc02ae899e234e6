import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// Opens connections for a webhook's deliveries. The server's is `HTTPWebhookTransport`; tests
/// give their own.
protocol WebhookTransport: Sendable {
    /// A connection for `url`'s host, made to `address` (the one whose check passed) when given,
    /// so a name that resolves elsewhere by the time of the connection is never followed.
    func open(url: String, address: String?) -> any WebhookConnection
}

protocol WebhookConnection: Sendable {
    /// Sends one signed delivery and answers the receiver's status code; throws when there was
    /// no answer within the time allowed.
    func post(_ url: String, headers: [(String, String)], body: [UInt8]) async throws -> Int
    func close() async
}

/// The server's transport: AsyncHTTPClient, TLS verified against the system's roots (and the
/// operator's `--webhook-ca-file`) for the URL's own host name, no redirects followed (a redirect
/// could lead past the address check), 5 seconds to connect and 10 for the answer. A connection
/// pinned to a checked address is a client of its own (`dnsOverride`), closed after the webhook's
/// queue; without an address (`--webhook-allow-private`) the shared client serves.
struct HTTPWebhookTransport: WebhookTransport {
    let configuration: HTTPClient.Configuration
    let shared: HTTPClient

    static func make(_ settings: WebhookSettings) -> HTTPWebhookTransport {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let roots = settings.trustedRoots { tls.additionalTrustRoots = [.file(roots)] }
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls, redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(5), read: .seconds(10)))
        configuration.decompression = .disabled
        return HTTPWebhookTransport(
            configuration: configuration, shared: HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration))
    }

    func open(url: String, address: String?) -> any WebhookConnection {
        guard let address, let key = Self.overrideKey(url) else { return Connection(client: shared, owned: false) }
        var pinned = configuration
        pinned.dnsOverride = [key: address]
        return Connection(client: HTTPClient(eventLoopGroupProvider: .singleton, configuration: pinned), owned: true)
    }

    /// The host as AsyncHTTPClient looks it up in `dnsOverride`: `URL(string:).host`, case kept as
    /// written (`https://ERP.example.cn/` is keyed `ERP.example.cn`), so the pin always applies.
    static func overrideKey(_ url: String) -> String? {
        URL(string: url)?.host
    }

    func shutdown() async {
        try? await shared.shutdown()
    }

    struct Connection: WebhookConnection {
        let client: HTTPClient
        let owned: Bool

        func post(_ url: String, headers: [(String, String)], body: [UInt8]) async throws -> Int {
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            request.body = .bytes(body)
            let response = try await client.execute(request, timeout: .seconds(10))
            // What the receiver says is not read; at most 64 KiB of it is drained.
            _ = try? await response.body.collect(upTo: 64 * 1024)
            return Int(response.status.code)
        }

        func close() async {
            if owned { try? await client.shutdown() }
        }
    }
}

/// A transport error in a line a delivery log can show (never a header or the secret).
func describeWebhookError(_ error: any Error) -> String {
    if let error = error as? HTTPClientError {
        switch error {
        case .deadlineExceeded, .readTimeout: return "no answer within 10 seconds"
        case .connectTimeout: return "could not connect in time"
        default: return "\(error)"
        }
    }
    if error is NIOSSLError { return "TLS failed: \(error)" }
    return "could not connect: \(error)"
}
