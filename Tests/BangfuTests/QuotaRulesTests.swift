import Foundation
import Testing
@testable import BangfuApp

@Suite("Quota plan validation")
struct QuotaValidationTests {
    func fields(_ input: QuotaPlanInput, minimum: Int64 = 1000, used: Int64 = 0) -> [String] {
        QuotaRules.problems(input, minimumRatioBp: minimum, alreadyUsedFen: used).map(\.field)
    }

    @Test func validPlanWithCanteen() {
        #expect(fields(.init(hasCanteen: true, canteenBudgetFen: 100_000_000, reservedRatioBp: 1000)) == [])
        #expect(fields(.init(hasCanteen: true, canteenBudgetFen: 1, reservedRatioBp: 10000)) == [])
        #expect(fields(.init(hasCanteen: true, canteenBudgetFen: QuotaRules.maximumBudgetFen, reservedRatioBp: 1000)) == [])
    }

    @Test func defaultMinimumIsTenPercent() {
        #expect(QuotaRules.defaultMinimumRatioBp == 1000)
        let problems = QuotaRules.problems(
            .init(hasCanteen: true, canteenBudgetFen: 100, reservedRatioBp: 999), alreadyUsedFen: 0)
        #expect(problems.map(\.field) == ["reservedRatioBp"])
    }

    @Test func budgetMustBePositiveAndBounded() {
        #expect(fields(.init(hasCanteen: true, canteenBudgetFen: 0, reservedRatioBp: 1000)) == ["canteenBudgetFen"])
        #expect(fields(.init(hasCanteen: true, canteenBudgetFen: -1, reservedRatioBp: 1000)) == ["canteenBudgetFen"])
        #expect(fields(.init(hasCanteen: true, canteenBudgetFen: QuotaRules.maximumBudgetFen + 1, reservedRatioBp: 1000))
            == ["canteenBudgetFen"])
        #expect(fields(.init(hasCanteen: true, canteenBudgetFen: .max, reservedRatioBp: 1000)) == ["canteenBudgetFen"])
        #expect(QuotaRules.maximumBudgetFen == 10_000_000_000_000)
    }

    @Test(arguments: [
        (Int64(999), false), (1000, true), (1001, true), (9999, true), (10000, true), (10001, false), (0, false), (-1000, false),
    ])
    func ratioBounds(ratio: Int64, valid: Bool) {
        let result = fields(.init(hasCanteen: true, canteenBudgetFen: 1000, reservedRatioBp: ratio))
        #expect(result == (valid ? [] : ["reservedRatioBp"]))
    }

    @Test func configurableMinimum() {
        #expect(fields(.init(hasCanteen: true, canteenBudgetFen: 1000, reservedRatioBp: 1499), minimum: 1500) == ["reservedRatioBp"])
        #expect(fields(.init(hasCanteen: true, canteenBudgetFen: 1000, reservedRatioBp: 1500), minimum: 1500) == [])
        let message = QuotaRules.problems(
            .init(hasCanteen: true, canteenBudgetFen: 1000, reservedRatioBp: 1), minimumRatioBp: 1500, alreadyUsedFen: 0)[0].message
        #expect(message == "must be between 1500 and 10000")
    }

    @Test func budgetNotBelowCommittedPlusCompleted() {
        let plan = QuotaPlanInput(hasCanteen: true, canteenBudgetFen: 5000, reservedRatioBp: 1000)
        #expect(fields(plan, used: 5000) == [])
        #expect(fields(plan, used: 4999) == [])
        #expect(fields(plan, used: 5001) == ["canteenBudgetFen"])
    }

    @Test func noCanteenHasNoBudgetNorRatio() {
        #expect(fields(.init(hasCanteen: false, canteenBudgetFen: 0, reservedRatioBp: 0)) == [])
        #expect(fields(.init(hasCanteen: false, canteenBudgetFen: 1, reservedRatioBp: 0)) == ["canteenBudgetFen"])
        #expect(fields(.init(hasCanteen: false, canteenBudgetFen: 0, reservedRatioBp: 1000)) == ["reservedRatioBp"])
        #expect(fields(.init(hasCanteen: false, canteenBudgetFen: -3, reservedRatioBp: -3)) == ["canteenBudgetFen", "reservedRatioBp"])
    }

    @Test func noCanteenRefusedOnceOrdersCount() {
        #expect(fields(.init(hasCanteen: false, canteenBudgetFen: 0, reservedRatioBp: 0), used: 1) == ["hasCanteen"])
    }

    @Test func severalProblemsAtOnce() {
        #expect(fields(.init(hasCanteen: true, canteenBudgetFen: 0, reservedRatioBp: 20000)) == ["canteenBudgetFen", "reservedRatioBp"])
    }
}

