import Foundation

/// How a bulletin (通报) groups its units.
enum BulletinGrouping: String, Sendable, CaseIterable {
    case region, department, organization
}

/// What a bulletin line stands for, as the store groups by it: with `region`, the division one
/// level below the scope (a province's prefectures, a prefecture's counties; the provinces for
/// the whole country).
enum BulletinKey: Sendable, Equatable {
    /// `xx0000`: the province of the unit's region.
    case province
    /// `xxxx00`: the prefecture of the unit's region.
    case prefecture
    /// The unit's region code as it is.
    case region
    case department
    case organization
}

/// One bulletin line's sums, as `FilingStore.bulletinGroups` adds them up in the database.
struct BulletinGroup: RowModel, Equatable {
    var key: String
    /// The name of one of the group's units (the unit itself when grouped by organization).
    var name: String
    var units: Int64
    var filed: Int64
    var withoutOrders: Int64
    var inactiveAccounts: Int64
    var reservedFenHigh: Int64
    var reservedFenLow: Int64
    var completedFenHigh: Int64
    var completedFenLow: Int64
    var unionBudgetFenHigh: Int64
    var unionBudgetFenLow: Int64
    var unionCompletedFenHigh: Int64
    var unionCompletedFenLow: Int64

    /// An amount summed in two parts that cannot overflow in the database: the sum of each value
    /// divided by `unit` and the sum of the remainders (each below 10^9 in magnitude, so a billion
    /// units sum safely). `high × unit + low` is the exact sum, saturating at `Int64`'s bounds.
    enum Split {
        static let unit: Int64 = 1_000_000_000

        static func join(high: Int64, low: Int64) -> Int64 {
            let (scaled, overflow) = high.multipliedReportingOverflow(by: unit)
            let (sum, overflow2) = scaled.addingReportingOverflow(low)
            if overflow || overflow2 { return high < 0 || (high == 0 && low < 0) ? .min : .max }
            return sum
        }
    }

    var reservedFen: Int64 { Split.join(high: reservedFenHigh, low: reservedFenLow) }
    var completedFen: Int64 { Split.join(high: completedFenHigh, low: completedFenLow) }
    var unionBudgetFen: Int64 { Split.join(high: unionBudgetFenHigh, low: unionBudgetFenLow) }
    var unionCompletedFen: Int64 { Split.join(high: unionCompletedFenHigh, low: unionCompletedFenLow) }
}

/// A bulletin line (API.md `GET /api/v1/reports/bulletin`). Union purchasing is reported beside,
/// never inside, the completion (SPEC "Union purchasing").
struct BulletinRow: Sendable, Equatable, Encodable {
    var key, label: String
    /// Counts of its budget units: all, filed, not filed, without an order, without a login.
    var units, filed, notFiled, withoutOrders, inactiveAccounts: Int64
    var reservedFen, completedFen, completionBp: Int64
    var unionBudgetFen, unionCompletedFen: Int64
    var rank: Int
}

/// The bulletin's arithmetic, pure: what a line stands for, completion and the ranking.
enum BulletinRules {
    /// What the lines of a bulletin grouped by `grouping` inside `scope` (nil: the country) are.
    static func key(by grouping: BulletinGrouping, scope: String?) -> BulletinKey {
        switch grouping {
        case .organization: return .organization
        case .department: return .department
        case .region:
            switch scope.map(RegionRules.level(of:)) {
            case nil: return .province
            case .province?: return .prefecture
            case .prefecture?, .county?: return .region
            }
        }
    }

    /// The lines, ranked by completion (highest first; equal completions share a rank, the next
    /// rank skipping as many), then by key. A line's label is the unit's name when grouped by
    /// organization, else the region's name from `labels`, else the key.
    static func rows(_ groups: [BulletinGroup], by grouping: BulletinGrouping, labels: [String: String]) -> [BulletinRow] {
        var rows = groups.map { group in
            BulletinRow(
                key: group.key, label: grouping == .organization ? group.name : labels[group.key] ?? group.key,
                units: group.units, filed: group.filed, notFiled: max(0, group.units - group.filed),
                withoutOrders: group.withoutOrders, inactiveAccounts: group.inactiveAccounts, reservedFen: group.reservedFen,
                completedFen: group.completedFen,
                completionBp: group.reservedFen > 0 && group.completedFen >= 0
                    ? QuotaRules.mulDiv(group.completedFen, QuotaRules.fullBp, group.reservedFen, roundingUp: false) : 0,
                unionBudgetFen: group.unionBudgetFen, unionCompletedFen: group.unionCompletedFen, rank: 0)
        }
        rows.sort { ($0.completionBp, $1.key) > ($1.completionBp, $0.key) }
        for index in rows.indices {
            rows[index].rank =
                index > 0 && rows[index].completionBp == rows[index - 1].completionBp ? rows[index - 1].rank : index + 1
        }
        return rows
    }
}
