import Foundation
import Hummingbird

/// Public merchant profiles and suspension (API.md "Merchant onboarding", last rows).
struct MerchantsController {
    let services: AppServices
    var store: MerchantStore { services.merchants }

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("/api/v1/merchants", use: list)
        router.get("/api/v1/merchants/:id", use: show)
        router.post("/api/v1/merchants/:id/suspension", use: suspend)
        router.delete("/api/v1/merchants/:id/suspension", use: reinstate)
    }

    /// The public profile: never bank or contact details. `suspensionReason` is filled for the
    /// merchant itself and admins only.
    struct Output: Encodable {
        var id: String
        var companyName: String
        var countyCode: String
        var countyName: String
        var householdsDriven: Int64
        var status: MerchantStatus
        var productCount: Int64
        @NullEncoded var suspensionReason: String?
        var createdAt: String

        init(_ merchant: Merchant, productCount: Int64, viewer: Identity?) {
            id = merchant.id
            companyName = merchant.companyName
            countyCode = merchant.countyCode
            countyName = merchant.countyName
            householdsDriven = merchant.householdsDriven
            status = merchant.status
            self.productCount = productCount
            let privileged = viewer?.role == .admin || viewer?.userId == merchant.ownerId
            suspensionReason = privileged ? merchant.suspensionReason : nil
            createdAt = merchant.createdAt.rfc3339
        }
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let paging = try Paging.parse(request, tag: "merchants")
        let county = request.uri.queryParameters["countyCode"].map(String.init)
        try await services.checkFilters(countyCode: county)
        let after = try paging.position.map(Paging.timeAndId)
        let activeOnly = context.identity?.role != .admin
        let now = services.clock.now
        let (rows, counts) = try await services.database.read { db in
            let rows = try await store.merchants(
                countyCode: county, activeOnly: activeOnly, after: after, limit: paging.limit + 1, in: db)
            return (rows, try await services.products.onSaleCounts(merchantIds: rows.map(\.id), now: now, in: db))
        }
        let items = rows.prefix(paging.limit).map { Output($0, productCount: counts[$0.id] ?? 0, viewer: context.identity) }
        let next = rows.count > paging.limit ? rows[paging.limit - 1] : nil
        return try .json(
            Page(
                items: Array(items),
                nextCursor: next.map { Paging.cursor(tag: "merchants", position: "\($0.createdAt.millis)|\($0.id)") }))
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let now = services.clock.now
        let (found, counts) = try await services.database.read { db in
            (try await store.merchant(id: id, in: db), try await services.products.onSaleCounts(merchantIds: [id], now: now, in: db))
        }
        guard let merchant = found, Self.isVisible(merchant, to: context.identity) else { throw DomainError.notFound("merchant") }
        return try .json(Output(merchant, productCount: counts[id] ?? 0, viewer: context.identity))
    }

    /// Active merchants are public; a suspended one only to itself and admins.
    static func isVisible(_ merchant: Merchant, to viewer: Identity?) -> Bool {
        merchant.status == .active || viewer?.role == .admin || viewer?.userId == merchant.ownerId
    }

    struct ReasonInput: Decodable {
        var reason: String?
    }

    @Sendable func suspend(_ request: Request, context: AppRequestContext) async throws -> Response {
        let admin = try context.require(.admin)
        let input = try await request.decodeJSON(ReasonInput.self, context: context)
        var v = Validator()
        let reason = v.text(input.reason, "reason", max: 500, multiline: true)
        try v.check()
        return try await change(context, admin, to: .suspended, reason: reason)
    }

    @Sendable func reinstate(_ request: Request, context: AppRequestContext) async throws -> Response {
        let admin = try context.require(.admin)
        return try await change(context, admin, to: .active, reason: nil)
    }

    private func change(_ context: AppRequestContext, _ admin: Identity, to status: MerchantStatus, reason: String?)
        async throws -> Response
    {
        let id = try context.parameters.require("id")
        let merchant = try await services.database.write { db in
            guard var merchant = try await store.merchant(id: id, in: db) else { throw DomainError.notFound("merchant") }
            guard merchant.status != status else {
                throw DomainError.invalidTransition(
                    current: merchant.status.rawValue, action: status == .active ? "reinstate" : "suspend")
            }
            try await store.setStatus(merchantId: id, status, reason: reason, at: services.clock.now, in: db)
            // Its products leave the catalog at once, and come back on reinstatement.
            try await services.products.setMerchantActive(merchantId: id, status == .active, in: db)
            try await services.audit.append(
                AuditEvent(
                    actorId: admin.userId, action: status == .active ? "merchant.reinstate" : "merchant.suspend",
                    entityType: "merchant", entityId: id, data: ["reason": AuditValue(reason)]), in: db)
            merchant.status = status
            merchant.suspensionReason = reason
            let counts = try await services.products.onSaleCounts(merchantIds: [id], now: services.clock.now, in: db)
            return (merchant, counts[id] ?? 0)
        }
        return try .json(Output(merchant.0, productCount: merchant.1, viewer: admin))
    }
}
