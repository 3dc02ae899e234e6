import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import BangfuApp

extension TestClientProtocol {
    /// Creates a finance officer of `region` (by `admin`) and answers its token.
    func financeOfficer(_ username: String, region: String, admin: String) async throws -> String {
        let created = try await call(
            .post, "/api/v1/users", token: admin,
            json: #"{"username":"\#(username)","password":"correct horse 1","role":"finance","displayName":"财政局","regionCode":"\#(region)"}"#)
        #expect(created.status == .created, "\(created.text)")
        return try await signIn(username)
    }
}

/// The yearly filing (issue 19; SPEC "The yearly filing"): review by the parent's manager or
/// finance, returns, canteen modes, regional minimums and waivers, the review queue.
@Suite struct FilingsTests {
    static let year = 2026
    static func planPath(_ id: String) -> String { "/api/v1/buyer-organizations/\(id)/quota-plans/\(year)" }
    static let ownPlan = #"{"canteenMode":"own","canteenBudgetFen":10000000,"reservedRatioBp":1500}"#

    @Test func financeOfficersHaveARegion() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let users = "/api/v1/users"
            let body = { (extra: String) in
                #"{"username":"fin1","password":"correct horse 1","role":"finance","displayName":"财政"\#(extra)}"#
            }
            let missing = try await client.call(.post, users, token: cast.admin, json: body(""))
            #expect(missing.status == .unprocessableContent && missing.fields == ["regionCode"])
            let unknown = try await client.call(.post, users, token: cast.admin, json: body(#","regionCode":"239900""#))
            #expect(unknown.status == .unprocessableContent && unknown.fields == ["regionCode"])
            #expect(try await client.call(.post, users, json: body(#","regionCode":"230000""#)).status == .unauthorized)
            #expect(try await client.call(.post, users, token: cast.buyer, json: body(#","regionCode":"230000""#)).status == .forbidden)
            let buyer = try await client.call(
                .post, users,
                json: #"{"username":"kitchen9","password":"correct horse 1","role":"buyer","displayName":"x","regionCode":"230000"}"#)
            #expect(buyer.status == .unprocessableContent && buyer.fields == ["regionCode"])
            let token = try await client.financeOfficer("fin1", region: "230100", admin: cast.admin)
            let me = try await client.call(.get, "/api/v1/me", token: token)
            #expect((me.object["user"] as? [String: Any])?["role"] as? String == "finance")
            #expect(me.object["regionCode"] as? String == "230100")
        }
    }

    @Test func theParentConfirmsAUnitAndFinanceTheTopAndAReturnStopsOrdering() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let market = try await Market.make(test, client)
            let cast = market.cast
            let heilongjiang = try await client.financeOfficer("finhlj", region: "230000", admin: cast.admin)
            let jilin = try await client.financeOfficer("finjl", region: "220000", admin: cast.admin)
            // The market's canteen is a top-level unit of 南岗区; a department and a unit below it.
            let (deptToken, dept) = try await client.unit("edu", number: 31, region: "230000", admin: cast.admin)
            let deptId = try #require(dept.object["id"] as? String)
            let (unitToken, unit) = try await client.unit("school", number: 32, parent: deptId, admin: cast.admin)
            let unitId = try #require(unit.object["id"] as? String)
            let filed = try await client.call(.put, Self.planPath(unitId), token: unitToken, json: Self.ownPlan)
            #expect(filed.status == .created && filed.object["status"] as? String == "submitted", "\(filed.text)")
            #expect(filed.object["minimumBp"] as? Int == 1000 && filed.object["canteenMode"] as? String == "own")
            // Its reviewer, the department's manager, is told; finance is not (the unit has a parent).
            let told = { (token: String, kind: String) in
                try await client.inbox(token).items.filter { $0["kind"] as? String == kind }.compactMap { $0["subjectId"] as? String }
            }
            #expect(try await told(deptToken, "filing.submitted") == [unitId])
            #expect(try await told(heilongjiang, "filing.submitted").isEmpty)
            // A waiver it asks for is finance's to decide: the region's officers are told, with the
            // reason, not another province's; once approved the reviewer hears it too.
            let waived = #"{"canteenMode":"own","canteenBudgetFen":10000000,"reservedRatioBp":500,"waiverReason":"小食堂"}"#
            let asking = try await client.call(.put, Self.planPath(unitId), token: unitToken, json: waived)
            #expect(asking.object["waiverStatus"] as? String == "requested", "\(asking.text)")
            #expect(try await told(heilongjiang, "filing.waiver_requested") == [unitId])
            #expect(try await client.inbox(heilongjiang).items.first?["body"] as? String ?? "" == "采购单位 \(unitId)。说明：小食堂")
            #expect(try await told(heilongjiang, "filing.submitted").isEmpty)
            #expect(try await told(jilin, "filing.waiver_requested").isEmpty)
            let approve = try await client.call(
                .post, Self.planPath(unitId) + "/waiver", token: heilongjiang, json: #"{"approve":true,"note":"同意"}"#)
            #expect(approve.object["waiverStatus"] as? String == "approved", "\(approve.text)")
            #expect(try await told(deptToken, "filing.waiver_decided") == [unitId])
            #expect(try await told(unitToken, "filing.waiver_decided") == [unitId])
            #expect(try await client.call(.put, Self.planPath(unitId), token: unitToken, json: Self.ownPlan).object["waiverStatus"] is NSNull)

            let confirm = { (id: String, token: String) in
                try await client.call(.post, Self.planPath(id) + "/confirmation", token: token, json: "{}")
            }
            // The unit's own manager, finance (the unit has a parent) and strangers may not.
            #expect(try await confirm(unitId, unitToken).status == .forbidden)
            #expect(try await confirm(unitId, heilongjiang).status == .forbidden)
            #expect(try await confirm(unitId, jilin).status == .notFound)
            #expect(try await confirm(unitId, market.canteen.token).status == .notFound)
            #expect(try await confirm(unitId, cast.admin).status == .forbidden)
            let confirmed = try await confirm(unitId, deptToken)
            #expect(confirmed.status == .ok && confirmed.object["status"] as? String == "confirmed", "\(confirmed.text)")
            #expect(try await confirm(unitId, deptToken).status == .conflict)
            // The unit's managers are told.
            #expect(try await told(unitToken, "filing.confirmed") == [unitId])
            // A manager above the parent sees it but is no reviewer; a supervisor never files or manages.
            let (_, leaf) = try await client.unit("leaf", number: 33, parent: unitId, admin: cast.admin)
            let leafId = try #require(leaf.object["id"] as? String)
            let leafToken = try await client.signIn("leaf")
            #expect(try await client.call(.put, Self.planPath(leafId), token: leafToken, json: Self.ownPlan).status == .created)
            #expect(try await client.call(.get, Self.planPath(leafId), token: deptToken).status == .ok)
            #expect(try await confirm(leafId, deptToken).status == .forbidden)
            #expect(try await client.call(.put, Self.planPath(leafId), token: deptToken, json: Self.ownPlan).status == .forbidden)
            let leafMembers = "/api/v1/buyer-organizations/\(leafId)/members"
            let leafManager = try #require(try await client.call(.get, leafMembers, token: leafToken).array.first?["userId"] as? String)
            #expect(try await client.call(.delete, "\(leafMembers)/\(leafManager)", token: unitToken).status == .forbidden)
            #expect(try await confirm(leafId, unitToken).object["status"] as? String == "confirmed")
            // Moving the leaf (its reviewer changes) sends its confirmed filing back for review.
            let moved = try await client.call(
                .patch, "/api/v1/buyer-organizations/\(leafId)", token: leafToken, json: #"{"parentId":"\#(deptId)"}"#)
            #expect(moved.status == .ok, "\(moved.text)")
            #expect(try await client.call(.get, Self.planPath(leafId), token: leafToken).object["status"] as? String == "submitted")
            // Its new reviewer is told it waits.
            #expect(try await told(deptToken, "filing.submitted").contains(leafId))
            // Editing a confirmed filing submits it again.
            let edited = try await client.call(.put, Self.planPath(unitId), token: unitToken, json: Self.ownPlan)
            #expect(edited.status == .ok && edited.object["status"] as? String == "submitted")
            // The department's filing (top-level) is finance's.
            #expect(try await client.call(.put, Self.planPath(deptId), token: deptToken, json: Self.ownPlan).status == .created)
            #expect(try await confirm(deptId, deptToken).status == .forbidden)
            #expect(try await confirm(deptId, heilongjiang).object["status"] as? String == "confirmed")

            // A return needs a reason, stops ordering until the unit files again.
            let canteen = market.canteen
            let giveBack = Self.planPath(canteen.organizationId) + "/return"
            let noReason = try await client.call(.post, giveBack, token: heilongjiang, json: #"{"reason":" "}"#)
            #expect(noReason.status == .unprocessableContent && noReason.fields == ["reason"])
            let returned = try await client.call(.post, giveBack, token: heilongjiang, json: #"{"reason":"预算偏低，请核实"}"#)
            #expect(returned.object["status"] as? String == "returned" && returned.object["returnReason"] as? String == "预算偏低，请核实")
            let refused = try await client.place(canteen.token, [(market.rice, 1)])
            #expect(refused.status == .conflict && refused.code == "filing_returned", "\(refused.text)")
            let again = try await client.call(.put, canteen.planPath, token: canteen.token, json: Self.ownPlan)
            #expect(again.object["status"] as? String == "submitted" && again.object["returnReason"] is NSNull)
            #expect(try await client.place(canteen.token, [(market.rice, 1)]).status == .created)

            // Each step is in the filing's audit trail.
            let audit = try await client.call(
                .get, "/api/v1/audit-events?entityType=quota_plan&entityId=\(unitId)/\(Self.year)&limit=50", token: cast.admin)
            let actions = audit.items.compactMap { $0["action"] as? String }
            // (filed, asked for a waiver, had it approved, filed again without it, confirmed, edited).
            #expect(
                actions == [
                    "quota_plan.declare", "quota_plan.declare", "filing.waiver_request", "filing.waiver_approve", "quota_plan.declare",
                    "filing.confirm", "quota_plan.declare",
                ], "\(actions)")
        }
    }

    @Test func regionalMinimumsAndWaiversDecidedByFinance() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let heilongjiang = try await client.financeOfficer("finhlj", region: "230000", admin: cast.admin)
            let jilin = try await client.financeOfficer("finjl", region: "220000", admin: cast.admin)
            let ratios = "/api/v1/policy/minimum-ratios"
            #expect(try await client.call(.put, "\(ratios)/230000", token: cast.buyer, json: #"{"minimumBp":1500}"#).status == .forbidden)
            let bad = try await client.call(.put, "\(ratios)/230000", token: cast.admin, json: #"{"minimumBp":10001}"#)
            #expect(bad.status == .unprocessableContent && bad.fields == ["minimumBp"])
            #expect(try await client.call(.put, "\(ratios)/239900", token: cast.admin, json: #"{"minimumBp":1500}"#).status == .notFound)
            #expect(try await client.call(.put, "\(ratios)/230000", token: cast.admin, json: #"{"minimumBp":1500}"#).status == .ok)
            let listed = try await client.call(.get, ratios)
            #expect(listed.object["defaultBp"] as? Int == 1000 && listed.items.count == 1)

            let (token, unit) = try await client.unit("school", number: 41, admin: cast.admin)
            let id = try #require(unit.object["id"] as? String)
            let low = #"{"canteenMode":"own","canteenBudgetFen":10000000,"reservedRatioBp":1000}"#
            let belowMinimum = try await client.call(.put, Self.planPath(id), token: token, json: low)
            #expect(belowMinimum.status == .unprocessableContent && belowMinimum.fields == ["reservedRatioBp"], "\(belowMinimum.text)")
            // The most specific region wins: 南岗区's own minimum is lower than the province's.
            #expect(try await client.call(.put, "\(ratios)/230103", token: cast.admin, json: #"{"minimumBp":1200}"#).status == .ok)
            let needless = #"{"canteenMode":"own","canteenBudgetFen":10000000,"reservedRatioBp":1200,"waiverReason":"x"}"#
            let notBelow = try await client.call(.put, Self.planPath(id), token: token, json: needless)
            #expect(notBelow.status == .unprocessableContent && notBelow.fields == ["waiverReason"])
            let waived = #"{"canteenMode":"own","canteenBudgetFen":10000000,"reservedRatioBp":1000,"waiverReason":"食堂规模小，本地供应为主"}"#
            let asked = try await client.call(.put, Self.planPath(id), token: token, json: waived)
            #expect(asked.status == .created && asked.object["waiverStatus"] as? String == "requested", "\(asked.text)")
            #expect(asked.object["minimumBp"] as? Int == 1200)
            // The region's finance officers review the top-level unit and decide its waiver: told of
            // both; another province's are not.
            let told = { (token: String, kind: String) in
                try await client.inbox(token).items.filter { $0["kind"] as? String == kind }.compactMap { $0["subjectId"] as? String }
            }
            #expect(try await told(heilongjiang, "filing.submitted").contains(id))
            #expect(try await told(heilongjiang, "filing.waiver_requested") == [id])
            #expect(try await told(jilin, "filing.submitted").isEmpty)
            // Confirmation waits for the decision; only finance of the region decides.
            let confirm = try await client.call(.post, Self.planPath(id) + "/confirmation", token: heilongjiang, json: "{}")
            #expect(confirm.status == .conflict && confirm.code == "waiver_pending")
            let waiver = Self.planPath(id) + "/waiver"
            #expect(try await client.call(.post, waiver, token: jilin, json: #"{"approve":true}"#).status == .notFound)
            #expect(try await client.call(.post, waiver, token: token, json: #"{"approve":true}"#).status == .forbidden)
            let noNote = try await client.call(.post, waiver, token: heilongjiang, json: #"{"approve":false}"#)
            #expect(noNote.status == .unprocessableContent && noNote.fields == ["note"])
            let approved = try await client.call(.post, waiver, token: heilongjiang, json: #"{"approve":true,"note":"同意"}"#)
            #expect(approved.object["waiverStatus"] as? String == "approved", "\(approved.text)")
            #expect(try await client.call(.post, waiver, token: heilongjiang, json: #"{"approve":true}"#).status == .conflict)
            let done = try await client.call(.post, Self.planPath(id) + "/confirmation", token: heilongjiang, json: "{}")
            #expect(done.object["status"] as? String == "confirmed", "\(done.text)")
            // Refiling the same ratio keeps the approval; a lower one asks again, and a rejection returns it.
            let kept = try await client.call(.put, Self.planPath(id), token: token, json: waived)
            #expect(kept.object["waiverStatus"] as? String == "approved")
            let lower = waived.replacingOccurrences(of: "1000,", with: "800,")
            #expect(try await client.call(.put, Self.planPath(id), token: token, json: lower).object["waiverStatus"] as? String == "requested")
            let rejected = try await client.call(.post, waiver, token: heilongjiang, json: #"{"approve":false,"note":"不符合条件"}"#)
            #expect(rejected.object["status"] as? String == "returned" && rejected.object["waiverStatus"] as? String == "rejected")
            #expect(rejected.object["returnReason"] as? String == "不符合条件")
            #expect(try await client.call(.delete, "\(ratios)/230103", token: cast.admin).status == .noContent)
            #expect(try await client.call(.delete, "\(ratios)/230103", token: cast.admin).status == .notFound)
            #expect(try await client.call(.get, Self.planPath(id), token: heilongjiang).object["minimumBp"] as? Int == 1500)
        }
    }

    @Test func canteenModesAndUnionBudgetAreChecked() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let (token, unit) = try await client.unit("school", number: 51, admin: cast.admin)
            let id = try #require(unit.object["id"] as? String)
            let (otherToken, other) = try await client.unit("hall", number: 52, admin: cast.admin)
            let otherId = try #require(other.object["id"] as? String)
            let put = { (body: String) in try await client.call(.put, Self.planPath(id), token: token, json: body) }
            let cases: [(String, [String])] = [
                ("{}", ["canteenMode"]),
                (#"{"canteenMode":"canteen"}"#, ["canteenMode"]),
                (#"{"canteenMode":"none","hasCanteen":true}"#, ["hasCanteen"]),
                (#"{"canteenMode":"shared"}"#, ["sharedCanteenOrganizationId"]),
                (#"{"canteenMode":"own","canteenBudgetFen":100,"reservedRatioBp":1000,"sharedCanteenOrganizationId":"\#(otherId)"}"#, ["sharedCanteenOrganizationId"]),
                (#"{"canteenMode":"shared","canteenBudgetFen":100,"sharedCanteenOrganizationId":"\#(otherId)"}"#, ["canteenBudgetFen"]),
                (#"{"canteenMode":"none","unionBudgetFen":-1}"#, ["unionBudgetFen"]),
                (#"{"canteenMode":"shared","sharedCanteenOrganizationId":"\#(id)"}"#, ["sharedCanteenOrganizationId"]),
                (#"{"canteenMode":"shared","sharedCanteenOrganizationId":"nope"}"#, ["sharedCanteenOrganizationId"]),
            ]
            for (body, fields) in cases {
                let response = try await put(body)
                #expect(response.status == .unprocessableContent && response.fields == fields, "\(body): \(response.text)")
            }
            #expect(try await client.call(.get, Self.planPath(id), token: token).status == .notFound)
            // The canteen shared must be one the other organization filed.
            let unfiled = try await put(#"{"canteenMode":"shared","sharedCanteenOrganizationId":"\#(otherId)"}"#)
            #expect(unfiled.status == .unprocessableContent && unfiled.fields == ["sharedCanteenOrganizationId"])
            #expect(try await client.call(.put, Self.planPath(otherId), token: otherToken, json: Self.ownPlan).status == .created)
            let shared = try await put(#"{"canteenMode":"shared","sharedCanteenOrganizationId":"\#(otherId)","unionBudgetFen":500000}"#)
            #expect(shared.status == .created, "\(shared.text)")
            #expect(shared.object["canteenMode"] as? String == "shared" && shared.object["hasCanteen"] as? Bool == false)
            #expect(shared.object["unionBudgetFen"] as? Int == 500000 && shared.object["unionCommittedFen"] as? Int == 0)
            let outsourced = try await put(#"{"canteenMode":"outsourced","canteenBudgetFen":2000000,"reservedRatioBp":1000}"#)
            #expect(outsourced.object["canteenMode"] as? String == "outsourced" && outsourced.object["hasCanteen"] as? Bool == true)
            #expect(outsourced.object["sharedCanteenOrganizationId"] is NSNull && outsourced.object["unionBudgetFen"] as? Int == 0)
            // The older body still works.
            #expect(try await put(#"{"hasCanteen":false}"#).object["canteenMode"] as? String == "none")
        }
    }

    @Test func theQueueListsUnitsInScopeWithOrWithoutAFiling() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let heilongjiang = try await client.financeOfficer("finhlj", region: "230000", admin: cast.admin)
            let harbin = try await client.financeOfficer("finhrb", region: "230100", admin: cast.admin)
            let jilin = try await client.financeOfficer("finjl", region: "220000", admin: cast.admin)
            let (deptToken, dept) = try await client.unit("edu", number: 61, region: "230000", admin: cast.admin)
            let deptId = try #require(dept.object["id"] as? String)
            let (unitToken, unit) = try await client.unit("school", number: 62, parent: deptId, admin: cast.admin)
            let unitId = try #require(unit.object["id"] as? String)
            _ = try await client.unit("qiqihar", number: 63, region: "230202", admin: cast.admin)
            let waived = #"{"canteenMode":"own","canteenBudgetFen":10000000,"reservedRatioBp":500,"waiverReason":"小食堂"}"#
            #expect(try await client.call(.put, Self.planPath(unitId), token: unitToken, json: waived).status == .created)

            func ids(_ token: String, _ query: String = "") async throws -> Set<String> {
                let page = try await client.call(.get, "/api/v1/filings?year=\(Self.year)\(query)", token: token)
                #expect(page.status == .ok, "\(page.text)")
                return Set(page.items.compactMap { ($0["organization"] as? [String: Any])?["id"] as? String })
            }
            #expect(try await ids(heilongjiang).count == 3)
            #expect(try await ids(harbin) == [unitId])
            #expect(try await ids(jilin).isEmpty)
            #expect(try await ids(heilongjiang, "&regionCode=230200").count == 1)
            #expect(try await ids(heilongjiang, "&status=missing").count == 2)
            #expect(try await ids(heilongjiang, "&status=submitted") == [unitId])
            #expect(try await ids(heilongjiang, "&waiver=requested") == [unitId])
            #expect(try await ids(deptToken) == [deptId, unitId])
            #expect(try await ids(unitToken) == [unitId])
            let page = try await client.call(.get, "/api/v1/filings?status=missing", token: deptToken)
            #expect(page.items.first?["filing"] is NSNull)
            #expect(try await client.call(.get, "/api/v1/filings?status=late", token: deptToken).status == .badRequest)
            #expect(try await client.call(.get, "/api/v1/filings", token: cast.merchant).status == .forbidden)
            // Finance reads the region's organizations and their plans, never another province's.
            #expect(try await client.call(.get, Self.planPath(unitId), token: harbin).status == .ok)
            #expect(try await client.call(.get, Self.planPath(unitId), token: jilin).status == .notFound)
            #expect(try await client.call(.get, "/api/v1/buyer-organizations", token: harbin).items.count == 1)
            #expect(try await client.call(.patch, "/api/v1/buyer-organizations/\(unitId)", token: harbin, json: "{}").status == .forbidden)
        }
    }

    @Test func theDeadlineRemindsManagersThenAlertsTheRegion() async throws {
        // The test clock starts on 2026-11-18 19:06 UTC+8; the deadline is set 17 days ahead.
        let test = try await TestApp.make {
            $0.alerts.filingDeadline = FilingDeadline(month: 12, day: 5)
            RemindersTests.longSessions(&$0)
        }
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let heilongjiang = try await client.financeOfficer("finhlj", region: "230000", admin: cast.admin)
            let jilin = try await client.financeOfficer("finjl", region: "220000", admin: cast.admin)
            let (lateToken, late) = try await client.unit("late", number: 71, admin: cast.admin)
            let lateId = try #require(late.object["id"] as? String)
            let member = #"{"username":"late-p","password":"correct horse 1","displayName":"采购","memberRole":"purchaser"}"#
            #expect(try await client.call(.post, "/api/v1/buyer-organizations/\(lateId)/members", token: lateToken, json: member).status == .created)
            let purchaser = try await client.signIn("late-p")
            let (filedToken, filed) = try await client.unit("filed", number: 72, admin: cast.admin)
            let filedId = try #require(filed.object["id"] as? String)
            let waived = #"{"canteenMode":"own","canteenBudgetFen":10000000,"reservedRatioBp":500,"waiverReason":"小食堂"}"#
            #expect(try await client.call(.put, Self.planPath(filedId), token: filedToken, json: waived).status == .created)

            let reminders = Reminders(test.services)
            func count(_ token: String) async throws -> Int {
                try await client.inbox(token, query: "?limit=100").items.filter { $0["kind"] as? String == "reminder.filing_due" }.count
            }
            _ = try await reminders.sendDue()
            #expect(try await count(lateToken) == 0)
            for (days, expected) in [(4.0, 1), (7.0, 2), (6.0, 3)] {
                test.clock.advance(seconds: days * 86_400)
                _ = try await reminders.sendDue()
                _ = try await reminders.sendDue()
                #expect(try await count(lateToken) == expected, "after \(days) more days")
            }
            #expect(try await count(purchaser) == 0)
            #expect(try await count(filedToken) == 0)
            let alerts = { (token: String, kind: String) in
                try await client.call(.get, "/api/v1/reports/alerts?kind=\(kind)", token: token)
            }
            #expect(try await alerts(heilongjiang, "filing_overdue").items.isEmpty)
            test.clock.advance(seconds: 86_400)
            let overdue = try await alerts(heilongjiang, "filing_overdue").items.compactMap { $0["subjectId"] as? String }
            #expect(overdue.contains(lateId) && !overdue.contains(filedId))
            #expect(try await alerts(lateToken, "filing_overdue").items.compactMap { $0["subjectId"] as? String } == [lateId])
            #expect(try await alerts(jilin, "filing_overdue").items.isEmpty)
            #expect(try await alerts(purchaser, "filing_overdue").status == .forbidden)
            let waiting = try await alerts(heilongjiang, "waiver_pending").items.compactMap { $0["subjectId"] as? String }
            #expect(waiting == [filedId])
            #expect(try await alerts(cast.yanshouOfficer, "waiver_pending").items.isEmpty)
        }
    }

    @Test func bulletinsRankTheRegionForFinance() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let market = try await Market.make(test, client)
            let cast = market.cast
            let heilongjiang = try await client.financeOfficer("finhlj", region: "230000", admin: cast.admin)
            let jilin = try await client.financeOfficer("finjl", region: "220000", admin: cast.admin)
            // The market's canteens (南岗区, filed, one with a settled order) and two units of 齐齐哈尔: one
            // filed without orders, one not filed with a purchaser who never signed in.
            let order = try #require(try await client.place(market.canteen.token, [(market.rice, 10)]).orderIds.first)
            try await client.walk(order, buyer: market.canteen.token, merchant: market.shop.token, to: "settled", amountFen: 10_000)
            let (filedToken, filed) = try await client.unit("qq1", number: 81, region: "230202", admin: cast.admin)
            let filedId = try #require(filed.object["id"] as? String)
            let withUnion = #"{"canteenMode":"own","canteenBudgetFen":10000000,"reservedRatioBp":1500,"unionBudgetFen":5000}"#
            #expect(try await client.call(.put, Self.planPath(filedId), token: filedToken, json: withUnion).status == .created)
            let (lateToken, late) = try await client.unit("qq2", number: 82, region: "230203", admin: cast.admin)
            let lateId = try #require(late.object["id"] as? String)
            let member = #"{"username":"qq2-p","password":"correct horse 1","displayName":"采购","memberRole":"purchaser"}"#
            #expect(try await client.call(.post, "/api/v1/buyer-organizations/\(lateId)/members", token: lateToken, json: member).status == .created)

            let path = "/api/v1/reports/bulletin?year=\(Self.year)"
            let bulletin = try await client.call(.get, path, token: heilongjiang)
            #expect(bulletin.status == .ok, "\(bulletin.text)")
            let rows = bulletin.object["rows"] as? [[String: Any]] ?? []
            #expect(rows.compactMap { $0["key"] as? String } == ["230100", "230200"], "\(bulletin.text)")
            let harbin = try #require(rows.first), qiqihar = try #require(rows.last)
            #expect(harbin["label"] as? String == "哈尔滨市" && harbin["rank"] as? Int == 1 && harbin["completedFen"] as? Int == 10_000)
            // 哈尔滨: the market's two canteens (1,500,000 fen reserved each), one of them ordered.
            #expect(harbin["units"] as? Int == 2 && harbin["withoutOrders"] as? Int == 1, "\(harbin)")
            #expect(harbin["completionBp"] as? Int == 10_000 * 10_000 / 3_000_000, "\(harbin)")
            #expect(qiqihar["units"] as? Int == 2 && qiqihar["filed"] as? Int == 1 && qiqihar["notFiled"] as? Int == 1)
            #expect(qiqihar["withoutOrders"] as? Int == 2 && qiqihar["inactiveAccounts"] as? Int == 1 && qiqihar["rank"] as? Int == 2)
            // Union purchasing beside the completion, not inside it.
            #expect(qiqihar["unionBudgetFen"] as? Int == 5000 && qiqihar["unionCompletedFen"] as? Int == 0)
            #expect(qiqihar["reservedFen"] as? Int == 1_500_000 && harbin["unionBudgetFen"] as? Int == 0)
            // Inside a prefecture, a line per county; by department, every unit once.
            let byCounty = try await client.call(.get, path + "&regionCode=230200", token: heilongjiang)
            let countyRows = byCounty.object["rows"] as? [[String: Any]] ?? []
            #expect(Set(countyRows.compactMap { $0["key"] as? String }) == ["230202", "230203"], "\(byCounty.text)")
            let byDepartment = try await client.call(.get, path + "&groupBy=department", token: heilongjiang)
            let departmentRows = byDepartment.object["rows"] as? [[String: Any]] ?? []
            #expect(departmentRows.compactMap { $0["units"] as? Int }.reduce(0, +) == 4, "\(byDepartment.text)")
            let counties = try await client.call(.get, path + "&regionCode=230200&groupBy=organization", token: heilongjiang)
            #expect(Set((counties.object["rows"] as? [[String: Any]] ?? []).compactMap { $0["key"] as? String }) == [filedId, lateId])
            let csv = try await client.call(.get, path + "&groupBy=department&format=csv", token: heilongjiang)
            #expect(csv.headers[.contentType]?.hasPrefix("text/csv") == true && csv.text.contains("完成率"))
            let outside = try await client.call(.get, path + "&regionCode=230000", token: jilin)
            #expect(outside.status == .forbidden)
            #expect((try await client.call(.get, path, token: jilin).object["rows"] as? [Any])?.isEmpty == true)
            let country = try await client.call(.get, path, token: cast.admin)
            #expect((country.object["rows"] as? [[String: Any]])?.first?["key"] as? String == "230000")
            #expect(try await client.call(.get, path + "&groupBy=county", token: cast.admin).status == .badRequest)
            #expect(try await client.call(.get, path + "&regionCode=239900", token: cast.admin).status == .notFound)
            #expect(try await client.call(.get, path, token: market.canteen.token).status == .forbidden)
        }
    }

    @Test func unionOrdersUseTheUnionBudgetAndNeverTheCanteens() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let market = try await Market.make(test, client)
            let canteen = market.canteen
            func union(_ quantity: Int) async throws -> TestResponse {
                try await client.call(
                    .post, "/api/v1/orders", token: canteen.token,
                    json: #"{"items":[{"productId":"\#(market.rice)","quantity":\#(quantity)}],"purpose":"union"}"#,
                    headers: [.idempotencyKey: UUID().uuidString])
            }
            // No union budget filed: a union order is refused while the canteen's budget remains.
            let none = try await union(1)
            #expect(none.status == .conflict && none.code == "union_budget_exceeded" && none.fields == ["purpose"], "\(none.text)")
            let bad = try await client.call(
                .post, "/api/v1/orders", token: canteen.token,
                json: #"{"items":[{"productId":"\#(market.rice)","quantity":1}],"purpose":"gift"}"#,
                headers: [.idempotencyKey: UUID().uuidString])
            #expect(bad.status == .unprocessableContent && bad.fields == ["purpose"])
            let withUnion = #"{"canteenMode":"own","canteenBudgetFen":10000000,"reservedRatioBp":1500,"unionBudgetFen":5000}"#
            #expect(try await client.call(.put, canteen.planPath, token: canteen.token, json: withUnion).status == .ok)
            let placed = try await union(3)
            #expect(placed.status == .created, "\(placed.text)")
            // Contractors buy for the canteen, never for the union.
            let outsourced = withUnion.replacingOccurrences(of: "\"own\"", with: "\"outsourced\"")
            #expect(try await client.call(.put, canteen.planPath, token: canteen.token, json: outsourced).status == .ok)
            let contractor = #"{"username":"cook-u","password":"correct horse 1","displayName":"厨师","memberRole":"contractor"}"#
            #expect(try await client.call(.post, "/api/v1/buyer-organizations/\(canteen.organizationId)/members", token: canteen.token, json: contractor).status == .created)
            let cook = try await client.signIn("cook-u")
            let refusedCook = try await client.call(
                .post, "/api/v1/orders", token: cook,
                json: #"{"items":[{"productId":"\#(market.rice)","quantity":1}],"purpose":"union"}"#,
                headers: [.idempotencyKey: UUID().uuidString])
            #expect(refusedCook.status == .forbidden && refusedCook.fields == ["purpose"])
            let order = try #require(placed.orderIds.first)
            #expect((placed.object["orders"] as? [[String: Any]])?.first?["purpose"] as? String == "union")
            var plan = try await canteen.plan(client)
            #expect(plan["unionCommittedFen"] as? Int == 3_000 && plan["committedFen"] as? Int == 0)
            // 2,000 fen of union budget left: three more kilos exceed it, the canteen's budget is untouched.
            let over = try await union(3)
            #expect(over.status == .conflict && over.code == "union_budget_exceeded")
            // Settled: the union's completion, not the canteen's.
            try await client.walk(order, buyer: canteen.token, merchant: market.shop.token, to: "settled", amountFen: 3_000)
            plan = try await canteen.plan(client)
            #expect(plan["unionCompletedFen"] as? Int == 3_000 && plan["unionCommittedFen"] as? Int == 0)
            #expect(plan["completedFen"] as? Int == 0 && plan["completionBp"] as? Int == 0)
            // The quota report shows it beside the canteen's completion.
            let report = try await client.call(.get, "/api/v1/reports/quota?groupBy=organization", token: market.cast.admin)
            let line = try #require((report.object["rows"] as? [[String: Any]])?.first { $0["key"] as? String == canteen.organizationId })
            #expect(line["unionBudgetFen"] as? Int == 5_000 && line["unionCompletedFen"] as? Int == 3_000 && line["completedFen"] as? Int == 0)
            // The union budget cannot fall below what union orders hold.
            let lower = withUnion.replacingOccurrences(of: "5000}", with: "2000}")
            let refused = try await client.call(.put, canteen.planPath, token: canteen.token, json: lower)
            #expect(refused.status == .unprocessableContent && refused.fields == ["unionBudgetFen"])
            // A cancelled union order gives its budget back.
            let second = try #require(try await union(2).orderIds.first)
            #expect(try await canteen.plan(client)["unionCommittedFen"] as? Int == 2_000)
            #expect(try await client.call(.post, "/api/v1/orders/\(second)/cancellation", token: canteen.token, json: "{}").status == .ok)
            #expect(try await canteen.plan(client)["unionCommittedFen"] as? Int == 0)
            #expect(try await test.services.checkInvariants() == [])
        }
    }

    @Test func racesLeaveOneWinner() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let heilongjiang = try await client.financeOfficer("finhlj", region: "230000", admin: cast.admin)
            let (aToken, a) = try await client.unit("alpha", number: 91, admin: cast.admin)
            let (bToken, b) = try await client.unit("beta", number: 92, admin: cast.admin)
            let aId = try #require(a.object["id"] as? String), bId = try #require(b.object["id"] as? String)
            // Each moves below the other at once: one move wins, the other would close a cycle.
            let path = "/api/v1/buyer-organizations"
            async let first = client.call(.patch, "\(path)/\(aId)", token: aToken, json: #"{"parentId":"\#(bId)"}"#)
            async let second = client.call(.patch, "\(path)/\(bId)", token: bToken, json: #"{"parentId":"\#(aId)"}"#)
            let moves = try await [first.status, second.status]
            #expect(moves.filter { $0 == .ok }.count == 1 && moves.filter { $0 == .unprocessableContent }.count == 1, "\(moves)")
            // Two confirmations of one filing at once: one confirms, the other finds it confirmed.
            let (topToken, topId) = moves[0] == .ok ? (bToken, bId) : (aToken, aId)
            #expect(try await client.call(.put, Self.planPath(topId), token: topToken, json: Self.ownPlan).status == .created)
            async let one = client.call(.post, Self.planPath(topId) + "/confirmation", token: heilongjiang, json: "{}")
            async let two = client.call(.post, Self.planPath(topId) + "/confirmation", token: heilongjiang, json: "{}")
            let confirmations = try await [one.status, two.status]
            #expect(confirmations.filter { $0 == .ok }.count == 1 && confirmations.filter { $0 == .conflict }.count == 1, "\(confirmations)")
        }
    }
}
