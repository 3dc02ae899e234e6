import Foundation

/// The body of `PUT /buyer-organizations/{id}/quota-plans/{year}` (API.md), absent numbers read as 0.
struct QuotaPlanInput: Sendable, Hashable {
    var hasCanteen: Bool
    var canteenBudgetFen: Int64
    var reservedRatioBp: Int64
}

/// Committed, completed and refunded sums of one organization's orders in one quota year.
struct QuotaTotals: Sendable, Hashable {
    var committedFen: Int64 = 0
    var completedFen: Int64 = 0
    var refundedFen: Int64 = 0
}

/// What the quota aggregation needs to know about one order.
struct OrderAmounts: Sendable, Hashable {
    var status: OrderStatus
    var totalFen: Int64
    var approvedRefundFen: Int64
    /// Whether one of the organization's members rated it (only the rule `settled_and_rated` asks).
    var rated = false
}

/// When a purchase counts as completed (SPEC "Ratings"; the operator's `--completion-rule`):
/// `settled` (the default) counts every settled order in `completedFen`; `settled_and_rated`
/// (Guangxi) only settled orders that are rated, a settled unrated one staying in `committedFen`.
public enum CompletionRule: String, Sendable, Hashable, CaseIterable, Codable {
    case settled
    case settledAndRated = "settled_and_rated"
}

/// The plan sum an order's net amount counts in.
enum QuotaSum: Sendable, Hashable {
    case committed, completed
}

/// A plan's progress as answered by `GET .../quota-plans/{year}` (SPEC "Its progress").
struct QuotaProgress: Sendable, Equatable {
    var reservedFen: Int64
    var committedFen: Int64
    var completedFen: Int64
    var refundedFen: Int64
    var remainingBudgetFen: Int64
    var completionBp: Int64
    var expectedBp: Int64
    var onTrack: Bool
}

/// Why placing a checkout is refused on quota grounds (API.md "Orders", 409 codes).
enum PlacementQuotaProblem: String, Sendable, Hashable {
    /// No plan for the current quota year: 409 `quota_plan_missing`.
    case planMissing = "quota_plan_missing"
    /// The checkout total exceeds `remainingBudgetFen`: 409 `quota_budget_exceeded`.
    case budgetExceeded = "quota_budget_exceeded"
}

/// The yearly quota plan (预留份额) rules of SPEC "Buyer organizations and the yearly quota plan".
enum QuotaRules {
    /// 10 000 basis points = 100 %.
    static let fullBp: Int64 = 10_000

    /// The policy minimum ratio by default: 1000 bp = 10 % (SPEC: "at least the policy minimum
    /// (1000 bp = 10%, configurable by the operator)").
    static let defaultMinimumRatioBp: Int64 = 1_000

    /// The largest accepted `canteenBudgetFen`: 10^13 fen = 100 billion yuan, far above any
    /// canteen, and small enough that every sum and product of the quota arithmetic stays in Int64.
    static let maximumBudgetFen: Int64 = 10_000_000_000_000

    /// China Standard Time, the quota year's time zone (API.md "A quota year is a calendar year in
    /// China Standard Time (UTC+8)"). A fixed offset, no daylight saving.
    static let timeZone: TimeZone = TimeZone(secondsFromGMT: 8 * 3600)!

    /// A Gregorian calendar in UTC+8.
    static var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    // MARK: Validation

