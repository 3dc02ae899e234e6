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
    var store: WebhookStore { services.webhooks }
    var settings: WebhookSettings { configuration.webhooks }

    init(services: AppServices, transport: any WebhookTransport, logger: Logger) {
        self.services = services
        self.transport = transport
        self.logger = logger
    }

    /// How many webhooks are served at once, and how many of one's queued deliveries go out on
    /// one lease.
    static let webhooksAtOnce = 64
    static let depth = 16
    /// A queue stops taking its next delivery once it has run this long, so that it ends well
    /// within its lease (`WebhookStore.lease`) even when every receiver is at its slowest.
    static let queueBudget: TimeInterval = 60

    /// What a queue came to: each delivery's outcome, nil for one not attempted.
    struct QueueResult: Sendable {
        var webhookId: String
        var leaseId: String
        var outcomes: [(id: String, outcome: WebhookStore.Outcome?)]

        var attempted: Int { outcomes.filter { $0.outcome != nil }.count }
    }

    /// In one transaction, records the queues that ended (releasing their leases) and leases up
    /// to `limit` more webhooks with deliveries due, except `busy` ones (this process's queues
    /// still in flight, whatever their leases say), reading their queues. Each claim is a lease of
    /// its own: a queue records only while its own lease holds the webhook.
    func exchange(_ ended: [QueueResult], claiming limit: Int, excluding busy: [String] = []) async throws -> [[ClaimedDelivery]] {
        let (now, leaseId) = (clock.now, ids.next())
        return try await database.write { db in
            for result in ended {
                try await store.record(result.outcomes, of: result.webhookId, lease: result.leaseId, at: now, in: db)
            }
            guard limit > 0 else { return [] }
            return try await store.claim(now: now, webhooks: limit, depth: Self.depth, lease: leaseId, excluding: busy, in: db)
        }
    }

    /// One pass, for tests: claims, sends every queue (concurrently), records; answers how many
    /// deliveries it attempted.
    @discardableResult
    func pass() async throws -> Int {
        let queues = try await exchange([], claiming: Self.webhooksAtOnce)
        let results = await withTaskGroup(of: QueueResult.self) { group in
            for queue in queues { group.addTask { await send(queue) } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        _ = try await exchange(results, claiming: 0)
        return results.reduce(0) { $0 + $1.attempted }
    }

    /// Sends a webhook's leased queue in order, stopping at the first failure or when its budget
    /// is spent; the caller records the result.
    func send(_ queue: [ClaimedDelivery]) async -> QueueResult {
        guard let first = queue.first else { return QueueResult(webhookId: "", leaseId: "", outcomes: []) }
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
                // Cut short by a shutdown: not an attempt the receiver refused; sent again later.
                if Task.isCancelled {
                    stopped = true
                    outcomes.append((delivery.id, nil))
                    continue
                }
                stopped = outcome.status != "delivered"
                outcomes.append((delivery.id, outcome))
            }
            await connection.close()
        }
        return QueueResult(webhookId: first.webhookId, leaseId: first.leasedBy, outcomes: outcomes)
    }

    /// The URL checked (its host resolved once per queue, every address public unless the
    /// operator allowed private ones) and a connection pinned to the address checked.
    private func connect(_ url: String) async -> Result<(WebhookRules.Target, any WebhookConnection), Refusal> {
        switch WebhookRules.target(url) {
        case .failure(let problem):
            return .failure(Refusal("url \(problem.message)"))
        case .success(let target):
            if settings.allowPrivate { return .success((target, transport.open(url: target.url, address: nil))) }
            switch await settings.resolver.publicAddress(of: target.host) {
            case .failure(let refusal): return .failure(Refusal("url \(refusal.message)"))
            case .success(let address):
                guard let text = HostResolver.text(of: address) else { return .failure(Refusal("url \(AddressRefusal.unresolved.message)")) }
                return .success((target, transport.open(url: target.url, address: text)))
            }
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
            // The whole exchange, answer body included, within 15 seconds (a receiver that trickles
            // its answer must not hold the queue past its lease).
            let code = try await withDeadline(seconds: 15) { try await connection.post(target.url, headers: headers, body: body) }
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
/// a slow receiver holds only its own webhook. Every tick (`busyTick` while there is work, the
/// poll interval when there is none, which also picks up what other processes sharing the
/// database wrote) one transaction records the queues that ended and leases more. On shutdown,
/// queues in flight are cancelled; their leases lapse and they are sent again.
struct WebhookDeliveryService: Service {
    let services: AppServices
    let interval: Duration
    let logger: Logger

    static let busyTick: Duration = .milliseconds(20)

    func run() async throws {
        let transport = HTTPWebhookTransport.make(services.configuration.webhooks)
        let delivery = WebhookDelivery(services: services, transport: transport, logger: logger)
        // The first look after a pause, once the server has applied its migrations.
        if await pauseUnlessShuttingDown(for: interval) {
            await cancelWhenGracefulShutdown { await keepSending(delivery) }
        }
        await transport.shutdown()
    }

    /// A queue's task answers its result, a tick's nil.
    private func keepSending(_ delivery: WebhookDelivery) async {
        var ended: [WebhookDelivery.QueueResult] = []
        await withTaskGroup(of: WebhookDelivery.QueueResult?.self) { group in
            var busy = Set<String>()
            var failing = false
            while !Task.isCancelled {
                let room = WebhookDelivery.webhooksAtOnce - busy.count
                if room > 0 || !ended.isEmpty {
                    do {
                        let queues = try await delivery.exchange(ended, claiming: room, excluding: Array(busy))
                        ended = []
                        failing = false
                        for queue in queues {
                            guard let webhookId = queue.first?.webhookId else { continue }
                            busy.insert(webhookId)
                            group.addTask { await delivery.send(queue) }
                        }
                    } catch {
                        // The queues that ended are recorded at the next try (or, if their leases
                        // lapse first, sent again); until the database answers, look less often.
                        failing = true
                        logger.error("webhook delivery failed", metadata: ["error": .string(OperatorError.describing(error).message)])
                    }
                }
                let tick = !failing && (!busy.isEmpty || !ended.isEmpty) ? Self.busyTick : interval
                group.addTask {
                    try? await Task.sleep(for: tick)
                    return nil
                }
                while let next = await group.next() {
                    guard let result = next else { break }
                    ended.append(result)
                    busy.remove(result.webhookId)
                }
            }
            // Shutting down: the queues in flight end at once (their attempts cut short count as
            // not made) and everything that ended is recorded, leases released.
            group.cancelAll()
            for await result in group { if let result { ended.append(result) } }
        }
        guard !ended.isEmpty else { return }
        let finished = ended
        // Not cancelled with the service: the record must reach the database.
        let recorded = await Task { try await delivery.exchange(finished, claiming: 0) }.result
        if case .failure(let error) = recorded {
            logger.error("webhook results not recorded at shutdown", metadata: ["error": .string(OperatorError.describing(error).message)])
        }
    }
}

