import Foundation
import SQLKit

/// One line of a user's inbox (API.md "Notifications and webhooks").
struct Notification: TableRow, Encodable {
    var id: String
    var userId: String
    var kind: String
    /// What it is about (`order`, `product`, …) and which one.
    var subjectType, subjectId: String
    var title, body: String
    @Millis var createdAt: Date
    @OptionalMillis var readAt: Date?

    static let columns = [
        "id", "user_id", "kind", "subject_type", "subject_id", "title", "body", "created_at", "read_at",
    ]

    /// The row's values in the order of `columns`.
    var row: SQLQueryString {
        """
        (\(bind: id), \(bind: userId), \(bind: kind), \(bind: subjectType), \(bind: subjectId), \(bind: title),
         \(bind: body), \(bind: createdAt.millis), \(bind: readAt?.millis))
        """
    }
}

/// The inbox rows, and who an audited change reaches.
struct NotificationStore: Sendable {
    /// A recipient of one event and what the notification is about.
    struct Recipient: RowModel, Equatable {
        var userId: String
        var subjectType: String
        var subjectId: String
    }

    /// The users `audience` names for the event's object (`entityType`, `entityId`), with the
    /// subject each is told of: one query, inside the event's transaction.
    func recipients(_ audience: Audience, of entityType: String, _ entityId: String, in db: any SQLDatabase)
        async throws -> [Recipient]
    {
        // A filing's events name it `organization/year`: its organization is told.
        let id = entityType == "quota_plan" ? FilingID(entityId)?.organizationId ?? entityId : entityId
        let sql: SQLQueryString =
            switch audience {
            case .orderMerchant:
                """
                SELECT m.owner_id AS user_id, 'order' AS subject_type, o.id AS subject_id
                FROM orders o JOIN merchants m ON m.id = o.merchant_id WHERE o.id = \(bind: id)
                """
            case .orderBuyers:
                """
                SELECT b.user_id, 'order' AS subject_type, o.id AS subject_id
                FROM orders o JOIN buyer_members b ON b.organization_id = o.organization_id WHERE o.id = \(bind: id)
                """
            case .checkoutMerchants:
                """
                SELECT m.owner_id AS user_id, 'order' AS subject_type, o.id AS subject_id
                FROM orders o JOIN merchants m ON m.id = o.merchant_id WHERE o.checkout_id = \(bind: id)
                """
            case .refundMerchant:
                """
                SELECT m.owner_id AS user_id, 'refund' AS subject_type, r.id AS subject_id
                FROM refunds r JOIN orders o ON o.id = r.order_id JOIN merchants m ON m.id = o.merchant_id
                WHERE r.id = \(bind: id)
                """
            case .refundBuyers:
                """
                SELECT b.user_id, 'refund' AS subject_type, r.id AS subject_id
                FROM refunds r JOIN orders o ON o.id = r.order_id
                JOIN buyer_members b ON b.organization_id = o.organization_id WHERE r.id = \(bind: id)
                """
            case .applicationCounty:
                """
                SELECT u.id AS user_id, 'merchant_application' AS subject_type, a.id AS subject_id
                FROM merchant_applications a JOIN users u ON u.role = 'county' AND u.county_code = a.county_code
                WHERE a.id = \(bind: id)
                """
            case .applicationOwner:
                """
                SELECT owner_id AS user_id, 'merchant_application' AS subject_type, id AS subject_id
                FROM merchant_applications WHERE id = \(bind: id)
                """
            case .certificationCounty:
                """
                SELECT u.id AS user_id, 'certification_application' AS subject_type, a.id AS subject_id
                FROM certification_applications a JOIN users u ON u.role = 'county' AND u.county_code = a.county_code
                WHERE a.id = \(bind: id)
                """
            case .certificationMerchant:
                """
                SELECT m.owner_id AS user_id, 'certification_application' AS subject_type, a.id AS subject_id
                FROM certification_applications a JOIN merchants m ON m.id = a.merchant_id WHERE a.id = \(bind: id)
                """
            case .certificateMerchant:
                """
                SELECT m.owner_id AS user_id, 'certificate' AS subject_type, c.number AS subject_id
                FROM certificates c JOIN merchants m ON m.id = c.merchant_id WHERE c.number = \(bind: id)
                """
            case .documentMerchant:
                """
                SELECT a.owner_id AS user_id, 'merchant_document' AS subject_type, d.id AS subject_id
                FROM merchant_documents d JOIN merchant_applications a ON a.id = d.application_id WHERE d.id = \(bind: id)
                """
            case .merchantOwner:
                """
                SELECT owner_id AS user_id, 'merchant' AS subject_type, id AS subject_id FROM merchants WHERE id = \(bind: id)
                """
            case .organizationMembers:
                """
                SELECT user_id, 'buyer_organization' AS subject_type, organization_id AS subject_id
                FROM buyer_members WHERE organization_id = \(bind: id)
                """
            case .organizationManagers:
                """
                SELECT user_id, 'buyer_organization' AS subject_type, organization_id AS subject_id
                FROM buyer_members WHERE organization_id = \(bind: id) AND member_role = 'manager'
                """
            case .filingReviewers:
                """
                SELECT m.user_id, 'buyer_organization' AS subject_type, o.id AS subject_id
                FROM buyer_organizations o JOIN buyer_members m ON m.organization_id = o.parent_id AND m.member_role = 'manager'
                WHERE o.id = \(bind: id)
                UNION
                SELECT u.id AS user_id, 'buyer_organization' AS subject_type, o.id AS subject_id
                FROM buyer_organizations o JOIN users u ON u.role = 'finance' AND u.disabled_at IS NULL
                WHERE o.id = \(bind: id) AND o.parent_id IS NULL AND \(RegionStore.covers("u.region_code", "o.region_code"))
                """
            case .filingFinance:
                """
                SELECT u.id AS user_id, 'buyer_organization' AS subject_type, o.id AS subject_id
                FROM buyer_organizations o JOIN users u ON u.role = 'finance' AND u.disabled_at IS NULL
                WHERE o.id = \(bind: id) AND \(RegionStore.covers("u.region_code", "o.region_code"))
                """
            case .filingParties:
                """
                SELECT m.user_id, 'buyer_organization' AS subject_type, o.id AS subject_id
                FROM buyer_organizations o JOIN buyer_members m ON m.member_role = 'manager'
                  AND (m.organization_id = o.id OR m.organization_id = o.parent_id)
                WHERE o.id = \(bind: id)
                """
            case .admins:
                """
                SELECT id AS user_id, \(bind: entityType) AS subject_type, \(bind: id) AS subject_id FROM users
                WHERE role = 'admin'
                """
            }
        return try await db.raw(sql).all().map { try $0.model(Recipient.self) }
    }

