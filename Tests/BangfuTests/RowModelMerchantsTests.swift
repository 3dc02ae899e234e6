import Foundation
import Testing

@testable import BangfuApp

/// Applications, documents, merchants and their reviews are row models: decoded by name, times
/// kept to the millisecond, and an unknown status refused (it used to fall back to `submitted`
/// for an application and to `suspended` for a merchant).
@Suite struct RowModelMerchantsTests {
    @Test func merchantRowsRoundTripAndUnknownStatusesFailLoudly() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            test.clock.advance(seconds: 0.123)
            let submittedAt = test.clock.now
            let id = try await client.apply(cast.merchant)
            let uploaded = try await client.upload(
                cast.merchant, id, bytes: pdfBytes, type: "application/pdf", query: "kind=business_license&expiresOn=2030-06-30")
            #expect(uploaded.status == .created, "\(uploaded.text)")
            test.clock.advance(seconds: 1.456)
            let approvedAt = test.clock.now
            _ = try await client.call(.post, "/api/v1/merchant-applications/\(id)/recommend", token: cast.yanshouOfficer, json: "{}")
            let approved = try await client.call(.post, "/api/v1/merchant-applications/\(id)/approve", token: cast.admin, json: "{}")
            let merchantId = try #require(approved.object["merchantId"] as? String, "\(approved.text)")

            let store = test.services.merchants
            let database = test.services.database
            let (application, documents, merchant, reviews) = try await database.read { db in
                (
                    try await store.application(id: id, in: db), try await store.documents(applicationId: id, in: db),
                    try await store.merchant(id: merchantId, in: db),
                    try await HistoryStore.merchantApplications.records(ownerId: id, in: db)
                )
            }
            let a = try #require(application)
            #expect(a.status == .approved)
            #expect(a.merchantId == merchantId)
            #expect(a.fields.householdsDriven == 120)
            #expect(a.fields.foodLicenseNumber == "JY12301290000001")
            #expect(a.fields.bankAccount == "62284800123456789")
            #expect(a.createdAt.millis == submittedAt.millis)
            #expect(a.updatedAt.millis == approvedAt.millis)
            #expect(MerchantApplication.columns.count == 17)

            let document = try #require(documents.first)
            #expect(documents.count == 1)
            #expect(document.sha256.count == 64)
            #expect(document.size == Int64(pdfBytes.count))
            #expect(document.expiresOn == "2030-06-30")
            #expect(document.createdAt.millis == submittedAt.millis)
            #expect(MerchantDocument.columns.count == 8)

            let m = try #require(merchant)
            #expect(m.status == .active)
            #expect(m.countyName == "延寿县")
            #expect(m.suspensionReason == nil)
            #expect(m.createdAt.millis == approvedAt.millis)
            #expect(m.updatedAt.millis == approvedAt.millis)
            #expect(Merchant.columns.count == 11)

            #expect(reviews.map(\.action) == ["submit", "recommend", "approve"])
            #expect(reviews.first?.fromStatus == nil)
            #expect(reviews.first?.at.millis == submittedAt.millis)
            #expect(reviews.last?.at.millis == approvedAt.millis)

            try await database.write { db in
                try await db.raw("UPDATE merchant_applications SET status = 'withdrawn' WHERE id = \(bind: id)").run()
                try await db.raw("UPDATE merchants SET status = 'closed' WHERE id = \(bind: merchantId)").run()
            }
            // (a DecodingError on SQLite; PostgreSQL's driver wraps it)
            await #expect(throws: (any Error).self) {
                _ = try await database.read { db in try await store.application(id: id, in: db) }
            }
            await #expect(throws: (any Error).self) {
                _ = try await database.read { db in try await store.merchant(id: merchantId, in: db) }
            }
        }
    }
}
