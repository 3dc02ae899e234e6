import Foundation

/// How settled orders count in the sales report (API.md "Reports"): net of approved refunds, by
/// the product's origin county, its top-level category, the merchant and the month of placing
/// (UTC+8), each also within the origin county for its county officer.
enum SalesRules {
    enum Dimension: String, CaseIterable, Sendable {
        case county
        case category
        case merchant
        case month
    }

    /// The whole platform's figures; a county's own figures use its code as the scope.
    static let allScope = "*"

    /// One settled item as the report sees it.
    struct Line: Sendable, Equatable {
        var countyCode, categoryId, merchantId: String
        var amountFen: Int64
    }

    /// One change to a maintained total.
    struct Contribution: Sendable, Hashable {
        var scope: String
        var dimension: Dimension
        var key: String
        var orders: Int64
        var amountFen: Int64
    }

    /// Splits `amount` over `weights` in proportion, exactly: floors first, then the remaining
    /// fen one each to the largest remainders (earlier lines first on ties). The parts sum to
    /// `amount`; all zero weights split evenly the same way.
    static func allocate(_ amount: Int64, over weights: [Int64]) -> [Int64] {
        guard !weights.isEmpty else { return [] }
        let total = weights.reduce(0, +)
        let weights = total > 0 ? weights : weights.map { _ in 1 }
        let sum = weights.reduce(0, +)
        var parts: [Int64] = []
        var remainders: [(Int64, Int)] = []
        for (index, weight) in weights.enumerated() {
            let (high, low) = amount.magnitude.multipliedFullWidth(by: weight.magnitude)
            let (quotient, remainder) = sum.magnitude.dividingFullWidth((high, low))
            parts.append(Int64(quotient))
            remainders.append((Int64(remainder), index))
        }
        var left = amount.magnitude - parts.reduce(0) { $0 + $1.magnitude }
        for (_, index) in remainders.sorted(by: { $0.0 != $1.0 ? $0.0 > $1.0 : $0.1 < $1.1 }) where left > 0 {
            parts[index] += 1
            left -= 1
        }
        return amount < 0 ? parts.map { -$0 } : parts
    }

    /// `YYYY-MM` of an instant in UTC+8.
    static func month(of date: Date) -> String {
        String(Date(timeIntervalSince1970: date.timeIntervalSince1970 + 8 * 3600).rfc3339.prefix(7))
    }

    /// What one order adds to the totals when `amount` of it (its net amount at settlement, or a
    /// later refund as a negative amount) is spread over its lines; `countsOrder` adds 1 to
    /// `orders` for every total the order reaches (at settlement, not for refunds).
    static func contributions(lines: [Line], amount: Int64, month: String, countsOrder: Bool) -> [Contribution] {
        let parts = allocate(amount, over: lines.map(\.amountFen))
        var sums: [Contribution: Int64] = [:]
        for (line, part) in zip(lines, parts) {
            for scope in [allScope, line.countyCode] {
                let keys: [(Dimension, String)] = [
                    (.county, line.countyCode), (.category, line.categoryId), (.merchant, line.merchantId), (.month, month),
                ]
                for (dimension, key) in keys {
                    sums[Contribution(scope: scope, dimension: dimension, key: key, orders: 0, amountFen: 0), default: 0] += part
                }
            }
        }
        return sums.map { slot, amount in
            Contribution(
                scope: slot.scope, dimension: slot.dimension, key: slot.key, orders: countsOrder ? 1 : 0, amountFen: amount)
        }.sorted { ($0.scope, $0.dimension.rawValue, $0.key) < ($1.scope, $1.dimension.rawValue, $1.key) }
    }
}
