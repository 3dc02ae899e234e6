import Testing
@testable import BangfuApp

@Suite("Checkout validation")
struct CheckoutValidationTests {
    func fields(_ items: [(productId: String, quantity: Int64)], _ days: Int? = nil) -> [String] {
        CheckoutRules.problems(items: items, shipWithinDays: days).map(\.field)
    }

    @Test func validCheckout() {
        #expect(fields([("p1", 1), ("p2", 100_000)]) == [])
        #expect(fields([("p1", 3)], 7) == [])
        #expect(fields([("p1", 3)], 15) == [])
        #expect(fields([("p1", 3)], 30) == [])
    }

    @Test func itemsCount() {
        #expect(fields([]) == ["items"])
        let hundred = (0..<100).map { (productId: "p\($0)", quantity: Int64(1)) }
        #expect(fields(hundred) == [])
        let tooMany = (0..<101).map { (productId: "p\($0)", quantity: Int64(0)) }
        #expect(fields(tooMany) == ["items"])  // lines are not checked beyond the limit
    }

    @Test(arguments: [(Int64(0), false), (1, true), (2, true), (99_999, true), (100_000, true), (100_001, false), (-1, false), (.max, false), (.min, false)])
    func quantity(quantity: Int64, valid: Bool) {
        #expect(fields([("a", 1), ("b", 1), ("c", quantity)]) == (valid ? [] : ["items[2].quantity"]))
    }

    @Test func duplicatesAreRefusedOnTheLaterLine() {
        let problems = CheckoutRules.problems(items: [("a", 1), ("b", 1), ("a", 2), ("a", 3)], shipWithinDays: nil)
        #expect(problems.map(\.field) == ["items[2].productId", "items[3].productId"])
        #expect(problems[0].message.contains("items[0]"))
    }

    @Test func emptyProductId() {
        #expect(fields([("", 1)]) == ["items[0].productId"])
        #expect(fields([("", 1), ("", 1)]) == ["items[0].productId", "items[1].productId"])
    }

    @Test(arguments: [0, 1, 6, 8, 14, 16, 29, 31, -7, 365])
    func shipWithinDaysOutsideTheSet(days: Int) {
        #expect(fields([("a", 1)], days) == ["shipWithinDays"])
    }

    @Test func shipWithinDaysDefault() {
        #expect(CheckoutRules.shipWithinDays(nil) == 7)
        #expect(CheckoutRules.shipWithinDays(30) == 30)
    }

    @Test func everyProblemIsReported() {
        #expect(fields([("a", 0), ("a", 1)], 10) == ["items[0].quantity", "items[1].productId", "shipWithinDays"])
        #expect(fields([], 3) == ["items", "shipWithinDays"])
    }
}

@Suite("Checkout split per merchant")
struct CheckoutSplitTests {
    @Test func oneGroupPerMerchantInFirstAppearanceOrder() throws {
        let lines = [
            PricedLine(productId: "rice", merchantId: "m2", unitPriceFen: 5_990, quantity: 10),
            PricedLine(productId: "fungus", merchantId: "m1", unitPriceFen: 3_800, quantity: 3),
            PricedLine(productId: "soy", merchantId: "m2", unitPriceFen: 1_250, quantity: 4),
            PricedLine(productId: "honey", merchantId: "m3", unitPriceFen: 8_800, quantity: 1),
        ]
        let split = try CheckoutRules.split(lines)
        #expect(split.groups.map(\.merchantId) == ["m2", "m1", "m3"])
        #expect(split.groups[0].lines.map(\.line.productId) == ["rice", "soy"])
        #expect(split.groups[0].lines.map(\.amountFen) == [59_900, 5_000])
        #expect(split.groups.map(\.totalFen) == [64_900, 11_400, 8_800])
        #expect(split.totalFen == 85_100)
        #expect(split.totalFen == split.groups.reduce(0) { $0 + $1.totalFen })
    }

    @Test func emptyCheckout() throws {
        let split = try CheckoutRules.split([])
        #expect(split.groups.isEmpty)
        #expect(split.totalFen == 0)
    }

    @Test func largestAllowedAmountsFit() throws {
        let lines = (0..<100).map {
            PricedLine(productId: "p\($0)", merchantId: "m\($0 % 7)", unitPriceFen: 10_000_000_000, quantity: 100_000)
        }
        let split = try CheckoutRules.split(lines)
        #expect(split.totalFen == 100 * 1_000_000_000_000_000)
        #expect(split.groups.count == 7)
    }

    @Test func lineOverflowIsReported() {
        let lines = [PricedLine(productId: "gold", merchantId: "m", unitPriceFen: Int64.max / 2, quantity: 3)]
        #expect(throws: CheckoutSplitError.amountOverflow(productId: "gold")) { try CheckoutRules.split(lines) }
    }

    @Test func sumOverflowIsReported() {
        let half = Int64.max / 2 + 1
        let sameMerchant = [
            PricedLine(productId: "a", merchantId: "m", unitPriceFen: half, quantity: 1),
            PricedLine(productId: "b", merchantId: "m", unitPriceFen: half, quantity: 1),
        ]
        #expect(throws: CheckoutSplitError.amountOverflow(productId: "b")) { try CheckoutRules.split(sameMerchant) }
        let twoMerchants = [
            PricedLine(productId: "a", merchantId: "m1", unitPriceFen: half, quantity: 1),
            PricedLine(productId: "b", merchantId: "m2", unitPriceFen: half, quantity: 1),
        ]
        #expect(throws: CheckoutSplitError.amountOverflow(productId: "b")) { try CheckoutRules.split(twoMerchants) }
    }

    @Test func randomSplitsKeepEveryLineAndSum() throws {
        var random = SplitMix64(seed: 2026)
        for _ in 0..<300 {
            let count = Int.random(in: 1...100, using: &random)
            let lines = (0..<count).map { index in
                PricedLine(
                    productId: "p\(index)", merchantId: "m\(Int.random(in: 0..<5, using: &random))",
                    unitPriceFen: Int64.random(in: 1...1_000_000, using: &random),
                    quantity: Int64.random(in: 1...100_000, using: &random))
            }
            let split = try CheckoutRules.split(lines)
            let flattened = split.groups.flatMap(\.lines)
            #expect(Set(flattened.map(\.line)) == Set(lines))
            #expect(flattened.count == lines.count)
            #expect(Set(split.groups.map(\.merchantId)).count == split.groups.count)
            for group in split.groups {
                #expect(group.lines.allSatisfy { $0.line.merchantId == group.merchantId && $0.amountFen == $0.line.unitPriceFen * $0.line.quantity })
                #expect(group.totalFen == group.lines.reduce(0) { $0 + $1.amountFen })
            }
            #expect(split.totalFen == lines.reduce(0) { $0 + $1.unitPriceFen * $1.quantity })
        }
    }
}