@Suite("Reserved share and progress")
struct QuotaArithmeticTests {
    static let reservedCases: [(budget: Int64, ratio: Int64, reserved: Int64)] = [
        // (budget, ratio, reserved)
        (0, 1000, 0),
        (1, 1000, 1),  // ceil(0.1)
        (9, 1000, 1),  // ceil(0.9)
        (10, 1000, 1),  // exact
        (11, 1000, 2),  // ceil(1.1)
        (9999, 1000, 1000),
        (10000, 1000, 1000),
        (10001, 1000, 1001),
        (10000, 1, 1),
        (10001, 1, 2),
        (123_456_789, 1234, 15_234_568),  // 15234567.7626 → up
        (100_000_000, 1000, 10_000_000),
        (1, 10000, 1),
        (1, 0, 0),
        (QuotaRules.maximumBudgetFen, 10000, 10_000_000_000_000),
        (QuotaRules.maximumBudgetFen, 9999, 9_999_000_000_000),
        (QuotaRules.maximumBudgetFen, 1, 1_000_000_000),
        (QuotaRules.maximumBudgetFen - 1, 1, 1_000_000_000),
        (QuotaRules.maximumBudgetFen - 1, 1000, 1_000_000_000_000),
        (Int64.max, 10000, Int64.max),
        (Int64.max, 9999, 9_222_449_699_651_090_330),
        (Int64.max, 1, 922_337_203_685_478),
    ]

    @Test(arguments: reservedCases)
    func reservedIsCeiling(budget: Int64, ratio: Int64, reserved: Int64) {
        #expect(QuotaRules.reservedFen(budget: budget, ratioBp: ratio) == reserved)
    }

