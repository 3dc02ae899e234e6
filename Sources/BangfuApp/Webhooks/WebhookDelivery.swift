import Foundation
import Logging
import ServiceLifecycle

/// Sends what the outbox holds (API.md "Notifications and webhooks"). A webhook is leased (one
/// process at a time sends its deliveries, so at most one is in flight); its queue, the oldest
/// pending delivery and up to `depth - 1` behind it, is sent one after another over one
/// connection, stopping at the first failure, and recorded with the lease's release in one
/// transaction. A 2xx within 10 seconds delivers; anything else is tried again 1 minute later,
/// doubling, for 24 hours. A process that dies mid-queue leaves its lease to lapse and the
/// deliveries are sent again (at least once).
struct WebhookDelivery: UseCase {
    let services: AppServices
    let transport: any WebhookTransport
    let logger: Logger
    /// Tells this process's leases from another's.
    let token: String
    var store: WebhookStore { services.webhooks }
    var settings: WebhookSettings { configuration.webhooks }

    init(services: AppServices, transport: any WebhookTransport, logger: Logger) {
        self.services = services
        self.transport = transport
        self.logger = logger
        self.token = services.ids.next()
    }

    /// How many webhooks are served at once, and how many of one's queued deliveries go out on
    /// one lease.
    static let webhooksAtOnce = 32
    static let depth = 16
    /// A queue stops taking its next delivery once it has run this long, so that it ends well
    /// within its lease (`WebhookStore.lease`) even when every receiver is at its slowest.
    static let queueBudget: TimeInterval = 60

    /// Leases up to `limit` webhooks with deliveries due and reads their queues.
    func claim(limit: Int) async throws -> [[ClaimedDelivery]] {
        let now = clock.now
        return try await database.write { db in try await store.claim(now: now, webhooks: limit, depth: Self.depth, token: token, in: db) }
    }

    /// One pass, for tests and for a server with nothing in flight: claims, sends every queue
    /// (concurrently), records; answers how many deliveries it attempted.
    @discardableResult
    func pass() async throws -> Int {
        let queues = try await claim(limit: Self.webhooksAtOnce)
        return try await withThrowingTaskGroup(of: Int.self) { group in
            for queue in queues { group.addTask { try await send(queue) } }
            return try await group.reduce(0, +)
        }
    }

    /// Sends a webhook's leased queue in order and records it; answers how many it attempted.
    func send(_ queue: [ClaimedDelivery]) async throws -> Int {
        guard let first = queue.first else { return 0 }
        let started = clock.now
        var outcomes: [(id: String, outcome: WebhookStore.Outcome?)] = []
        switch await connect(first.url) {
        case .failure(let refusal):
            outcomes = [(first.id, failed(first, code: nil, error: refusal, now: started))] + queue.dropFirst().map { ($0.id, nil) }
        case .success(let (target, connection)):
            var stopped = false
            for delivery in queue {
                // Behind a failure, or past the budget, the rest waits for the next lease.
                if stopped || clock.now.timeIntervalSince(started) > Self.queueBudget {
                    outcomes.append((delivery.id, nil))
                    continue
                }
                let outcome = await attempt(delivery, target: target, over: connection)
                stopped = outcome.status != "delivered"
                outcomes.append((delivery.id, outcome))
            }
            await connection.close()
        }
        let (now, token, webhookId, results) = (clock.now, self.token, first.webhookId, outcomes)
        try await database.write { db in try await store.record(results, of: webhookId, token: token, at: now, in: db) }
        return results.filter { $0.outcome != nil }.count
    }

    /// The URL checked (its host resolved once per queue, every address public unless the
    /// operator allowed private ones) and a connection pinned to the address checked.
    private func connect(_ url: String) async -> Result<(WebhookRules.Target, any WebhookConnection), Refusal> {
        switch WebhookRules.target(url) {
        case .failure(let problem):
            return .failure(Refusal("url \(problem.message)"))
        case .success(let target):
            if settings.allowPrivate { return .success((target, transport.open(host: target.host, address: nil))) }
            guard let addresses = try? await settings.resolver.addresses(of: target.host), let first = addresses.first else {
                return .failure(Refusal("url does not resolve to an address"))
            }
            guard addresses.allSatisfy(WebhookRules.isPublic), let text = HostResolver.text(of: first) else {
                return .failure(Refusal("url must resolve to a public address (not loopback, private or link-local)"))
            }
            return .success((target, transport.open(host: target.host, address: text)))
        }
    }