    /// Problems of a plan declaration (SPEC: ratio at least the minimum; 「无食堂」 has no budget and no
    /// share; "A plan's budget cannot be lowered below what is already committed plus completed").
    ///
    /// - `hasCanteen == false`: budget and ratio must be 0 (the HTTP layer maps absent to 0), and
    ///   nothing may already be committed or completed that year (reported on `hasCanteen`).
    /// - `hasCanteen == true`: 0 < budget ≤ `maximumBudgetFen`, `minimumRatioBp` ≤ ratio ≤ 10000,
    ///   budget ≥ `alreadyUsedFen` (committed + completed of that year).
    static func problems(
        _ input: QuotaPlanInput, minimumRatioBp: Int64 = defaultMinimumRatioBp, alreadyUsedFen: Int64
    ) -> [FieldProblem] {
        var problems: [FieldProblem] = []
        if !input.hasCanteen {
            if input.canteenBudgetFen != 0 {
                problems.append(.init(field: "canteenBudgetFen", message: "must be 0 or absent when hasCanteen is false"))
            }
            if input.reservedRatioBp != 0 {
                problems.append(.init(field: "reservedRatioBp", message: "must be 0 or absent when hasCanteen is false"))
            }
            if alreadyUsedFen > 0 {
                problems.append(.init(
                    field: "hasCanteen",
                    message: "cannot be false while \(alreadyUsedFen) fen are already committed or completed this year"))
            }
            return problems
        }
        if input.canteenBudgetFen <= 0 {
            problems.append(.init(field: "canteenBudgetFen", message: "must be greater than 0"))
        } else if input.canteenBudgetFen > maximumBudgetFen {
            problems.append(.init(field: "canteenBudgetFen", message: "must be at most \(maximumBudgetFen)"))
        } else if input.canteenBudgetFen < alreadyUsedFen {
            problems.append(.init(
                field: "canteenBudgetFen",
                message: "cannot be below the \(alreadyUsedFen) fen already committed or completed this year"))
        }
        let upper = fullBp
        if input.reservedRatioBp < minimumRatioBp || input.reservedRatioBp > upper {
            problems.append(.init(field: "reservedRatioBp", message: "must be between \(minimumRatioBp) and \(upper)"))
        }
        return problems
    }

    // MARK: Arithmetic

    /// `reservedFen` = ceil(canteenBudgetFen × reservedRatioBp / 10000) (SPEC), exact for every
    /// budget ≥ 0 and ratio in 0...10000 (128-bit intermediate product; the result never exceeds
    /// the budget).
    static func reservedFen(budget: Int64, ratioBp: Int64) -> Int64 {
        precondition(budget >= 0, "budget must not be negative")
        precondition((0...fullBp).contains(ratioBp), "ratio must be within 0...10000 bp")
        return mulDiv(budget, ratioBp, fullBp, roundingUp: true)
    }

    /// An order's net amount: its total less its approved refunds (SPEC "An order's net amount").
    static func netFen(totalFen: Int64, approvedRefundFen: Int64) -> Int64 {
        totalFen - approvedRefundFen
    }

    /// Where an order's net amount counts: `placed`, `confirmed`, `shipped`, `accepted` in
    /// committed; `settled` in completed, unless the rule is `settled_and_rated` and nobody rated
    /// it yet (then committed: the money is spent but the purchase not yet complete); `rejected`
    /// and `cancelled` nowhere.
    static func sum(of status: OrderStatus, rated: Bool, rule: CompletionRule) -> QuotaSum? {
        switch status {
        case .placed, .confirmed, .shipped, .accepted: .committed
        case .settled: rule == .settled || rated ? .completed : .committed
        case .rejected, .cancelled: nil
        }
    }

    /// What a plan's committed and completed sums change by when an order's net amount `before`
    /// counted in one sum and `after` counts in another (or the same, or none): settling, rating,
    /// refunding and cancelling all move money this way.
    static func change(from before: (sum: QuotaSum?, net: Int64), to after: (sum: QuotaSum?, net: Int64))
        -> (committed: Int64, completed: Int64)
    {
        func amount(_ side: (sum: QuotaSum?, net: Int64), in sum: QuotaSum) -> Int64 { side.sum == sum ? side.net : 0 }
        return (
            amount(after, in: .committed) - amount(before, in: .committed),
            amount(after, in: .completed) - amount(before, in: .completed)
        )
    }

    /// Sums orders per SPEC: committed and completed as `sum(of:rated:rule:)` places each net
    /// amount; `refundedFen` = every approved refund, whatever the order's status.
    static func totals(of orders: [OrderAmounts], rule: CompletionRule) -> QuotaTotals {
        var totals = QuotaTotals()
        for order in orders {
            let net = netFen(totalFen: order.totalFen, approvedRefundFen: order.approvedRefundFen)
            switch sum(of: order.status, rated: order.rated, rule: rule) {
            case .committed?: totals.committedFen += net
            case .completed?: totals.completedFen += net
            case nil: break
            }
            totals.refundedFen += order.approvedRefundFen
        }
        return totals
    }

