import Foundation
import Logging
import ServiceLifecycle

/// Sends the reminders that have fallen due (`ReminderRules`), each once: its key is claimed in
/// `reminders_sent` in the transaction that writes its notifications, so neither a restart nor a
/// second process sharing the database sends it again. Knows nothing of HTTP.
struct Reminders: UseCase {
    let services: AppServices
    var store: NotificationStore { services.notifications }

    init(_ services: AppServices) {
        self.services = services
    }

    /// One pass: every due reminder not sent before; returns how many notifications it wrote.
    @discardableResult
    func sendDue() async throws -> Int {
        let now = clock.now
        let settings = configuration.alerts
        let (alerts, store, ids, notifier) = (self.alerts, self.store, self.ids, services.notifier)
        return try await database.write { db in
            let due = try await alerts.alerts(ReminderRules.kinds, scope: .all, settings: settings, now: now, limit: 1_000, in: db)
            // What falls due soon: the overdue queries asked as of the moment the lead ends.
            var soon: [(Alert, ReminderRules.Reminder)] = []
            for (kind, lead) in ReminderRules.leads {
                let ahead = now.addingTimeInterval(lead)
                let falling = try await alerts.alerts(
                    [kind], scope: .all, settings: settings, now: ahead, dueFrom: now,
                    limit: kind == .filingOverdue ? ReminderRules.filingBatch : 1_000, in: db)
                for alert in falling {
                    if let reminder = ReminderRules.dueSoon(for: alert, now: now) { soon.append((alert, reminder)) }
                }
            }
            let reminders = due.compactMap { alert in ReminderRules.reminder(for: alert, now: now).map { (alert, $0) } } + soon
            var rows: [Notification] = []
            for (alert, reminder) in reminders {
                guard
                    try await store.claimReminder(reminder.key, at: now, in: db)
                else { continue }
                for recipient in try await store.recipients(reminder.audience, of: alert.subjectType, alert.subjectId, in: db) {
                    rows.append(
                        Notification(
                            id: ids.next(), userId: recipient.userId, kind: reminder.kind,
                            subjectType: recipient.subjectType, subjectId: recipient.subjectId, title: reminder.title,
                            body: alert.detail, createdAt: now, readAt: nil))
                }
            }
            try await notifier.deliver(rows, at: now, in: db)
            return rows.count
        }
    }
}

/// Runs `Reminders.sendDue` every `interval` while the server runs (`--reminder-minutes`); the
/// first pass a minute after the start (or sooner with a shorter interval), once the server has
/// applied its migrations.
struct ReminderService: Service {
    let reminders: Reminders
    let interval: Duration
    let logger: Logger

    func run() async throws {
        var wait = min(interval, .seconds(60))
        while await pauseUnlessShuttingDown(for: wait) {
            wait = interval
            do {
                let sent = try await reminders.sendDue()
                if sent > 0 { logger.info("reminders sent", metadata: ["notifications": "\(sent)"]) }
            } catch {
                logger.error("reminders failed", metadata: ["error": .string(OperatorError.describing(error).message)])
            }
            do {
                // Merchants' scores whose oldest rating left the 365-day window (`sort=rating`).
                try await Ratings(reminders.services).refreshDueScores()
            } catch {
                logger.error("rating scores failed", metadata: ["error": .string(OperatorError.describing(error).message)])
            }
        }
    }
}
