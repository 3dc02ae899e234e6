import Foundation
import SQLKit

/// An order's invoice as recorded (table `invoices`).
struct Invoice: TableRow {
    var id, orderId, number: String
    var kind: InvoiceKind
    var issuedOn: String
    var amountFen: Int64
    var status: InvoiceStatus
    /// The PDF, when the merchant sent one: an upload named by its SHA-256.
    var sha256: String?
    var fileSize: Int64?
    var recordedBy: String
    @Millis var createdAt: Date
    @OptionalMillis var supersededAt: Date?

    static let columns = [
        "id", "order_id", "number", "kind", "issued_on", "amount_fen", "status", "sha256", "file_size", "recorded_by",
        "created_at", "superseded_at",
    ]

    var row: SQLQueryString {
        """
        (\(bind: id), \(bind: orderId), \(bind: number), \(bind: kind.rawValue), \(bind: issuedOn), \(bind: amountFen),
         \(bind: status.rawValue), \(bind: sha256), \(bind: fileSize), \(bind: recordedBy), \(bind: createdAt.millis),
         \(bind: supersededAt?.millis))
        """
    }
}

/// The invoices of orders. One `current` invoice per order at most (a partial unique index).
struct InvoiceStore: Sendable {
    /// The order's current invoice. Writers lock the order's row first, so this needs no lock.
    func current(orderId: String, in db: any SQLDatabase) async throws -> Invoice? {
        try await db.raw("SELECT * FROM invoices WHERE order_id = \(bind: orderId) AND status = 'current'")
            .first().map { try $0.model(Invoice.self) }
    }

    func count(orderId: String, in db: any SQLDatabase) async throws -> Int64 {
        try await db.raw("SELECT COUNT(*) AS n FROM invoices WHERE order_id = \(bind: orderId)").first()?
            .decode(column: "n", as: Int64.self) ?? 0
    }

    /// Each order's invoice as an order shows it: its current one, else its latest (an order keeps
    /// at most `Invoices.perOrderLimit`, so this reads a bounded number of rows).
    func latest(orderIds: [String], in db: any SQLDatabase) async throws -> [String: Invoice] {
        guard !orderIds.isEmpty else { return [:] }
        var latest: [String: Invoice] = [:]
        for row in try await db.raw(
            "SELECT * FROM invoices WHERE order_id IN (\(SQLQueryString.list(orderIds))) ORDER BY created_at, id"
        ).all() {
            let invoice = try row.model(Invoice.self)
            if latest[invoice.orderId]?.status != .current { latest[invoice.orderId] = invoice }
        }
        return latest
    }

    func insert(_ invoice: Invoice, in db: any SQLDatabase) async throws {
        try await insert([invoice], in: db)
    }

    /// Many invoices in one statement (the seeder's batches of a few hundred).
    func insert(_ invoices: [Invoice], in db: any SQLDatabase) async throws {
        guard !invoices.isEmpty else { return }
        try await db.raw("INSERT INTO invoices (\(Invoice.columnList)) VALUES" + .values(invoices.map(\.row))).run()
    }

    /// Marks the order's current invoice superseded; true when there was one.
    @discardableResult
    func supersede(orderId: String, at now: Date, in db: any SQLDatabase) async throws -> Bool {
        let rows = try await db.raw(
            """
            UPDATE invoices SET status = 'superseded', superseded_at = \(bind: now.millis)
            WHERE order_id = \(bind: orderId) AND status = 'current' RETURNING id
            """
        ).all()
        return !rows.isEmpty
    }

    func attach(invoiceId: String, sha256: String, size: Int64, in db: any SQLDatabase) async throws {
        try await db.raw(
            "UPDATE invoices SET sha256 = \(bind: sha256), file_size = \(bind: size) WHERE id = \(bind: invoiceId)"
        ).run()
    }
}
