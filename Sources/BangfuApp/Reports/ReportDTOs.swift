import Foundation

/// The bodies the report routes write (API.md "Reports and alerts"); the CSV forms have the same
/// columns.
extension ReportsController {
    struct SalesOutput: Encodable {
        struct Row: Encodable {
            var key: String
            var label: String
            var orders: Int64
            var amountFen: Int64
        }
        var year: Int
        var groupBy: String
        @NullEncoded var countyCode: String?
        var rows: [Row]

        init(_ report: SalesReporting.SalesReport) {
            year = report.year
            groupBy = report.dimension.rawValue
            countyCode = report.countyCode
            rows = report.rows.map { Row(key: $0.key, label: $0.label, orders: $0.orders, amountFen: $0.amountFen) }
        }
    }

    struct QuotaOutput: Encodable {
        struct Row: Encodable {
            var key: String
            var label: String
            var reservedFen: Int64
            var completedFen: Int64
            var completionBp: Int64

            init(_ row: ReportStore.QuotaRow) {
                key = row.key
                label = row.label
                reservedFen = row.reservedFen
                completedFen = row.completedFen
                completionBp = row.completionBp
            }
        }
        var year: Int
        var groupBy: String
        var rows: [Row]
    }

    /// The alert list: each `Alert` as it is (its `since` in RFC 3339).
    struct AlertsOutput: Encodable {
        var items: [Alert]
    }
}
