import Foundation
import Testing

@testable import BangfuApp

/// Certification applications and certificates are row models: decoded by name, times kept to
/// the millisecond, and an unknown application status refused (it used to fall back to `rejected`).
@Suite struct RowModelCertificationTests {
    @Test func certificationRowsRoundTripAndAnUnknownStatusFailsLoudly() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let seller = try await Seller.make(test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller1")
            test.clock.advance(seconds: 0.123)
            let appliedAt = test.clock.now
            let certified = try await seller.certified(client, cast: cast)
            let number = certified.number, applicationId = certified.applicationId

            let store = test.services.certification
            let database = test.services.database
            let revokedAt = appliedAt.addingTimeInterval(0.789)
            let revoked = try await database.write { db in
                try await store.revoke(number: number, reason: "抽检不合格", by: "admin-id", at: revokedAt, in: db)
            }
            #expect(revoked)
            let (application, certificate, listed, reviews) = try await database.read { db in
                (
                    try await store.application(id: applicationId, in: db),
                    try await store.certificate(number: number, in: db),
                    try await store.certificates(
                        status: .revoked, countyCode: nil, merchantId: seller.merchantId, now: revokedAt, after: nil, limit: nil,
                        in: db),
                    try await HistoryStore.certifications.records(ownerId: applicationId, in: db)
                )
            }
            let a = try #require(application)
            #expect(a.status == .certified)
            #expect(a.productId == certified.productId)
            #expect(a.certificateNumber == certified.number)
            #expect(a.householdsDriven == 36)
            #expect(a.productTitle == "延寿富硒大米")
            #expect(a.merchantName == "延寿县长寿山农业合作社")
            #expect(a.createdAt.millis == appliedAt.millis)
            #expect(a.updatedAt.millis == appliedAt.millis)
            #expect(CertificationApplication.columns.count == 11)

            let c = try #require(certificate)
            #expect(c.applicationId == certified.applicationId)
            #expect(c.issuedAt.millis == appliedAt.millis / 1000 * 1000)
            #expect(c.payload.issuedAt == certified.certificate["issuedAt"] as? String)
            #expect(c.payload.expiresAt == certified.certificate["expiresAt"] as? String)
            #expect(c.payload.merchantName == "延寿县长寿山农业合作社")
            #expect(c.signature == certified.certificate["signature"] as? String)
            #expect(c.revokedAt?.millis == revokedAt.millis)
            #expect(c.revocationReason == "抽检不合格")
            #expect(c.surrenderedAt == nil)
            #expect(c.status(now: revokedAt) == .revoked)
            #expect(listed.map(\.number) == [certified.number])
            #expect(Certificate.columns.count == 15)

            #expect(reviews.map(\.toStatus) == ["submitted", "county_approved", "certified"])
            #expect(reviews.allSatisfy { $0.at.millis == appliedAt.millis })

            try await database.write { db in
                try await db.raw("UPDATE certification_applications SET status = 'lost' WHERE id = \(bind: applicationId)").run()
            }
            // (a DecodingError on SQLite; PostgreSQL's driver wraps it)
            await #expect(throws: (any Error).self) {
                _ = try await database.read { db in try await store.application(id: applicationId, in: db) }
            }
            await #expect(throws: (any Error).self) {
                _ = try await database.read { db in
                    try await store.applications(.init(merchantId: seller.merchantId), after: nil, limit: 10, in: db)
                }
            }
        }
    }
}
