import Foundation
import Testing

@testable import BangfuApp

/// Every answer built as `Merged(row, extra)`: the two sides never share a key (a shared key would
/// leave one of them unseen), and the answer holds exactly the keys of both, nulls included.
@Suite struct MergedTests {
    let now = Date(millis: 1_780_000_000_123)

    func keys<T: Encodable>(_ value: T) throws -> Set<String> {
        let object = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(value))
        return Set(try #require(object as? [String: Any]).keys)
    }

    func expectDisjoint<B: Encodable, E: Encodable>(_ merged: Merged<B, E>, expected: Set<String>) throws {
        let (base, extra) = (try keys(merged.base), try keys(merged.extra))
        #expect(base.isDisjoint(with: extra), "shared: \(base.intersection(extra))")
        let all = try keys(merged)
        #expect(all == base.union(extra))
        #expect(expected.isSubset(of: all), "missing: \(expected.subtracting(all))")
    }

    var fields: ApplicationFields {
        ApplicationFields(
            companyName: "延寿县富民米业", creditCode: "91230129MA1B2C3D4E", legalRepresentative: "王", contactName: "李",
            contactPhone: "13800000000", countyCode: "230129", address: "延寿镇", foodLicenseNumber: nil,
            bankName: "农行", bankAccount: "6228480000000000001", householdsDriven: 12)
    }

