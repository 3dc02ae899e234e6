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

    /// Every kind a reminder's notification may have: those `reminder(for:now:)` and
    /// `dueSoon(for:now:)` give (a test checks the two agree).
    static let reminderKinds: Set<String> = [
        "reminder.shipment_overdue", "reminder.payment_overdue", "reminder.shipment_due", "reminder.payment_due",
        "reminder.certificate_expiring", "reminder.document_expiring", "reminder.behind_schedule", "reminder.filing_due",
    ]

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
        case .slowMoving, .filingOverdue, .waiverPending, .priceOutlier, .priceJump:
            nil
        }
    }

    /// How long before its due time a shipment or a payment is reminded of (as well as once it is
    /// overdue): a day for a shipment, three days for a payment.
    static let leads: [(AlertKind, TimeInterval)] = [
        (.shipmentOverdue, 24 * 3600), (.paymentOverdue, 3 * 24 * 3600), (.filingOverdue, Double(filingTiers.max() ?? 14) * 86_400),
    ]

    /// The days before the filing deadline its reminders go out (SPEC: 14, 7 and 1).
    static let filingTiers = [14, 7, 1]

    /// How many unfiled organizations one pass reads (a province's units, not the first 1,000).
    static let filingBatch = 100_000

    /// The reminder that `alert`, found as of the end of its lead, falls due soon; nil when it is
    /// already overdue (the overdue reminder covers it) or not a kind with a lead.
    static func dueSoon(for alert: Alert, now: Date) -> Reminder? {
        guard alert.since > now else { return nil }
        switch alert.kind {
        case .shipmentOverdue:
            return Reminder(
                key: "shipment-soon:\(alert.subjectId)", kind: "reminder.shipment_due", audience: .orderMerchant,
                title: "订单将在 24 小时内到最晚发货日期")
        case .paymentOverdue:
            return Reminder(
                key: "payment-soon:\(alert.subjectId)", kind: "reminder.payment_due", audience: .orderBuyers,
                title: "订单将在 3 天内到付款期限")
        case .filingOverdue:
            // One reminder per tier: the narrowest of 14, 7, 1 days that the time left before the
            // deadline day (the day before `since`) is within.
            let left = Int((alert.since.addingTimeInterval(-86_400).timeIntervalSince(now) / 86_400).rounded(.up))
            guard let tier = filingTiers.sorted().first(where: { left <= $0 }) else { return nil }
            return Reminder(
                key: "filing:\(alert.subjectId):\(QuotaRules.quotaYear(of: alert.since)):\(tier)", kind: "reminder.filing_due",
                audience: .organizationManagers, title: "预留份额填报将在 \(tier) 天内截止")
        default:
            return nil
        }
    }

    /// The week (Monday to Sunday, UTC+8) `date` falls in, as the number of weeks since the
    /// Monday 1970-01-05.
    static func week(of date: Date) -> Int64 {
        let days = (date.millis + 8 * 3_600_000) / 86_400_000
        return (days - 4) >= 0 ? (days - 4) / 7 : (days - 4 - 6) / 7
    }
}
