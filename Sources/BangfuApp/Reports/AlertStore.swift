import Foundation
import SQLKit

/// Reads each kind of alert with an indexed query: one method per kind, each with the row it
/// selects beside it. Times that alerts compute with stay integer milliseconds, as the queries
/// compare them.
struct AlertStore: Sendable {
    /// `dueFrom`: only shipments and payments due at or after it (what falls due between then and
    /// `now`: the reminders ahead of time), not those long overdue.
    func alerts(
        _ kinds: Set<AlertKind>, scope: AlertScope, settings: AlertSettings, now: Date, dueFrom: Date? = nil, limit: Int,
        in db: any SQLDatabase
    ) async throws -> [Alert] {
        let query = Query(scope: scope, settings: settings, now: now, dueFrom: dueFrom, limit: limit, db: db)
        var alerts: [Alert] = []
        for kind in AlertKind.allCases where kinds.contains(kind) {
            switch kind {
            case .slowMoving: alerts += try await query.slowMoving()
            case .behindSchedule: alerts += try await query.behindSchedule()
            case .shipmentOverdue: alerts += try await query.shipmentOverdue()
            case .paymentOverdue: alerts += try await query.paymentOverdue()
            case .certificateExpiring: alerts += try await query.certificateExpiring()
            case .documentExpiring: alerts += try await query.documentExpiring()
            case .filingOverdue: alerts += try await query.filingOverdue()
            case .waiverPending: alerts += try await query.waiverPending()
            case .priceOutlier: alerts += try await query.priceOutlier()
            case .priceJump: alerts += try await query.priceJump()
            }
        }
        return Array(alerts.sorted { ($0.since, $0.subjectId) < ($1.since, $1.subjectId) }.prefix(limit))
    }

    /// One request's alert queries: the caller's scope, the operator's settings, the instant and
    /// the page size.
    private struct Query {
        let scope: AlertScope
        let settings: AlertSettings
        let now: Date
        let dueFrom: Date?
        let limit: Int
        let db: any SQLDatabase
        let day = 86_400_000 as Int64

        /// The scope as a condition on the named columns (none named: nothing in scope);
        /// `organization` names a buyer organization's id and region columns.
        func filter(county: String? = nil, merchant: String? = nil, organization: (id: String, region: String)? = nil)
            -> SQLQueryString
        {
            switch scope {
            case .all: return ""
            case .county(let code):
                guard let county else { return " AND 1 = 0" }
                return " AND \(unsafeRaw: county) = \(bind: code)"
            case .merchant(let id):
                guard let merchant else { return " AND 1 = 0" }
                return " AND \(unsafeRaw: merchant) = \(bind: id)"
            case .region(let code):
                guard let organization else { return " AND 1 = 0" }
                return " AND \(unsafeRaw: organization.region) LIKE \(bind: String(RegionRules.prefix(of: code)) + "%")"
            case .subtree(let root):
                guard let organization else { return " AND 1 = 0" }
                return " AND \(unsafeRaw: organization.id) IN (" + BuyerStore.subtreeSQL(of: root) + " SELECT id FROM tree)"
            }
        }

        /// Orders drive their queries through their (status, time) indexes; names come from
        /// subqueries, and a county's orders are those of its merchants. The scope's column is
        /// written `o.column || ''` so that SQLite never walks every order of a county's merchants
        /// (or a region's organizations) through their own index instead: measured at 1,000,000
        /// order items, 30 ms a kind for a county, against well under 1 ms.
        var orderFilter: SQLQueryString {
            switch scope {
            case .all: return ""
            case .county(let code): return " AND o.merchant_id || '' IN (SELECT id FROM merchants WHERE county_code = \(bind: code))"
            case .merchant(let id): return " AND o.merchant_id = \(bind: id)"
            case .region(let code):
                return " AND o.organization_id || '' IN (SELECT id FROM buyer_organizations WHERE region_code LIKE \(bind: String(RegionRules.prefix(of: code)) + "%"))"
            case .subtree(let root):
                return " AND o.organization_id || '' IN (" + BuyerStore.subtreeSQL(of: root) + " SELECT id FROM tree)"
            }
        }

        var pageLimit: SQLQueryString { " LIMIT \(unsafeRaw: String(limit))" }