    /// The merchant of each order of `checkoutIds`, told of its own order: the `checkoutMerchants`
    /// audience of a whole placement batch in one query.
    struct CheckoutRecipient: RowModel {
        var checkoutId: String
        var userId: String
        var subjectId: String

        var recipient: Recipient { Recipient(userId: userId, subjectType: "order", subjectId: subjectId) }
    }

    func checkoutMerchants(_ checkoutIds: [String], in db: any SQLDatabase) async throws -> [CheckoutRecipient] {
        try await db.raw(
            """
            SELECT o.checkout_id, m.owner_id AS user_id, o.id AS subject_id
            FROM orders o JOIN merchants m ON m.id = o.merchant_id WHERE o.checkout_id IN (\(SQLQueryString.list(checkoutIds)))
            """
        ).all().map { try $0.model(CheckoutRecipient.self) }
    }

    /// Claims a reminder's key; false when it was sent before (by this process or another: the
    /// key is the table's primary key, so a racing claim waits for the first and then gets nothing).
    func claimReminder(_ key: String, at now: Date, in db: any SQLDatabase) async throws -> Bool {
        try await db.raw(
            """
            INSERT INTO reminders_sent (reminder_key, sent_at) VALUES (\(bind: key), \(bind: now.millis))
            ON CONFLICT (reminder_key) DO NOTHING RETURNING reminder_key
            """
        ).first() != nil
    }

    func insert(_ notifications: [Notification], in db: any SQLDatabase) async throws {
        try await db.insert("INSERT INTO notifications (\(Notification.columnList)) VALUES", rows: notifications.map(\.row))
    }

    /// `userId`'s notifications, newest first (only the unread ones when asked).
    func inbox(of userId: String, unreadOnly: Bool, after: (Int64, String)?, limit: Int, in db: any SQLDatabase)
        async throws -> [Notification]
    {
        var sql = SQLQueryString("SELECT * FROM notifications WHERE user_id = \(bind: userId)")
        if unreadOnly { sql += " AND read_at IS NULL" }
        sql += .newestFirst(after: after, time: "created_at", id: "id", limit: limit)
        return try await db.raw(sql).all().map { try $0.model(Notification.self) }
    }

    /// `userId`'s notifications written at or after `atMillis`, oldest first: what a live stream
    /// has not shown yet (it leaves out those of that instant it has shown).
    func since(_ atMillis: Int64, of userId: String, limit: Int, in db: any SQLDatabase) async throws -> [Notification] {
        try await db.raw(
            """
            SELECT * FROM notifications WHERE user_id = \(bind: userId) AND created_at >= \(bind: atMillis)
            ORDER BY created_at, id LIMIT \(literal: limit)
            """
        ).all().map { try $0.model(Notification.self) }
    }

    func unreadCount(of userId: String, in db: any SQLDatabase) async throws -> Int64 {
        try await db.raw("SELECT COUNT(*) AS n FROM notifications WHERE user_id = \(bind: userId) AND read_at IS NULL")
            .first().map { try $0.decode(column: "n", as: Int64.self) } ?? 0
    }

    /// Marks `id` read if it is `userId`'s (a first reading is kept); nil when it is not theirs.
    func markRead(_ id: String, of userId: String, at now: Date, in db: any SQLDatabase) async throws -> Notification? {
        try await db.raw(
            """
            UPDATE notifications SET read_at = COALESCE(read_at, \(bind: now.millis))
            WHERE id = \(bind: id) AND user_id = \(bind: userId)
            """
        ).run()
        return try await db.raw("SELECT * FROM notifications WHERE id = \(bind: id) AND user_id = \(bind: userId)")
            .first().map { try $0.model(Notification.self) }
    }

    /// Marks every unread notification of `userId` read; returns how many it marked.
    func markAllRead(of userId: String, at now: Date, in db: any SQLDatabase) async throws -> Int64 {
        Int64(
            try await db.raw(
                """
                UPDATE notifications SET read_at = \(bind: now.millis) WHERE user_id = \(bind: userId) AND read_at IS NULL
                RETURNING id
                """
            ).all().count)
    }
}
