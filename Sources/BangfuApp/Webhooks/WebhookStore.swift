import Foundation
import NIOConcurrencyHelpers
import SQLKit

/// Whose events a webhook hears: a merchant's, a buying organization's, or (an admin's) all.
enum WebhookOwner: Sendable, Equatable {
    case merchant(String)
    case organization(String)
    case admins

    var kind: String {
        switch self {
        case .merchant: "merchant"
        case .organization: "organization"
        case .admins: "admin"
        }
    }

    var id: String {
        switch self {
        case .merchant(let id), .organization(let id): id
        case .admins: "*"
        }
    }
}

/// A registered webhook as the API shows it; its secret is stored beside it but never read back
/// into this row (only the delivery service reads it, to sign).
struct Webhook: TableRow, Encodable {
    var id: String
    var ownerKind: String
    var ownerId: String
    var createdBy: String
    var url: String
    @CommaList var events: [String]
    @Millis var createdAt: Date

    static let columns = ["id", "owner_kind", "owner_id", "created_by", "url", "events", "created_at"]
}

/// One event on its way to one webhook: the outbox row, which is also the delivery log.
struct WebhookDeliveryRow: Sendable {
    var id, webhookId, eventId, type: String
    /// The exact bytes every attempt sends (and signs).
    var body: String
    var createdAt: Date
}

/// A line of a webhook's delivery log (`GET /api/v1/webhooks/{id}/deliveries`).
struct DeliveryLogEntry: RowModel, Encodable {
    /// The delivery's place in its webhook's order (deliveries go out in this order).
    var seq: Int64
    var id, eventId, type: String
    /// How many attempts were made.
    var attempt: Int64
    /// `pending` (to be tried, again), `delivered`, `failed` (given up after 24 hours) or
    /// `cancelled` (its webhook was deleted).
    var status: String
    @NullEncoded var responseCode: Int64?
    /// Why the last attempt failed when there was no answer (a timeout, a refused address).
    @NullEncoded var error: String?
    /// The last attempt, or when the event was written if none was made yet.
    @Millis var at: Date
    @OptionalMillis var nextAttemptAt: Date?
    @Millis var createdAt: Date
}

/// A delivery a process has claimed, with what it needs to send it.
struct ClaimedDelivery: RowModel {
    var id: String
    var webhookId: String
    /// The claim that leased the webhook: only it may record the queue.
    var leasedBy: String
    var eventId, type, body: String
    var attempts: Int64
    @Millis var createdAt: Date
    var url, secret: String
}

/// Whether any webhook is live, known without a query on SQLite: one process owns that database
/// (the data directory's lock) and every write goes through its one writer, in turn. So a
/// registration marks `some` inside its transaction (a rollback leaves a harmless "maybe"), a
/// deletion marks `unknown`, and a check that found none inside the writer marks `none`; a check
/// then reads the mark instead of the database while it says `none`. PostgreSQL has no mark:
/// another process may register.
final class LiveWebhookMark: Sendable {
    enum State { case unknown, none, some }
    private let state = NIOLockedValueBox(State.unknown)

    var current: State { state.withLockedValue { $0 } }
    func set(_ value: State) { state.withLockedValue { $0 = value } }
}

/// The webhooks, their outbox and its delivery log.
struct WebhookStore: Sendable {
    let engine: DatabaseEngine
    /// Nil on PostgreSQL.
    let mark: LiveWebhookMark?

    init(engine: DatabaseEngine) {
        self.engine = engine
        self.mark = engine == .sqlite ? LiveWebhookMark() : nil
    }

    func insert(_ webhook: Webhook, secret: String, in db: any SQLDatabase) async throws {
        mark?.set(.some)
        try await db.raw(
            """
            INSERT INTO webhooks (\(Webhook.columnList), secret) VALUES
            (\(bind: webhook.id), \(bind: webhook.ownerKind), \(bind: webhook.ownerId), \(bind: webhook.createdBy),
             \(bind: webhook.url), \(bind: webhook.events.joined(separator: ",")), \(bind: webhook.createdAt.millis), \(bind: secret))
            """
        ).run()
    }

    /// The owner's live webhooks, newest first.
    func webhooks(of owner: WebhookOwner, in db: any SQLDatabase) async throws -> [Webhook] {
        try await db.raw(
            """
            SELECT \(Webhook.columnList) FROM webhooks
            WHERE owner_kind = \(bind: owner.kind) AND owner_id = \(bind: owner.id) AND deleted_at IS NULL
            ORDER BY created_at DESC, id DESC
            """
        ).all().map { try $0.model(Webhook.self) }
    }

    /// The owner's live webhook `id`; nil for anyone else's.
    func webhook(_ id: String, of owner: WebhookOwner, in db: any SQLDatabase) async throws -> Webhook? {
        try await db.raw(
            """
            SELECT \(Webhook.columnList) FROM webhooks
            WHERE id = \(bind: id) AND owner_kind = \(bind: owner.kind) AND owner_id = \(bind: owner.id) AND deleted_at IS NULL
            """
        ).first().map { try $0.model(Webhook.self) }
    }