        func rows<Row: RowModel>(_ type: Row.Type, _ sql: SQLQueryString) async throws -> [Row] {
            try await db.raw(sql + pageLimit).all().map { try $0.model(type) }
        }

        private struct SlowMovingRow: RowModel {
            var id: String
            var title: String
            /// The last order, or the listing's creation when there was none.
            var since: Int64
            @OptionalMillis var lastOrderedAt: Date?
        }

        func slowMoving() async throws -> [Alert] {
            let cutoff = now.millis - Int64(settings.slowMovingDays) * day
            return try await rows(
                SlowMovingRow.self,
                """
                SELECT id, title, COALESCE(last_ordered_at, created_at) AS since, last_ordered_at FROM products
                WHERE stock > 0 AND \(OnSale.sql("products", at: now))
                  AND COALESCE(last_ordered_at, created_at) <= \(bind: cutoff)
                  \(filter(county: "origin_county_code", merchant: "merchant_id"))
                ORDER BY COALESCE(last_ordered_at, created_at)
                """
            ).map { row in
                Alert(
                    kind: .slowMoving, subjectType: "product", subjectId: row.id,
                    detail: "\(row.title): " + (row.lastOrderedAt.map { "no order since \($0.rfc3339)" } ?? "never ordered")
                        + " (滞销风险)",
                    since: Date(millis: row.since + Int64(settings.slowMovingDays) * day))
            }
        }

        private struct BehindScheduleRow: RowModel {
            var organizationId: String
            var name: String
            var reservedFen: Int64
            var completedFen: Int64
        }

        /// Buyers' plans behind the expected line; not a merchant's concern.
        func behindSchedule() async throws -> [Alert] {
            if case .merchant = scope { return [] }
            let year = QuotaRules.quotaYear(of: now)
            let expected = QuotaRules.expectedBp(at: now, year: year)
            return try await rows(
                BehindScheduleRow.self,
                """
                SELECT q.organization_id, o.name, q.reserved_fen, q.completed_fen FROM quota_plans q
                JOIN buyer_organizations o ON o.id = q.organization_id
                WHERE q.year = \(bind: Int64(year)) AND q.has_canteen = 1 AND q.completed_fen < q.reserved_fen
                  AND q.completed_fen * 10000 < \(bind: expected) * q.reserved_fen
                  \(filter(county: "o.county_code", organization: ("o.id", "o.region_code")))
                ORDER BY q.organization_id
                """
            ).map { row in
                let completion = row.reservedFen > 0 ? row.completedFen * 10000 / row.reservedFen : 0
                return Alert(
                    kind: .behindSchedule, subjectType: "buyer_organization", subjectId: row.organizationId,
                    detail: "\(row.name): \(completion) bp completed, \(expected) bp expected by now",
                    since: AlertRules.behindSince(year: year, completionBp: completion))
            }
        }

        private struct ShipmentOverdueRow: RowModel {
            var id: String
            @Millis var shipBy: Date
            var status: OrderStatus
            var companyName: String
        }

        func shipmentOverdue() async throws -> [Alert] {
            try await rows(
                ShipmentOverdueRow.self,
                """
                SELECT o.id, o.ship_by, o.status, (SELECT company_name FROM merchants WHERE id = o.merchant_id) AS company_name
                FROM orders o
                WHERE o.status IN ('placed', 'confirmed') AND o.ship_by < \(bind: now.millis)
                  AND o.ship_by >= \(bind: dueFrom?.millis ?? Int64.min)\(orderFilter)
                ORDER BY o.ship_by
                """
            ).map { row in
                Alert(
                    kind: .shipmentOverdue, subjectType: "order", subjectId: row.id,
                    detail: "\(row.companyName): still \(row.status.rawValue), to ship by \(row.shipBy.rfc3339)",
                    since: row.shipBy)
            }
        }

        private struct PaymentOverdueRow: RowModel {
            var id: String
            var acceptedAt: Int64
            var owed: Int64
            var name: String
        }

