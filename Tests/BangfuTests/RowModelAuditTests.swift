import Foundation
import SQLKit
import Testing

@testable import BangfuApp

/// Audit events are row models whose every field is what the chain hashes: read back, an event
/// hashes to its stored hash, its time in the integer milliseconds that were hashed.
@Suite struct RowModelAuditTests {
    @Test func auditRowsRoundTripAndStillChain() async throws {
        let test = try await TestApp.make()
        try await test.run { _ in
            test.clock.advance(seconds: 0.123)
            let audit = test.services.audit
            let database = test.services.database
            try await database.write { db in
                try await audit.append(
                    [
                        AuditEvent(
                            actorId: "u-1", action: "row.test", entityType: "catalog", entityId: "rows",
                            data: ["note": .string("a/b 帮扶"), "count": .int(3), "flag": .bool(true), "none": .null]),
                        AuditEvent(actorId: nil, action: "row.test", entityType: "catalog", entityId: "rows", data: [:]),
                    ], in: db)
            }
            let (entries, head, verification) = try await database.read { db in
                (
                    try await audit.list(entityType: "catalog", entityId: "rows", afterSeq: 0, limit: 10, in: db),
                    try await db.raw("SELECT seq, hash FROM audit_head WHERE id = 1").first().map { try $0.model(AuditHead.self) },
                    try await audit.verify(in: db)
                )
            }
            #expect(entries.count == 2)
            let first = try #require(entries.first)
            #expect(first.at == test.clock.now.millis)
            #expect(first.actorId == "u-1")
            #expect(first.data == #"{"count":3,"flag":true,"none":null,"note":"a/b 帮扶"}"#)
            #expect(entries.last?.actorId == nil)
            #expect(entries.last?.data == "{}")
            #expect(entries.last?.prevHash == first.hash)
            #expect(entries.allSatisfy { AuditChain.hash(of: $0) == $0.hash })
            #expect(head?.seq == entries.last?.seq && head?.hash == entries.last?.hash)
            #expect(verification.ok)
            #expect(AuditChain.Entry.columns.count == 9)
        }
    }
}
