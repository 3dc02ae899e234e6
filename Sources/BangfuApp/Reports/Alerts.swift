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

    public init() {}
}

enum AlertKind: String, CaseIterable, Codable, Sendable {
    case slowMoving = "slow_moving"
    case behindSchedule = "behind_schedule"
    case shipmentOverdue = "shipment_overdue"
    case paymentOverdue = "payment_overdue"
    case certificateExpiring = "certificate_expiring"
    case documentExpiring = "document_expiring"
}

struct Alert: Sendable, Equatable, Encodable {
    var kind: AlertKind
    var subjectType: String
    var subjectId: String
    var detail: String
    @Millis var since: Date
}

/// Whose alerts: everything (admins), one county (its officer), one merchant.
enum AlertScope: Sendable, Equatable {
    case all
    case county(String)
    case merchant(String)
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

/// Reads each kind of alert with an indexed query.
struct AlertStore: Sendable {
    func alerts(
        _ kinds: Set<AlertKind>, scope: AlertScope, settings: AlertSettings, now: Date, limit: Int, in db: any SQLDatabase
    ) async throws -> [Alert] {
        var alerts: [Alert] = []
        let day = 86_400_000 as Int64
        func filter(_ column: [String: String]) -> SQLQueryString {
            switch scope {
            case .all: return ""
            case .county(let code):
                guard let name = column["county"] else { return " AND 1 = 0" }
                return " AND \(unsafeRaw: name) = \(bind: code)"
            case .merchant(let id):
                guard let name = column["merchant"] else { return " AND 1 = 0" }
                return " AND \(unsafeRaw: name) = \(bind: id)"
            }
        }
        if kinds.contains(.slowMoving) {
            let cutoff = now.millis - Int64(settings.slowMovingDays) * day
            let rows = try await db.raw(
                """
                SELECT id, title, COALESCE(last_ordered_at, created_at) AS since, last_ordered_at FROM products
                WHERE stock > 0 AND \(OnSale.sql("products", at: now))
                  AND ((last_ordered_at IS NOT NULL AND last_ordered_at <= \(bind: cutoff))
                    OR (last_ordered_at IS NULL AND created_at <= \(bind: cutoff)))
                  \(filter(["county": "origin_county_code", "merchant": "merchant_id"]))
                ORDER BY since LIMIT \(unsafeRaw: String(limit))
                """
            ).all().map { try $0.model(SlowMovingRow.self) }
            for row in rows {
                alerts.append(
                    Alert(
                        kind: .slowMoving, subjectType: "product", subjectId: row.id,
                        detail: "\(row.title): "
                            + (row.lastOrderedAt.map { "no order since \($0.rfc3339)" } ?? "never ordered")
                            + " (滞销风险)",
                        since: Date(millis: row.since + Int64(settings.slowMovingDays) * day)))
            }
        }
        if kinds.contains(.behindSchedule) {
            let year = QuotaRules.quotaYear(of: now)
            let expected = QuotaRules.expectedBp(at: now, year: year)
            if case .merchant = scope {} else {
                let rows = try await db.raw(
                    """
                    SELECT q.organization_id, o.name, q.reserved_fen, q.completed_fen FROM quota_plans q
                    JOIN buyer_organizations o ON o.id = q.organization_id
                    WHERE q.year = \(bind: Int64(year)) AND q.has_canteen = 1 AND q.completed_fen < q.reserved_fen
                      AND q.completed_fen * 10000 < \(bind: expected) * q.reserved_fen
                      \(filter(["county": "o.county_code"]))
                    ORDER BY q.organization_id LIMIT \(unsafeRaw: String(limit))
                    """
                ).all().map { try $0.model(BehindScheduleRow.self) }
                for row in rows {
                    let completion = row.reservedFen > 0 ? row.completedFen * 10000 / row.reservedFen : 0
                    alerts.append(
                        Alert(
                            kind: .behindSchedule, subjectType: "buyer_organization", subjectId: row.organizationId,
                            detail: "\(row.name): \(completion) bp completed, \(expected) bp expected by now",
                            since: AlertRules.behindSince(year: year, completionBp: completion)))
                }
            }
        }
        // Orders drive these two queries through their (status, time) indexes; names come from
        // subqueries, and a county's orders are those of its merchants.
        let orderScope: [String: String] = [
            "county": "o.merchant_id IN (SELECT id FROM merchants WHERE county_code", "merchant": "o.merchant_id",
        ]
        func orderFilter() -> SQLQueryString {
            switch scope {
            case .all: return ""
            case .county(let code): return " AND \(unsafeRaw: orderScope["county"]!) = \(bind: code))"
            case .merchant(let id): return " AND \(unsafeRaw: orderScope["merchant"]!) = \(bind: id)"
            }
        }
        if kinds.contains(.shipmentOverdue) {
            let rows = try await db.raw(
                """
                SELECT o.id, o.ship_by, o.status, (SELECT company_name FROM merchants WHERE id = o.merchant_id) AS company_name
                FROM orders o
                WHERE o.status IN ('placed', 'confirmed') AND o.ship_by < \(bind: now.millis)\(orderFilter())
                ORDER BY o.ship_by LIMIT \(unsafeRaw: String(limit))
                """
            ).all().map { try $0.model(ShipmentOverdueRow.self) }
            for row in rows {
                alerts.append(
                    Alert(
                        kind: .shipmentOverdue, subjectType: "order", subjectId: row.id,
                        detail: "\(row.companyName): still \(row.status.rawValue), to ship by \(row.shipBy.rfc3339)",
                        since: row.shipBy))
            }
        }
        if kinds.contains(.paymentOverdue) {
            let due = Int64(settings.paymentDueDays) * day
            let rows = try await db.raw(
                """
                SELECT o.id, o.accepted_at, o.total_fen - o.refunded_fen AS owed,
                  (SELECT name FROM buyer_organizations WHERE id = o.organization_id) AS name
                FROM orders o
                WHERE o.status = 'accepted' AND o.accepted_at < \(bind: now.millis - due)\(orderFilter())
                ORDER BY o.accepted_at LIMIT \(unsafeRaw: String(limit))
                """
            ).all().map { try $0.model(PaymentOverdueRow.self) }
            for row in rows {
                alerts.append(
                    Alert(
                        kind: .paymentOverdue, subjectType: "order", subjectId: row.id,
                        detail: "\(row.name) owes \(row.owed) fen, accepted \(Date(millis: row.acceptedAt).rfc3339)",
                        since: Date(millis: row.acceptedAt + due)))
            }
        }
        if kinds.contains(.certificateExpiring) {
            let window = Int64(settings.certificateExpiringDays) * day
            let rows = try await db.raw(
                """
                SELECT c.number, c.product_title, c.expires_at FROM certificates c
                JOIN products p ON p.certificate_number = c.number
                WHERE c.revoked_at IS NULL AND c.surrendered_at IS NULL AND c.expires_at > \(bind: now.millis) AND c.expires_at <= \(bind: now.millis + window)
                  \(filter(["county": "c.county_code", "merchant": "c.merchant_id"]))
                ORDER BY c.expires_at LIMIT \(unsafeRaw: String(limit))
                """
            ).all().map { try $0.model(CertificateExpiringRow.self) }
            for row in rows {
                alerts.append(
                    Alert(
                        kind: .certificateExpiring, subjectType: "certificate", subjectId: row.number,
                        detail: "\(row.productTitle): expires \(Date(millis: row.expiresAt).rfc3339)",
                        since: Date(millis: row.expiresAt - window)))
            }
        }
        if kinds.contains(.documentExpiring), let widest = settings.documentExpiringDays.max() {
            let today = CalendarDate(utc8: now)
            let last = CalendarDate(utc8: now.addingTimeInterval(Double(widest) * 86400))
            let rows = try await db.raw(
                """
                SELECT d.id, d.kind, d.expires_on, a.company_name FROM merchant_documents d
                JOIN merchant_applications a ON a.id = d.application_id
                WHERE a.merchant_id IS NOT NULL AND d.expires_on >= \(bind: today.text) AND d.expires_on <= \(bind: last.text)
                  \(filter(["county": "a.county_code", "merchant": "a.merchant_id"]))
                ORDER BY d.expires_on LIMIT \(unsafeRaw: String(limit))
                """
            ).all().map { try $0.model(DocumentExpiringRow.self) }
            for row in rows {
                guard let expires = CalendarDate(row.expiresOn),
                    let tier = AlertRules.documentTier(expiresOn: expires, today: today, tiers: settings.documentExpiringDays)
                else { continue }
                let start = AlertRules.yearStart(1970).addingTimeInterval(Double(expires.dayNumber - tier) * 86400)
                alerts.append(
                    Alert(
                        kind: .documentExpiring, subjectType: "merchant_document", subjectId: row.id,
                        detail: "\(row.companyName): \(row.kind) expires \(expires.text) (within \(tier) days)",
                        since: start))
            }
        }
        return Array(alerts.sorted { ($0.since, $0.subjectId) < ($1.since, $1.subjectId) }.prefix(limit))
    }
}

/// What each alert query selects. Times that alerts compute with stay integer milliseconds, as
/// the queries compare them.
extension AlertStore {
    private struct SlowMovingRow: RowModel {
        var id: String
        var title: String
        /// The last order, or the listing's creation when there was none.
        var since: Int64
        @OptionalMillis var lastOrderedAt: Date?

        static let columns = ["id", "title", "since", "last_ordered_at"]
    }

    private struct BehindScheduleRow: RowModel {
        var organizationId: String
        var name: String
        var reservedFen: Int64
        var completedFen: Int64

        static let columns = ["organization_id", "name", "reserved_fen", "completed_fen"]
    }

    private struct ShipmentOverdueRow: RowModel {
        var id: String
        @Millis var shipBy: Date
        var status: OrderStatus
        var companyName: String

        static let columns = ["id", "ship_by", "status", "company_name"]
    }

    private struct PaymentOverdueRow: RowModel {
        var id: String
        var acceptedAt: Int64
        var owed: Int64
        var name: String

        static let columns = ["id", "accepted_at", "owed", "name"]
    }

    private struct CertificateExpiringRow: RowModel {
        var number: String
        var productTitle: String
        var expiresAt: Int64

        static let columns = ["number", "product_title", "expires_at"]
    }

    private struct DocumentExpiringRow: RowModel {
        var id: String
        var kind: String
        /// `YYYY-MM-DD`.
        var expiresOn: String
        var companyName: String

        static let columns = ["id", "kind", "expires_on", "company_name"]
    }
}
