import Foundation
import Hummingbird

/// Buyer organizations (预算单位) and their yearly quota plans (API.md "Buyer organizations and
/// quota plans"), through `BuyerOrganizations`.
struct BuyerOrganizationsController {
    let services: AppServices
    let organizations: BuyerOrganizations

    /// The quota years a plan may be declared for.
    static let years = BuyerOrganizations.years

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.only(.buyer).post("/api/v1/buyer-organizations", use: create)
        router.only(.buyer, .finance, .admin).get("/api/v1/buyer-organizations", use: list)
        router.only(.buyer, .finance, .admin).get("/api/v1/buyer-organizations/:id", use: show)
        router.only(.buyer, .admin).patch("/api/v1/buyer-organizations/:id", use: update)
        router.only(.buyer, .admin).get("/api/v1/buyer-organizations/:id/members", use: members)
        router.only(.buyer).post("/api/v1/buyer-organizations/:id/members", use: addMember)
        router.only(.buyer).delete("/api/v1/buyer-organizations/:id/members/:userId", use: removeMember)
        router.only(.admin).post("/api/v1/buyer-organizations/:id/verification", use: verify)
        router.only(.buyer, .admin).put("/api/v1/buyer-organizations/:id/quota-plans/:year", use: putPlan)
        router.only(.buyer, .finance, .admin).get("/api/v1/buyer-organizations/:id/quota-plans/:year", use: getPlan)
        router.group().add(middleware: services.rateLimited(.exporting)).only(.admin).get("/api/v1/quota-plans", use: plans)
    }

    // MARK: Organizations

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let input = try await request.decodeJSON(BuyerDTO.OrganizationInput.self, context: context)
        return try .json(try await organizations.register(input, by: user), status: .created)
    }

    /// `?status=pending|active&parentId=&regionCode=`, newest first: every organization for an
    /// admin, a manager's own subtree.
    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let paging = try Paging.parse(request, tag: "buyer-organizations")
        let query = request.uri.queryParameters
        var filter = BuyerStore.OrganizationFilter()
        filter.status = try Paging.choice(request, "status", BuyerOrganizationStatus.self)
        filter.parentId = query["parentId"].map(String.init)
        if let region = query["regionCode"].map(String.init) {
            guard RegionRules.isWellFormed(region) else {
                throw DomainError.badRequest("regionCode must be a 6-digit GB/T 2260 code", field: "regionCode")
            }
            filter.regionCode = region
        }
        return try .json(try await organizations.organizations(filter, for: user, paging: paging))
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let id = try context.parameters.require("id")
        try await organizations.checkManaged(id, by: user)
        let patch = try await request.decodeJSON(BuyerDTO.OrganizationPatch.self, context: context)
        return try .json(try await organizations.update(id, patch, by: user))
    }

    // MARK: Members

    @Sendable func members(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let id = try context.parameters.require("id")
        return try .json(try await organizations.members(id, for: user))
    }

    @Sendable func addMember(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let id = try context.parameters.require("id")
        try await organizations.checkManaged(id, by: user, admin: false)
        let input = try await request.decodeJSON(BuyerDTO.MemberInput.self, context: context)
        return try .json(try await organizations.addMember(id, input, by: user), status: .created)
    }

    @Sendable func removeMember(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let id = try context.parameters.require("id")
        let userId = try context.parameters.require("userId")
        try await organizations.removeMember(id, userId: userId, by: user)
        return Response(status: .noContent)
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let id = try context.parameters.require("id")
        return try .json(try await organizations.organization(id, for: user))
    }

    @Sendable func verify(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let id = try context.parameters.require("id")
        return try .json(try await organizations.verify(id, by: user))
    }

    // MARK: Quota plans


    /// Declares or changes the plan (`BuyerOrganizations.declarePlan`): 201 when it is new.
    @Sendable func putPlan(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let id = try context.parameters.require("id")
        let year = try YearParameter.path(context)
        // Another organization's buyer gets 404, a purchaser 403, before the body is judged.
        try await organizations.checkManaged(id, by: user)
        let body = try await request.decodeJSON(BuyerDTO.PlanInput.self, context: context)
        let (plan, created) = try await organizations.declarePlan(id, year: year, body, by: user)
        return try .json(plan, status: created ? .created : .ok)
    }

    @Sendable func getPlan(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let id = try context.parameters.require("id")
        let year = try YearParameter.path(context)
        return try .json(try await organizations.plan(id, year: year, for: user))
    }

    /// Every organization's plan of `year` (default: the current quota year), `behind=true` for
    /// those behind their pro-rata schedule; JSON pages by organization, or all of it as CSV.
    @Sendable func plans(_ request: Request, context: AppRequestContext) async throws -> Response {
        let csv = try CSV.isRequested(request)
        let paging = try Paging.parse(request, tag: "quota-plans")
        let query = request.uri.queryParameters
        let year = try YearParameter.query(request)
        var behind = false
        if let raw = query["behind"] {
            guard raw == "true" || raw == "false" else { throw DomainError.badRequest("behind must be true or false", field: "behind") }
            behind = raw == "true"
        }
        if csv {
            let (year, plans) = try await organizations.allPlans(year: year, onlyBehind: behind)
            return CSV.response(
                header: BuyerDTO.PlanOutput.csvHeader, rows: plans.map(\.csvRow), filename: "quota-plans-\(year).csv")
        }
        return try .json(try await organizations.plans(year: year, onlyBehind: behind, paging: paging))
    }
}
