import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import ServiceLifecycle

/// Sends one signed delivery and answers the receiver's status code; throws when there was no
/// answer within the time allowed. The server's is `HTTPWebhookTransport`; tests give their own.
protocol WebhookTransport: Sendable {
    func post(_ url: String, headers: [(String, String)], body: [UInt8]) async throws -> Int
}

/// Sends what the outbox holds (API.md "Notifications and webhooks"): each pass claims the due
/// deliveries (the oldest undelivered of each webhook, so a webhook hears its events in order),
/// signs and posts them, and records each attempt: delivered on a 2xx within 10 seconds,
/// otherwise tried again 1 minute later, doubling, until 24 hours have passed. A process that dies
/// mid-attempt leaves its claim to lapse and the delivery is tried again (at least once).
struct WebhookDelivery: UseCase {
    let services: AppServices
    let transport: any WebhookTransport
    let logger: Logger
    var store: WebhookStore { services.webhooks }
    var settings: WebhookSettings { configuration.webhooks }

    /// How many webhooks one pass serves (concurrently), and how many of each one's queued
    /// deliveries it sends (one after another, in order, stopping at the first failure).
    static let webhooksPerPass = 32
    static let depth = 16

    /// One pass: claims, sends and records (in two transactions whatever the number); answers how
    /// many deliveries it attempted.
    @discardableResult
    func pass() async throws -> Int {
        let now = clock.now
        let queues = try await database.write { db in
            try await store.claim(now: now, webhooks: Self.webhooksPerPass, depth: Self.depth, in: db)
        }
        guard !queues.isEmpty else { return 0 }
        let outcomes = await withTaskGroup(of: [(id: String, outcome: WebhookStore.Outcome?)].self) { group in
            for queue in queues {
                group.addTask {
                    var results: [(id: String, outcome: WebhookStore.Outcome?)] = []
                    var failed = false
                    for delivery in queue {
                        // Behind a failure, the rest of the queue waits for the next pass.
                        if failed {
                            results.append((delivery.id, nil))
                            continue
                        }
                        let outcome = await attempt(delivery)
                        failed = outcome.status != "delivered"
                        results.append((delivery.id, outcome))
                    }
                    return results
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        let at = clock.now
        try await database.write { db in try await store.record(outcomes, at: at, in: db) }
        return outcomes.filter { $0.outcome != nil }.count
    }

    private func attempt(_ delivery: ClaimedDelivery) async -> WebhookStore.Outcome {
        let started = clock.now
        switch WebhookRules.target(delivery.url) {
        case .failure(let problem):
            return failed(delivery, code: nil, error: "url \(problem.message)", now: started)
        case .success(let target):
            // Checked again at every attempt: the name may point elsewhere since registration.
            if let refusal = await WebhookRules.refusal(of: target, allowPrivate: settings.allowPrivate, resolver: settings.resolver) {
                return failed(delivery, code: nil, error: "url \(refusal)", now: started)
            }
            let body = Array(delivery.body.utf8)
            let signature = WebhookRules.signature(secret: delivery.secret, timestamp: Int64(started.timeIntervalSince1970), body: body)
            let headers = [
                ("Content-Type", "application/json"), ("User-Agent", "Bangfu-Webhooks/1"),
                ("Bangfu-Event-Id", delivery.eventId), ("Bangfu-Event-Type", delivery.type), ("Bangfu-Signature", signature),
            ]
            do {
                let code = try await transport.post(target.url, headers: headers, body: body)
                return (200..<300).contains(code)
                    ? WebhookStore.Outcome(status: "delivered", responseCode: Int64(code))
                    : failed(delivery, code: Int64(code), error: nil, now: clock.now)
            } catch {
                return failed(delivery, code: nil, error: Self.describe(error), now: clock.now)
            }
        }
    }

    private func failed(_ delivery: ClaimedDelivery, code: Int64?, error: String?, now: Date) -> WebhookStore.Outcome {
        let next = Backoff.next(
            afterFailures: delivery.attempts + 1, base: settings.retryBase.seconds, createdAt: delivery.createdAt, now: now)
        return WebhookStore.Outcome(
            status: next == nil ? "failed" : "pending", responseCode: code, error: error.map { String($0.prefix(300)) },
            nextAttemptAt: next)
    }

    /// A transport error in a line a delivery log can show (never a header or the secret).
    static func describe(_ error: any Error) -> String {
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
}

extension WebhookStore.Outcome {
    init(status: String, responseCode: Int64?) {
        self.init(status: status, responseCode: responseCode, error: nil, nextAttemptAt: nil)
    }
}

extension Duration {
    /// The duration in seconds, fractions included.
    var seconds: TimeInterval {
        TimeInterval(components.seconds) + TimeInterval(components.attoseconds) / 1e18
    }
}

/// The server's transport: AsyncHTTPClient, TLS verified against the system's roots (and the
/// operator's `--webhook-ca-file`), no redirects followed (a redirect could lead past the address
/// check), 5 seconds to connect and 10 for the answer.
struct HTTPWebhookTransport: WebhookTransport {
    let client: HTTPClient

    static func make(_ settings: WebhookSettings) -> HTTPWebhookTransport {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let roots = settings.trustedRoots { tls.additionalTrustRoots = [.file(roots)] }
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls, redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(5), read: .seconds(10)))
        configuration.decompression = .disabled
        return HTTPWebhookTransport(client: HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration))
    }

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
}

/// Runs delivery passes while the server runs (`drainWhileServing`), then closes its client.
struct WebhookDeliveryService: Service {
    let services: AppServices
    let interval: Duration
    let logger: Logger

    func run() async throws {
        let transport = HTTPWebhookTransport.make(services.configuration.webhooks)
        let delivery = WebhookDelivery(services: services, transport: transport, logger: logger)
        await drainWhileServing(every: interval, logger: logger, what: "webhook delivery") { try await delivery.pass() }
        try? await transport.client.shutdown()
    }
}