    /// Progress of a plan (SPEC "Its progress"):
    /// `remainingBudgetFen` = budget − committed − completed (not clamped: it is exact);
    /// `completionBp` = floor(completed × 10000 / reservedFen), not capped at 10000;
    /// `onTrack` = completionBp ≥ expectedBp, or completed ≥ reservedFen.
    /// With no reserved share (「无食堂」, reservedFen = 0) completionBp is 0 and onTrack is true:
    /// there is nothing to complete.
    static func progress(
        plan: QuotaPlanInput, committedFen: Int64, completedFen: Int64, refundedFen: Int64, expectedBp: Int64
    ) -> QuotaProgress {
        let budget = plan.hasCanteen ? plan.canteenBudgetFen : 0
        let reserved = plan.hasCanteen ? reservedFen(budget: budget, ratioBp: plan.reservedRatioBp) : 0
        let completionBp: Int64
        let onTrack: Bool
        if reserved == 0 {
            completionBp = 0
            onTrack = true
        } else {
            precondition(completedFen >= 0, "completedFen must not be negative")
            completionBp = mulDiv(completedFen, fullBp, reserved, roundingUp: false)
            onTrack = completionBp >= expectedBp || completedFen >= reserved
        }
        return QuotaProgress(
            reservedFen: reserved,
            committedFen: committedFen,
            completedFen: completedFen,
            refundedFen: refundedFen,
            remainingBudgetFen: budget - committedFen - completedFen,
            completionBp: completionBp,
            expectedBp: expectedBp,
            onTrack: onTrack)
    }

    /// Same as `progress(plan:committedFen:completedFen:refundedFen:expectedBp:)` from aggregated totals.
    static func progress(plan: QuotaPlanInput, totals: QuotaTotals, expectedBp: Int64) -> QuotaProgress {
        progress(
            plan: plan, committedFen: totals.committedFen, completedFen: totals.completedFen,
            refundedFen: totals.refundedFen, expectedBp: expectedBp)
    }

    /// Placing a checkout (SPEC: "Placing an order requires a plan for the current year, and is
    /// refused (`quota_budget_exceeded`) if its total exceeds `remainingBudgetFen`"). The total is the
    /// whole checkout's, since a checkout is placed all or nothing. A 「无食堂」 plan has a remaining
    /// budget of 0, so any order is refused with `quota_budget_exceeded`.
    static func placementProblem(checkoutTotalFen: Int64, remainingBudgetFen: Int64?) -> PlacementQuotaProblem? {
        guard let remaining = remainingBudgetFen else { return .planMissing }
        return checkoutTotalFen > remaining ? .budgetExceeded : nil
    }

    // MARK: Calendar

    /// The quota year of an instant: its calendar year in UTC+8 (API.md "Conventions"; SPEC "An
    /// order counts in the quota year (UTC+8) in which it was placed").
    static func quotaYear(of date: Date) -> Int {
        calendar.component(.year, from: date)
    }

    /// Gregorian leap year rule.
    static func isLeapYear(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    /// 365 or 366.
    static func daysInYear(_ year: Int) -> Int {
        isLeapYear(year) ? 366 : 365
    }

    /// The day of `date`'s year in UTC+8, 1 on January 1st.
    static func dayOfYear(_ date: Date) -> Int {
        calendar.ordinality(of: .day, in: .year, for: date)!
    }

    /// `expectedBp` = floor(days elapsed in the year, today included, in UTC+8 × 10000 / days in the
    /// year) (API.md "quota-plans/{year}"): 27 on January 1st of a 365-day year, 10000 on December 31st;
    /// 0 for a year that has not begun, 10000 for a year that is over.
    static func expectedBp(at date: Date, year: Int) -> Int64 {
        let current = quotaYear(of: date)
        if year > current { return 0 }
        if year < current { return fullBp }
        return Int64(dayOfYear(date)) * fullBp / Int64(daysInYear(year))
    }

    // MARK: Helpers

    /// a × b / c for a, b ≥ 0 and c > 0 with a 128-bit intermediate, floored or ceiled; saturates at
    /// Int64.max (never reached within the validated ranges).
    static func mulDiv(_ a: Int64, _ b: Int64, _ c: Int64, roundingUp: Bool) -> Int64 {
        precondition(a >= 0 && b >= 0 && c > 0)
        let product = UInt64(a).multipliedFullWidth(by: UInt64(b))
        let divisor = UInt64(c)
        guard product.high < divisor else { return .max }
        let (quotient, remainder) = divisor.dividingFullWidth(product)
        var result = quotient
        if roundingUp && remainder > 0 {
            let (sum, overflow) = quotient.addingReportingOverflow(1)
            if overflow { return .max }
            result = sum
        }
        return result > UInt64(Int64.max) ? .max : Int64(result)
    }
}
