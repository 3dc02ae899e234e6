import Foundation
import Hummingbird

/// The review of yearly filings, the review queue and the regional minimum ratios (API.md
/// "Hierarchy, accounts and filings"), through `Filings`.
struct FilingsController {
    let services: AppServices
    let filings: Filings
    let bulletins: Bulletins

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        let plan = "/api/v1/buyer-organizations/:id/quota-plans/:year"
        let reviewers = Set(FilingRules.workflow.parties(for: .confirm).map(\.role))
        router.only(reviewers).post("\(plan)/confirmation", use: confirm)
        router.only(Set(FilingRules.workflow.parties(for: .return).map(\.role))).post("\(plan)/return", use: giveBack)
        router.only(.finance).post("\(plan)/waiver", use: decideWaiver)
        router.only(.buyer, .finance, .admin).get("/api/v1/filings", use: queue)
        router.get("/api/v1/policy/minimum-ratios", use: minimumRatios)
        router.group().add(middleware: services.rateLimited(.exporting)).only(.finance, .admin)
            .get("/api/v1/reports/bulletin", use: bulletin)
        router.only(.admin).put("/api/v1/policy/minimum-ratios/:regionCode", use: setMinimumRatio)
        router.only(.admin).delete("/api/v1/policy/minimum-ratios/:regionCode", use: removeMinimumRatio)
    }

    private func target(_ context: AppRequestContext) throws -> (String, Int) {
        (try context.parameters.require("id"), try YearParameter.path(context))
    }

    @Sendable func confirm(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let (id, year) = try target(context)
        try await filings.checkReviewer(id, year: year, by: user)
        let body = try await request.decodeJSON(FilingDTO.ConfirmInput.self, context: context)
        var v = Validator()
        let note = v.text(body.note, "note", max: 500, required: false, multiline: true)
        try v.check()
        return try .json(try await filings.confirm(id, year: year, by: user, note: note))
    }

    @Sendable func giveBack(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let (id, year) = try target(context)
        try await filings.checkReviewer(id, year: year, by: user)
        let body = try await request.decodeJSON(FilingDTO.ReturnInput.self, context: context)
        var v = Validator()
        let reason = v.text(body.reason, "reason", max: 500, multiline: true)
        try v.check()
        guard let reason else { throw DomainError.validation(v.errors) }
        return try .json(try await filings.return(id, year: year, by: user, reason: reason))
    }

    @Sendable func decideWaiver(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let (id, year) = try target(context)
        try await filings.checkWaiverDecider(id, by: user)
        let body = try await request.decodeJSON(FilingDTO.WaiverInput.self, context: context)
        var v = Validator()
        let note = v.text(body.note, "note", max: 500, required: !body.approve, multiline: true)
        try v.check()
        return try .json(try await filings.decideWaiver(id, year: year, approve: body.approve, note: note, by: user))
    }

    /// `?year=&regionCode=&status=submitted|confirmed|returned|missing&waiver=requested`.
    @Sendable func queue(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let paging = try Paging.parse(request, tag: "filings")
        let query = request.uri.queryParameters
        let year = try YearParameter.query(request) ?? QuotaRules.quotaYear(of: filings.clock.now)
        var filter = FilingStore.QueueFilter(year: year)
        if let raw = query["regionCode"].map(String.init) {
            guard RegionRules.isWellFormed(raw) else {
                throw DomainError.badRequest("regionCode must be a 6-digit GB/T 2260 code", field: "regionCode")
            }
            filter.regionCodes = [raw]
        }
        if let raw = query["status"].map(String.init) {
            guard FilingStatus(rawValue: raw) != nil || raw == "missing" else {
                throw DomainError.badRequest("status must be submitted, confirmed, returned or missing", field: "status")
            }
            filter.status = raw
        }
        if let raw = query["waiver"] {
            guard raw == "requested" else { throw DomainError.badRequest("waiver must be requested", field: "waiver") }
            filter.waiverRequested = true
        }
        return try .json(try await filings.queue(filter, for: user, paging: paging))
    }

    /// `?year=&regionCode=&groupBy=region|department|organization&format=csv`.
    @Sendable func bulletin(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let csv = try CSV.isRequested(request)
        let query = request.uri.queryParameters
        let year = try YearParameter.query(request)
        let region = query["regionCode"].map(String.init)
        if let region, !RegionRules.isWellFormed(region) {
            throw DomainError.badRequest("regionCode must be a 6-digit GB/T 2260 code", field: "regionCode")
        }
        let raw = query["groupBy"].map(String.init) ?? "region"
        guard let grouping = BulletinGrouping(rawValue: raw) else {
            throw DomainError.badRequest("groupBy must be region, department or organization", field: "groupBy")
        }
        let bulletin = try await bulletins.bulletin(year: year, regionCode: region, by: grouping, for: user)
        if csv {
            return CSV.response(
                header: [
                    "排名 rank", "key", "名称 label", "单位数 units", "已填报 filed", "未填报 notFiled", "无订单 withoutOrders",
                    "未登录账号 inactiveAccounts", "预留份额 reservedFen", "已完结 completedFen", "完成率 completionBp",
                    "工会采购预算 unionBudgetFen", "工会采购已完结 unionCompletedFen",
                ],
                rows: bulletin.rows.map {
                    [
                        String($0.rank), $0.key, $0.label, String($0.units), String($0.filed), String($0.notFiled),
                        String($0.withoutOrders), String($0.inactiveAccounts), String($0.reservedFen), String($0.completedFen),
                        String($0.completionBp), String($0.unionBudgetFen), String($0.unionCompletedFen),
                    ]
                },
                filename: "bulletin-\(bulletin.year)-\(bulletin.regionCode ?? "all")-\(grouping.rawValue).csv")
        }
        return try .json(bulletin)
    }

    @Sendable func minimumRatios(_ request: Request, context: AppRequestContext) async throws -> Response {
        try .json(try await filings.minimumRatios())
    }

    @Sendable func setMinimumRatio(_ request: Request, context: AppRequestContext) async throws -> Response {
        let admin = try context.requireIdentity()
        let code = try context.parameters.require("regionCode")
        let body = try await request.decodeJSON(FilingDTO.MinimumRatioInput.self, context: context)
        return try .json(try await filings.setMinimumRatio(code, minimumBp: body.minimumBp, by: admin))
    }

    @Sendable func removeMinimumRatio(_ request: Request, context: AppRequestContext) async throws -> Response {
        let admin = try context.requireIdentity()
        try await filings.removeMinimumRatio(try context.parameters.require("regionCode"), by: admin)
        return Response(status: .noContent)
    }
}
