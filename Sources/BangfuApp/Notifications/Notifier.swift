import Foundation
import SQLKit

/// Turns audited changes into inbox rows (and webhook deliveries), in the transaction that appends the audit events: a
/// change and its notifications commit or roll back together (SPEC.md "Notifications"). The
/// `AuditStore` calls it after every append, so each state change that is audited, today's and
/// every later one, notifies as `NotificationRules.table` says.
struct Notifier: Sendable {
    let store: NotificationStore
    let ids: IDGenerator
    /// Woken for the recipients once the transaction commits.
    let hub: InboxHub
    /// The webhooks' outbox, written in the same transaction.
    var webhooks: WebhookOutbox? = nil
    /// The mail outbox, when the operator connected e-mail (`--mail-command`).
    var mail: MailOutbox? = nil

    func notify(_ events: [AuditEvent], at now: Date, in db: any SQLDatabase) async throws {
        try await webhooks?.enqueue(events, at: now, in: db)
        var rows: [Notification] = []
        // A placement batch appends one event per checkout: their merchants are read in one query.
        let checkouts = events.filter { NotificationRules.table[$0.action]?.audience == .checkoutMerchants }.map(\.entityId)
        let merchantsByCheckout = Dictionary(
            grouping: checkouts.isEmpty ? [] : try await store.checkoutMerchants(checkouts, in: db), by: \.checkoutId)
        for event in events {
            guard let rule = NotificationRules.table[event.action] else { continue }
            let recipients =
                rule.audience == .checkoutMerchants
                ? (merchantsByCheckout[event.entityId] ?? []).map(\.recipient)
                : try await store.recipients(rule.audience, of: event.entityType, event.entityId, in: db)
            // A checkout's total is not any one merchant's order total: its text names the order only.
            let data = rule.audience == .checkoutMerchants ? [:] : event.data
            var told = Set<String>()
            for recipient in recipients where recipient.userId != event.actorId && told.insert(recipient.userId + "\u{1F}" + recipient.subjectId).inserted {
                rows.append(
                    Notification(
                        id: ids.next(), userId: recipient.userId, kind: rule.kind, subjectType: recipient.subjectType,
                        subjectId: recipient.subjectId, title: rule.title,
                        body: NotificationRules.body(subjectType: recipient.subjectType, subjectId: recipient.subjectId, data: data),
                        createdAt: now, readAt: nil))
            }
        }
        try await deliver(rows, at: now, in: db)
    }

    /// Writes `rows` into their inboxes and queues their e-mails, in the caller's transaction;
    /// the live streams are woken once it commits. Reminders deliver through here too.
    func deliver(_ rows: [Notification], at now: Date, in db: any SQLDatabase) async throws {
        guard !rows.isEmpty else { return }
        try await store.insert(rows, in: db)
        try await mail?.enqueue(rows, at: now, in: db)
        let recipients = Set(rows.map(\.userId))
        AfterCommit.schedule { [hub] in hub.wake(recipients) }
    }
}

/// Queues the e-mail of each notification whose recipient gave an address and did not mute its
/// kind: in the notification's transaction, so a mail is sent only for what committed.
struct MailOutbox: Sendable {
    let store: MailStore
    let ids: IDGenerator

    func enqueue(_ rows: [Notification], at now: Date, in db: any SQLDatabase) async throws {
        let addresses = try await store.addresses(of: Set(rows.map(\.userId)), in: db)
        guard !addresses.isEmpty else { return }
        let mails = rows.compactMap { row -> MailStore.NewMail? in
            guard let settings = addresses[row.userId], let email = settings.email, !settings.mutedKinds.contains(row.kind) else {
                return nil
            }
            return MailStore.NewMail(
                id: ids.next(), userId: row.userId, recipient: email, subject: "【帮扶】\(row.title)",
                body: "\(row.title)\n\n\(row.body)\n\n—— 帮扶平台（消息中心有全部通知；在通知设置中可退订此类邮件）\n")
        }
        try await store.enqueue(mails, at: now, in: db)
    }
}
