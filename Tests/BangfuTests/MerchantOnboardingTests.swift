import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import BangfuApp

/// Credit codes with valid check characters registered in 延寿县 (230129), 龙江县 (230221) and
/// at Harbin city level (230100).
enum Codes {
    static let yanshou = "91230129MA1B2C3D4A"
    static let yanshou2 = "92230129MA1B2C3D8K"
    static let yanshou3 = "93230129MA1B2C3D9K"
    static let longjiang = "91230221MA1B2C3D75"
    static let harbin = "91230100MA1B2C3D6F"
}

func applicationJSON(
    creditCode: String = Codes.yanshou, countyCode: String = "230129", phone: String = "13812345678",
    company: String = "延寿县长寿山农业合作社"
) -> String {
    """
    {"companyName":"\(company)","creditCode":"\(creditCode)","legalRepresentative":"王德福","contactName":"李秀兰",
     "contactPhone":"\(phone)","countyCode":"\(countyCode)","address":"黑龙江省哈尔滨市延寿县延寿镇长寿路1号",
     "foodLicenseNumber":"JY12301290000001","bankName":"中国农业银行延寿支行","bankAccount":"6228 4800 1234 5678 9",
     "householdsDriven":120}
    """
}

/// The people of an onboarding story: an admin, the officers of 延寿县 and 龙江县, two merchants.
struct Cast {
    let admin: String
    let yanshouOfficer: String
    let longjiangOfficer: String
    let merchant: String
    let otherMerchant: String
    let buyer: String

    static func make(_ test: TestApp, _ client: any TestClientProtocol) async throws -> Cast {
        let admin = try await test.adminToken(client)
        for (name, county) in [("yanshou", "230129"), ("longjiang", "230221")] {
            let created = try await client.call(
                .post, "/api/v1/users", token: admin,
                json: #"{"username":"\#(name)","password":"correct horse 1","role":"county","displayName":"\#(name)","countyCode":"\#(county)"}"#)
            #expect(created.status == .created)
        }
        return Cast(
            admin: admin, yanshouOfficer: try await client.signIn("yanshou"),
            longjiangOfficer: try await client.signIn("longjiang"), merchant: try await client.signUp("coop1"),
            otherMerchant: try await client.signUp("coop2"), buyer: try await client.signUp("canteen1", role: "buyer"))
    }
}

let pdfBytes: [UInt8] = Array("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".utf8)

extension TestClientProtocol {
    func apply(_ token: String, _ json: String = applicationJSON()) async throws -> String {
        let response = try await call(.post, "/api/v1/merchant-applications", token: token, json: json)
        #expect(response.status == .created, "apply answered \(response.status): \(response.text)")
        return try #require(response.object["id"] as? String)
    }

    func upload(_ token: String, _ id: String, bytes: [UInt8], type: String, query: String = "kind=business_license")
        async throws -> TestResponse
    {
        try await execute(
            uri: "/api/v1/merchant-applications/\(id)/documents?\(query)", method: .post,
            headers: [.authorization: "Bearer \(token)", .contentType: type], body: ByteBuffer(bytes: bytes))
    }
}

@Suite struct MerchantOnboardingTests {
    @Test func approvalPath() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let created = try await client.call(.post, "/api/v1/merchant-applications", token: cast.merchant, json: applicationJSON())
            #expect(created.status == .created)
            #expect(created.object["status"] as? String == "submitted")
            #expect(created.object["bankAccount"] as? String == "62284800123456789")
            #expect((created.object["warnings"] as? [Any])?.isEmpty == true)
            let id = try #require(created.object["id"] as? String)

            let uploaded = try await client.upload(cast.merchant, id, bytes: pdfBytes, type: "application/pdf", query: "kind=business_license&expiresOn=2030-06-30")
            #expect(uploaded.status == .created)
            let sha = SHA256.hash(data: Data(pdfBytes)).map { String(format: "%02x", $0) }.joined()
            #expect(uploaded.object["sha256"] as? String == sha)
            #expect(uploaded.object["size"] as? Int == pdfBytes.count)
            #expect(uploaded.object["kind"] as? String == "business_license")