    @Test func progressOfATypicalPlan() {
        let plan = QuotaPlanInput(hasCanteen: true, canteenBudgetFen: 100_000_000, reservedRatioBp: 1000)
        let progress = QuotaRules.progress(
            plan: plan, committedFen: 2_000_000, completedFen: 2_500_000, refundedFen: 100_000, expectedBp: 2500)
        #expect(progress == QuotaProgress(
            reservedFen: 10_000_000, committedFen: 2_000_000, completedFen: 2_500_000, refundedFen: 100_000,
            remainingBudgetFen: 95_500_000, completionBp: 2500, expectedBp: 2500, onTrack: true))
    }

    static let completionCases: [(completed: Int64, budget: Int64, expected: Int64, completionBp: Int64, onTrack: Bool)] = [
        // (completed, reserved via budget at 100 %, expected, completionBp, onTrack)
        (0, 3, 0, 0, true),
        (0, 3, 1, 0, false),
        (1, 3, 3333, 3333, true),  // floor(3333.33)
        (1, 3, 3334, 3333, false),
        (2, 3, 6666, 6666, true),  // floor(6666.67)
        (2, 3, 6667, 6666, false),
        (3, 3, 10000, 10000, true),
        (6, 3, 10000, 20000, true),  // not capped
        (9_999, 10_000, 9999, 9999, true),
        (9_999, 10_000, 10000, 9999, false),
        (QuotaRules.maximumBudgetFen, QuotaRules.maximumBudgetFen, 10000, 10000, true),
        (QuotaRules.maximumBudgetFen - 1, QuotaRules.maximumBudgetFen, 10000, 9999, false),
    ]

    @Test(arguments: completionCases)
    func completionIsFloor(completed: Int64, budget: Int64, expected: Int64, completionBp: Int64, onTrack: Bool) {
        let plan = QuotaPlanInput(hasCanteen: true, canteenBudgetFen: budget, reservedRatioBp: 10000)
        let progress = QuotaRules.progress(plan: plan, committedFen: 0, completedFen: completed, refundedFen: 0, expectedBp: expected)
        #expect(progress.reservedFen == budget)
        #expect(progress.completionBp == completionBp)
        #expect(progress.onTrack == onTrack)
    }

    @Test func completingTheShareIsOnTrackWhateverTheDate() {
        // budget 10, 10 %: reserved ceil(1) = 1
        let plan = QuotaPlanInput(hasCanteen: true, canteenBudgetFen: 10, reservedRatioBp: 1000)
        let progress = QuotaRules.progress(plan: plan, committedFen: 0, completedFen: 1, refundedFen: 0, expectedBp: 10000)
        #expect(progress.onTrack)
        #expect(progress.completionBp == 10000)
    }

    @Test func noCanteenIsOnTrackWithNothingToComplete() {
        let plan = QuotaPlanInput(hasCanteen: false, canteenBudgetFen: 0, reservedRatioBp: 0)
        let progress = QuotaRules.progress(plan: plan, committedFen: 0, completedFen: 0, refundedFen: 0, expectedBp: 10000)
        #expect(progress == QuotaProgress(
            reservedFen: 0, committedFen: 0, completedFen: 0, refundedFen: 0,
            remainingBudgetFen: 0, completionBp: 0, expectedBp: 10000, onTrack: true))
    }

    @Test func remainingBudgetIsExact() {
        let plan = QuotaPlanInput(hasCanteen: true, canteenBudgetFen: 1000, reservedRatioBp: 1000)
        #expect(QuotaRules.progress(plan: plan, committedFen: 400, completedFen: 600, refundedFen: 0, expectedBp: 0)
            .remainingBudgetFen == 0)
        #expect(QuotaRules.progress(plan: plan, committedFen: 1, completedFen: 0, refundedFen: 0, expectedBp: 0)
            .remainingBudgetFen == 999)
    }

    @Test func placement() {
        #expect(QuotaRules.placementProblem(checkoutTotalFen: 100, remainingBudgetFen: nil) == .planMissing)
        #expect(QuotaRules.placementProblem(checkoutTotalFen: 100, remainingBudgetFen: 100) == nil)
        #expect(QuotaRules.placementProblem(checkoutTotalFen: 101, remainingBudgetFen: 100) == .budgetExceeded)
        #expect(QuotaRules.placementProblem(checkoutTotalFen: 1, remainingBudgetFen: 0) == .budgetExceeded)
        #expect(PlacementQuotaProblem.planMissing.rawValue == "quota_plan_missing")
        #expect(PlacementQuotaProblem.budgetExceeded.rawValue == "quota_budget_exceeded")
    }
}

@Suite("Order sums")
struct QuotaTotalsTests {
    @Test func netAmount() {
        #expect(QuotaRules.netFen(totalFen: 1000, approvedRefundFen: 0) == 1000)
        #expect(QuotaRules.netFen(totalFen: 1000, approvedRefundFen: 250) == 750)
        #expect(QuotaRules.netFen(totalFen: 1000, approvedRefundFen: 1000) == 0)
    }

    @Test func eachStatusCountsWhereSpecSays() {
        for status in OrderStatus.allCases {
            let totals = QuotaRules.totals(of: [OrderAmounts(status: status, totalFen: 1000, approvedRefundFen: 100)], rule: .settled)
            switch status {
            case .placed, .confirmed, .shipped, .accepted:
                #expect(totals == QuotaTotals(committedFen: 900, completedFen: 0, refundedFen: 100), "\(status)")
            case .settled:
                #expect(totals == QuotaTotals(committedFen: 0, completedFen: 900, refundedFen: 100), "\(status)")
            case .rejected, .cancelled:
                #expect(totals == QuotaTotals(committedFen: 0, completedFen: 0, refundedFen: 100), "\(status)")
            }
        }
    }

