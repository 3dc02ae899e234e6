import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import BangfuApp

/// Price monitoring (issue 20; SPEC "Price monitoring"): unit prices from the net content, the
/// leaf category's median over at least five listed products, `price_outlier` and `price_jump`
/// alerts for admins, the product's county officer and its merchant.
@Suite struct PriceMonitoringTests {
    @Test func unitPricesMediansAndJumps() {
        #expect(PriceRules.perKgFen(priceFen: 5_990, netContentGrams: 5_000) == 1_198)
        #expect(PriceRules.perKgFen(priceFen: 1, netContentGrams: 2_000) == 1)  // 0.5 fen rounds up
        #expect(PriceRules.perKgFen(priceFen: 1, netContentGrams: 2_001) == 0)
        #expect(PriceRules.perKgFen(priceFen: ProductRules.maxPriceFen, netContentGrams: 1) == ProductRules.maxPriceFen * 1000)
        #expect(PriceRules.perKgFen(priceFen: 100, netContentGrams: nil) == nil)
        #expect(PriceRules.median(count: 4, middle: [1, 2]) == nil)
        #expect(PriceRules.median(count: 5, middle: [1_200]) == 1_200)
        #expect(PriceRules.median(count: 6, middle: [1_200, 1_301]) == 1_251)
        #expect(PriceRules.middle(of: 5) == (2, 1) && PriceRules.middle(of: 6) == (2, 2))
        #expect(PriceRules.factor(percent: 30) == 130)
        let now = Date(timeIntervalSince1970: 1_780_000_000)
        let day = 86_400.0
        let history: [(priceFen: Int64, from: Date)] = [
            (900, now.addingTimeInterval(-90 * day)), (1_000, now.addingTimeInterval(-40 * day)), (1_100, now.addingTimeInterval(-10 * day)),
        ]
        // In effect when the window opened (1,000 since day −40), not the older 900.
        #expect(PriceRules.jumpBase(history: history, now: now) == 1_000)
        #expect(PriceRules.jumpBase(history: [], now: now) == nil)
        let specifications: [(String, Int64?)] = [
            ("500g/袋", 500), ("5kg/袋", 5_000), ("2.5kg/袋", 2_500), ("1L/桶", 1_000), ("500ml/瓶", 500), ("10斤/箱", 5_000),
            ("30枚/箱", nil), ("礼盒装", nil), ("0g", nil), ("250ml×12/箱", 3_000), ("12×250ml", 3_000), ("125g×4盒/箱", 500),
            ("2.5kg*4袋", 10_000), ("20穗/箱", nil),
        ]
        for (text, grams) in specifications { #expect(PriceRules.netContent(ofSpecification: text) == grams, "\(text)") }
    }

    @Test func mediansAlertsAndLocks() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let market = try await Market.make(test, client)
            let (cast, shop, other) = (market.cast, market.shop, market.other)
            // A bad net content is named; nothing is written.
            for grams in ["0", "100000001", "-5"] {
                let refused = try await client.call(
                    .post, "/api/v1/products", token: shop.token,
                    json: #"{"title":"米","categoryId":"rice","description":"d","specification":"5kg/袋","unit":"袋","priceFen":100,"stock":1,"originCountyCode":"230129","netContentGrams":\#(grams)}"#)
                #expect(refused.status == .unprocessableContent && refused.fields == ["netContentGrams"], "\(grams): \(refused.text)")
            }
            // Five 5 kg bags at 10 to 14 yuan a kg (the market's own rice has no net content).
            var bags: [String] = []
            for (index, price) in [5_000, 5_500, 6_000, 6_500].enumerated() {
                bags.append(try await shop.listed(test, client, title: "五常大米\(index)", price: Int64(price), netContentGrams: 5_000))
            }
            func unitPrice(_ id: String) async throws -> [String: Any]? {
                try await client.call(.get, "/api/v1/products/\(id)").object["unitPrice"] as? [String: Any]
            }
            // Four comparable products: no median yet.
            #expect(try await unitPrice(bags[0])?["perKgFen"] as? Int == 1_000)
            #expect(try await unitPrice(bags[0])?["categoryMedianPerKgFen"] is NSNull)
            #expect(try await client.call(.get, "/api/v1/products/\(market.rice)").object["unitPrice"] is NSNull)
            // A certified product without a net content may state the one its specification says
            // ("5kg/袋"), and no other.
            let other2500 = try await client.call(.patch, "/api/v1/products/\(market.rice)", token: shop.token, json: #"{"netContentGrams":2500}"#)
            #expect(other2500.status == .conflict && other2500.code == "certified_field_locked", "\(other2500.text)")
            let stated = try await client.call(.patch, "/api/v1/products/\(market.rice)", token: shop.token, json: #"{"netContentGrams":5000}"#)
            #expect(stated.status == .ok && stated.object["netContentGrams"] as? Int == 5_000, "\(stated.text)")
            #expect(try await unitPrice(market.rice)?["perKgFen"] as? Int == 200)
            func comparable() async throws -> Int64? {
                try await test.services.database.read { db in try await test.services.products.median(categoryId: "rice", in: db)?.comparable }
            }
            #expect(try await comparable() == 5)
            bags.append(try await shop.listed(test, client, title: "五常大米4", price: 7_000, netContentGrams: 5_000))
            // With the market's rice at 2 yuan a kg: 200, 1000, 1100, 1200, 1300, 1400.
            #expect(try await unitPrice(bags[0])?["categoryMedianPerKgFen"] as? Int == 1_150)
            // The other merchant's bag at 20 yuan a kg: the median moves to 1,200 and it is an outlier.
            let dear = try await other.listed(test, client, title: "长寿山贡米", price: 10_000, netContentGrams: 5_000)
            #expect(try await unitPrice(dear)?["categoryMedianPerKgFen"] as? Int == 1_200)
            func alerts(_ token: String, _ kind: String) async throws -> [String] {
                let answer = try await client.call(.get, "/api/v1/reports/alerts?kind=\(kind)", token: token)
                #expect(answer.status == .ok, "\(answer.text)")
                return answer.items.compactMap { $0["subjectId"] as? String }
            }
            #expect(try await alerts(cast.admin, "price_outlier") == [dear])
            #expect(try await alerts(cast.yanshouOfficer, "price_outlier") == [dear])
            #expect(try await alerts(other.token, "price_outlier") == [dear])
            #expect(try await alerts(cast.longjiangOfficer, "price_outlier").isEmpty)
            #expect(try await alerts(shop.token, "price_outlier").isEmpty)
            // Strictly more than 30 % above 1,200: 1,560 a kg is not an outlier, 1,561 is. (The
            // bag stays the dearest, so the median does not move.)
            func price(_ fen: Int) async throws {
                let changed = try await client.call(.patch, "/api/v1/products/\(dear)", token: other.token, json: #"{"priceFen":\#(fen)}"#)
                #expect(changed.status == .ok, "\(changed.text)")
            }
            try await price(7_800)
            #expect(try await alerts(cast.admin, "price_outlier").isEmpty)
            try await price(7_805)
            #expect(try await alerts(cast.admin, "price_outlier") == [dear])

            // A raise of 30 % is a jump; one of 9 % is not. Both move the median.
            let raise = try await client.call(.patch, "/api/v1/products/\(bags[0])", token: shop.token, json: #"{"priceFen":6500}"#)
            #expect(raise.status == .ok, "\(raise.text)")
            _ = try await client.call(.patch, "/api/v1/products/\(bags[1])", token: shop.token, json: #"{"priceFen":6000}"#)
            #expect(try await alerts(shop.token, "price_jump") == [bags[0]])
            #expect(try await alerts(cast.admin, "price_jump") == [bags[0]])
            #expect(try await alerts(other.token, "price_jump").isEmpty)
            #expect(try await unitPrice(dear)?["categoryMedianPerKgFen"] as? Int == 1_300)
            // A certified product's net content is locked like its other identifying fields.
            let locked = try await client.call(.patch, "/api/v1/products/\(bags[2])", token: shop.token, json: #"{"netContentGrams":2500}"#)
            #expect(locked.status == .conflict && locked.code == "certified_field_locked" && locked.fields == ["netContentGrams"])
            // A suspended merchant's products leave the median.
            let suspension = "/api/v1/merchants/\(other.merchantId)/suspension"
            #expect(try await client.call(.post, suspension, token: cast.admin, json: #"{"reason":"抽检不合格"}"#).status == .ok)
            // 200, 1200, 1200, 1300, 1300, 1400 without it.
            #expect(try await comparable() == 6)
            #expect(try await unitPrice(bags[2])?["categoryMedianPerKgFen"] as? Int == 1_250)
            #expect(try await alerts(cast.admin, "price_outlier").isEmpty)
            // Reinstated, it counts again.
            #expect(try await client.call(.delete, suspension, token: cast.admin).status == .ok)
            #expect(try await comparable() == 7)
            #expect(try await unitPrice(bags[2])?["categoryMedianPerKgFen"] as? Int == 1_300)
            // Delisting takes products out: below five comparable products there is no median.
            for bag in bags.suffix(3) {
                #expect(try await client.call(.delete, "/api/v1/products/\(bag)/listing", token: shop.token).status == .ok)
            }
            #expect(try await comparable() == 4)
            #expect(try await unitPrice(bags[0])?["categoryMedianPerKgFen"] is NSNull)
            #expect(try await test.services.checkInvariants() == [])
            // A jump is news for 30 days.
            test.clock.advance(seconds: 29 * 86_400)
            #expect(try await alerts(try await client.signIn("admin"), "price_jump") == [bags[0]])
            test.clock.advance(seconds: 2 * 86_400)
            #expect(try await alerts(try await client.signIn("admin"), "price_jump").isEmpty)
        }
    }
}