        func paymentOverdue() async throws -> [Alert] {
            let due = Int64(settings.paymentDueDays) * day
            return try await rows(
                PaymentOverdueRow.self,
                """
                SELECT o.id, o.accepted_at, o.total_fen - o.refunded_fen AS owed,
                  (SELECT name FROM buyer_organizations WHERE id = o.organization_id) AS name
                FROM orders o
                WHERE o.status = 'accepted' AND o.accepted_at < \(bind: now.millis - due)
                  AND o.accepted_at >= \(bind: dueFrom.map { $0.millis - due } ?? Int64.min)\(orderFilter)
                ORDER BY o.accepted_at
                """
            ).map { row in
                Alert(
                    kind: .paymentOverdue, subjectType: "order", subjectId: row.id,
                    detail: "\(row.name) owes \(row.owed) fen, accepted \(Date(millis: row.acceptedAt).rfc3339)",
                    since: Date(millis: row.acceptedAt + due))
            }
        }

        private struct OrganizationRow: RowModel {
            var id: String
            var name: String
        }

        /// Active organizations without a filing of the current year once its deadline passed
        /// (with `dueFrom`: those whose deadline passes between then and `now`, for reminders).
        func filingOverdue() async throws -> [Alert] {
            if case .merchant = scope { return [] }
            let year = QuotaRules.quotaYear(of: now)
            let passes = settings.filingDeadline.passes(in: year)
            guard passes <= now, passes >= (dueFrom ?? .distantPast) else { return [] }
            return try await rows(
                OrganizationRow.self,
                """
                SELECT o.id, o.name FROM buyer_organizations o
                WHERE o.status = 'active'
                  AND NOT EXISTS (SELECT 1 FROM quota_plans q WHERE q.organization_id = o.id AND q.year = \(bind: Int64(year)))
                  \(filter(county: "o.county_code", organization: ("o.id", "o.region_code")))
                ORDER BY o.id
                """
            ).map { row in
                Alert(
                    kind: .filingOverdue, subjectType: "buyer_organization", subjectId: row.id,
                    detail: "\(row.name): no \(year) filing after the deadline \(settings.filingDeadline.text)", since: passes)
            }
        }

        private struct WaiverRow: RowModel {
            var organizationId: String
            var name: String
            var reservedRatioBp: Int64
            @Millis var updatedAt: Date
        }

        /// Filings of the current year whose waiver waits for finance.
        func waiverPending() async throws -> [Alert] {
            if case .merchant = scope { return [] }
            let year = QuotaRules.quotaYear(of: now)
            return try await rows(
                WaiverRow.self,
                """
                SELECT q.organization_id, o.name, q.reserved_ratio_bp, q.updated_at FROM quota_plans q
                JOIN buyer_organizations o ON o.id = q.organization_id
                WHERE q.year = \(bind: Int64(year)) AND q.waiver_status = 'requested'
                  \(filter(county: "o.county_code", organization: ("o.id", "o.region_code")))
                ORDER BY q.updated_at
                """
            ).map { row in
                Alert(
                    kind: .waiverPending, subjectType: "buyer_organization", subjectId: row.organizationId,
                    detail: "\(row.name): \(year) filing at \(row.reservedRatioBp) bp waits for a waiver decision",
                    since: row.updatedAt)
            }
        }

        private struct CertificateExpiringRow: RowModel {
            var number: String
            var productTitle: String
            var expiresAt: Int64
        }

        func certificateExpiring() async throws -> [Alert] {
            let window = Int64(settings.certificateExpiringDays) * day
            return try await rows(
                CertificateExpiringRow.self,
                """
                SELECT c.number, c.product_title, c.expires_at FROM certificates c
                JOIN products p ON p.id = c.product_id AND p.certificate_number = c.number
                WHERE c.revoked_at IS NULL AND c.surrendered_at IS NULL AND c.expires_at > \(bind: now.millis) AND c.expires_at <= \(bind: now.millis + window)
                  \(filter(county: "c.county_code", merchant: "c.merchant_id"))
                ORDER BY c.expires_at
                """
            ).map { row in
                Alert(
                    kind: .certificateExpiring, subjectType: "certificate", subjectId: row.number,
                    detail: "\(row.productTitle): expires \(Date(millis: row.expiresAt).rfc3339)",
                    since: Date(millis: row.expiresAt - window))
            }
        }

        private struct PriceOutlierRow: RowModel {
            var id: String
            var title: String
            var perKgFen: Int64
            var medianPerKgFen: Int64
            var since: Int64
        }

