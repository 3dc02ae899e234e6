import Foundation
import SQLKit

/// The thresholds of the alerts (operator settings).
public struct AlertSettings: Sendable {
    /// A listed product in stock with no order for this many days is slow-moving (滞销风险).
    public var slowMovingDays = 30
    /// Payment is due this many days after acceptance (保障中小企业款项支付条例: 30).
    public var paymentDueDays = 30
    /// Certificates expiring within this many days.
    public var certificateExpiringDays = 30
    /// Merchant documents expiring within these many days, each a tier of its own.
    public var documentExpiringDays = [90, 30, 7]
    /// The yearly filing's deadline (month, day) in UTC+8: organizations without a filing are
    /// overdue from the next day (`--filing-deadline MM-DD`, default 03-31).
    public var filingDeadline = FilingDeadline(month: 3, day: 31)
    /// A unit price more than this many percent above its category's median is an outlier.
    public var priceOutlierPercent = 30
    /// A price raised by more than this many percent within 30 days is a jump.
    public var priceJumpPercent = 20

    public init() {}
}

enum AlertKind: String, CaseIterable, Codable, Sendable {
    case slowMoving = "slow_moving"
    case behindSchedule = "behind_schedule"
    case shipmentOverdue = "shipment_overdue"
    case paymentOverdue = "payment_overdue"
    case certificateExpiring = "certificate_expiring"
    case documentExpiring = "document_expiring"
    /// An active organization without a filing of the current year after the deadline.
    case filingOverdue = "filing_overdue"
    /// A filing whose waiver waits for finance.
    case waiverPending = "waiver_pending"
    /// A product on sale priced per kg more than `--price-outlier-percent` above its leaf category's median.
    case priceOutlier = "price_outlier"
    /// A price raised more than `--price-jump-percent` within 30 days.
    case priceJump = "price_jump"
}

struct Alert: Sendable, Equatable, Encodable {
    var kind: AlertKind
    var subjectType: String
    var subjectId: String
    var detail: String
    @Millis var since: Date
}

/// Whose alerts: everything (admins), one county (its officer), one merchant, the organizations
/// of a region (a finance officer) or of a subtree (a manager).
enum AlertScope: Sendable, Equatable {
    case all
    case county(String)
    case merchant(String)
    case region(String)
    case subtree(String)
}

/// A day of the year as `MM-DD` (the filing deadline).
public struct FilingDeadline: Sendable, Equatable {
    public var month: Int
    public var day: Int

    public init(month: Int, day: Int) {
        self.month = month
        self.day = day
    }

    /// `MM-DD` of a day every year has (02-29 refused).
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 }), let month = Int(parts[0]), let day = Int(parts[1]),
            (1...12).contains(month), day >= 1, day <= [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        else { return nil }
        self.init(month: month, day: day)
    }

    var text: String { String(format: "%02d-%02d", month, day) }

    /// The instant the deadline of `year` has passed: 00:00 UTC+8 the day after.
    func passes(in year: Int) -> Date {
        var components = DateComponents()
        (components.year, components.month, components.day) = (year, month, day)
        let date = QuotaRules.calendar.date(from: components) ?? AlertRules.yearStart(year)
        return date.addingTimeInterval(86_400)
    }
}

enum AlertRules {
    /// The instant a plan fell behind its pro-rata line: the start (UTC+8) of the first day of
    /// `year` whose expected share, floor(day × 10000 / days), exceeds `completionBp`.
    static func behindSince(year: Int, completionBp: Int64) -> Date {
        let days = Int64(QuotaRules.daysInYear(year))
        // Smallest day d with d × 10000 / days (floored) > completionBp, i.e. d × 10000 ≥ (completionBp + 1) × days.
        let day = max(1, ((completionBp + 1) * days + 9999) / 10000)
        let start = yearStart(year)
        return start.addingTimeInterval(Double(day - 1) * 86400)
    }

    /// 00:00 on 1 January of `year` in UTC+8.
    static func yearStart(_ year: Int) -> Date {
        var components = DateComponents()
        components.year = year
        components.month = 1
        components.day = 1
        return QuotaRules.calendar.date(from: components)!
    }

    /// The tier (days) a document expiring on `expiresOn` is in on `today`, if any: the smallest
    /// tier not below the days left. Both are `YYYY-MM-DD` calendar dates.
    static func documentTier(expiresOn: CalendarDate, today: CalendarDate, tiers: [Int]) -> Int? {
        let left = expiresOn.dayNumber - today.dayNumber
        guard left >= 0 else { return nil }
        return tiers.sorted().first { left <= $0 }
    }
}

extension CalendarDate {
    /// Days since 1970-01-01.
    var dayNumber: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The calendar date of an instant in UTC+8.
    init(utc8 date: Date) {
        self.init(String(Date(timeIntervalSince1970: date.timeIntervalSince1970 + 8 * 3600).rfc3339.prefix(10)))!
    }

    var text: String {
        String(format: "%04d-%02d-%02d", year, month, day)
    }
}