    @Test func mixedOrders() {
        let orders = [
            OrderAmounts(status: .placed, totalFen: 1_000, approvedRefundFen: 0),
            OrderAmounts(status: .confirmed, totalFen: 2_000, approvedRefundFen: 0),
            OrderAmounts(status: .shipped, totalFen: 3_000, approvedRefundFen: 0),
            OrderAmounts(status: .accepted, totalFen: 4_000, approvedRefundFen: 500),
            OrderAmounts(status: .settled, totalFen: 5_000, approvedRefundFen: 1_000),
            OrderAmounts(status: .settled, totalFen: 6_000, approvedRefundFen: 6_000),
            OrderAmounts(status: .rejected, totalFen: 7_000, approvedRefundFen: 0),
            OrderAmounts(status: .cancelled, totalFen: 8_000, approvedRefundFen: 0),
        ]
        #expect(QuotaRules.totals(of: orders, rule: .settled) == QuotaTotals(committedFen: 9_500, completedFen: 4_000, refundedFen: 7_500))
        #expect(QuotaRules.totals(of: [], rule: .settled) == QuotaTotals())
    }

    @Test func progressFromTotals() {
        let plan = QuotaPlanInput(hasCanteen: true, canteenBudgetFen: 100_000, reservedRatioBp: 1000)
        let totals = QuotaTotals(committedFen: 3_000, completedFen: 5_000, refundedFen: 200)
        let progress = QuotaRules.progress(plan: plan, totals: totals, expectedBp: 5000)
        #expect(progress.completionBp == 5000)
        #expect(progress.onTrack)
        #expect(progress.remainingBudgetFen == 92_000)
        #expect(progress.refundedFen == 200)
    }
}

@Suite("Quota year in UTC+8")
struct QuotaCalendarTests {
    @Test func yearBoundaryIsSixteenHundredUTC() {
        #expect(QuotaRules.quotaYear(of: utc(2026, 12, 31, 16, 0, 0)) == 2027)
        #expect(QuotaRules.quotaYear(of: utc(2026, 12, 31, 15, 59, 59)) == 2026)
        #expect(QuotaRules.quotaYear(of: utc(2026, 12, 31, 15, 59, 59.999)) == 2026)
        #expect(QuotaRules.quotaYear(of: utc(2027, 1, 1, 0, 0, 0)) == 2027)
        #expect(QuotaRules.quotaYear(of: cst(2027, 1, 1)) == 2027)
        #expect(QuotaRules.quotaYear(of: cst(2026, 12, 31, 23, 59, 59)) == 2026)
    }

    @Test func expectedAtTheYearBoundary() {
        let newYear = utc(2026, 12, 31, 16)  // 2027-01-01 00:00 in UTC+8
        #expect(QuotaRules.expectedBp(at: newYear, year: 2026) == 10000)  // past year
        #expect(QuotaRules.expectedBp(at: newYear, year: 2027) == 27)  // day 1 of 365
        #expect(QuotaRules.expectedBp(at: newYear, year: 2028) == 0)  // future year
        let lastSecond = utc(2026, 12, 31, 15, 59, 59)
        #expect(QuotaRules.expectedBp(at: lastSecond, year: 2026) == 10000)  // Dec 31: 365/365
        #expect(QuotaRules.expectedBp(at: lastSecond, year: 2027) == 0)
    }

    static let expectedCases: [(date: Date, expected: Int64)] = [
        // (UTC+8 date, expected bp)
        (cst(2026, 1, 1), 27),  // floor(10000 / 365)
        (cst(2026, 1, 1, 23, 59, 59), 27),
        (cst(2026, 1, 2), 54),  // floor(20000 / 365) = 54.79
        (cst(2026, 2, 28), 1616),  // day 59: 1616.4
        (cst(2026, 3, 1), 1643),  // day 60: 1643.8
        (cst(2026, 7, 2, 12), 5013),  // day 183: 5013.7
        (cst(2026, 12, 30), 9972),  // day 364: 9972.6
        (cst(2026, 12, 31), 10000),
        (cst(2026, 12, 31, 23, 59, 59), 10000),
        (cst(2028, 1, 1), 27),  // leap: floor(10000 / 366) = 27.3
        (cst(2028, 2, 29), 1639),  // day 60 of 366: 1639.3
        (cst(2028, 3, 1), 1666),  // day 61: 1666.7
        (cst(2028, 7, 1), 5000),  // day 183 of 366: exactly 5000
        (cst(2028, 12, 30), 9972),  // day 365 of 366: 9972.7
        (cst(2028, 12, 31), 10000),  // day 366
    ]

    @Test(arguments: expectedCases)
    func expectedWithinTheYear(date: Date, expected: Int64) {
        let year = QuotaRules.quotaYear(of: date)
        #expect(QuotaRules.expectedBp(at: date, year: year) == expected)
    }

