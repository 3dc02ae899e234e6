import Foundation

/// Reminders (issue 21): what falls due reaches whoever must act, once. Each comes from an alert
/// of `AlertStore` (the same indexed queries) and has a key that says what "once" means: once per
/// order or certificate, once per tier of a document's expiry, once a week while an organization's
/// plan stays behind its line.
enum ReminderRules {
    struct Reminder: Sendable, Equatable {
        /// Unique among all reminders ever sent (`reminders_sent`).
        var key: String
        var kind: String
        var audience: Audience
        var title: String
    }

    /// The alert kinds that remind someone (a slow-moving product is the merchant's own affair).
    static let kinds: Set<AlertKind> = [
        .shipmentOverdue, .paymentOverdue, .certificateExpiring, .documentExpiring, .behindSchedule,
    ]

    static func reminder(for alert: Alert, now: Date) -> Reminder? {
        switch alert.kind {
        case .shipmentOverdue:
            Reminder(
                key: "shipment:\(alert.subjectId)", kind: "reminder.shipment_overdue", audience: .orderMerchant,
                title: "订单已超过最晚发货日期")
        case .paymentOverdue:
            Reminder(
                key: "payment:\(alert.subjectId)", kind: "reminder.payment_overdue", audience: .orderBuyers,
                title: "订单验收后已超过付款期限")
        case .certificateExpiring:
            Reminder(
                key: "certificate:\(alert.subjectId)", kind: "reminder.certificate_expiring",
                audience: .certificateMerchant, title: "帮扶产品证书即将到期")
        case .documentExpiring:
            // `since` is the start of the tier the document has entered: one reminder a tier.
            Reminder(
                key: "document:\(alert.subjectId):\(alert.since.millis)", kind: "reminder.document_expiring",
                audience: .documentMerchant, title: "入驻资质文件即将到期")
        case .behindSchedule:
            Reminder(
                key: "behind:\(alert.subjectId):\(week(of: now))", kind: "reminder.behind_schedule",
                audience: .organizationMembers, title: "预留份额采购进度落后")
        case .slowMoving:
            nil
        }
    }

    /// The week (Monday to Sunday, UTC+8) `date` falls in, as the number of weeks since the
    /// Monday 1970-01-05.
    static func week(of date: Date) -> Int64 {
        let days = (date.millis + 8 * 3_600_000) / 86_400_000
        return (days - 4) >= 0 ? (days - 4) / 7 : (days - 4 - 6) / 7
    }
}
