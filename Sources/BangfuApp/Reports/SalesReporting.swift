import Foundation

/// The sales and quota reports (API.md "Reports and alerts"): figures of one quota year, read from
/// the totals that settling orders keeps.
struct SalesReporting: UseCase {
    let services: AppServices

    init(_ services: AppServices) {
        self.services = services
    }

    struct SalesReport: Sendable {
        var year: Int
        var dimension: SalesRules.Dimension
        /// The county a county officer's figures are limited to; nil for an admin's.
        var countyCode: String?
        var rows: [ReportStore.SalesRow]
    }

    /// Sales of `year` (the current quota year when nil) grouped by `dimension`. A county
    /// officer's figures are those of products from their own county.
    func sales(year: Int?, by dimension: SalesRules.Dimension, for user: Identity) async throws -> SalesReport {
        let year = year ?? QuotaRules.quotaYear(of: clock.now)
        let scope = user.role == .county ? (user.countyCode ?? "-") : SalesRules.allScope
        let reports = self.reports
        let rows = try await database.read { db in
            try await reports.sales(year: year, dimension: dimension, scope: scope, in: db)
        }
        return SalesReport(year: year, dimension: dimension, countyCode: user.role == .county ? scope : nil, rows: rows)
    }

    struct QuotaReport: Sendable {
        var year: Int
        var rows: [ReportStore.QuotaRow]
    }

    /// Reserved and completed quota of `year` (the current quota year when nil), per organization
    /// or per department.
    func quota(year: Int?, byDepartment: Bool) async throws -> QuotaReport {
        let year = year ?? QuotaRules.quotaYear(of: clock.now)
        let reports = self.reports
        let rows = try await database.read { db in try await reports.quota(year: year, byDepartment: byDepartment, in: db) }
        return QuotaReport(year: year, rows: rows)
    }
}

extension ReportStore.QuotaRow {
    /// The completed share of the reservation in basis points, rounded down; 0 without one.
    var completionBp: Int64 {
        reservedFen > 0 ? QuotaRules.mulDiv(completedFen, QuotaRules.fullBp, reservedFen, roundingUp: false) : 0
    }
}
