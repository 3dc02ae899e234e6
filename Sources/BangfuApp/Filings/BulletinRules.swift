import Foundation

/// How a bulletin (通报) groups its units.
enum BulletinGrouping: String, Sendable, CaseIterable {
    case region, department, organization
}

/// One unit's figures as the bulletin reads them (a row of `FilingStore.bulletinUnits`).
struct BulletinUnit: RowModel, Equatable {
    var id: String
    var name: String
    var department: String
    var regionCode: String?
    @IntBool var filed: Bool
    @IntBool var hasOrders: Bool
    var inactiveAccounts: Int64
    var reservedFen: Int64
    var completedFen: Int64
}

/// A bulletin line (API.md `GET /api/v1/reports/bulletin`).
struct BulletinRow: Sendable, Equatable, Encodable {
    var key: String
    var label: String
    var units: Int64
    var filed: Int64
    var notFiled: Int64
    var withoutOrders: Int64
    var inactiveAccounts: Int64
    var reservedFen: Int64
    var completedFen: Int64
    var completionBp: Int64
    var rank: Int
}

/// The bulletin's arithmetic, pure: grouping, sums and the ranking by completion.
enum BulletinRules {
    /// The group of a unit: with `region`, the division one level below `scope` that holds it (a
    /// province's prefectures, a prefecture's counties; the provinces for the whole country).
    static func key(of unit: BulletinUnit, by grouping: BulletinGrouping, scope: String?) -> String {
        switch grouping {
        case .organization: return unit.id
        case .department: return unit.department
        case .region:
            guard let code = unit.regionCode, RegionRules.isWellFormed(code) else { return "unknown" }
            switch scope.map(RegionRules.level(of:)) {
            case nil: return RegionRules.province(of: code)
            case .province?: return String(code.prefix(4)) + "00"
            case .prefecture?, .county?: return code
            }
        }
    }

    /// The lines, ranked by completion (highest first; equal completions share a rank, the next
    /// rank skipping as many), then by key. Sums saturate rather than overflow.
    static func rows(_ units: [BulletinUnit], by grouping: BulletinGrouping, scope: String?, labels: [String: String])
        -> [BulletinRow]
    {
        var groups: [String: BulletinRow] = [:]
        for unit in units {
            let key = key(of: unit, by: grouping, scope: scope)
            var row =
                groups[key]
                ?? BulletinRow(
                    key: key, label: grouping == .organization ? unit.name : labels[key] ?? key, units: 0, filed: 0, notFiled: 0,
                    withoutOrders: 0, inactiveAccounts: 0, reservedFen: 0, completedFen: 0, completionBp: 0, rank: 0)
            row.units += 1
            if unit.filed { row.filed += 1 } else { row.notFiled += 1 }
            if !unit.hasOrders { row.withoutOrders += 1 }
            row.inactiveAccounts = saturating(row.inactiveAccounts, unit.inactiveAccounts)
            row.reservedFen = saturating(row.reservedFen, unit.reservedFen)
            row.completedFen = saturating(row.completedFen, unit.completedFen)
            groups[key] = row
        }
        var rows = groups.values.map { row in
            var row = row
            row.completionBp =
                row.reservedFen > 0 && row.completedFen >= 0
                ? QuotaRules.mulDiv(row.completedFen, QuotaRules.fullBp, row.reservedFen, roundingUp: false) : 0
            return row
        }
        rows.sort { ($0.completionBp, $1.key) > ($1.completionBp, $0.key) }
        for index in rows.indices {
            rows[index].rank =
                index > 0 && rows[index].completionBp == rows[index - 1].completionBp ? rows[index - 1].rank : index + 1
        }
        return rows
    }

    private static func saturating(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : sum
    }
}
