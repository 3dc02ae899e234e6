import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import BangfuApp

extension TestClientProtocol {
    /// Registers an organization for a new buyer `username` in `region` below `parent`; verified
    /// by `admin` unless nil. Answers the manager's token and the response.
    func unit(
        _ username: String, number: Int, region: String = "230103", parent: String? = nil, admin: String?
    ) async throws -> (token: String, response: TestResponse) {
        let token = try await signUp(username, role: "buyer")
        var body = try #require(
            try JSONSerialization.jsonObject(with: Data(organizationJSON(name: "\(username)单位", code: organizationCode(number)).utf8))
                as? [String: Any])
        body["regionCode"] = region
        body["parentId"] = parent
        let json = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
        let response = try await call(.post, "/api/v1/buyer-organizations", token: token, json: json)
        if let admin, let id = response.object["id"] as? String {
            #expect(try await call(.post, "/api/v1/buyer-organizations/\(id)/verification", token: admin).status == .ok)
        }
        return (token, response)
    }
}

/// Regions, the organization tree and member accounts (issue 19; SPEC "Budget units as the scheme
/// really runs them").
@Suite struct BudgetUnitsTests {
    @Test func regionsAreListedByParentAndAdminsAddThem() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let provinces = try await client.call(.get, "/api/v1/regions")
            #expect(provinces.array.count == 34)
            #expect(provinces.array.contains { $0["code"] as? String == "230000" && $0["name"] as? String == "黑龙江省" })
            let prefectures = try await client.call(.get, "/api/v1/regions?parent=230000").array
            #expect(prefectures.count == 13 && prefectures.allSatisfy { $0["level"] as? String == "prefecture" })
            let harbin = try await client.call(.get, "/api/v1/regions?parent=230100").array
            #expect(harbin.count == 18 && harbin.contains { $0["name"] as? String == "南岗区" })
            // Every 脱贫县 of the registry is a registered division.
            let counties = try await client.call(.get, "/api/v1/counties").array.compactMap { $0["code"] as? String }
            for county in counties {
                let prefecture = String(county.prefix(4)) + "00"
                let listed = try await client.call(.get, "/api/v1/regions?parent=\(prefecture)").array
                #expect(listed.contains { $0["code"] as? String == county }, "\(county)")
            }
            #expect(try await client.call(.get, "/api/v1/regions?parent=990000").status == .notFound)
            let malformed = try await client.call(.get, "/api/v1/regions?parent=abc")
            #expect(malformed.status == .badRequest && malformed.fields == ["parent"])

