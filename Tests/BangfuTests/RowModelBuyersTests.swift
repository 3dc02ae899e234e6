import Foundation
import SQLKit
import Testing

@testable import BangfuApp

/// Buyer organizations and quota plans are row models: decoded by name, times kept to the
/// millisecond, and an unknown status refused (it used to fall back to `pending`).
@Suite struct RowModelBuyersTests {
    @Test func buyerRowsRoundTripAndAnUnknownStatusFailsLoudly() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let token = try await client.signUp("kitchen1", role: "buyer")
            test.clock.advance(seconds: 0.123)
            let registeredAt = test.clock.now
            let created = try await client.call(
                .post, "/api/v1/buyer-organizations", token: token, json: organizationJSON(name: "一中食堂", code: organizationCode(1)))
            #expect(created.status == .created, "\(created.text)")
            let id = try #require(created.object["id"] as? String)
            test.clock.advance(seconds: 1.456)
            let verifiedAt = test.clock.now
            let verified = try await client.call(.post, "/api/v1/buyer-organizations/\(id)/verification", token: cast.admin)
            #expect(verified.object["status"] as? String == "active", "\(verified.text)")
            test.clock.advance(seconds: 2.789)
            let declaredAt = test.clock.now
            let year = QuotaRules.quotaYear(of: declaredAt)
            let declared = try await client.call(
                .put, "/api/v1/buyer-organizations/\(id)/quota-plans/\(year)", token: token,
                json: #"{"hasCanteen":true,"canteenBudgetFen":1000000,"reservedRatioBp":1500}"#)
            #expect(declared.status == .created, "\(declared.text)")

            let store = test.services.buyers
            let database = test.services.database
            let (organization, listed, plan, plans, listedPlans) = try await database.read { db in
                (
                    try await store.organization(id: id, in: db),
                    try await store.organizations(.init(status: .active), after: nil, limit: 10, in: db),
                    try await store.plan(organizationId: id, year: year, in: db),
                    try await store.plans(organizationIds: [id], year: year, lock: false, in: db),
                    try await store.plans(year: year, behindExpectedBp: nil, after: nil, limit: nil, in: db)
                )
            }
            let o = try #require(organization)
            #expect(o.status == .active)
            #expect(o.name == "一中食堂")
            #expect(o.creditCode == organizationCode(1))
            #expect(o.department == "哈尔滨市教育局" && o.canteenAddress == "哈尔滨市南岗区")
            #expect(o.contactName == "张华" && o.contactPhone == "13912345678")
            #expect(o.countyCode == nil)
            #expect(o.createdAt.millis == registeredAt.millis)
            #expect(o.verifiedAt?.millis == verifiedAt.millis)
            #expect(o.updatedAt.millis == verifiedAt.millis)
            let member = try await database.read { db in try await store.organization(memberId: o.createdBy, in: db) }
            #expect(member?.id == id)
            #expect(listed.map(\.id) == [id])
            #expect(BuyerOrganization.columns.count == 15)

            let p = try #require(plan)
            #expect(p.organizationId == id && p.year == year)
            #expect(p.hasCanteen)
            #expect(p.canteenBudgetFen == 1_000_000 && p.reservedRatioBp == 1500 && p.reservedFen == 150_000)
            #expect(p.committedFen == 0 && p.completedFen == 0 && p.refundedFen == 0)
            #expect(p.createdAt.millis == declaredAt.millis && p.updatedAt.millis == declaredAt.millis)
            #expect(p.organizationName == "" && p.department == "")
            #expect(plans[id]?.canteenBudgetFen == 1_000_000)
            #expect(listedPlans.map(\.organizationId) == [id])
            #expect(listedPlans.first?.organizationName == "一中食堂" && listedPlans.first?.department == "哈尔滨市教育局")
            #expect(QuotaPlan.columns.count == 21)

            // A saved declaration keeps the sums the orders made; the flag round-trips both ways.
            test.clock.advance(seconds: 0.5)
            let savedAt = test.clock.now
            var changed = p
            changed.hasCanteen = false
            changed.committedFen = 99
            changed.updatedAt = savedAt
            let declaration = changed
            try await database.write { db in
                try await store.adjust(organizationId: id, year: year, committed: 7, at: savedAt, in: db)
                try await store.save(declaration, in: db)
            }
            let saved = try #require(try await database.read { db in try await store.plan(organizationId: id, year: year, in: db) })
            #expect(!saved.hasCanteen)
            #expect(saved.committedFen == 7)
            #expect(saved.createdAt.millis == declaredAt.millis && saved.updatedAt.millis == savedAt.millis)

            try await database.write { db in
                try await db.raw("UPDATE buyer_organizations SET status = 'dissolved' WHERE id = \(bind: id)").run()
            }
            // (a DecodingError on SQLite; PostgreSQL's driver wraps it)
            await #expect(throws: (any Error).self) {
                _ = try await database.read { db in try await store.organization(id: id, in: db) }
            }
            await #expect(throws: (any Error).self) {
                _ = try await database.read { db in try await store.organizations(.init(), after: nil, limit: 10, in: db) }
            }
        }
    }
}
