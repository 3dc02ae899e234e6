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
    /// What the audit event is about (`AuditEntity.order`) and the prefix of its action (`order.confirm`).
    let entity: @Sendable (String) -> AuditEntity
    let actionPrefix: String
    /// The object if the actor may see it (with `lock`, locked until the transaction ends) and
    /// the actor's party; otherwise a `not_found` refusal, so strangers learn nothing.
    let load: @Sendable (_ id: String, _ actor: Identity, _ lock: Bool, _ db: any SQLDatabase) async throws -> (Object, Party)
    let save: @Sendable (_ object: Object, _ db: any SQLDatabase) async throws -> Void
    /// What the audit event records of the object besides `from`, `to` and `note`.
    let auditData: @Sendable (_ object: Object) -> [String: any AuditRecordable]

    init(
        _ services: AppServices, workflow: Machine, history: HistoryStore, entity: @escaping @Sendable (String) -> AuditEntity,
        actionPrefix: String,
        load: @escaping @Sendable (_ id: String, _ actor: Identity, _ lock: Bool, _ db: any SQLDatabase) async throws -> (Object, Party),
        save: @escaping @Sendable (_ object: Object, _ db: any SQLDatabase) async throws -> Void,
        auditData: @escaping @Sendable (_ object: Object) -> [String: any AuditRecordable]
    ) {
        self.workflow = workflow
        self.history = history
        self.audit = services.audit
        self.ids = services.ids
        self.entity = entity
        self.actionPrefix = actionPrefix
        self.load = load
        self.save = save
        self.auditData = auditData
    }

    /// Refuses (404) an object the actor may not see, without locking: what a route checks
    /// before it reads its body, so a stranger learns nothing from a 422.
    func checkVisible(_ id: String, by actor: Identity, in database: any Database) async throws {
        _ = try await database.read { db in try await load(id, actor, false, db) }
    }

    /// Takes `action` on object `id` for `actor`; `effects` runs after the checks, before the
    /// status changes, with the status the step leads to. Returns the saved object.
    @discardableResult
    func run(
        _ action: Action, on id: String, by actor: Identity, note: String?, at now: Date, in db: any SQLDatabase,
        effects: (inout Object, _ next: Object.Status) async throws -> Void = { _, _ in }
    ) async throws -> Object {
        var (object, party) = try await load(id, actor, true, db)
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
        // Assigned as AuditValue: an Optional assigned to a dictionary subscript would remove the key.
        data["from"] = AuditValue(from?.rawValue)
        data["to"] = AuditValue.string(object.status.rawValue)
        data["note"] = AuditValue(note)
        try await audit.append(AuditEvent(actor, "\(actionPrefix).\(action)", entity(object.id), data), in: db)
    }
}
