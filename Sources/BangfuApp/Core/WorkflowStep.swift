import Foundation
import SQLKit

/// An object moved by a `Workflow`: an order, a merchant application, a certification application.
protocol Reviewed: Sendable {
    associatedtype Status: Hashable & Sendable & RawRepresentable<String>
    var id: String { get }
    var status: Status { get set }
    var updatedAt: Date { get set }
}

/// One step of a state machine, inside the caller's transaction, the same for every reviewed
/// object: load (and lock) the object the actor may see, check the party and the transition
/// against the table, apply the step's own effects, save, then write the history entry and the
/// audit event. A use case supplies the table, how to load and save, and the step's effects.
struct WorkflowStep<Object: Reviewed, Action, Party>: Sendable
where
    Action: Hashable & Sendable & RawRepresentable<String>,
    Party: Hashable & Sendable & RawRepresentable<String>
{
    typealias Machine = Workflow<Object.Status, Action, Party>

    let workflow: Machine
    /// Where the object's history is kept (`order_events`, `merchant_application_reviews`, ...).
    let history: HistoryStore
    let audit: AuditStore
    let ids: IDGenerator
    /// The audit event's entity type (`order`) and the prefix of its action (`order.confirm`).
    let entityType: String
    let actionPrefix: String
    /// The object if the actor may see it, locked for the transaction, and the actor's party;
    /// otherwise a `not_found` refusal, so strangers learn nothing.
    let load: @Sendable (_ id: String, _ actor: Identity, _ db: any SQLDatabase) async throws -> (Object, Party)
    let save: @Sendable (_ object: Object, _ db: any SQLDatabase) async throws -> Void
    /// What the audit event records of the object besides `from`, `to` and `note`.
    let auditData: @Sendable (_ object: Object) -> [String: AuditValue]

    /// Takes `action` on object `id` for `actor`; `effects` runs after the checks, before the
    /// status changes, with the status the step leads to. Returns the saved object.
    @discardableResult
    func run(
        _ action: Action, on id: String, by actor: Identity, note: String?, at now: Date, in db: any SQLDatabase,
        effects: (inout Object, _ next: Object.Status) async throws -> Void = { _, _ in }
    ) async throws -> Object {
        var (object, party) = try await load(id, actor, db)
        let from = object.status
        let next = try workflow.check(action, from: from, by: party)
        try await effects(&object, next)
        object.status = next
        object.updatedAt = now
        try await save(object, db)
        try await record(object, action: action.rawValue, from: from, note: note, by: actor, at: now, in: db)
        return object
    }

    /// The history entry and the audit event of a change of `object`'s status (also of its
    /// creation, with no `from`), in the caller's transaction.
    func record(
        _ object: Object, action: String, from: Object.Status?, note: String?, by actor: Identity, at now: Date,
        in db: any SQLDatabase
    ) async throws {
        try await history.add(
            HistoryRecord(
                action: action, actorId: actor.userId, actorRole: actor.role.rawValue, fromStatus: from?.rawValue,
                toStatus: object.status.rawValue, note: note, at: now),
            ownerId: object.id, id: ids.next(), in: db)
        var data = auditData(object)
        data["from"] = AuditValue(from?.rawValue)
        data["to"] = .string(object.status.rawValue)
        data["note"] = AuditValue(note)
        try await audit.append(
            AuditEvent(
                actorId: actor.userId, action: "\(actionPrefix).\(action)", entityType: entityType, entityId: object.id,
                data: data), in: db)
    }
}

/// One entry of a reviewed object's history: who moved it from which status to which, and why.
struct HistoryRecord: Sendable {
    var action: String
    var actorId: String
    var actorRole: String
    var fromStatus: String?
    var toStatus: String
    var note: String?
    var at: Date
}

/// A history table. Every reviewed object's history has the same columns, so one store serves
/// them all, named by its table and the column that points at the object.
struct HistoryStore: Sendable {
    let table: String
    let ownerColumn: String

    static let orders = HistoryStore(table: "order_events", ownerColumn: "order_id")
    static let merchantApplications = HistoryStore(table: "merchant_application_reviews", ownerColumn: "application_id")
    static let certifications = HistoryStore(table: "certification_reviews", ownerColumn: "application_id")

    func add(_ record: HistoryRecord, ownerId: String, id: String, in db: any SQLDatabase) async throws {
                try await db.raw(
            """
            INSERT INTO \(ident: table) (id, \(ident: ownerColumn), position, actor_id, actor_role, action, from_status, to_status, note, at)
            VALUES (\(bind: id), \(bind: ownerId), (SELECT COUNT(*) + 1 FROM \(ident: table) WHERE \(ident: ownerColumn) = \(bind: ownerId)),
              \(bind: record.actorId), \(bind: record.actorRole), \(bind: record.action), \(bind: record.fromStatus),
              \(bind: record.toStatus), \(bind: record.note), \(bind: record.at.millis))
            """
        ).run()
    }

    func records(ownerId: String, in db: any SQLDatabase) async throws -> [HistoryRecord] {
                return try await db.raw("SELECT * FROM \(ident: table) WHERE \(ident: ownerColumn) = \(bind: ownerId) ORDER BY position").all()
            .map(HistoryRecord.init(row:))
    }
}

extension HistoryRecord {
    /// A row of any history table (merchant and certification reviews, order events).
    init(row: any SQLRow) throws {
        self.init(
            action: try row.decode(column: "action", as: String.self),
            actorId: try row.decode(column: "actor_id", as: String.self),
            actorRole: try row.decode(column: "actor_role", as: String.self),
            fromStatus: try row.decode(column: "from_status", as: String?.self),
            toStatus: try row.decode(column: "to_status", as: String.self),
            note: try row.decode(column: "note", as: String?.self),
            at: Date(millis: try row.decode(column: "at", as: Int64.self)))
    }
}
