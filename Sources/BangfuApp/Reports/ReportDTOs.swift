import Foundation

/// The bodies the report routes write (API.md "Reports and alerts"); the CSV forms have the same
/// columns.
extension ReportsController {
    struct SalesOutput: Encodable {
        var year: Int
        var groupBy: String
        @NullEncoded var countyCode: String?
        var rows: [ReportStore.SalesRow]

        init(_ report: SalesReporting.SalesReport) {
            year = report.year
            groupBy = report.dimension.rawValue
            countyCode = report.countyCode
            rows = report.rows
        }
    }

    struct QuotaOutput: Encodable {
        /// What a line adds to the plans' sums: the completed share of the reservation.
        struct Completion: Encodable {
            var completionBp: Int64
        }
        typealias Row = Merged<ReportStore.QuotaRow, Completion>

        var year: Int
        var groupBy: String
        var rows: [Row]
    }

    /// The alert list: each `Alert` as it is (its `since` in RFC 3339).
    struct AlertsOutput: Encodable {
        var items: [Alert]
    }
}