            let add = { (body: String, token: String) in try await client.call(.post, "/api/v1/regions", token: token, json: body) }
            #expect(try await add(#"{"code":"110100","name":"市辖区","parentCode":"110000"}"#, cast.buyer).status == .forbidden)
            #expect(try await add(#"{"code":"110100","name":"市辖区","parentCode":"110000"}"#, cast.admin).status == .created)
            #expect(try await add(#"{"code":"110105","name":"朝阳区","parentCode":"110100"}"#, cast.admin).status == .created)
            let again = try await add(#"{"code":"110105","name":"朝阳区","parentCode":"110100"}"#, cast.admin)
            #expect(again.status == .conflict && again.fields == ["code"])
            let misplaced = try await add(#"{"code":"120105","name":"河北区","parentCode":"110100"}"#, cast.admin)
            #expect(misplaced.status == .unprocessableContent && misplaced.fields == ["parentCode"])
            let orphan = try await add(#"{"code":"120105","name":"河北区","parentCode":"120100"}"#, cast.admin)
            #expect(orphan.status == .unprocessableContent && orphan.fields == ["parentCode"])
            let bad = try await add(#"{"code":"12x105","name":"","parentCode":null}"#, cast.admin)
            #expect(bad.status == .unprocessableContent && Set(bad.fields) == ["code", "name"])
            #expect(try await client.call(.get, "/api/v1/regions?parent=110100").array.map { $0["code"] as? String } == ["110105"])
        }
    }

    @Test func theTreeHasOneProvinceNoCyclesAndSixLevels() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let path = "/api/v1/buyer-organizations"
            let (deptToken, dept) = try await client.unit("edu", number: 1, region: "230000", admin: cast.admin)
            let deptId = try #require(dept.object["id"] as? String)
            let (unitToken, unit) = try await client.unit("school", number: 2, parent: deptId, admin: cast.admin)
            #expect(unit.status == .created && unit.object["parentId"] as? String == deptId, "\(unit.text)")
            #expect(unit.object["regionCode"] as? String == "230103")
            let unitId = try #require(unit.object["id"] as? String)

            // Refusals at registration: no region, an unknown one, a parent elsewhere or not active.
            let missing = try await client.call(
                .post, path, token: try await client.signUp("noregion", role: "buyer"),
                json: organizationJSON(code: organizationCode(3)).replacingOccurrences(of: #","regionCode":"230103""#, with: ""))
            #expect(missing.status == .unprocessableContent && missing.fields == ["regionCode"])
            let unknown = try await client.unit("unknownregion", number: 4, region: "230199", admin: nil).response
            #expect(unknown.status == .unprocessableContent && unknown.fields == ["regionCode"])
            let jilin = try await client.unit("jilin", number: 5, region: "220000", parent: deptId, admin: nil).response
            #expect(jilin.status == .unprocessableContent && jilin.fields == ["parentId"], "\(jilin.text)")
            let (_, pending) = try await client.unit("pending", number: 6, admin: nil)
            let pendingId = try #require(pending.object["id"] as? String)
            let belowPending = try await client.unit("belowpending", number: 7, parent: pendingId, admin: nil).response
            #expect(belowPending.status == .unprocessableContent && belowPending.fields == ["parentId"])

            // The department's manager sees the unit below it, read-only; the unit does not see up.
            #expect(try await client.call(.get, "\(path)/\(unitId)", token: deptToken).status == .ok)
            #expect(try await client.call(.get, "\(path)/\(deptId)", token: unitToken).status == .notFound)
            let listed = try await client.call(.get, path, token: deptToken).items.compactMap { $0["id"] as? String }
            #expect(Set(listed) == [deptId, unitId])
            #expect(try await client.call(.get, "\(path)?parentId=\(deptId)", token: deptToken).items.count == 1)
            #expect(try await client.call(.get, "\(path)?regionCode=230100", token: cast.admin).items.count >= 1)
            #expect(try await client.call(.get, "\(path)?regionCode=220000", token: deptToken).items.isEmpty)
            #expect(try await client.call(.get, path, token: unitToken).items.compactMap { $0["id"] as? String } == [unitId])
            let patchUnit = try await client.call(.patch, "\(path)/\(unitId)", token: deptToken, json: #"{"department":"x"}"#)
            #expect(patchUnit.status == .forbidden)
            #expect(try await client.call(.patch, "\(path)/\(deptId)", token: unitToken, json: "{}").status == .notFound)

            // A cycle: the department below its own unit.
            let cycle = try await client.call(.patch, "\(path)/\(deptId)", token: deptToken, json: #"{"parentId":"\#(unitId)"}"#)
            #expect(cycle.status == .unprocessableContent && cycle.fields == ["parentId"], "\(cycle.text)")
            // Another province while a unit below stays in Heilongjiang.
            // A verified organization's region is the admin's to change (its minimum and reviewer follow it).
            let own = try await client.call(.patch, "\(path)/\(deptId)", token: deptToken, json: #"{"regionCode":"230100"}"#)
            #expect(own.status == .forbidden && own.fields == ["regionCode"])
            let moved = try await client.call(.patch, "\(path)/\(deptId)", token: cast.admin, json: #"{"regionCode":"220000"}"#)
            #expect(moved.status == .unprocessableContent && moved.fields == ["regionCode"])

            // Six levels: dept, unit, then four more; a seventh is refused, also by moving a subtree.
            var parent = unitId
            var chain: [String] = []
            for level in 3...6 {
                let (_, next) = try await client.unit("level\(level)", number: 10 + level, parent: parent, admin: cast.admin)
                #expect(next.status == .created, "level \(level): \(next.text)")
                parent = try #require(next.object["id"] as? String)
                chain.append(parent)
            }
            let seventh = try await client.unit("level7", number: 17, parent: parent, admin: cast.admin).response
            #expect(seventh.status == .unprocessableContent && seventh.fields == ["parentId"])
            let (looseToken, loose) = try await client.unit("loose", number: 18, admin: cast.admin)
            let looseId = try #require(loose.object["id"] as? String)
            _ = try await client.unit("looseleaf", number: 19, parent: looseId, admin: cast.admin)
            let tooDeep = try await client.call(
                .patch, "\(path)/\(looseId)", token: looseToken, json: #"{"parentId":"\#(chain[2])"}"#)
            #expect(tooDeep.status == .unprocessableContent && tooDeep.fields == ["parentId"], "\(tooDeep.text)")
            let fits = try await client.call(.patch, "\(path)/\(looseId)", token: looseToken, json: #"{"parentId":"\#(chain[1])"}"#)
            #expect(fits.status == .ok && fits.object["parentId"] as? String == chain[1], "\(fits.text)")
            let detached = try await client.call(.patch, "\(path)/\(looseId)", token: cast.admin, json: #"{"parentId":null}"#)
            #expect(detached.status == .ok && detached.object["parentId"] is NSNull, "\(detached.text)")
            let badPhone = try await client.call(.patch, "\(path)/\(looseId)", token: looseToken, json: #"{"contactPhone":"12"}"#)
            #expect(badPhone.status == .unprocessableContent && badPhone.fields == ["contactPhone"])
            // Every change is audited.
            let audit = try await client.call(
                .get, "/api/v1/audit-events?entityType=buyer_organization&entityId=\(looseId)&limit=100", token: cast.admin)
            #expect(audit.items.filter { $0["action"] as? String == "buyer_organization.update" }.count == 2)
        }
    }

    @Test func managersCreateAndRemoveMembersAndContractorsNeverPay() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let market = try await Market.make(test, client)
            let canteen = market.canteen
            let members = "/api/v1/buyer-organizations/\(canteen.organizationId)/members"
            func add(_ username: String, _ role: String, by token: String) async throws -> TestResponse {
                try await client.call(
                    .post, members, token: token,
                    json: #"{"username":"\#(username)","password":"correct horse 1","displayName":"\#(username)","memberRole":"\#(role)"}"#)
            }
            // Contractors work for an outsourced canteen: the filing says so first.
            #expect(try await add("buyer-c", "contractor", by: canteen.token).fields == ["memberRole"])
            let outsourced = #"{"canteenMode":"outsourced","canteenBudgetFen":10000000,"reservedRatioBp":1500}"#
            #expect(try await client.call(.put, canteen.planPath, token: canteen.token, json: outsourced).status == .ok)
            let purchaser = try await add("buyer-p", "purchaser", by: canteen.token)
            #expect(purchaser.status == .created && purchaser.object["memberRole"] as? String == "purchaser", "\(purchaser.text)")
            #expect(try await add("buyer-c", "contractor", by: canteen.token).status == .created)
            let taken = try await add("BUYER-P", "purchaser", by: canteen.token)
            #expect(taken.status == .conflict && taken.fields == ["username"])
            let invalid = try await client.call(
                .post, members, token: canteen.token,
                json: #"{"username":"x","password":"short","displayName":"","memberRole":"boss"}"#)
            #expect(invalid.status == .unprocessableContent)
            #expect(Set(invalid.fields) == ["username", "password", "displayName", "memberRole"])
            #expect(try await add("buyer-s", "purchaser", by: market.stranger.token).status == .notFound)
            let purchaserToken = try await client.signIn("buyer-p")
            let contractorToken = try await client.signIn("buyer-c")
            #expect(try await add("buyer-x", "purchaser", by: purchaserToken).status == .forbidden)

            let listed = try await client.call(.get, members, token: purchaserToken).array
            #expect(listed.map { $0["memberRole"] as? String } == ["manager", "contractor", "purchaser"])
            #expect(listed.last?["lastSignInAt"] is String)
            #expect(try await client.call(.get, members, token: market.stranger.token).status == .notFound)

            // Only managers file the plan.
            let plan = #"{"hasCanteen":true,"canteenBudgetFen":10000000,"reservedRatioBp":1500}"#
            #expect(try await client.call(.put, canteen.planPath, token: purchaserToken, json: plan).status == .forbidden)
            #expect(try await client.call(.put, canteen.planPath, token: contractorToken, json: plan).status == .forbidden)
            #expect(try await client.call(.get, canteen.planPath, token: contractorToken).status == .ok)

            // The contractor orders and accepts; paying is the purchaser's; each order names its placer.
            let placed = try await client.place(contractorToken, [(market.rice, 1)])
            let order = try #require(placed.orderIds.first, "\(placed.text)")
            let contractorId = try #require(listed.first { $0["memberRole"] as? String == "contractor" }?["userId"] as? String)
            #expect((placed.object["orders"] as? [[String: Any]])?.first?["placedBy"] as? String == contractorId)
            try await client.walk(order, buyer: contractorToken, merchant: market.shop.token, to: "accepted", amountFen: 1_000)
            let pay = #"{"reference":"国库支付2026-009","amountFen":1000}"#
            try await client.invoice(order, merchant: market.shop.token)
            let refused = try await client.call(.post, "/api/v1/orders/\(order)/payment", token: contractorToken, json: pay)
            #expect(refused.status == .forbidden, "\(refused.text)")
            #expect(try await client.call(.get, "/api/v1/orders/\(order)", token: contractorToken).object["status"] as? String == "accepted")
            let paid = try await client.call(.post, "/api/v1/orders/\(order)/payment", token: purchaserToken, json: pay)
            #expect(paid.object["status"] as? String == "settled", "\(paid.text)")

            // Removal ends the member's sessions at once and its sign-in; the last manager stays.
            let purchaserId = try #require(purchaser.object["userId"] as? String)
            #expect(try await client.call(.delete, "\(members)/\(purchaserId)", token: purchaserToken).status == .forbidden)
            #expect(try await client.call(.delete, "\(members)/\(purchaserId)", token: market.stranger.token).status == .notFound)
            #expect(try await client.call(.delete, "\(members)/\(purchaserId)", token: canteen.token).status == .noContent)
            #expect(try await client.call(.get, "/api/v1/me", token: purchaserToken).status == .unauthorized)
            let again = try await client.call(
                .post, "/api/v1/sessions", json: #"{"username":"buyer-p","password":"correct horse 1"}"#)
            #expect(again.status == .unauthorized)
            #expect(try await client.call(.delete, "\(members)/\(purchaserId)", token: canteen.token).status == .notFound)
            let me = try await client.call(.get, "/api/v1/me", token: canteen.token)
            let managerId = try #require((me.object["user"] as? [String: Any])?["id"] as? String)
            let last = try await client.call(.delete, "\(members)/\(managerId)", token: canteen.token)
            #expect(last.status == .conflict, "\(last.text)")
            #expect(try await add("buyer-m2", "manager", by: canteen.token).status == .created)
            #expect(try await client.call(.delete, "\(members)/\(managerId)", token: canteen.token).status == .noContent)
            #expect(try await client.call(.get, "/api/v1/me", token: canteen.token).status == .unauthorized)
            let audit = try await client.call(
                .get, "/api/v1/audit-events?entityType=buyer_organization&entityId=\(canteen.organizationId)&limit=100",
                token: market.cast.admin)
            #expect(audit.items.filter { $0["action"] as? String == "buyer_member.remove" }.count == 2)
        }
    }

    @Test func aContractorNeedsAnOutsourcedCanteenToWorkFor() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let (token, unit) = try await client.unit("nocanteen", number: 1, admin: cast.admin)
            let id = try #require(unit.object["id"] as? String)
            let body = #"{"username":"cook1","password":"correct horse 1","displayName":"厨师","memberRole":"contractor"}"#
            let refused = try await client.call(.post, "/api/v1/buyer-organizations/\(id)/members", token: token, json: body)
            #expect(refused.status == .unprocessableContent && refused.fields == ["memberRole"])
            // Nothing half-written: the username is still free.
            #expect(try await client.call(.get, "/api/v1/buyer-organizations/\(id)/members", token: token).array.count == 1)
            _ = try await client.signUp("cook1", role: "buyer")
        }
    }
}