            // The county officer sees it in the queue, with the bank account masked.
            let queue = try await client.call(.get, "/api/v1/merchant-applications?status=submitted", token: cast.yanshouOfficer)
            let queued = (queue.object["items"] as? [[String: Any]]) ?? []
            #expect(queued.map { $0["id"] as? String } == [id])
            #expect(queued.first?["bankAccount"] as? String == "*************6789")

            let recommended = try await client.call(
                .post, "/api/v1/merchant-applications/\(id)/recommend", token: cast.yanshouOfficer, json: #"{"note":"材料齐全"}"#)
            #expect(recommended.status == .ok)
            #expect(recommended.object["status"] as? String == "recommended")

            let approved = try await client.call(
                .post, "/api/v1/merchant-applications/\(id)/approve", token: cast.admin, json: #"{"note":"同意入驻"}"#)
            #expect(approved.status == .ok)
            #expect(approved.object["status"] as? String == "approved")
            let merchantId = try #require(approved.object["merchantId"] as? String)

            let shown = try await client.call(.get, "/api/v1/merchant-applications/\(id)", token: cast.merchant)
            let reviews = (shown.object["reviews"] as? [[String: Any]]) ?? []
            #expect(reviews.map { $0["action"] as? String } == ["submit", "recommend", "approve"])
            #expect(reviews.map { $0["note"] as? String } == [nil, "材料齐全", "同意入驻"])
            #expect(((shown.object["documents"] as? [[String: Any]]) ?? []).first?["expiresOn"] as? String == "2030-06-30")

            let me = try await client.call(.get, "/api/v1/me", token: cast.merchant)
            let merchant = me.object["merchant"] as? [String: Any]
            #expect(merchant?["id"] as? String == merchantId)
            #expect(merchant?["status"] as? String == "active")

            let profile = try await client.call(.get, "/api/v1/merchants/\(merchantId)")
            #expect(profile.status == .ok)
            #expect(profile.object["companyName"] as? String == "延寿县长寿山农业合作社")
            #expect(profile.object["countyName"] as? String == "延寿县")
            #expect(profile.object["householdsDriven"] as? Int == 120)
            #expect(profile.object["productCount"] as? Int == 0)
            for secret in ["bankAccount", "bankName", "contactPhone", "contactName", "creditCode"] {
                #expect(profile.object[secret] == nil)
            }
            let directory = try await client.call(.get, "/api/v1/merchants?countyCode=230129")
            #expect(((directory.object["items"] as? [[String: Any]]) ?? []).map { $0["id"] as? String } == [merchantId])
            let elsewhere = try await client.call(.get, "/api/v1/merchants?countyCode=230221")
            #expect(((elsewhere.object["items"] as? [[String: Any]]) ?? []).isEmpty)

            // The user now is a merchant: a second application is a conflict.
            let again = try await client.call(.post, "/api/v1/merchant-applications", token: cast.merchant, json: applicationJSON(creditCode: Codes.yanshou2))
            #expect(again.status == .conflict)

            let events = try await client.call(.get, "/api/v1/audit-events?entityType=merchant_application&entityId=\(id)", token: cast.admin)
            #expect(((events.object["items"] as? [[String: Any]]) ?? []).map { $0["action"] as? String } == [
                "merchant_application.submit", "merchant_application.document", "merchant_application.recommend",
                "merchant_application.approve",
            ])
            #expect(try await test.services.verifyAudit().ok)
        }
    }

    @Test func countyRejectionThenEditAndResubmission() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let id = try await client.apply(cast.merchant)
            let noReason = try await client.call(.post, "/api/v1/merchant-applications/\(id)/reject", token: cast.yanshouOfficer, json: #"{}"#)
            #expect(noReason.status == .unprocessableContent)
            #expect(noReason.fields == ["reason"])
            let blank = try await client.call(.post, "/api/v1/merchant-applications/\(id)/reject", token: cast.yanshouOfficer, json: #"{"reason":"  "}"#)
            #expect(blank.fields == ["reason"])
            let rejected = try await client.call(
                .post, "/api/v1/merchant-applications/\(id)/reject", token: cast.yanshouOfficer, json: #"{"reason":"营业执照不清晰"}"#)
            #expect(rejected.object["status"] as? String == "rejected")
            // A rejected application holds no credit code: another merchant may apply with it.
            // The owner edits and resubmits.
            let edited = try await client.call(
                .put, "/api/v1/merchant-applications/\(id)", token: cast.merchant,
                json: applicationJSON(company: "延寿县长寿山绿色农业合作社"))
            #expect(edited.status == .ok)
            #expect(edited.object["status"] as? String == "submitted")
            #expect(edited.object["companyName"] as? String == "延寿县长寿山绿色农业合作社")
            let reviews = (edited.object["reviews"] as? [[String: Any]]) ?? []
            #expect(reviews.map { $0["action"] as? String } == ["submit", "reject", "resubmit"])
            #expect(reviews[1]["note"] as? String == "营业执照不清晰")
            // Editing is only for rejected applications.
            let notRejected = try await client.call(.put, "/api/v1/merchant-applications/\(id)", token: cast.merchant, json: applicationJSON())
            #expect(notRejected.status == .conflict)
            #expect(notRejected.code == "invalid_transition")
            #expect(notRejected.text.contains("submitted"))
        }
    }

    @Test func adminRejectsARecommendedApplication() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let id = try await client.apply(cast.merchant)
            _ = try await client.call(.post, "/api/v1/merchant-applications/\(id)/recommend", token: cast.yanshouOfficer, json: "{}")
            // The county officer's part is done: it cannot reject now, nor recommend twice.
            let late = try await client.call(.post, "/api/v1/merchant-applications/\(id)/reject", token: cast.yanshouOfficer, json: #"{"reason":"x"}"#)
            #expect(late.code == "invalid_transition")
            let twice = try await client.call(.post, "/api/v1/merchant-applications/\(id)/recommend", token: cast.yanshouOfficer, json: "{}")
            #expect(twice.code == "invalid_transition")
            let rejected = try await client.call(
                .post, "/api/v1/merchant-applications/\(id)/reject", token: cast.admin, json: #"{"reason":"非脱贫县主体"}"#)
            #expect(rejected.object["status"] as? String == "rejected")
            let approve = try await client.call(.post, "/api/v1/merchant-applications/\(id)/approve", token: cast.admin, json: "{}")
            #expect(approve.code == "invalid_transition")
        }
    }

    @Test func adminMayRejectBeforeTheCounty() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let id = try await client.apply(cast.merchant)
            let early = try await client.call(.post, "/api/v1/merchant-applications/\(id)/approve", token: cast.admin, json: "{}")
            #expect(early.code == "invalid_transition")
            let rejected = try await client.call(.post, "/api/v1/merchant-applications/\(id)/reject", token: cast.admin, json: #"{"reason":"重复申请"}"#)
            #expect(rejected.object["status"] as? String == "rejected")
        }
    }

    @Test func refusals() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let id = try await client.apply(cast.merchant)
            let path = "/api/v1/merchant-applications/\(id)"
            // Nobody signed in.
            #expect(try await client.call(.get, path).status == .unauthorized)
            #expect(try await client.call(.post, "/api/v1/merchant-applications", json: applicationJSON()).status == .unauthorized)
            // The wrong role.
            let buyerApplies = try await client.call(.post, "/api/v1/merchant-applications", token: cast.buyer, json: applicationJSON())
            #expect(buyerApplies.status == .forbidden)
            #expect(try await client.call(.get, path, token: cast.buyer).status == .forbidden)
            #expect(try await client.call(.post, "\(path)/recommend", token: cast.merchant, json: "{}").status == .forbidden)
            #expect(try await client.call(.post, "\(path)/recommend", token: cast.admin, json: "{}").status == .forbidden)
            #expect(try await client.call(.post, "\(path)/approve", token: cast.yanshouOfficer, json: "{}").status == .forbidden)
            #expect(try await client.call(.post, "\(path)/reject", token: cast.merchant, json: #"{"reason":"x"}"#).status == .forbidden)
            #expect(try await client.call(.post, "/api/v1/merchant-applications", token: cast.admin, json: applicationJSON()).status == .forbidden)
            // Another county's officer: as if it did not exist.
            #expect(try await client.call(.get, path, token: cast.longjiangOfficer).status == .notFound)
            #expect(try await client.call(.post, "\(path)/recommend", token: cast.longjiangOfficer, json: "{}").status == .notFound)
            #expect(try await client.call(.post, "\(path)/reject", token: cast.longjiangOfficer, json: #"{"reason":"x"}"#).status == .notFound)
            let otherQueue = try await client.call(.get, "/api/v1/merchant-applications", token: cast.longjiangOfficer)
            #expect(((otherQueue.object["items"] as? [[String: Any]]) ?? []).isEmpty)
            #expect(try await client.call(.get, "/api/v1/merchant-applications?countyCode=230129", token: cast.longjiangOfficer).status == .forbidden)
            // Another merchant's application.
            #expect(try await client.call(.get, path, token: cast.otherMerchant).status == .notFound)
            #expect(try await client.call(.put, path, token: cast.otherMerchant, json: applicationJSON()).status == .notFound)
            #expect(try await client.upload(cast.otherMerchant, id, bytes: pdfBytes, type: "application/pdf").status == .notFound)
            let mine = try await client.call(.get, "/api/v1/merchant-applications", token: cast.otherMerchant)
            #expect(((mine.object["items"] as? [[String: Any]]) ?? []).isEmpty)
            // Unknown application.
            #expect(try await client.call(.get, "/api/v1/merchant-applications/nope", token: cast.admin).status == .notFound)
            // Nothing changed.
            let shown = try await client.call(.get, path, token: cast.admin)
            #expect(shown.object["status"] as? String == "submitted")
            #expect(((shown.object["reviews"] as? [[String: Any]]) ?? []).count == 1)
        }
    }

    @Test func invalidApplications() async throws {
        let test = try await TestApp.make { $0.eligibleCountyLevels = [.national] }
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            func fields(_ json: String) async throws -> [String] {
                let response = try await client.call(.post, "/api/v1/merchant-applications", token: cast.merchant, json: json)
                #expect(response.status == .unprocessableContent)
                return response.fields
            }
            #expect(try await fields(applicationJSON(creditCode: "91230129MA1B2C3D4B")) == ["creditCode"])
            #expect(try await fields(applicationJSON(creditCode: "91230129MA1B2C3D4")) == ["creditCode"])
            #expect(try await fields(applicationJSON(creditCode: "9123O129MA1B2C3D4A")) == ["creditCode"])
            // 巴彦县 is provincial; this platform admits national counties only.
            #expect(try await fields(applicationJSON(countyCode: "230126")) == ["countyCode"])
            #expect(try await fields(applicationJSON(countyCode: "110101")) == ["countyCode"])
            #expect(try await fields(applicationJSON(phone: "12345")) == ["contactPhone"])
            #expect(try await fields(applicationJSON(company: String(repeating: "长", count: 101))) == ["companyName"])
            let wrongType = applicationJSON().replacingOccurrences(of: #""householdsDriven":120"#, with: #""householdsDriven":"many""#)
            #expect(try await fields(wrongType) == ["householdsDriven"])
            let huge = applicationJSON().replacingOccurrences(of: #""householdsDriven":120"#, with: #""householdsDriven":99999999999999999999"#)
            #expect(try await fields(huge) == ["householdsDriven"])
            let negative = applicationJSON().replacingOccurrences(of: #""householdsDriven":120"#, with: #""householdsDriven":-1"#)
            #expect(try await fields(negative) == ["householdsDriven"])
            let badAccount = applicationJSON().replacingOccurrences(of: "6228 4800 1234 5678 9", with: "abc")
            #expect(try await fields(badAccount) == ["bankAccount"])
            // Lower case is accepted and stored upper case.
            let lower = try await client.call(
                .post, "/api/v1/merchant-applications", token: cast.merchant, json: applicationJSON(creditCode: Codes.yanshou.lowercased()))
            #expect(lower.status == .created)
            #expect(lower.object["creditCode"] as? String == Codes.yanshou)
        }
    }

    @Test func areaMismatchIsAcceptedWithAWarning() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let created = try await client.call(.post, "/api/v1/merchant-applications", token: cast.merchant, json: applicationJSON(creditCode: Codes.harbin))
            #expect(created.status == .created)
            let warnings = created.object["warnings"] as? [String] ?? []
            #expect(warnings.count == 1 && warnings[0].contains("230100"))
            let seen = try await client.call(.get, "/api/v1/merchant-applications/\(created.object["id"] as? String ?? "")", token: cast.yanshouOfficer)
            #expect((seen.object["warnings"] as? [String])?.count == 1)
        }
    }

    @Test func oneCreditCodeOneMerchant() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let id = try await client.apply(cast.merchant)
            let taken = try await client.call(.post, "/api/v1/merchant-applications", token: cast.otherMerchant, json: applicationJSON())
            #expect(taken.status == .conflict)
            #expect(taken.fields == ["creditCode"])
            // While the first is in progress the owner cannot open a second one.
            let second = try await client.call(.post, "/api/v1/merchant-applications", token: cast.merchant, json: applicationJSON(creditCode: Codes.yanshou2))
            #expect(second.status == .conflict)
            // Once rejected, the code is free; resubmitting the rejected one then conflicts.
            _ = try await client.call(.post, "/api/v1/merchant-applications/\(id)/reject", token: cast.admin, json: #"{"reason":"x"}"#)
            _ = try await client.apply(cast.otherMerchant)
            let resubmit = try await client.call(.put, "/api/v1/merchant-applications/\(id)", token: cast.merchant, json: applicationJSON())
            #expect(resubmit.status == .conflict)
            #expect(resubmit.fields == ["creditCode"])
        }
    }

    /// Racing applications with one credit code: exactly one wins, the rest are 409, never a 500.
    @Test func racingApplicationsForOneCreditCode() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            var tokens: [String] = []
            for index in 0..<10 { tokens.append(try await client.signUp("racer\(index)")) }
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for token in tokens {
                    group.addTask {
                        try await client.call(.post, "/api/v1/merchant-applications", token: token, json: applicationJSON()).status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .created }.count == 1)
            #expect(statuses.filter { $0 == .conflict }.count == 9)
        }
    }

    /// The county's officer recommends and rejects the same submitted application at once (two
    /// tabs), several times over: each step needs `submitted`, so exactly one wins each time and the
    /// history holds it alone. (The review
    /// step locks the application; on PostgreSQL both used to pass the status check.)
    @Test func racingReviewsOfOneApplication() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            for round in 0..<5 {
                let owner = try await client.signUp("reviewed\(round)")
                let body = "91230129MA1B2C3D\(round)"
                let code = body + String(try #require(CreditCode.checkCharacter(Array(body))))
                let id = try await client.apply(owner, applicationJSON(creditCode: code))
                let path = "/api/v1/merchant-applications/\(id)"
                async let recommend = client.call(.post, "\(path)/recommend", token: cast.yanshouOfficer, json: "{}")
                async let reject = client.call(.post, "\(path)/reject", token: cast.yanshouOfficer, json: #"{"reason":"重复申请"}"#)
                let statuses = [try await recommend.status, try await reject.status]
                #expect(statuses.filter { $0 == .ok }.count == 1, "\(statuses)")
                #expect(statuses.filter { $0 == .conflict }.count == 1, "\(statuses)")
                let shown = try await client.call(.get, path, token: cast.admin)
                let reviews = try #require(shown.object["reviews"] as? [[String: Any]])
                #expect(reviews.count == 2, "\(reviews)")
            }
        }
    }

    @Test func documentUploadsAreCheckedAndStreamedUnderTheLimit() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let id = try await client.apply(cast.merchant)
            let text = Array("just some text, not an image".utf8)
            let fake = try await client.upload(cast.merchant, id, bytes: text, type: "image/png")
            #expect(fake.status == .unsupportedMediaType)
            #expect(fake.code == "unsupported_media_type")
            let pdfAsPNG = try await client.upload(cast.merchant, id, bytes: pdfBytes, type: "image/png")
            #expect(pdfAsPNG.status == .unsupportedMediaType)
            let wrongDeclared = try await client.upload(cast.merchant, id, bytes: pdfBytes, type: "text/plain")
            #expect(wrongDeclared.status == .unsupportedMediaType)
            var big = [UInt8](repeating: 0, count: (10 << 20) + 1)
            big.replaceSubrange(0..<8, with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
            let oversize = try await client.upload(cast.merchant, id, bytes: big, type: "image/png")
            #expect(oversize.status == .contentTooLarge)
            #expect(oversize.code == "payload_too_large")
            let badKind = try await client.upload(cast.merchant, id, bytes: pdfBytes, type: "application/pdf", query: "kind=selfie")
            #expect(badKind.fields == ["kind"])
            let badDate = try await client.upload(cast.merchant, id, bytes: pdfBytes, type: "application/pdf", query: "kind=other&expiresOn=2027-02-30")
            #expect(badDate.fields == ["expiresOn"])
            #expect(try await client.upload(cast.yanshouOfficer, id, bytes: pdfBytes, type: "application/pdf").status == .forbidden)

            let exactlyTen = [UInt8](big.prefix(10 << 20))
            let fits = try await client.upload(cast.merchant, id, bytes: exactlyTen, type: "image/png", query: "kind=test_report")
            #expect(fits.status == .created)
            let documentId = try #require(fits.object["id"] as? String)
            // Nothing of the refused uploads is left behind.
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: test.dataDirectory + "/uploads/tmp")
            #expect(leftovers.isEmpty)
            let shown = try await client.call(.get, "/api/v1/merchant-applications/\(id)", token: cast.merchant)
            #expect(((shown.object["documents"] as? [[String: Any]]) ?? []).count == 1)

            // Download: the owner and its reviewers only.
            let path = "/api/v1/merchant-applications/\(id)/documents/\(documentId)"
            let downloaded = try await client.call(.get, path, token: cast.yanshouOfficer)
            #expect(downloaded.status == .ok)
            #expect(downloaded.headers[.contentType] == "image/png")
            #expect(Array(downloaded.body.readableBytesView) == exactlyTen)
            #expect(try await client.call(.get, path, token: cast.merchant).status == .ok)
            #expect(try await client.call(.get, path, token: cast.admin).status == .ok)
            #expect(try await client.call(.get, path, token: cast.longjiangOfficer).status == .notFound)
            #expect(try await client.call(.get, path, token: cast.otherMerchant).status == .notFound)
            #expect(try await client.call(.get, path, token: cast.buyer).status == .forbidden)
            #expect(try await client.call(.get, path).status == .unauthorized)
        }
    }

    @Test func suspensionAndReinstatement() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let id = try await client.apply(cast.merchant)
            _ = try await client.call(.post, "/api/v1/merchant-applications/\(id)/recommend", token: cast.yanshouOfficer, json: "{}")
            let approved = try await client.call(.post, "/api/v1/merchant-applications/\(id)/approve", token: cast.admin, json: "{}")
            let merchantId = try #require(approved.object["merchantId"] as? String)
            let path = "/api/v1/merchants/\(merchantId)/suspension"

            #expect(try await client.call(.post, path, token: cast.merchant, json: #"{"reason":"x"}"#).status == .forbidden)
            #expect(try await client.call(.post, path, token: cast.yanshouOfficer, json: #"{"reason":"x"}"#).status == .forbidden)
            #expect(try await client.call(.post, path, json: #"{"reason":"x"}"#).status == .unauthorized)
            #expect(try await client.call(.post, path, token: cast.admin, json: "{}").fields == ["reason"])
            #expect(try await client.call(.post, "/api/v1/merchants/nope/suspension", token: cast.admin, json: #"{"reason":"x"}"#).status == .notFound)

            let suspended = try await client.call(.post, path, token: cast.admin, json: #"{"reason":"抽检不合格"}"#)
            #expect(suspended.status == .ok)
            #expect(suspended.object["status"] as? String == "suspended")
            #expect(try await client.call(.post, path, token: cast.admin, json: #"{"reason":"again"}"#).code == "invalid_transition")
            // Hidden from the public, visible to itself and admins with the reason.
            #expect(try await client.call(.get, "/api/v1/merchants/\(merchantId)").status == .notFound)
            #expect(try await client.call(.get, "/api/v1/merchants/\(merchantId)", token: cast.otherMerchant).status == .notFound)
            let own = try await client.call(.get, "/api/v1/merchants/\(merchantId)", token: cast.merchant)
            #expect(own.object["suspensionReason"] as? String == "抽检不合格")
            let publicList = try await client.call(.get, "/api/v1/merchants")
            #expect(((publicList.object["items"] as? [[String: Any]]) ?? []).isEmpty)
            let adminList = try await client.call(.get, "/api/v1/merchants", token: cast.admin)
            #expect(((adminList.object["items"] as? [[String: Any]]) ?? []).count == 1)

            #expect(try await client.call(.delete, path, token: cast.merchant).status == .forbidden)
            let reinstated = try await client.call(.delete, path, token: cast.admin)
            #expect(reinstated.object["status"] as? String == "active")
            #expect(try await client.call(.delete, path, token: cast.admin).code == "invalid_transition")
            let visible = try await client.call(.get, "/api/v1/merchants/\(merchantId)")
            #expect(visible.status == .ok)
            #expect(visible.object["suspensionReason"] is NSNull)
            let events = try await client.call(.get, "/api/v1/audit-events?entityType=merchant&entityId=\(merchantId)", token: cast.admin)
            #expect(((events.object["items"] as? [[String: Any]]) ?? []).map { $0["action"] as? String } == ["merchant.suspend", "merchant.reinstate"])
        }
    }

    @Test func listsArePagedCompletely() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let admin = try await test.adminToken(client)
            var ids: [String] = []
            for index in 0..<5 {
                let token = try await client.signUp("coop\(index)")
                let base = "91230129MA1B2C3D\(index)"
                let code = base + String(CreditCode.checkCharacter(Array(base))!)
                ids.append(try await client.apply(token, applicationJSON(creditCode: code)))
                test.clock.advance(seconds: index % 2 == 0 ? 0 : 1)  // some share a timestamp
            }
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await client.call(
                    .get, "/api/v1/merchant-applications?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""), token: admin)
                seen += ((page.object["items"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
                cursor = page.object["nextCursor"] as? String
            } while cursor != nil
            #expect(seen.count == 5 && Set(seen) == Set(ids))
            let bad = try await client.call(.get, "/api/v1/merchant-applications?status=pending", token: admin)
            #expect(bad.status == .badRequest)
        }
    }
}
