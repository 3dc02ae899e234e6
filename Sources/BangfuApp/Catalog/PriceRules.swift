import Foundation

/// Price monitoring (价格监测, SPEC "Price monitoring"): unit prices from the stated net content,
/// the leaf category's median, and when a price is an outlier or a jump. Pure: no database.
enum PriceRules {
    /// The largest net content accepted: 100 tonnes (or 100 m³) in grams (millilitres).
    static let maxNetContentGrams: Int64 = 100_000_000
    /// A median is shown and compared against only over at least this many comparable products.
    static let minimumComparable: Int64 = 5
    /// A jump is a raise within this many days.
    static let jumpWindowDays = 30

    static func checkNetContent(_ v: inout Validator, _ grams: Int64?) {
        if let grams, !(1...maxNetContentGrams).contains(grams) {
            v.fail("netContentGrams", "must be a whole number of grams (or millilitres) from 1 to \(maxNetContentGrams)")
        }
    }

    /// The price of a kilogram (or litre) in fen, rounded half up; nil without a net content.
    /// At most 10^10 fen × 1000 / 1 g: no overflow.
    static func perKgFen(priceFen: Int64, netContentGrams: Int64?) -> Int64? {
        guard let grams = netContentGrams, grams > 0, priceFen >= 0 else { return nil }
        let (scaled, overflow) = priceFen.multipliedReportingOverflow(by: 1000)
        guard !overflow else { return nil }
        return (scaled + grams / 2) / grams
    }

    /// The median of a category's `count` unit prices from its middle one (odd count) or two
    /// (even count, their mean rounded half up); nil below `minimumComparable` products.
    static func median(count: Int64, middle: [Int64]) -> Int64? {
        guard count >= minimumComparable, let low = middle.first, let high = middle.last else { return nil }
        return low + (high - low + 1) / 2
    }

    /// Where the middle of `count` sorted prices starts, and how many to read there.
    static func middle(of count: Int64) -> (offset: Int64, take: Int64) {
        ((count - 1) / 2, count % 2 == 0 ? 2 : 1)
    }

    /// What a base is multiplied by, over 100, to give the alerts' bound: a value is above the
    /// base by more than `percent` when value × 100 > base × factor, which for whole fen is
    /// value > floor(base × factor / 100), the form the alert queries compare (so exactly
    /// `percent` above is not an alert). At most 10^13 × 1,100: no BIGINT overflow.
    static func factor(percent: Int) -> Int64 { 100 + Int64(percent) }

    /// The lowest price the product had at any moment of the `jumpWindowDays` before `now`, from its
    /// history (oldest first, each price with the instant it took effect): the prices set within
    /// the window and the one in effect when it opened. A new price is a jump when it exceeds this
    /// by more than the operator's percentage.
    static func jumpBase(history: [(priceFen: Int64, from: Date)], now: Date) -> Int64? {
        let windowStart = now.addingTimeInterval(-Double(jumpWindowDays) * 86_400)
        let inWindow = history.filter { $0.from >= windowStart }.map(\.priceFen)
        let atStart = history.last { $0.from < windowStart }.map(\.priceFen)
        return (inWindow + (atStart.map { [$0] } ?? [])).min()
    }

    /// The net content a specification states, for data that has none of its own (the demo and
    /// `bangfu seed`, and what a certified product may still state): "500g/袋", "5kg", "2.5kg/袋",
    /// "1L/瓶", "250ml", "10斤/箱" (a jin is 500 g), and packs of several: "250ml×12/箱" and
    /// "12×250ml" are 3 L, "125g×4盒/箱" 500 g. Nil when it states none ("30枚/箱").
    static func netContent(ofSpecification text: String) -> Int64? {
        let lower = Array(text.lowercased())
        let units: [(String, Double)] = [
            ("kg", 1000), ("千克", 1000), ("公斤", 1000), ("ml", 1), ("毫升", 1), ("g", 1), ("克", 1), ("l", 1000), ("升", 1000),
            ("斤", 500),
        ]
        let times: Set<Character> = ["×", "x", "*", "＊", "✕"]
        func number(before end: Int) -> (value: Double, start: Int)? {
            var start = end
            while start > 0, lower[start - 1].isASCII, lower[start - 1].isNumber || lower[start - 1] == "." { start -= 1 }
            guard start < end, let value = Double(String(lower[start..<end])) else { return nil }
            return (value, start)
        }
        func count(after index: Int) -> Double? {
            guard index < lower.count, times.contains(lower[index]) else { return nil }
            var end = index + 1
            while end < lower.count, lower[end].isASCII, lower[end].isNumber { end += 1 }
            return Double(String(lower[(index + 1)..<end]))
        }
        for (unit, grams) in units {
            let pattern = Array(unit)
            guard pattern.count <= lower.count,
                let at = (0...(lower.count - pattern.count)).first(where: { Array(lower[$0..<($0 + pattern.count)]) == pattern }),
                let (value, start) = number(before: at), value > 0
            else { continue }
            // "×12" after the unit, or "12×" before the number.
            let packs = count(after: at + pattern.count) ?? (start >= 2 && times.contains(lower[start - 1]) ? number(before: start - 1)?.value : nil) ?? 1
            let total = (value * grams * max(packs, 1)).rounded()
            guard total >= 1, total <= Double(maxNetContentGrams) else { return nil }
            return Int64(total)
        }
        return nil
    }
}
