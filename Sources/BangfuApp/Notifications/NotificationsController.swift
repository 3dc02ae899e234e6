import Foundation
import HTTPTypes
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
        router.get("/api/v1/notifications/stream", use: stream)
        router.post("/api/v1/notifications/read-all", use: readAll)
        router.get("/api/v1/notifications/settings", use: settings)
        router.put("/api/v1/notifications/settings", use: saveSettings)
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

    @Sendable func settings(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        return try .json(try await inbox.mailSettings(for: user))
    }

    @Sendable func saveSettings(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let input = try await request.decodeJSON(Inbox.MailSettingsInput.self, context: context)
        return try .json(try await inbox.saveMailSettings(input, by: user))
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

    /// `text/event-stream`: each new notification as it commits (`event: notification`, its `id`
    /// the position a reconnecting client sends back as `Last-Event-ID`), a comment every
    /// heartbeat; the server ends it after a few minutes and the client reconnects.
    @Sendable func stream(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let resume = try request.headers[Self.lastEventID].map { raw in
            guard let position = try? Paging.timeAndId(raw) else {
                throw DomainError.badRequest("Last-Event-ID must be the id of an event of this stream", field: "Last-Event-ID")
            }
            return position
        }
        let inbox = self.inbox
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream; charset=utf-8"
        headers[.cacheControl] = "no-store"
        // nginx (deploy/) passes the stream through unbuffered.
        headers[Self.accelBuffering] = "no"
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                try await inbox.stream(to: user, resume: resume) { message in
                    try await writer.write(ByteBuffer(string: Self.text(of: message)))
                }
                try await writer.finish(nil)
            })
    }

    static let lastEventID = HTTPField.Name("Last-Event-ID")!
    static let accelBuffering = HTTPField.Name("X-Accel-Buffering")!

    /// One server-sent event as text (the data is one line of JSON).
    static func text(of message: Inbox.StreamMessage) throws -> String {
        switch message {
        case .retry(let milliseconds): return "retry: \(milliseconds)\n\n"
        case .opened(let position, let unread):
            return "id: \(position)\nevent: unread\ndata: \(String(buffer: try Response.jsonBytes(unread)))\n\n"
        case .keepAlive: return ": keep-alive\n\n"
        case .notification(let position, let event):
            let json = String(buffer: try Response.jsonBytes(event))
            return "id: \(position)\nevent: notification\ndata: \(json)\n\n"
        }
    }
}
