import Foundation
import SQLKit

/// One entry of a reviewed object's history: who moved it from which status to which, and why.
/// A row of any history table (merchant and certification reviews, order events), without its id,
/// owner column and position, which `HistoryStore` writes.
struct HistoryRecord: TableRow, Encodable {
    static let columns = ["actor_id", "actor_role", "action", "from_status", "to_status", "note", "at"]

    var action: String
    var actorId: String
    var actorRole: String
    @NullEncoded var fromStatus: String?
    var toStatus: String
    @NullEncoded var note: String?
    @Millis var at: Date
}

/// A history table. Every reviewed object's history has the same columns, so one store serves
/// them all, named by its table and the column that points at the object.
struct HistoryStore: Sendable {
    let table: String
    let ownerColumn: String

    static let orders = HistoryStore(table: "order_events", ownerColumn: "order_id")
    static let merchantApplications = HistoryStore(table: "merchant_application_reviews", ownerColumn: "application_id")
    static let certifications = HistoryStore(table: "certification_reviews", ownerColumn: "application_id")
    static let filings = HistoryStore(table: "filing_events", ownerColumn: "filing_id")

    func add(_ record: HistoryRecord, ownerId: String, id: String, in db: any SQLDatabase) async throws {
        let position: SQLQueryString =
            "(SELECT COUNT(*) + 1 FROM \(ident: table) WHERE \(ident: ownerColumn) = \(bind: ownerId))"
        try await db.raw(
            "INSERT INTO \(ident: table) (\(insertColumns)) VALUES \(values(record, ownerId: ownerId, id: id, position: position))"
        ).run()
    }

    /// The columns an insert names: the entry's id, its object, its position, then `HistoryRecord.columns`.
    var insertColumns: SQLQueryString {
        "id, \(ident: ownerColumn), position, \(HistoryRecord.columnList)"
    }

    /// One entry's values in the order of `insertColumns`.
    func values(_ record: HistoryRecord, ownerId: String, id: String, position: SQLQueryString) -> SQLQueryString {
        """
        (\(bind: id), \(bind: ownerId), \(position), \(bind: record.actorId), \(bind: record.actorRole), \(bind: record.action),
         \(bind: record.fromStatus), \(bind: record.toStatus), \(bind: record.note), \(bind: record.at.millis))
        """
    }

    func records(ownerId: String, in db: any SQLDatabase) async throws -> [HistoryRecord] {
        try await db.raw(
            "SELECT * FROM \(ident: table) WHERE \(ident: ownerColumn) = \(bind: ownerId) ORDER BY position"
        ).all().map { try $0.model(HistoryRecord.self) }
    }
}