    struct Refusal: Error {
        var text: String
        init(_ text: String) { self.text = text }
    }

    private func attempt(_ delivery: ClaimedDelivery, target: WebhookRules.Target, over connection: any WebhookConnection) async
        -> WebhookStore.Outcome
    {
        let body = Array(delivery.body.utf8)
        let signature = WebhookRules.signature(secret: delivery.secret, timestamp: Int64(clock.now.timeIntervalSince1970), body: body)
        let headers = [
            ("Content-Type", "application/json"), ("User-Agent", "Bangfu-Webhooks/1"),
            ("Bangfu-Event-Id", delivery.eventId), ("Bangfu-Event-Type", delivery.type), ("Bangfu-Signature", signature),
        ]
        do {
            let code = try await connection.post(target.url, headers: headers, body: body)
            return (200..<300).contains(code)
                ? WebhookStore.Outcome(status: "delivered", responseCode: Int64(code), error: nil, nextAttemptAt: nil)
                : failed(delivery, code: Int64(code), error: nil, now: clock.now)
        } catch {
            return failed(delivery, code: nil, error: Refusal(describeWebhookError(error)), now: clock.now)
        }
    }

    private func failed(_ delivery: ClaimedDelivery, code: Int64?, error: Refusal?, now: Date) -> WebhookStore.Outcome {
        let next = Backoff.next(
            afterFailures: delivery.attempts + 1, base: settings.retryBase.seconds, createdAt: delivery.createdAt, now: now)
        return WebhookStore.Outcome(
            status: next == nil ? "failed" : "pending", responseCode: code, error: error.map { String($0.text.prefix(300)) },
            nextAttemptAt: next)
    }
}

extension Duration {
    /// The duration in seconds, fractions included.
    var seconds: TimeInterval {
        TimeInterval(components.seconds) + TimeInterval(components.attoseconds) / 1e18
    }
}

/// Keeps up to `WebhookDelivery.webhooksAtOnce` webhooks' queues in flight while the server runs:
/// a slow receiver holds only its own webhook. When nothing is due it looks again every
/// `interval` (which also picks up what other processes sharing the database wrote). On
/// shutdown, queues in flight are cancelled; their leases lapse and they are sent again.
struct WebhookDeliveryService: Service {
    let services: AppServices
    let interval: Duration
    let logger: Logger

    func run() async throws {
        let transport = HTTPWebhookTransport.make(services.configuration.webhooks)
        let delivery = WebhookDelivery(services: services, transport: transport, logger: logger)
        // The first look after a pause, once the server has applied its migrations.
        if await pauseUnlessShuttingDown(for: interval) {
            await cancelWhenGracefulShutdown { await keepSending(delivery) }
        }
        await transport.shutdown()
    }

    /// A queue's task answers true when it ends, a timer's false.
    private func keepSending(_ delivery: WebhookDelivery) async {
        await withTaskGroup(of: Bool.self) { group in
            var inFlight = 0
            var timer = false
            while !Task.isCancelled {
                var claimed = 0
                if inFlight < WebhookDelivery.webhooksAtOnce {
                    do {
                        let queues = try await delivery.claim(limit: WebhookDelivery.webhooksAtOnce - inFlight)
                        for queue in queues {
                            group.addTask {
                                do { _ = try await delivery.send(queue) } catch {
                                    logger.error("webhook delivery failed", metadata: ["error": .string(OperatorError.describing(error).message)])
                                }
                                return true
                            }
                        }
                        claimed = queues.count
                        inFlight += claimed
                    } catch {
                        logger.error("webhook claim failed", metadata: ["error": .string(OperatorError.describing(error).message)])
                    }
                }
                // With room left and work found, look again at once; else wait for a queue to end
                // or the interval to pass.
                if claimed > 0 && inFlight < WebhookDelivery.webhooksAtOnce { continue }
                if !timer {
                    timer = true
                    group.addTask {
                        try? await Task.sleep(for: interval)
                        return false
                    }
                }
                guard let ended = await group.next() else { continue }
                if ended { inFlight -= 1 } else { timer = false }
            }
            group.cancelAll()
        }
    }
}
