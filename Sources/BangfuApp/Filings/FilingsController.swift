import Foundation
import Hummingbird

/// The review of yearly filings, the review queue and the regional minimum ratios (API.md
/// "Hierarchy, accounts and filings"), through `Filings`.
struct FilingsController {
    let filings: Filings

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        let plan = "/api/v1/buyer-organizations/:id/quota-plans/:year"
        router.only(.buyer, .finance).post("\(plan)/confirmation", use: confirm)
        router.only(.buyer, .finance).post("\(plan)/return", use: giveBack)
        router.only(.finance).post("\(plan)/waiver", use: decideWaiver)
        router.only(.buyer, .finance, .admin).get("/api/v1/filings", use: queue)
        router.get("/api/v1/policy/minimum-ratios", use: minimumRatios)
        router.only(.admin).put("/api/v1/policy/minimum-ratios/:regionCode", use: setMinimumRatio)
        router.only(.admin).delete("/api/v1/policy/minimum-ratios/:regionCode", use: removeMinimumRatio)
    }

    private func target(_ context: AppRequestContext) throws -> (String, Int) {
        let id = try context.parameters.require("id")
        guard let year = Int(try context.parameters.require("year")), BuyerOrganizations.years.contains(year) else {
            throw DomainError.badRequest("year must be a year from 2000 to 2100", field: "year")
        }
        return (id, year)
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
        var year = QuotaRules.quotaYear(of: filings.clock.now)
        if let raw = query["year"] {
            guard let parsed = Int(String(raw)), BuyerOrganizations.years.contains(parsed) else {
                throw DomainError.badRequest("year must be a year from 2000 to 2100", field: "year")
            }
            year = parsed
        }
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
