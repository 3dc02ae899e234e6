import Foundation
import SQLKit

/// A user's e-mail choices (`GET/PUT /api/v1/notifications/settings`): an address, or none, and
/// the notification kinds they do not want by mail (the inbox keeps them all).
struct MailSettings: RowModel, Encodable, Equatable {
    @NullEncoded var email: String?
    @CommaList var mutedKinds: [String]

    static let none = MailSettings(email: nil, mutedKinds: [])
}

/// A message on its way to a user: the mail outbox row.
struct QueuedMail: RowModel {
    var id: String
    var recipient: String
    var subject, body: String
    var attempts: Int64
    @Millis var createdAt: Date
}

/// The users' e-mail settings and the mail outbox.
struct MailStore: Sendable {
    let engine: DatabaseEngine

    func settings(of userId: String, in db: any SQLDatabase) async throws -> MailSettings {
        try await db.raw("SELECT email, muted_kinds FROM notification_settings WHERE user_id = \(bind: userId)")
            .first().map { try $0.model(MailSettings.self) } ?? .none
    }

    func save(_ settings: MailSettings, of userId: String, at now: Date, in db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO notification_settings (user_id, email, muted_kinds, updated_at)
            VALUES (\(bind: userId), \(bind: settings.email), \(bind: settings.mutedKinds.joined(separator: ",")), \(bind: now.millis))
            ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, muted_kinds = excluded.muted_kinds,
              updated_at = excluded.updated_at
            """
        ).run()
    }

    /// The settings of those of `userIds` who gave an address.
    func addresses(of userIds: Set<String>, in db: any SQLDatabase) async throws -> [String: MailSettings] {
        guard !userIds.isEmpty else { return [:] }
        struct Row: RowModel {
            var userId: String
            var email: String
            @CommaList var mutedKinds: [String]
        }
        let rows = try await db.raw(
            """
            SELECT user_id, email, muted_kinds FROM notification_settings
            WHERE email IS NOT NULL AND user_id IN (\(SQLQueryString.list(Array(userIds).sorted())))
            """
        ).all().map { try $0.model(Row.self) }
        return Dictionary(rows.map { ($0.userId, MailSettings(email: $0.email, mutedKinds: $0.mutedKinds)) }, uniquingKeysWith: { a, _ in a })
    }

    struct NewMail: Sendable {
        var id: String
        var userId: String
        var recipient: String
        var subject: String
        var body: String
    }

    func enqueue(_ mails: [NewMail], at now: Date, in db: any SQLDatabase) async throws {
        try await db.insert(
            "INSERT INTO mail_outbox (id, user_id, recipient, subject, body, status, attempts, next_attempt_at, created_at) VALUES",
            rows: mails.map {
                """
                (\(bind: $0.id), \(bind: $0.userId), \(bind: $0.recipient), \(bind: $0.subject), \(bind: $0.body),
                 'pending', 0, \(bind: now.millis), \(bind: now.millis))
                """
            })
    }

    /// How long a claim holds messages: longer than a pass of `Mailer.batch` sends of at most
    /// 30 seconds each, so no other process sends one while this one may still be at it.
    static let claimLease: TimeInterval = 300

    /// Claims up to `limit` due messages for `claimLease` (another process skips them; one that
    /// died holding them leaves them to be sent again).
    func claim(now: Date, limit: Int, in db: any SQLDatabase) async throws -> [QueuedMail] {
        let lock = engine == .postgres ? " FOR UPDATE SKIP LOCKED" : ""
        let due = try await db.raw(
            """
            SELECT id, recipient, subject, body, attempts, created_at FROM mail_outbox
            WHERE status = 'pending' AND next_attempt_at <= \(bind: now.millis)
              AND (claimed_until IS NULL OR claimed_until < \(bind: now.millis))
            ORDER BY next_attempt_at, id LIMIT \(literal: limit)\(unsafeRaw: lock)
            """
        ).all().map { try $0.model(QueuedMail.self) }
        guard !due.isEmpty else { return [] }
        let until = now.addingTimeInterval(Self.claimLease).millis
        try await db.raw("UPDATE mail_outbox SET claimed_until = \(bind: until) WHERE id IN (\(SQLQueryString.list(due.map(\.id))))")
            .run()
        return due
    }

    /// Records an attempt: `sent`, `pending` again at `next`, or `failed`.
    func record(_ id: String, status: String, error: String?, next: Date?, at now: Date, in db: any SQLDatabase) async throws {
        try await db.raw(
            """
            UPDATE mail_outbox SET status = \(bind: status), attempts = attempts + 1, last_error = \(bind: error),
              next_attempt_at = \(bind: (next ?? now).millis), claimed_until = NULL
            WHERE id = \(bind: id) AND status = 'pending'
            """
        ).run()
    }

    /// The outbox's rows by status, for tests and the drain check.
    func counts(in db: any SQLDatabase) async throws -> [String: Int64] {
        let rows = try await db.raw("SELECT status, COUNT(*) AS n FROM mail_outbox GROUP BY status").all()
        return try Dictionary(
            uniqueKeysWithValues: rows.map { (try $0.decode(column: "status", as: String.self), try $0.decode(column: "n", as: Int64.self)) })
    }
}
