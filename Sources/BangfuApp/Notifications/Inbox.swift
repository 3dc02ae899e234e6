import Foundation
import ServiceLifecycle

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

    /// The caller's e-mail choices.
    func mailSettings(for user: Identity) async throws -> MailSettings {
        try await database.read { db in try await services.mail.settings(of: user.userId, in: db) }
    }

    struct MailSettingsInput: Decodable, Sendable {
        /// An address, or null for no e-mail.
        var email: String?
        var mutedKinds: [String]?
    }

    /// Replaces the caller's e-mail choices: an address or none, and the kinds not wanted by mail.
    func saveMailSettings(_ input: MailSettingsInput, by user: Identity) async throws -> MailSettings {
        var v = Validator()
        let email = input.email?.trimmingCharacters(in: .whitespaces)
        if let email, !MailRules.isAddress(email) { v.fail("email", "must be an e-mail address such as canteen@example.cn") }
        let muted = input.mutedKinds ?? []
        if let unknown = muted.first(where: { !NotificationRules.kinds.contains($0) }) {
            v.fail("mutedKinds", "has an unknown kind \"\(unknown.prefix(60))\"; known: \(NotificationRules.kinds.sorted().joined(separator: ", "))")
        }
        try v.check()
        let settings = MailSettings(email: email, mutedKinds: NotificationRules.kinds.sorted().filter(Set(muted).contains))
        let now = clock.now
        try await database.write { db in
            try await services.mail.save(settings, of: user.userId, at: now, in: db)
            try await audit.append(
                AuditEvent(user, "notification_settings.update", .user(user.userId), ["email": settings.email != nil]), in: db)
        }
        return settings
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

    /// Marks every unread notification of the user read: how many, and the count after (a
    /// notification committed meanwhile counts).
    func markAllRead(by user: Identity) async throws -> (marked: Int64, unread: Unread) {
        let now = clock.now
        let marked = try await database.write { db in try await store.markAllRead(of: user.userId, at: now, in: db) }
        let unread = try await database.read { db in try await store.unreadCount(of: user.userId, in: db) }
        return (marked, Unread(unreadCount: unread))
    }

    /// One event of the live stream: the notification and the unread count after it.
    typealias StreamEvent = Merged<Notification, Unread>

    /// Feeds `send` the notifications of `user` written after `resume` (the `Last-Event-ID` of a
    /// reconnecting client: `createdAt|id`), or after now, as they commit; then every heartbeat a
    /// keep-alive. Ends after `notificationStreamDuration`, when the server shuts down, when the
    /// caller's session ends (checked at every wake), or when `send` throws (the client went away).
    func stream(
        to user: Identity, resume: (Int64, String)?, send: (StreamMessage) async throws -> Void
    ) async throws {
        let hub = services.inboxHub
        let subscription = hub.subscribe(user.userId)
        defer { hub.unsubscribe(user.userId, subscription.id) }
        let heartbeat = configuration.notificationHeartbeat
        let deadline = ContinuousClock.now + configuration.notificationStreamDuration
        // Heartbeats, and the deadline itself, wake the same loop as notifications; the ticker
        // ends with the stream.
        let ticker = Task { [continuation = subscription.continuation] in
            while !Task.isCancelled {
                let left = deadline - ContinuousClock.now
                guard left > .zero else { break }
                try await Task.sleep(for: min(heartbeat, left))
                continuation.yield()
            }
            // The deadline: the loop below sees it on this last wake and ends.
            continuation.yield()
        }
        defer { ticker.cancel() }
        var cursor: StreamCursor
        if let resume {
            cursor = StreamCursor(at: resume.0, shown: [resume.1])
        } else {
            // From the moment it opens: what is already there (of this very instant too) is not new.
            let now = clock.now.millis
            let present = try await database.read { db in try await store.since(now, of: user.userId, limit: 1_000, in: db) }
            cursor = StreamCursor(at: now, shown: Set(present.filter { $0.createdAt.millis == now }.map(\.id)))
            if let last = present.last, last.createdAt.millis > now {
                cursor = StreamCursor(at: last.createdAt.millis, shown: Set(present.filter { $0.createdAt == last.createdAt }.map(\.id)))
            }
        }
        try await send(.retry(milliseconds: 5_000))
        // Where the stream starts and the count then: a client that reconnects before any
        // notification came resumes from here and misses nothing.
        let unread = try await database.read { db in try await store.unreadCount(of: user.userId, in: db) }
        try await send(.opened(position: "\(cursor.at)|\(cursor.shown.sorted().last ?? "-")", unread: Unread(unreadCount: unread)))
        try await catchUp(user, &cursor, send: send)
        let sessions = services.accounts.sessions
        for await _ in subscription.wakes.cancelOnGracefulShutdown() {
            guard ContinuousClock.now < deadline else { break }
            // A session that ended meanwhile (signed out, a removed member, a disabled account)
            // ends its stream at the next wake, as its other requests already get 401.
            guard try await database.read({ db in try await sessions.identity(tokenHash: user.tokenHash, in: db) }) != nil else { break }
            if try await catchUp(user, &cursor, send: send) == 0 { try await send(.keepAlive) }
        }
    }

    /// Where a stream is: the instant of the last notification it showed and the ids it showed at
    /// that instant (ids are not ordered in time, so the instant alone cannot say).
    struct StreamCursor {
        var at: Int64
        var shown: Set<String>
    }

    /// What a stream sends.
    enum StreamMessage: Sendable {
        case retry(milliseconds: Int)
        /// The first event: the stream's position and the unread count (`event: unread`).
        case opened(position: String, unread: Unread)
        case keepAlive
        case notification(position: String, event: StreamEvent)
    }

    /// Sends what is new since `cursor`, a hundred at a time, and moves it; returns how many
    /// were sent.
    @discardableResult
    private func catchUp(_ user: Identity, _ cursor: inout StreamCursor, send: (StreamMessage) async throws -> Void)
        async throws -> Int
    {
        let batch = 100
        var total = 0
        while true {
            // The ids shown at the cursor's instant sort among its rows: read that many more. The
            // count is read only when there is something to send.
            let (rows, unread) = try await database.read { [cursor] db in
                let rows = try await store.since(cursor.at, of: user.userId, limit: batch + cursor.shown.count, in: db)
                let fresh = rows.contains { !($0.createdAt.millis == cursor.at && cursor.shown.contains($0.id)) }
                return (rows, fresh ? try await store.unreadCount(of: user.userId, in: db) : 0)
            }
            var sent = 0
            for row in rows where !(row.createdAt.millis == cursor.at && cursor.shown.contains(row.id)) {
                if row.createdAt.millis != cursor.at { cursor = StreamCursor(at: row.createdAt.millis, shown: []) }
                cursor.shown.insert(row.id)
                sent += 1
                let event = Merged(row, Unread(unreadCount: unread))
                try await send(.notification(position: Paging.timeAndId(row.createdAt, row.id), event: event))
            }
            total += sent
            if sent < batch { return total }
        }
    }
}