    /// Deletes the webhook and cancels what it had still to deliver.
    func delete(_ id: String, at now: Date, in db: any SQLDatabase) async throws {
        mark?.set(.unknown)
        try await db.raw("UPDATE webhooks SET deleted_at = \(bind: now.millis) WHERE id = \(bind: id)").run()
        try await db.raw(
            """
            UPDATE webhook_deliveries SET status = 'cancelled'
            WHERE webhook_id = \(bind: id) AND status = 'pending'
            """
        ).run()
    }

    /// Whether any webhook is live: on PostgreSQL the one read an audited change pays when nobody
    /// listens; on SQLite not even that (`LiveWebhookMark`). Called inside write transactions only.
    func anyLive(in db: any SQLDatabase) async throws -> Bool {
        if mark?.current == LiveWebhookMark.State.none { return false }
        let live = try await db.raw("SELECT id FROM webhooks WHERE deleted_at IS NULL LIMIT 1").first() != nil
        if !live { mark?.set(.none) }
        return live
    }

    /// The live webhooks that hear `type` about an object of this merchant and organization.
    func subscribers(
        of type: String, merchantId: String?, organizationId: String?, in db: any SQLDatabase
    ) async throws -> [Webhook] {
        let hooks = try await db.raw(
            """
            SELECT \(Webhook.columnList) FROM webhooks WHERE deleted_at IS NULL AND (owner_kind = 'admin'
              OR (owner_kind = 'merchant' AND owner_id = \(bind: merchantId ?? ""))
              OR (owner_kind = 'organization' AND owner_id = \(bind: organizationId ?? "")))
            """
        ).all().map { try $0.model(Webhook.self) }
        return hooks.filter { $0.events.contains(type) }
    }

    func insert(_ deliveries: [WebhookDeliveryRow], in db: any SQLDatabase) async throws {
        try await db.insert(
            "INSERT INTO webhook_deliveries (id, webhook_id, event_id, type, body, status, attempts, next_attempt_at, created_at) VALUES",
            rows: deliveries.map {
                """
                (\(bind: $0.id), \(bind: $0.webhookId), \(bind: $0.eventId), \(bind: $0.type), \(bind: $0.body), 'pending', 0,
                 \(dueAfterQueue($0.webhookId, now: $0.createdAt)), \(bind: $0.createdAt.millis))
                """
            })
    }

    /// When a new delivery of `webhookId` is due: now, or, behind a head waiting for its retry,
    /// when that head is (so the claim's scan of due rows meets heads, not a dead receiver's
    /// backlog; a failed head moves its queue along with it in `record`).
    private func dueAfterQueue(_ webhookId: String, now: Date) -> SQLQueryString {
        """
        (SELECT CASE WHEN MAX(e.next_attempt_at) > \(bind: now.millis) THEN MAX(e.next_attempt_at) ELSE \(bind: now.millis) END
         FROM webhook_deliveries e WHERE e.webhook_id = \(bind: webhookId) AND e.status = 'pending')
        """
    }

    /// How long a lease holds a webhook: longer than a queue may take (`WebhookDelivery.queueBudget`
    /// and one last attempt of 15 seconds, and the name's lookup), so no other process sends for
    /// the webhook while this one may still be at it.
    static let lease: TimeInterval = 180

    /// Leases up to `webhooks` webhooks whose oldest pending delivery is due and that no process
    /// holds, and reads each one's queue: that delivery and up to `depth - 1` behind it, in order.
    /// On PostgreSQL, webhooks another process is leasing are skipped (`SKIP LOCKED`); SQLite has
    /// one writer. Order per webhook is the order deliveries were written (`seq`), which keeps
    /// every event after the ones its change followed.
    func claim(
        now: Date, webhooks: Int, depth: Int, lease leaseId: String, excluding busy: [String], in db: any SQLDatabase
    ) async throws -> [[ClaimedDelivery]] {
        // NO KEY UPDATE: an order's transaction inserting a delivery holds KEY SHARE on the
        // webhook's row, which this lock does not wait for nor skip.
        let lock = engine == .postgres ? " FOR NO KEY UPDATE OF w SKIP LOCKED" : ""
        let others: SQLQueryString = busy.isEmpty ? "" : " AND w.id NOT IN (\(SQLQueryString.list(busy)))"
        let heads = try await db.raw(
            """
            SELECT d.webhook_id, d.seq FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
            WHERE d.status = 'pending' AND d.next_attempt_at <= \(bind: now.millis) AND w.deleted_at IS NULL
              AND (w.lease_until IS NULL OR w.lease_until < \(bind: now.millis))\(others)
              AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e
                WHERE e.webhook_id = d.webhook_id AND e.status = 'pending' AND e.seq < d.seq)
            ORDER BY d.next_attempt_at, d.seq LIMIT \(literal: webhooks)\(unsafeRaw: lock)
            """
        ).all().map { (try $0.decode(column: "webhook_id", as: String.self), try $0.decode(column: "seq", as: Int64.self)) }
        guard !heads.isEmpty else { return [] }
        try await db.raw(
            """
            UPDATE webhooks SET lease_until = \(bind: now.addingTimeInterval(Self.lease).millis), leased_by = \(bind: leaseId)
            WHERE id IN (\(SQLQueryString.list(heads.map(\.0))))
            """
        ).run()
        var queues: [[ClaimedDelivery]] = []
        for (webhookId, seq) in heads {
            let queue = try await db.raw(
                """
                SELECT d.id, d.webhook_id, w.leased_by, d.event_id, d.type, d.body, d.attempts, d.created_at, w.url, w.secret
                FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
                WHERE d.webhook_id = \(bind: webhookId) AND d.status = 'pending' AND d.seq >= \(bind: seq)
                ORDER BY d.seq LIMIT \(literal: depth)
                """
            ).all().map { try $0.model(ClaimedDelivery.self) }
            if !queue.isEmpty { queues.append(queue) }
        }
        return queues
    }

