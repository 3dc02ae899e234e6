import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A minimal HTTPS GET for `bangfu certificate verify --server`: one request per connection,
/// the whole body in memory (certificates and key sets are small).
public enum CertificateFetcher {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Fetches `url` (http or https), verifying the server against the system's roots, or, with
    /// `trustCertificate` (a PEM file such as the server's self-signed `data/tls/localhost.crt`),
    /// accepting exactly that certificate (pinning); `insecure` skips verification altogether.
    public static func get(_ url: String, trustCertificate: String? = nil, insecure: Bool = false, limit: Int = 4 << 20)
        async throws -> (status: Int, body: Data)
    {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host,
            scheme == "https" || scheme == "http"
        else { throw Failure(description: "not an http(s) URL: \(url)") }
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        var path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        if let query = components.percentEncodedQuery { path += "?" + query }
        var context: NIOSSLContext?
        var pin: [NIOSSLCertificate]?
        if scheme == "https" {
            var tls = TLSConfiguration.makeClientConfiguration()
            if insecure { tls.certificateVerification = .none }
            if let trustCertificate { pin = try NIOSSLCertificate.fromPEMFile(trustCertificate) }
            context = try NIOSSLContext(configuration: tls)
        }
        let (sslContext, pinned) = (context, pin)
        let serverName = host.first?.isNumber == true || host.contains(":") ? nil : host
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext, let pinned {
                        // The presented leaf must be the pinned certificate itself.
                        try channel.pipeline.syncOperations.addHandler(
                            try NIOSSLClientHandler(context: sslContext, serverHostname: serverName) { presented, promise in
                                promise.succeed(presented.first.map(pinned.contains) == true ? .certificateVerified : .failed)
                            })
                    } else if let sslContext {
                        try channel.pipeline.syncOperations.addHandler(
                            try NIOSSLClientHandler(context: sslContext, serverHostname: serverName))
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
            head.headers.add(name: "Host", value: components.port.map { "\(host):\($0)" } ?? host)
            head.headers.add(name: "Accept", value: "application/json")
            head.headers.add(name: "Connection", value: "close")
            try await outbound.write(.head(head))
            try await outbound.write(.end(nil))
            var status = 0
            var body = Data()
            for try await part in inbound {
                switch part {
                case .head(let response): status = Int(response.status.code)
                case .body(let buffer):
                    body.append(contentsOf: buffer.readableBytesView)
                    if body.count > limit { throw Failure(description: "the answer is larger than \(limit) bytes") }
                case .end: return (status, body)
                }
            }
            return (status, body)
        }
    }
}