        /// Products on sale whose unit price lies more than `--price-outlier-percent` above their
        /// leaf category's median: for each category with a median (a handful of rows), a range
        /// read of its unit-price index above the bound. Since the product's latest change.
        func priceOutlier() async throws -> [Alert] {
            let factor = PriceRules.factor(percent: settings.priceOutlierPercent)
            return try await rows(
                PriceOutlierRow.self,
                """
                SELECT p.id, p.title, p.per_kg_fen, m.median_per_kg_fen, p.updated_at AS since
                FROM category_price_medians m JOIN products p ON p.category_id = m.category_id
                WHERE m.median_per_kg_fen IS NOT NULL AND p.per_kg_fen > (m.median_per_kg_fen * \(bind: factor)) / 100
                  AND \(OnSale.sql("p", at: now))
                  \(filter(county: "p.origin_county_code", merchant: "p.merchant_id"))
                ORDER BY since
                """
            ).map { row in
                Alert(
                    kind: .priceOutlier, subjectType: "product", subjectId: row.id,
                    detail: "\(row.title): \(row.perKgFen) fen/kg, the category's median \(row.medianPerKgFen) fen/kg (价格偏高)",
                    since: Date(millis: row.since))
            }
        }

        private struct PriceJumpRow: RowModel {
            var id: String
            var title: String
            var priceFen: Int64
            var priceJumpBaseFen: Int64
            var since: Int64
        }

        /// Products on sale whose latest price change, within the last 30 days, raised the price
        /// more than `--price-jump-percent` above its lowest of the 30 days before (read on the
        /// change-time index). Since the change.
        func priceJump() async throws -> [Alert] {
            let factor = PriceRules.factor(percent: settings.priceJumpPercent)
            let cutoff = now.millis - Int64(PriceRules.jumpWindowDays) * day
            return try await rows(
                PriceJumpRow.self,
                """
                SELECT id, title, price_fen, price_jump_base_fen, price_jump_at AS since FROM products p
                WHERE p.price_jump_at >= \(bind: cutoff) AND p.price_fen > (p.price_jump_base_fen * \(bind: factor)) / 100
                  AND \(OnSale.sql("p", at: now))
                  \(filter(county: "p.origin_county_code", merchant: "p.merchant_id"))
                ORDER BY since
                """
            ).map { row in
                Alert(
                    kind: .priceJump, subjectType: "product", subjectId: row.id,
                    detail: "\(row.title): \(row.priceFen) fen, up from \(row.priceJumpBaseFen) fen within 30 days (价格异动)",
                    since: Date(millis: row.since))
            }
        }

        private struct DocumentExpiringRow: RowModel {
            var id: String
            var kind: String
            /// `YYYY-MM-DD`.
            var expiresOn: String
            var companyName: String
        }

        /// Each document once, in the narrowest tier of `--document-expiring-days` it has entered.
        func documentExpiring() async throws -> [Alert] {
            guard let widest = settings.documentExpiringDays.max() else { return [] }
            let today = CalendarDate(utc8: now)
            let last = CalendarDate(utc8: now.addingTimeInterval(Double(widest) * 86400))
            return try await rows(
                DocumentExpiringRow.self,
                """
                SELECT d.id, d.kind, d.expires_on, a.company_name FROM merchant_documents d
                JOIN merchant_applications a ON a.id = d.application_id
                WHERE a.merchant_id IS NOT NULL AND d.expires_on >= \(bind: today.text) AND d.expires_on <= \(bind: last.text)
                  \(filter(county: "a.county_code", merchant: "a.merchant_id"))
                ORDER BY d.expires_on
                """
            ).compactMap { row in
                guard let expires = CalendarDate(row.expiresOn),
                    let tier = AlertRules.documentTier(expiresOn: expires, today: today, tiers: settings.documentExpiringDays)
                else { return nil }
                let start = AlertRules.yearStart(1970).addingTimeInterval(Double(expires.dayNumber - tier) * 86400)
                return Alert(
                    kind: .documentExpiring, subjectType: "merchant_document", subjectId: row.id,
                    detail: "\(row.companyName): \(row.kind) expires \(expires.text) (within \(tier) days)",
                    since: start)
            }
        }
    }
}
