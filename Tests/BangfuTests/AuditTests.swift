import Foundation
import Hummingbird
import HummingbirdTesting
import SQLKit
import Testing

@testable import BangfuApp

@Suite struct AuditTests {
    @Test func stateChangesAreChainedAndListed() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let admin = try await test.adminToken(client)
            _ = try await client.signUp("merchant1")
            let page = try await client.call(.get, "/api/v1/audit-events?limit=2", token: admin)
            #expect(page.status == .ok)
            let items = page.object["items"] as? [[String: Any]] ?? []
            #expect(items.count == 2)
            #expect(items.first?["prevHash"] as? String == String(repeating: "0", count: 64))
            #expect(items.first?["action"] as? String == "user.create")
            #expect((items.first?["data"] as? [String: Any])?["role"] as? String == "admin")
            #expect(items[1]["prevHash"] as? String == items[0]["hash"] as? String)
            let cursor = try #require(page.object["nextCursor"] as? String)
            let rest = try await client.call(.get, "/api/v1/audit-events?limit=100&cursor=\(cursor)", token: admin)
            let restItems = rest.object["items"] as? [[String: Any]] ?? []
            #expect(restItems.map { $0["seq"] as? Int } == (3...(2 + restItems.count)).map { $0 })
            #expect(rest.object["nextCursor"] is NSNull)
            // Filtered by entity.
            let users = try await client.call(.get, "/api/v1/audit-events?entityType=user&limit=100", token: admin)
            #expect((users.object["items"] as? [[String: Any]] ?? []).allSatisfy { $0["entityType"] as? String == "user" })

            let verification = try await client.call(.get, "/api/v1/audit-events/verification", token: admin)
            #expect(verification.object["ok"] as? Bool == true)
            #expect(verification.object["events"] as? Int == 2 + restItems.count)
            #expect(verification.object["firstBrokenSeq"] is NSNull)
        }
    }

    @Test func onlyAdminsReadTheLog() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            #expect(try await client.call(.get, "/api/v1/audit-events").status == .unauthorized)
            #expect(try await client.call(.get, "/api/v1/audit-events/verification").status == .unauthorized)
            let merchant = try await client.signUp("merchant1")
            #expect(try await client.call(.get, "/api/v1/audit-events", token: merchant).status == .forbidden)
            #expect(try await client.call(.get, "/api/v1/audit-events/verification", token: merchant).status == .forbidden)
        }
    }

    @Test func theDatabaseRefusesChangesToTheLog() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            _ = try await client.signUp("merchant1")
            await #expect(throws: (any Error).self) {
                try await test.services.database.write { db in
                    try await db.raw("UPDATE audit_events SET data = '{}' WHERE seq = 1").run()
                }
            }
            await #expect(throws: (any Error).self) {
                try await test.services.database.write { db in
                    try await db.raw("DELETE FROM audit_events WHERE seq = 1").run()
                }
            }
            #expect(try await test.services.verifyAudit().ok)
        }
    }

    /// Someone with direct database access drops the guard and edits an event: verification names it.
    @Test func tamperingBehindTheServersBackIsDetected() async throws {
        let test = try await TestApp.make()
        let engine = test.services.database.engine
        try await test.run { client in
            let admin = try await test.adminToken(client)
            for index in 1...3 { _ = try await client.signUp("merchant\(index)") }
            try await test.services.database.write { db in
                try await dropGuards(db, engine)
                try await db.raw(#"UPDATE audit_events SET data = '{"role":"admin","username":"merchant2"}' WHERE seq = 4"#).run()
            }
            let verification = try await client.call(.get, "/api/v1/audit-events/verification", token: admin)
            #expect(verification.object["ok"] as? Bool == false)
            #expect(verification.object["firstBrokenSeq"] as? Int == 4)
            let result = try await test.services.verifyAudit()
            #expect(!result.ok && result.firstBrokenSeq == 4)
        }
    }

    @Test func deletingTheLastEventIsDetected() async throws {
        let test = try await TestApp.make()
        let engine = test.services.database.engine
        try await test.run { client in
            _ = try await client.signUp("merchant1")
            let before = try await test.services.verifyAudit()
            #expect(before.ok)
            try await test.services.database.write { db in
                try await dropGuards(db, engine)
                try await db.raw("DELETE FROM audit_events WHERE seq = (SELECT MAX(seq) FROM audit_events)").run()
            }
            let after = try await test.services.verifyAudit()
            #expect(!after.ok && after.firstBrokenSeq == before.events)
        }
    }

    func dropGuards(_ db: any SQLDatabase, _ engine: DatabaseEngine) async throws {
        switch engine {
        case .sqlite:
            try await db.raw("DROP TRIGGER audit_events_no_update").run()
            try await db.raw("DROP TRIGGER audit_events_no_delete").run()
        case .postgres:
            try await db.raw("DROP TRIGGER audit_events_no_change ON audit_events").run()
        }
    }
}