    /// What an attempt came to.
    struct Outcome: Sendable, Equatable {
        /// `delivered`, `pending` (tried again at `nextAttemptAt`) or `failed`.
        var status: String
        var responseCode: Int64?
        var error: String?
        var nextAttemptAt: Date?
    }

    /// Records the attempts of a webhook's queue and releases its lease, if that lease (`leaseId`)
    /// still holds it; a queue whose lease lapsed and was taken by another claim records nothing
    /// (that claim sends those deliveries again). A delivery cancelled meanwhile stays cancelled;
    /// one not attempted (nil) stays as it was. A failed delivery takes the ones behind it along
    /// to its next attempt.
    func record(
        _ outcomes: [(id: String, outcome: Outcome?)], of webhookId: String, lease leaseId: String, at now: Date,
        in db: any SQLDatabase
    ) async throws {
        let held = try await db.raw(
            """
            UPDATE webhooks SET lease_until = NULL, leased_by = NULL
            WHERE id = \(bind: webhookId) AND leased_by = \(bind: leaseId) RETURNING id
            """
        ).first() != nil
        guard held else { return }
        for case (let id, let outcome?) in outcomes {
            try await db.raw(
                """
                UPDATE webhook_deliveries SET status = \(bind: outcome.status), attempts = attempts + 1,
                  response_code = \(bind: outcome.responseCode), last_error = \(bind: outcome.error),
                  last_attempt_at = \(bind: now.millis), next_attempt_at = \(bind: (outcome.nextAttemptAt ?? now).millis)
                WHERE id = \(bind: id) AND status = 'pending'
                """
            ).run()
            if outcome.status == "pending", let next = outcome.nextAttemptAt {
                try await db.raw(
                    """
                    UPDATE webhook_deliveries SET next_attempt_at = \(bind: next.millis)
                    WHERE webhook_id = \(bind: webhookId) AND status = 'pending' AND next_attempt_at < \(bind: next.millis)
                    """
                ).run()
            }
        }
    }

    /// The webhook's deliveries, newest first (by `seq`: events of one instant keep their order).
    func log(of webhookId: String, after: (Int64, String)?, limit: Int, in db: any SQLDatabase) async throws -> [DeliveryLogEntry] {
        var sql = SQLQueryString(
            """
            SELECT seq, id, event_id, type, attempts AS attempt, status, response_code, last_error AS error,
              COALESCE(last_attempt_at, created_at) AS at,
              CASE WHEN status = 'pending' THEN next_attempt_at END AS next_attempt_at, created_at
            FROM webhook_deliveries WHERE webhook_id = \(bind: webhookId)
            """)
        sql += .newestFirst(after: after, time: "seq", id: "id", limit: limit)
        return try await db.raw(sql).all().map { try $0.model(DeliveryLogEntry.self) }
    }

    /// How many deliveries wait to be sent: for the drain check of the benchmark and the tests.
    func pendingCount(in db: any SQLDatabase) async throws -> Int64 {
        try await db.raw("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status = 'pending'").first()
            .map { try $0.decode(column: "n", as: Int64.self) } ?? 0
    }

    /// The orders of a placement's checkouts (an `order.placed` event per order).
    func orderIds(ofCheckout checkoutId: String, in db: any SQLDatabase) async throws -> [String] {
        try await db.raw("SELECT id FROM orders WHERE checkout_id = \(bind: checkoutId) ORDER BY id").all()
            .map { try $0.decode(column: "id", as: String.self) }
    }

    /// The certificate an approved certification application issued.
    func certificateNumber(ofApplication applicationId: String, in db: any SQLDatabase) async throws -> String? {
        try await db.raw("SELECT number FROM certificates WHERE application_id = \(bind: applicationId) ORDER BY issued_at DESC")
            .first().map { try $0.decode(column: "number", as: String.self) }
    }
}
