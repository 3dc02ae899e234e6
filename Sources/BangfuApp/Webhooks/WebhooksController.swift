import Foundation
import Hummingbird

/// The webhook routes (API.md "Notifications and webhooks"): merchants, buyers (for their
/// organization) and admins, each on their own webhooks. Registration looks the host up, so it
/// is rate limited as the other expensive routes are.
struct WebhooksController {
    let services: AppServices
    let webhooks: Webhooks

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        let owners = router.only(.merchant, .buyer, .admin)
        owners.group().add(middleware: services.rateLimited()).post("/api/v1/webhooks", use: register)
        owners.get("/api/v1/webhooks", use: list)
        owners.delete("/api/v1/webhooks/:id", use: delete)
        owners.get("/api/v1/webhooks/:id/deliveries", use: deliveries)
    }

    @Sendable func register(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        // A purchaser or contractor is refused before the body is judged.
        try await webhooks.checkOwner(user)
        let input = try await request.decodeJSON(Webhooks.Input.self, context: context)
        return try .json(try await webhooks.register(input, by: user), status: .created)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        return try .json(Page(items: try await webhooks.list(for: user), nextCursor: nil))
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        try await webhooks.delete(try context.parameters.require("id"), by: user)
        return Response(status: .noContent)
    }

    @Sendable func deliveries(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let paging = try Paging.parse(request, tag: "webhook-deliveries")
        return try .json(try await webhooks.deliveries(of: try context.parameters.require("id"), paging: paging, for: user))
    }
}