    @Test func merchantApplicationsShowTheirFieldsFlatAndMaskTheAccountForCountyOfficers() throws {
        let application = MerchantApplication(
            id: "a1", ownerId: "u1", status: .submitted, fields: fields, merchantId: nil, createdAt: now, updatedAt: now)
        let county = Identity(
            userId: "c1", username: "c", role: .county, displayName: "c", countyCode: "230129", tokenHash: "", viaCookie: false)
        let owner = Identity(
            userId: "u1", username: "m", role: .merchant, displayName: "m", countyCode: nil, tokenHash: "", viaCookie: false)
        let shown = MerchantDTO.ApplicationOutput(application, viewer: county)
        try expectDisjoint(shown.base, expected: ["id", "ownerId", "status", "merchantId", "createdAt", "companyName"])
        try expectDisjoint(shown, expected: ["warnings", "documents", "reviews", "foodLicenseNumber", "bankAccount"])
        let object = try #require(
            try JSONSerialization.jsonObject(with: try JSONEncoder().encode(shown)) as? [String: Any])
        #expect(object["merchantId"] is NSNull && object["foodLicenseNumber"] is NSNull && object["documents"] is NSNull)
        #expect(object["createdAt"] as? String == now.rfc3339)
        #expect((object["bankAccount"] as? String)?.hasSuffix("0001") == true && object["bankAccount"] as? String != fields.bankAccount)
        let forOwner = MerchantDTO.ApplicationOutput(application, viewer: owner)
        #expect(forOwner.base.extra.bankAccount == fields.bankAccount)
    }

    @Test func certificationAnswersAndCertificates() throws {
        let application = CertificationApplication(
            id: "c1", productId: "p1", merchantId: "m1", countyCode: "230129", status: .submitted, householdsDriven: 3,
            description: "d", certificateNumber: nil, createdAt: now, updatedAt: now, productTitle: "大米", merchantName: "米业")
        try expectDisjoint(
            CertificationDTO.ApplicationOutput(application, reviews: []),
            expected: ["id", "productTitle", "merchantName", "certificateNumber", "certificate", "reviews", "updatedAt"])
        let payload = CertificatePayload(
            number: "BF-1", productId: "p1", productTitle: "大米", merchantId: "m1", merchantName: "米业", countyCode: "230129",
            issuedAt: now.rfc3339, expiresAt: now.addingTimeInterval(86400).rfc3339, keyId: "k1")
        let certificate = Certificate(
            payload: payload, applicationId: "c1", issuedAt: now, expiresAt: now.addingTimeInterval(86400), signature: "s",
            revokedAt: nil, revocationReason: nil)
        try expectDisjoint(
            CertificationDTO.CertificateOutput(certificate, now: now),
            expected: ["number", "keyId", "signature", "status", "revocationReason", "revokedAt", "createdAt"])
    }

    @Test func referenceRecords() throws {
        let county = County(code: "230129", name: "延寿县", prefecture: "哈尔滨市", province: "黑龙江省", level: .national)
        try expectDisjoint(CatalogDTO.CountyOutput(county, createdAt: now), expected: ["id", "code", "createdAt"])
        let category = Category(id: "grain", name: "粮油", parentId: nil)
        try expectDisjoint(CatalogDTO.CategoryOutput(category, createdAt: now), expected: ["id", "parentId", "createdAt"])
    }

    @Test func quotaReportLines() throws {
        let row = ReportStore.QuotaRow(
            key: "o1", label: "一中食堂", reservedFen: 10_000, completedFen: 2_500, unionBudgetFen: 300, unionCompletedFen: 100)
        let line = ReportsController.QuotaOutput.Row(row, .init(completionBp: row.completionBp))
        try expectDisjoint(
            line, expected: ["key", "label", "reservedFen", "completedFen", "completionBp", "unionBudgetFen", "unionCompletedFen"])
        #expect(line.extra.completionBp == 2_500)
    }

    @Test func quotaPlansShowTheirRowAndProgressWithoutSharingAKey() throws {
        let plan = QuotaPlan(
            organizationId: "o1", year: 2026, hasCanteen: true, canteenBudgetFen: 1_000_000, reservedRatioBp: 1_500,
            committedFen: 20_000, completedFen: 30_000, refundedFen: 500, createdAt: now, updatedAt: now,
            organizationName: "一中食堂", department: "教育局")
        try expectDisjoint(
            BuyerDTO.PlanOutput(plan, now: now, minimumBp: 1_000, named: true),
            expected: ["organizationId", "hasCanteen", "committedFen", "reservedFen", "remainingBudgetFen", "onTrack", "department"])
        let object = try #require(
            try JSONSerialization.jsonObject(with: try JSONEncoder().encode(BuyerDTO.PlanOutput(plan, now: now, minimumBp: 1_000))) as? [String: Any])
        #expect(object["hasCanteen"] as? Bool == true && object["reservedFen"] as? Int == 150_000)
        #expect(object["remainingBudgetFen"] as? Int == 950_000 && object["organizationName"] is NSNull)
    }

    @Test func aMerchantApplicationDetailKeepsItsDocumentsAndReviews() throws {
        let application = MerchantApplication(
            id: "a1", ownerId: "u1", status: .submitted, fields: fields, merchantId: "m1", createdAt: now, updatedAt: now)
        let document = MerchantDocument(
            id: "d1", applicationId: "a1", kind: "business_license", contentType: "application/pdf", sha256: "00", size: 3,
            expiresOn: nil, createdAt: now)
        let review = HistoryRecord(
            action: "submit", actorId: "u1", actorRole: "merchant", fromStatus: nil, toStatus: "submitted", note: nil, at: now)
        let admin = Identity(
            userId: "x", username: "a", role: .admin, displayName: "a", countyCode: nil, tokenHash: "", viaCookie: false)
        let shown = MerchantDTO.ApplicationOutput(application, viewer: admin, documents: [document], reviews: [review])
        try expectDisjoint(shown, expected: ["documents", "reviews", "merchantId", "bankAccount"])
        let object = try #require(try JSONSerialization.jsonObject(with: try JSONEncoder().encode(shown)) as? [String: Any])
        let documents = try #require(object["documents"] as? [[String: Any]])
        #expect(documents.first?["expiresOn"] is NSNull && documents.first?["createdAt"] as? String == now.rfc3339)
        #expect((object["reviews"] as? [[String: Any]])?.first?["fromStatus"] is NSNull)
        #expect(object["bankAccount"] as? String == fields.bankAccount && object["merchantId"] as? String == "m1")
    }
}
