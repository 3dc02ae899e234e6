import Foundation

/// A user's inbox (API.md "Notifications and webhooks"): only ever the caller's own
/// notifications; another user's is not found. Knows nothing of HTTP.
struct Inbox: UseCase {
    let services: AppServices
    var store: NotificationStore { services.notifications }

    init(_ services: AppServices) {
        self.services = services
    }

    /// What the inbox answers beside a page: how many of the user's notifications are unread.
    struct Unread: Encodable, Sendable {
        var unreadCount: Int64
    }

    /// The page and the unread count, read together.
    typealias Listing = Merged<Page<Notification>, Unread>

    /// Newest first; only the unread ones with `unreadOnly`.
    func list(for user: Identity, unreadOnly: Bool, paging: Paging) async throws -> Listing {
        let after = try paging.position.map(Paging.timeAndId)
        let (rows, unread) = try await database.read { db in
            (
                try await store.inbox(of: user.userId, unreadOnly: unreadOnly, after: after, limit: paging.fetchLimit, in: db),
                try await store.unreadCount(of: user.userId, in: db)
            )
        }
        let page = Page(
            rows, paging, tag: unreadOnly ? "notifications-unread" : "notifications",
            position: { Paging.timeAndId($0.createdAt, $0.id) }, item: { $0 })
        return Merged(page, Unread(unreadCount: unread))
    }

    /// Marks one of the user's notifications read (reading it again keeps the first time).
    func markRead(_ id: String, by user: Identity) async throws -> Notification {
        let now = clock.now
        return try await database.write { db in
            guard let notification = try await store.markRead(id, of: user.userId, at: now, in: db) else {
                throw DomainError.notFound("notification")
            }
            return notification
        }
    }

    /// Marks every unread notification of the user read.
    func markAllRead(by user: Identity) async throws -> (marked: Int64, unread: Unread) {
        let now = clock.now
        let marked = try await database.write { db in try await store.markAllRead(of: user.userId, at: now, in: db) }
        return (marked, Unread(unreadCount: 0))
    }
}
