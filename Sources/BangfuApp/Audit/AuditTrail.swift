import Foundation

/// Reading the audit log and verifying its hash chain (API.md "Audit"; `bangfu audit verify`).
struct AuditTrail: UseCase {
    let services: AppServices

    init(_ services: AppServices) {
        self.services = services
    }

    /// The events after the page's position (a `seq`), oldest first, optionally of one entity
    /// type and id; `paging.fetchLimit` rows, so the caller learns whether another page follows.
    func events(entityType: String?, entityId: String?, paging: Paging) async throws -> [AuditChain.Entry] {
        let after: Int64 = try paging.position.map {
            guard let seq = Int64($0) else { throw DomainError.badRequest("cursor was not issued by this list", field: "cursor") }
            return seq
        } ?? 0
        let audit = self.audit
        return try await database.read { db in
            try await audit.list(
                entityType: entityType, entityId: entityId, afterSeq: after, limit: paging.fetchLimit, in: db)
        }
    }

    /// Recomputes the whole chain.
    func verify() async throws -> AuditChain.Verification {
        let audit = self.audit
        return try await database.read { db in try await audit.verify(in: db) }
    }
}