    @Test func leapYears() {
        #expect(QuotaRules.isLeapYear(2028))
        #expect(QuotaRules.isLeapYear(2024))
        #expect(QuotaRules.isLeapYear(2000))
        #expect(!QuotaRules.isLeapYear(2100))
        #expect(!QuotaRules.isLeapYear(2026))
        #expect(!QuotaRules.isLeapYear(2027))
        #expect(QuotaRules.daysInYear(2028) == 366)
        #expect(QuotaRules.daysInYear(2026) == 365)
        #expect(QuotaRules.dayOfYear(cst(2028, 12, 31)) == 366)
        #expect(QuotaRules.dayOfYear(cst(2026, 12, 31)) == 365)
    }

    /// Every day from 2024 to 2030, at the first and last second of the UTC+8 day, against an
    /// integer civil-calendar computation that does not use Foundation.
    @Test func everyDayAgreesWithIntegerCalendar() {
        let first = daysFromCivil(2024, 1, 1)
        let last = daysFromCivil(2030, 12, 31)
        for day in first...last {
            let civil = civilFromDays(day)
            let dayOfYear = day - daysFromCivil(civil.year, 1, 1) + 1
            let daysInYear = daysFromCivil(civil.year + 1, 1, 1) - daysFromCivil(civil.year, 1, 1)
            let expected = Int64(dayOfYear * 10000 / daysInYear)
            for date in [cst(civil.year, civil.month, civil.day), cst(civil.year, civil.month, civil.day, 23, 59, 59.5)] {
                #expect(QuotaRules.quotaYear(of: date) == civil.year)
                #expect(QuotaRules.dayOfYear(date) == dayOfYear)
                #expect(QuotaRules.daysInYear(civil.year) == daysInYear)
                #expect(QuotaRules.expectedBp(at: date, year: civil.year) == expected)
                #expect(QuotaRules.expectedBp(at: date, year: civil.year - 1) == 10000)
                #expect(QuotaRules.expectedBp(at: date, year: civil.year + 1) == 0)
            }
        }
    }
}

@Suite("Quota properties")
struct QuotaPropertyTests {
    /// 1000 random plans: reservedFen is the least integer r with r × 10000 ≥ budget × ratio.
    @Test func reservedIsTheLeastSufficientAmount() {
        var random = SplitMix64(seed: 0x00BA_46F0)
        for index in 0..<1000 {
            // Mix small budgets (where rounding shows) with budgets up to the maximum.
            let budget = index % 2 == 0
                ? Int64.random(in: 1...100_000, using: &random)
                : Int64.random(in: 1...QuotaRules.maximumBudgetFen, using: &random)
            let ratio = Int64.random(in: 1...10000, using: &random)
            let reserved = QuotaRules.reservedFen(budget: budget, ratioBp: ratio)
            let exact = product(budget, ratio)
            #expect(compare(product(reserved, 10000), exact) >= 0, "budget \(budget) ratio \(ratio)")
            #expect(compare(product(reserved - 1, 10000), exact) < 0, "budget \(budget) ratio \(ratio)")
            #expect(reserved <= budget)
            // completing exactly the share is 100 %; one fen less is below
            let plan = QuotaPlanInput(hasCanteen: true, canteenBudgetFen: budget, reservedRatioBp: ratio)
            let done = QuotaRules.progress(plan: plan, committedFen: 0, completedFen: reserved, refundedFen: 0, expectedBp: 10000)
            #expect(done.completionBp == 10000 && done.onTrack)
            let almost = QuotaRules.progress(plan: plan, committedFen: 0, completedFen: reserved - 1, refundedFen: 0, expectedBp: 10000)
            #expect(almost.completionBp < 10000 && !almost.onTrack)
        }
    }

    @Test func generatorIsDeterministic() {
        var a = SplitMix64(seed: 42)
        var b = SplitMix64(seed: 42)
        #expect((0..<10).map { _ in a.next() } == (0..<10).map { _ in b.next() })
        var zero = SplitMix64(seed: 0)
        #expect(zero.next() == 0xE220_A839_7B1D_CDAF)  // reference value of SplitMix64
    }
}
