import Foundation
import Hummingbird

/// The inbox routes (API.md "Notifications and webhooks"): every signed-in user, their own only.
struct NotificationsController {
    let inbox: Inbox

    /// The answer of "mark all read".
    struct ReadAllOutput: Encodable {
        var marked: Int64
        var unreadCount: Int64
    }

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("/api/v1/notifications", use: list)
        router.post("/api/v1/notifications/read-all", use: readAll)
        router.post("/api/v1/notifications/:id/read", use: read)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        var unreadOnly = false
        if let raw = request.uri.queryParameters["unread"] {
            guard raw == "true" || raw == "false" else {
                throw DomainError.badRequest("unread must be true or false", field: "unread")
            }
            unreadOnly = raw == "true"
        }
        let paging = try Paging.parse(request, tag: unreadOnly ? "notifications-unread" : "notifications")
        return try .json(try await inbox.list(for: user, unreadOnly: unreadOnly, paging: paging))
    }

    @Sendable func read(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        return try .json(try await inbox.markRead(try context.parameters.require("id"), by: user))
    }

    @Sendable func readAll(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let (marked, unread) = try await inbox.markAllRead(by: user)
        return try .json(ReadAllOutput(marked: marked, unreadCount: unread.unreadCount))
    }
}
