import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import BangfuApp

/// A valid 统一社会信用代码 of a 机关 (registered by 机构编制: "11"), numbered `n`.
func organizationCode(_ n: Int) -> String {
    let body = "11230100" + String(format: "MB%07d", n)
    return body + String(CreditCode.checkCharacter(Array(body))!)
}

func organizationJSON(name: String = "哈尔滨市第一中学食堂", code: String, county: String? = nil) -> String {
    let countyField = county.map { #","countyCode":"\#($0)""# } ?? ""
    return #"{"name":"\#(name)","creditCode":"\#(code)","department":"哈尔滨市教育局","canteenAddress":"哈尔滨市南岗区","contactName":"张华","contactPhone":"13912345678","regionCode":"230103"\#(countyField)}"#
}

/// A canteen buyer whose organization is verified and has a plan for the current quota year.
struct Canteen {
    let token: String
    let organizationId: String

    static func make(
        _ test: TestApp, _ client: any TestClientProtocol, admin: String, username: String, number: Int,
        budgetFen: Int64 = 10_000_000, ratioBp: Int64 = 1500
    ) async throws -> Canteen {
        let token = try await client.signUp(username, role: "buyer")
        let created = try await client.call(
            .post, "/api/v1/buyer-organizations", token: token, json: organizationJSON(name: "\(username)食堂", code: organizationCode(number)))
        #expect(created.status == .created, "\(created.text)")
        let id = try #require(created.object["id"] as? String)
        let verified = try await client.call(.post, "/api/v1/buyer-organizations/\(id)/verification", token: admin)
        #expect(verified.object["status"] as? String == "active")
        let year = QuotaRules.quotaYear(of: test.clock.now)
        let plan = try await client.call(
            .put, "/api/v1/buyer-organizations/\(id)/quota-plans/\(year)", token: token,
            json: #"{"hasCanteen":true,"canteenBudgetFen":\#(budgetFen),"reservedRatioBp":\#(ratioBp)}"#)
        #expect(plan.status == .created, "\(plan.text)")
        return Canteen(token: token, organizationId: id)
    }

    var planPath: String { "/api/v1/buyer-organizations/\(organizationId)/quota-plans/2026" }

    func plan(_ client: any TestClientProtocol) async throws -> [String: Any] {
        try await client.call(.get, planPath, token: token).object
    }
}

@Suite struct BuyersTests {
    @Test func registrationVerificationAndRefusals() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let path = "/api/v1/buyer-organizations"
            // Only buyers register; the code must be a valid one of a 机关/事业单位.
            #expect(try await client.call(.post, path, token: cast.merchant, json: organizationJSON(code: organizationCode(1))).status == .forbidden)
            #expect(try await client.call(.post, path, json: organizationJSON(code: organizationCode(1))).status == .unauthorized)
            let company = try await client.call(.post, path, token: cast.buyer, json: organizationJSON(code: Codes.yanshou))
            #expect(company.status == .unprocessableContent && company.fields == ["creditCode"])
            var corrupted = Array(organizationCode(1))
            corrupted[17] = corrupted[17] == "0" ? "1" : "0"
            let bad = try await client.call(.post, path, token: cast.buyer, json: organizationJSON(code: String(corrupted)))
            #expect(bad.fields == ["creditCode"])
            let noCounty = try await client.call(.post, path, token: cast.buyer, json: organizationJSON(code: organizationCode(1), county: "999999"))
            #expect(noCounty.fields == ["countyCode"])
            let created = try await client.call(.post, path, token: cast.buyer, json: organizationJSON(code: organizationCode(1), county: "230129"))
            #expect(created.status == .created)
            #expect(created.object["status"] as? String == "pending")
            let id = try #require(created.object["id"] as? String)
            // One organization per buyer; one organization per credit code.
            #expect(try await client.call(.post, path, token: cast.buyer, json: organizationJSON(code: organizationCode(2))).status == .conflict)
            let second = try await client.signUp("canteen2", role: "buyer")
            let duplicate = try await client.call(.post, path, token: second, json: organizationJSON(code: organizationCode(1)))
            #expect(duplicate.status == .conflict && duplicate.fields == ["creditCode"])
            // Who sees it: its buyers and admins; another buyer is told it does not exist.
            #expect(try await client.call(.get, "\(path)/\(id)", token: cast.buyer).status == .ok)
            #expect(try await client.call(.get, "\(path)/\(id)", token: cast.admin).status == .ok)
            #expect(try await client.call(.get, "\(path)/\(id)", token: second).status == .notFound)
            #expect(try await client.call(.get, "\(path)/\(id)", token: cast.merchant).status == .forbidden)
            let me = try await client.call(.get, "/api/v1/me", token: cast.buyer)
            #expect((me.object["buyerOrganization"] as? [String: Any])?["id"] as? String == id)
            // Verification is the admin's, once.
            #expect(try await client.call(.get, path + "?status=pending", token: cast.admin).items.count == 1)
            // Its manager lists its own subtree: itself only.
            #expect(try await client.call(.get, path, token: cast.buyer).items.compactMap { $0["id"] as? String } == [id])
            #expect(try await client.call(.post, "\(path)/\(id)/verification", token: cast.buyer).status == .forbidden)
            #expect(try await client.call(.post, "\(path)/\(id)/verification", token: cast.yanshouOfficer).status == .forbidden)
            #expect(try await client.call(.post, "\(path)/nope/verification", token: cast.admin).status == .notFound)
            let verified = try await client.call(.post, "\(path)/\(id)/verification", token: cast.admin)
            #expect(verified.object["status"] as? String == "active")
            #expect(verified.object["verifiedAt"] is String)
            let twice = try await client.call(.post, "\(path)/\(id)/verification", token: cast.admin)
            #expect(twice.code == "invalid_transition")
            #expect(try await client.call(.get, path + "?status=pending", token: cast.admin).items.isEmpty)
        }
    }

    @Test func quotaPlanFollowsTheFormulas() async throws {
        let test = try await TestApp.make { $0.minimumReservedRatioBp = 1200 }
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let canteen = try await Canteen.make(test, client, admin: cast.admin, username: "kitchen1", number: 1, budgetFen: 1_234_567, ratioBp: 1234)
            let plan = try await canteen.plan(client)
            // ceil(1234567 × 1234 / 10000) = ceil(152345.5678) = 152346.
            #expect(plan["reservedFen"] as? Int == 152_346)
            #expect(plan["remainingBudgetFen"] as? Int == 1_234_567)
            #expect(plan["completionBp"] as? Int == 0)
            // The test clock stands at 2026-11-18T...Z; in UTC+8 that is day 322 of 365.
            let day = Calendar.dayOfYearInUTC8(test.clock.now)
            #expect(plan["expectedBp"] as? Int == day * 10000 / 365)
            #expect(plan["onTrack"] as? Bool == false)
            // The operator's minimum ratio, 「无食堂」 and the year's range.
            let low = try await client.call(.put, canteen.planPath, token: canteen.token, json: #"{"hasCanteen":true,"canteenBudgetFen":1000,"reservedRatioBp":1000}"#)
            #expect(low.status == .unprocessableContent && low.fields == ["reservedRatioBp"])
            let none = try await client.call(.put, canteen.planPath, token: canteen.token, json: #"{"hasCanteen":false,"canteenBudgetFen":1000}"#)
            #expect(none.fields == ["canteenBudgetFen"])
            let noCanteen = try await client.call(.put, canteen.planPath, token: canteen.token, json: #"{"hasCanteen":false}"#)
            #expect(noCanteen.status == .ok)
            #expect(noCanteen.object["reservedFen"] as? Int == 0 && noCanteen.object["onTrack"] as? Bool == true)
            #expect(try await client.call(.put, "/api/v1/buyer-organizations/\(canteen.organizationId)/quota-plans/1999", token: canteen.token, json: #"{"hasCanteen":false}"#).status == .badRequest)
            #expect(try await client.call(.get, "/api/v1/buyer-organizations/\(canteen.organizationId)/quota-plans/2027", token: canteen.token).status == .notFound)
            // Another buyer, a merchant, nobody.
            let other = try await Canteen.make(test, client, admin: cast.admin, username: "kitchen2", number: 2)
            #expect(try await client.call(.get, canteen.planPath, token: other.token).status == .notFound)
            #expect(try await client.call(.put, canteen.planPath, token: other.token, json: #"{"hasCanteen":false}"#).status == .notFound)
            #expect(try await client.call(.get, canteen.planPath, token: cast.merchant).status == .forbidden)
            #expect(try await client.call(.put, canteen.planPath, token: cast.yanshouOfficer, json: #"{"hasCanteen":false}"#).status == .forbidden)
            #expect(try await client.call(.get, canteen.planPath).status == .unauthorized)
            #expect(try await client.call(.get, canteen.planPath, token: cast.admin).status == .ok)
        }
    }

    @Test func adminListOfPlansWithBehindAndCSV() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let shop = try await Seller.make(test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller1")
            let rice = try await shop.listed(test, client, title: "延寿大米", price: 10_000)
            let ahead = try await Canteen.make(test, client, admin: cast.admin, username: "ahead", number: 1, budgetFen: 100_000, ratioBp: 1000)
            let behind = try await Canteen.make(test, client, admin: cast.admin, username: "behind", number: 2, budgetFen: 100_000, ratioBp: 1000)
            // `ahead` completes its whole reserved share of 10,000 fen.
            let placed = try await client.place(ahead.token, [(rice, 1)])
            let orderId = try #require(placed.orderIds.first)
            try await client.walk(orderId, buyer: ahead.token, merchant: shop.token, to: "settled", amountFen: 10_000)
            let all = try await client.call(.get, "/api/v1/quota-plans?year=2026", token: cast.admin)
            #expect(all.items.count == 2)
            let late = try await client.call(.get, "/api/v1/quota-plans?behind=true", token: cast.admin)
            #expect(late.items.compactMap { $0["organizationId"] as? String } == [behind.organizationId])
            #expect(late.items.first?["organizationName"] as? String == "behind食堂")
            let csv = try await client.call(.get, "/api/v1/quota-plans?behind=true&format=csv", token: cast.admin)
            #expect(Array(Data(buffer: csv.body)).starts(with: [0xEF, 0xBB, 0xBF]))
            #expect(csv.text.split(separator: "\r\n").count == 2)
            #expect(csv.text.contains("behind食堂"))
            #expect(try await client.call(.get, "/api/v1/quota-plans", token: ahead.token).status == .forbidden)
            #expect(try await client.call(.get, "/api/v1/quota-plans?behind=maybe", token: cast.admin).status == .badRequest)
            #expect(try await client.call(.get, "/api/v1/quota-plans?year=abc", token: cast.admin).status == .badRequest)
        }
    }
}

extension Calendar {
    /// Day of the year (1-based) in UTC+8, computed without Foundation's calendar.
    static func dayOfYearInUTC8(_ date: Date) -> Int {
        let days = Int((date.timeIntervalSince1970 + 8 * 3600) / 86400)
        let civil = civilFromDays(days)
        return days - daysFromCivil(civil.year, 1, 1) + 1
    }
}
