import Foundation
import Hummingbird

/// The audit log and its verification (API.md "Audit"); admins only.
struct AuditController {
    let services: AppServices
    let trail: AuditTrail

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.only(.admin).get("/api/v1/audit-events", use: list)
        router.group().add(middleware: services.rateLimited()).only(.admin)
            .get("/api/v1/audit-events/verification", use: verify)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let paging = try Paging.parse(request, tag: "audit")
        let entityType = request.uri.queryParameters["entityType"].map(String.init)
        let entityId = request.uri.queryParameters["entityId"].map(String.init)
        let entries = try await trail.events(entityType: entityType, entityId: entityId, paging: paging)
        return try .json(Page(entries, paging, tag: "audit", position: { String($0.seq) }, item: EventOutput.init))
    }

    @Sendable func verify(_ request: Request, context: AppRequestContext) async throws -> Response {
        try .json(try await trail.verify())
    }
}
