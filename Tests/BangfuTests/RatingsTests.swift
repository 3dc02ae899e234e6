import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import BangfuApp

/// Ratings (issue 20; SPEC "Ratings"): a member of the buying organization rates an accepted or
/// settled order once, never a contractor; its merchant answers once; profiles average the last
/// 365 days to two decimals; anyone reads a merchant's ratings, never who gave them.
@Suite struct RatingsTests {
    static func body(_ quality: Int, _ delivery: Int, _ service: Int, comment: String? = nil) -> String {
        #"{"quality":\#(quality),"delivery":\#(delivery),"service":\#(service)\#(comment.map { #","comment":"\#($0)""# } ?? "")}"#
    }

    @Test func membersRateOnceTheMerchantAnswersOnceAndProfilesAverage() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let market = try await Market.make(test, client)
            let (shop, canteen) = (market.shop.token, market.canteen.token)
            func order() async throws -> String {
                try #require(try await client.place(canteen, [(market.rice, 1)]).orderIds.first)
            }
            let first = try await order()
            let rate = "/api/v1/orders/\(first)/rating"
            let good = Self.body(5, 4, 4, comment: "米很好，送货准时")
            // Not before the goods are accepted; strangers learn nothing; other roles are refused.
            let early = try await client.call(.post, rate, token: canteen, json: good)
            #expect(early.status == .conflict && early.code == "invalid_transition" && early.fields == ["status"], "\(early.text)")
            #expect(try await client.call(.post, rate, token: market.stranger.token, json: good).status == .notFound)
            #expect(try await client.call(.post, rate, token: shop, json: good).status == .forbidden)
            #expect(try await client.call(.post, rate, json: good).status == .unauthorized)
            try await client.walk(first, buyer: canteen, merchant: shop, to: "accepted", amountFen: 0)
            // Each bad field is named; nothing is written.
            let cases: [(String, [String])] = [
                (Self.body(0, 4, 4), ["quality"]), (Self.body(5, 6, 4), ["delivery"]), (Self.body(5, 4, -1), ["service"]),
                (#"{"quality":5,"delivery":4}"#, ["service"]),
                (Self.body(5, 4, 4, comment: String(repeating: "好", count: 501)), ["comment"]),
                (Self.body(5, 4, 4, comment: "bad\\u0007bell"), ["comment"]),
            ]
            for (body, fields) in cases {
                let refused = try await client.call(.post, rate, token: canteen, json: body)
                #expect(refused.status == .unprocessableContent && refused.fields == fields, "\(body): \(refused.text)")
            }
            // A contractor accepts goods but does not rate them.
            let outsourced = #"{"canteenMode":"outsourced","canteenBudgetFen":10000000,"reservedRatioBp":1500}"#
            #expect(try await client.call(.put, market.canteen.planPath, token: canteen, json: outsourced).status == .ok)
            let members = "/api/v1/buyer-organizations/\(market.canteen.organizationId)/members"
            let cook = #"{"username":"cook-r","password":"correct horse 1","displayName":"厨师","memberRole":"contractor"}"#
            #expect(try await client.call(.post, members, token: canteen, json: cook).status == .created)
            let contractor = try await client.signIn("cook-r")
            #expect(try await client.call(.post, rate, token: contractor, json: good).status == .forbidden)

            let rated = try await client.call(.post, rate, token: canteen, json: good)
            #expect(rated.status == .created && rated.object["quality"] as? Int == 5, "\(rated.text)")
            #expect(rated.object["orderId"] as? String == first && rated.object["id"] is String)
            #expect(rated.object["comment"] as? String == "米很好，送货准时" && rated.object["reply"] is NSNull)
            let again = try await client.call(.post, rate, token: canteen, json: Self.body(1, 1, 1))
            #expect(again.status == .conflict && again.code == "already_rated")
            // The merchant is told; the order shows its rating.
            #expect(try await client.inbox(shop).items.contains { $0["kind"] as? String == "order.rated" && $0["subjectId"] as? String == first })
            let shown = try await client.call(.get, "/api/v1/orders/\(first)", token: canteen)
            #expect((shown.object["rating"] as? [String: Any])?["delivery"] as? Int == 4)

            // The merchant answers once; nobody else does.
            let reply = rate + "/reply"
            #expect(try await client.call(.post, reply, token: market.other.token, json: #"{"text":"谢谢"}"#).status == .notFound)
            #expect(try await client.call(.post, reply, token: canteen, json: #"{"text":"谢谢"}"#).status == .forbidden)
            #expect(try await client.call(.post, reply, token: shop, json: #"{"text":"  "}"#).fields == ["text"])
            let answered = try await client.call(.post, reply, token: shop, json: #"{"text":"感谢支持"}"#)
            #expect(answered.status == .ok && answered.object["reply"] as? String == "感谢支持", "\(answered.text)")
            #expect(try await client.inbox(canteen).items.contains { $0["kind"] as? String == "order.rating_replied" && $0["subjectId"] as? String == first })
            let twice = try await client.call(.post, reply, token: shop, json: #"{"text":"再次感谢"}"#)
            #expect(twice.status == .conflict && twice.code == "already_replied")
            let unrated = try await order()
            try await client.walk(unrated, buyer: canteen, merchant: shop, to: "accepted", amountFen: 0)
            #expect(try await client.call(.post, "/api/v1/orders/\(unrated)/rating/reply", token: shop, json: #"{"text":"x"}"#).status == .notFound)

            // Two more ratings (a settled order, by a purchaser): the profile averages to two decimals.
            let settled = try await order()
            try await client.walk(settled, buyer: canteen, merchant: shop, to: "settled", amountFen: 1_000)
            test.clock.advance(seconds: 60)  // newest first is by the time of rating
            #expect(try await client.call(.post, "/api/v1/orders/\(settled)/rating", token: canteen, json: Self.body(4, 5, 3)).status == .created)
            let purchaser = #"{"username":"buyer-r","password":"correct horse 1","displayName":"采购员","memberRole":"purchaser"}"#
            #expect(try await client.call(.post, members, token: canteen, json: purchaser).status == .created)
            test.clock.advance(seconds: 60)
            #expect(try await client.call(.post, "/api/v1/orders/\(unrated)/rating", token: try await client.signIn("buyer-r"), json: Self.body(5, 5, 4)).status == .created)
            let profile = try await client.call(.get, "/api/v1/merchants/\(market.shop.merchantId)")
            let summary = try #require(profile.object["rating"] as? [String: Any], "\(profile.text)")
            #expect(summary["count"] as? Int == 3 && summary["quality"] as? Double == 4.67)
            #expect(summary["delivery"] as? Double == 4.67 && summary["service"] as? Double == 3.67)
            #expect((try await client.call(.get, "/api/v1/merchants/\(market.other.merchantId)").object["rating"]) is NSNull)
            // Anyone reads them, newest first, pages on, never the rater.
            let page = try await client.call(.get, "/api/v1/merchants/\(market.shop.merchantId)/ratings?limit=2")
            #expect(page.items.count == 2 && page.object["nextCursor"] is String)
            #expect(page.items.allSatisfy { $0["raterId"] == nil && $0["organizationId"] == nil && $0["orderId"] == nil })
            let cursor = try #require(page.object["nextCursor"] as? String)
            let rest = try await client.call(.get, "/api/v1/merchants/\(market.shop.merchantId)/ratings?limit=2&cursor=\(cursor)")
            #expect(rest.items.count == 1 && rest.items.first?["reply"] as? String == "感谢支持" && rest.items.first?["quality"] as? Int == 5)
            // A cursor that was not issued by the list is refused, a control character included.
            let forged = Paging.cursor(tag: "ratings", position: "1|\u{0}")
            #expect(try await client.call(.get, "/api/v1/merchants/\(market.shop.merchantId)/ratings?cursor=\(forged)").status == .badRequest)
            #expect(try await client.call(.get, "/api/v1/merchants/nobody/ratings").status == .notFound)
            // A year and a day later, none counts any more.
            test.clock.advance(seconds: 366 * 86_400)
            #expect(try await client.call(.get, "/api/v1/merchants/\(market.shop.merchantId)").object["rating"] is NSNull)
        }
    }

    @Test func averagesAreExactToTwoDecimals() {
        #expect(RatingRules.average(sum: 14, count: 3) == 4.67)
        #expect(RatingRules.average(sum: 11, count: 3) == 3.67)
        #expect(RatingRules.average(sum: 10, count: 4) == 2.5)
        #expect(RatingRules.average(sum: 5, count: 1) == 5)
        #expect(RatingRules.average(sum: 0, count: 0) == 0)
        #expect(RatingRules.problems(quality: 1, delivery: 5, service: 3).isEmpty)
        #expect(RatingRules.problems(quality: nil, delivery: 0, service: 6).map(\.field) == ["quality", "delivery", "service"])
    }
}

/// `sort=rating` (issue 20): products ordered by their merchant's overall score of the last 365
/// days, unrated merchants last, paged by cursor; the score follows each rating at once and
/// drops out of the window after a year.
@Suite struct RatingSortTests {
    @Test func theCatalogSortsByTheMerchantsScore() async throws {
        #expect(RatingRules.overallScore(nil) == 0)
        #expect(RatingRules.overallScore(RatingSums(merchantId: "m", count: 2, quality: 9, delivery: 8, service: 8)) == 417)  // 25/6 = 4.1666…
        #expect(RatingRules.overallScore(RatingSums(merchantId: "m", count: 1, quality: 1, delivery: 1, service: 1)) == 100)

        let test = try await TestApp.make()
        try await test.run { client in
            let market = try await Market.make(test, client)
            let (shop, other, canteen) = (market.shop, market.other, market.canteen)
            let oil = try await other.listed(test, client, title: "大豆油", price: 2_000)
            let unrated = try await Seller.make(
                test, client, admin: market.cast.admin, officer: market.cast.yanshouOfficer, username: "seller3",
                creditCode: Codes.yanshou3, company: "延寿县三合社")
            let beans = try await unrated.listed(test, client, title: "红小豆", price: 800)
            func rate(_ product: String, _ merchant: Seller, _ score: Int) async throws {
                let order = try #require(try await client.place(canteen.token, [(product, 1)]).orderIds.first)
                try await client.walk(order, buyer: canteen.token, merchant: merchant.token, to: "accepted", amountFen: 0)
                let rated = try await client.call(
                    .post, "/api/v1/orders/\(order)/rating", token: canteen.token, json: RatingsTests.body(score, score, score))
                #expect(rated.status == .created, "\(rated.text)")
            }
            try await rate(market.rice, shop, 3)
            try await rate(oil, other, 5)
            func sorted(_ query: String = "") async throws -> [String] {
                try await client.call(.get, "/api/v1/products?sort=rating" + query).items.compactMap { $0["id"] as? String }
            }
            #expect(try await sorted() == [oil, market.rice, beans])
            // Paged by cursor: the same order a product at a time.
            let first = try await client.call(.get, "/api/v1/products?sort=rating&limit=1")
            let cursor = try #require(first.object["nextCursor"] as? String)
            #expect(try await sorted("&limit=2&cursor=\(cursor)") == [market.rice, beans])
            // A cursor of another sort is refused, naming it.
            let salesCursor = try #require(try await client.call(.get, "/api/v1/products?sort=sales&limit=1").object["nextCursor"] as? String)
            let crossed = try await client.call(.get, "/api/v1/products?sort=rating&cursor=\(salesCursor)")
            #expect(crossed.status == .badRequest && crossed.fields == ["cursor"], "\(crossed.text)")
            // A new rating moves the merchant at once; a product listed later takes its score.
            try await rate(market.rice, shop, 5)
            try await rate(market.rice, shop, 5)
            let flour = try await shop.listed(test, client, title: "面粉", price: 900)
            // 3, 5 and 5: 4.33 < 5; equal scores go by id, as every sort's ties do.
            #expect(try await sorted() == [oil] + [flour, market.rice].sorted(by: >) + [beans])
            // A year on, the ratings leave the window: everyone is unrated again.
            test.clock.advance(seconds: 366 * 86_400)
            // Until the pass, `check` does not count a score whose ratings just left the window as wrong.
            #expect(try await test.services.checkInvariants() == [])
            #expect(try await Ratings(test.services).refreshDueScores() == 2)
            #expect(try await Ratings(test.services).refreshDueScores() == 0)
            let scores = try await test.services.database.read { db in
                try await db.raw("SELECT DISTINCT merchant_rating FROM products").all().map { try $0.decode(column: "merchant_rating", as: Int64.self) }
            }
            #expect(scores == [0])
        }
    }
}
