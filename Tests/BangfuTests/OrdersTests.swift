import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SQLKit
import Testing

@testable import BangfuApp

extension TestResponse {
    var orderIds: [String] { (object["orders"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String } }
}

extension TestClientProtocol {
    /// Places a checkout with a fresh (or the given) Idempotency-Key.
    func place(
        _ token: String, _ lines: [(String, Int)], key: String = UUID().uuidString, shipWithinDays: Int? = nil
    ) async throws -> TestResponse {
        let items = lines.map { #"{"productId":"\#($0.0)","quantity":\#($0.1)}"# }.joined(separator: ",")
        let days = shipWithinDays.map { #","shipWithinDays":\#($0)"# } ?? ""
        return try await call(
            .post, "/api/v1/orders", token: token, json: #"{"items":[\#(items)]\#(days),"deliveryAddress":"食堂后门"}"#,
            headers: [HTTPField.Name("Idempotency-Key")!: key])
    }

    /// The merchant records the order's invoice for what is owed now, dated the day it was placed
    /// (UTC+8), as a budget unit needs before it pays.
    @discardableResult
    func invoice(_ orderId: String, merchant: String, number: String = "12345678") async throws -> TestResponse {
        let order = try await call(.get, "/api/v1/orders/\(orderId)", token: merchant).object
        let owed = order["owedFen"] as? Int ?? 0
        let created = ISO8601DateFormatter().date(from: order["createdAt"] as? String ?? "") ?? Date()
        let day = InvoiceRules.day(of: created)
        let issuedOn = day.text
        let response = try await call(
            .put, "/api/v1/orders/\(orderId)/invoice", token: merchant,
            json: #"{"number":"\#(number)","kind":"electronic","issuedOn":"\#(issuedOn)","amountFen":\#(owed)}"#)
        #expect(response.status == .ok, "invoice: \(response.text)")
        return response
    }

    /// Takes an order from `placed` along the main path up to `status`, the invoice recorded
    /// before the payment.
    func walk(_ orderId: String, buyer: String, merchant: String, to status: String, amountFen: Int64) async throws {
        let steps: [(String, String, String, String)] = [
            ("confirm", merchant, "{}", "confirmed"),
            ("shipment", merchant, #"{"carrier":"顺丰","trackingNumber":"SF1234567890"}"#, "shipped"),
            ("acceptance", buyer, "{}", "accepted"),
            ("payment", buyer, #"{"reference":"国库支付2026-001","amountFen":\#(amountFen)}"#, "settled"),
        ]
        let current = try await call(.get, "/api/v1/orders/\(orderId)", token: buyer).object["status"] as? String
        let start = (steps.firstIndex { $0.3 == current }.map { $0 + 1 }) ?? 0
        for (path, token, body, reached) in steps[start...] {
            if path == "payment" { try await invoice(orderId, merchant: merchant) }
            let response = try await call(.post, "/api/v1/orders/\(orderId)/\(path)", token: token, json: body)
            #expect(response.object["status"] as? String == reached, "\(path): \(response.text)")
            if reached == status { return }
        }
    }
}

/// Two merchants of 延寿县 (the first selling rice at 10 yuan) and two verified canteens with plans.
struct Market {
    let cast: Cast
    let shop: Seller
    let other: Seller
    let rice: String
    let canteen: Canteen
    let stranger: Canteen

    static func make(_ test: TestApp, _ client: any TestClientProtocol) async throws -> Market {
        let cast = try await Cast.make(test, client)
        let shop = try await Seller.make(test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller1")
        let other = try await Seller.make(
            test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller2", creditCode: Codes.yanshou2,
            company: "延寿县富民合作社")
        return Market(
            cast: cast, shop: shop, other: other, rice: try await shop.listed(test, client, title: "延寿大米", price: 1_000),
            canteen: try await Canteen.make(test, client, admin: cast.admin, username: "kitchen1", number: 1),
            stranger: try await Canteen.make(test, client, admin: cast.admin, username: "kitchen2", number: 2))
    }
}

extension TestApp {
    /// stock, held and sales of a product, read directly.
    func stock(_ productId: String) async throws -> (stock: Int64, held: Int64, sales: Int64) {
        let product = try await services.database.read { db in try await services.products.product(id: productId, in: db) }
        let p = try #require(product?.product)
        return (p.stock, p.held, p.sales)
    }
}

@Suite struct OrdersTests {
    @Test func aCheckoutSplitsPerMerchantAndWalksEveryState() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let a = try await Seller.make(test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller1")
            let b = try await Seller.make(
                test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller2", creditCode: Codes.yanshou2,
                company: "延寿县富民合作社")
            let rice = try await a.listed(test, client, title: "延寿大米", price: 5_990)
            let oil = try await a.listed(test, client, title: "大豆油", price: 12_000)
            let fungus = try await b.listed(test, client, title: "黑木耳", price: 3_500)
            let canteen = try await Canteen.make(test, client, admin: cast.admin, username: "kitchen1", number: 1, budgetFen: 1_000_000, ratioBp: 1000)
            let placed = try await client.place(canteen.token, [(rice, 10), (fungus, 4), (oil, 2)], shipWithinDays: 15)
            #expect(placed.status == .created, "\(placed.text)")
            let total = 10 * 5_990 + 4 * 3_500 + 2 * 12_000
            #expect(placed.object["totalFen"] as? Int == total)
            let orders = try #require(placed.object["orders"] as? [[String: Any]])
            #expect(orders.count == 2)
            #expect(orders.map { $0["merchantId"] as? String } == [a.merchantId, b.merchantId])
            let first = orders[0]
            #expect(first["totalFen"] as? Int == 10 * 5_990 + 2 * 12_000)
            #expect(first["shipWithinDays"] as? Int == 15)
            #expect(first["buyerOrganizationId"] as? String == canteen.organizationId)
            // The merchant sees which canteen bought, in the answer, its list and the order itself.
            #expect(first["buyerOrganizationName"] as? String == "kitchen1食堂")
            let merchantList = try await client.call(.get, "/api/v1/orders", token: a.token)
            #expect(merchantList.items.map { $0["buyerOrganizationName"] as? String } == ["kitchen1食堂"])
            let merchantView = try await client.call(.get, "/api/v1/orders/\(first["id"] as? String ?? "")", token: a.token)
            #expect(merchantView.object["buyerOrganizationName"] as? String == "kitchen1食堂")
            let items = try #require(first["items"] as? [[String: Any]])
            #expect(items.map { $0["title"] as? String } == ["延寿大米", "大豆油"])
            #expect(items[0]["amountFen"] as? Int == 59_900)
            #expect((items[0]["certificateNumber"] as? String)?.hasPrefix("BF-2026-") == true)
            #expect(try await test.stock(rice) == (90, 10, 0))
            var plan = try await canteen.plan(client)
            #expect(plan["committedFen"] as? Int == total)
            #expect(plan["remainingBudgetFen"] as? Int == 1_000_000 - total)

            // The price changes afterwards; the order keeps the price it was placed at.
            _ = try await client.call(.patch, "/api/v1/products/\(rice)", token: a.token, json: #"{"priceFen":6990,"title":"新米"}"#)
            // An edit never writes stock or status back: what the order took stays taken.
            #expect(try await test.stock(rice) == (90, 10, 0))
            let firstId = try #require(first["id"] as? String)
            let shown = try await client.call(.get, "/api/v1/orders/\(firstId)", token: canteen.token)
            let shownItems = try #require(shown.object["items"] as? [[String: Any]])
            #expect(shownItems[0]["unitPriceFen"] as? Int == 5_990 && shownItems[0]["title"] as? String == "延寿大米")

            // Order 1 goes all the way; order 2 is cancelled by the buyer.
            try await client.walk(firstId, buyer: canteen.token, merchant: a.token, to: "shipped", amountFen: 0)
            #expect(try await test.stock(rice) == (90, 0, 10))
            try await client.walk(firstId, buyer: canteen.token, merchant: a.token, to: "accepted", amountFen: 0)
            let wrongAmount = try await client.call(
                .post, "/api/v1/orders/\(firstId)/payment", token: canteen.token, json: #"{"reference":"x","amountFen":1}"#)
            #expect(wrongAmount.status == .unprocessableContent && wrongAmount.fields == ["amountFen"])
            // Budget units pay against the merchant's invoice.
            let payment = #"{"reference":"国库集中支付 001","amountFen":\#(83_900)}"#
            let noInvoice = try await client.call(.post, "/api/v1/orders/\(firstId)/payment", token: canteen.token, json: payment)
            #expect(noInvoice.status == .conflict && noInvoice.code == "invoice_missing", "\(noInvoice.text)")
            try await client.invoice(firstId, merchant: a.token)
            let paid = try await client.call(.post, "/api/v1/orders/\(firstId)/payment", token: canteen.token, json: payment)
            #expect(paid.object["status"] as? String == "settled")
            let events = try #require(paid.object["events"] as? [[String: Any]])
            #expect(events.map { $0["toStatus"] as? String } == ["placed", "confirmed", "shipped", "accepted", "settled"])
            let secondId = try #require(orders[1]["id"] as? String)
            let cancelled = try await client.call(.post, "/api/v1/orders/\(secondId)/cancellation", token: canteen.token, json: "{}")
            #expect(cancelled.object["status"] as? String == "cancelled")
            #expect(try await test.stock(fungus) == (100, 0, 0))
            plan = try await canteen.plan(client)
            #expect(plan["committedFen"] as? Int == 0)
            #expect(plan["completedFen"] as? Int == 83_900)
            // reserved = ceil(1,000,000 × 1000 / 10000) = 100,000; completion = floor(83,900 × 10000 / 100,000).
            #expect(plan["reservedFen"] as? Int == 100_000)
            #expect(plan["completionBp"] as? Int == 8_390)
            #expect(plan["remainingBudgetFen"] as? Int == 1_000_000 - 83_900)

            // A refund on the settled order: asked by the buyer, approved by the merchant.
            let refund = try await client.call(
                .post, "/api/v1/orders/\(firstId)/refunds", token: canteen.token, json: #"{"amountFen":3900,"reason":"两袋破损"}"#)
            #expect(refund.status == .created && refund.object["status"] as? String == "requested")
            // The stored refund is the answer: who asked, and null (not absent) until decided.
            #expect((refund.object["requestedBy"] as? String)?.isEmpty == false)
            #expect(refund.object["decidedBy"] is NSNull && refund.object["decidedAt"] is NSNull)
            let tooMuch = try await client.call(
                .post, "/api/v1/orders/\(firstId)/refunds", token: canteen.token, json: #"{"amountFen":80001,"reason":"x"}"#)
            #expect(tooMuch.status == .conflict && tooMuch.fields == ["amountFen"])
            let refundId = try #require(refund.object["id"] as? String)
            #expect(try await client.call(.post, "/api/v1/refunds/\(refundId)/approval", token: canteen.token, json: "{}").status == .forbidden)
            #expect(try await client.call(.post, "/api/v1/refunds/\(refundId)/approval", token: b.token, json: "{}").status == .notFound)
            let approved = try await client.call(.post, "/api/v1/refunds/\(refundId)/approval", token: a.token, json: "{}")
            #expect(approved.object["status"] as? String == "approved")
            #expect((approved.object["decidedBy"] as? String)?.isEmpty == false)
            #expect((approved.object["decidedAt"] as? String).map { $0.count == 20 && $0.hasSuffix("Z") } == true)
            #expect(try await client.call(.post, "/api/v1/refunds/\(refundId)/rejection", token: cast.admin, json: "{}").code == "invalid_transition")
            plan = try await canteen.plan(client)
            #expect(plan["completedFen"] as? Int == 80_000)
            #expect(plan["refundedFen"] as? Int == 3_900)
            let afterRefund = try await client.call(.get, "/api/v1/orders/\(firstId)", token: a.token)
            #expect(afterRefund.object["refundedFen"] as? Int == 3_900)
            #expect((afterRefund.object["refunds"] as? [[String: Any]])?.count == 1)
            try await expectPlanMatchesOrders(test, canteen.organizationId)
        }
    }

    @Test func rejectionAndRefundBeforePaymentAndEveryRefusal() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let market = try await Market.make(test, client)
            let (cast, shop, other, rice, canteen, stranger) = (market.cast, market.shop, market.other, market.rice, market.canteen, market.stranger)
            let id = try #require(try await client.place(canteen.token, [(rice, 5)]).orderIds.first)
            let path = "/api/v1/orders/\(id)"
            // Strangers do not know it; the wrong party or role is refused.
            #expect(try await client.call(.get, path, token: stranger.token).status == .notFound)
            #expect(try await client.call(.get, path, token: other.token).status == .notFound)
            #expect(try await client.call(.get, path, token: cast.yanshouOfficer).status == .forbidden)
            #expect(try await client.call(.get, path).status == .unauthorized)
            #expect(try await client.call(.post, path + "/confirm", token: canteen.token).status == .forbidden)
            #expect(try await client.call(.post, path + "/confirm", token: other.token).status == .notFound)
            #expect(try await client.call(.post, path + "/cancellation", token: shop.token, json: "{}").status == .forbidden)
            #expect(try await client.call(.post, path + "/acceptance", token: shop.token).status == .forbidden)
            #expect(try await client.call(.post, path + "/confirm", token: cast.admin).status == .forbidden)
            // Steps out of order name the current status.
            let early = try await client.call(.post, path + "/shipment", token: shop.token, json: #"{"carrier":"顺丰","trackingNumber":"1"}"#)
            #expect(early.code == "invalid_transition" && early.text.contains("placed"))
            #expect(try await client.call(.post, path + "/acceptance", token: canteen.token).code == "invalid_transition")
            #expect(try await client.call(.post, path + "/refunds", token: canteen.token, json: #"{"amountFen":1,"reason":"x"}"#).code == "invalid_transition")
            // A merchant's rejection needs its reason, and returns stock and budget.
            #expect(try await client.call(.post, path + "/rejection", token: shop.token, json: "{}").fields == ["reason"])
            let rejected = try await client.call(.post, path + "/rejection", token: shop.token, json: #"{"reason":"暂时缺货"}"#)
            #expect(rejected.object["status"] as? String == "rejected")
            #expect(try await test.stock(rice) == (100, 0, 0))
            #expect(try await canteen.plan(client)["committedFen"] as? Int == 0)
            #expect(try await client.call(.post, path + "/confirm", token: shop.token).code == "invalid_transition")
            #expect(try await client.call(.post, path + "/cancellation", token: canteen.token, json: "{}").code == "invalid_transition")

            // An approved refund before payment lowers what is owed.
            let second = try #require(try await client.place(canteen.token, [(rice, 10)]).orderIds.first)
            try await client.walk(second, buyer: canteen.token, merchant: shop.token, to: "accepted", amountFen: 0)
            let refund = try await client.call(
                .post, "/api/v1/orders/\(second)/refunds", token: canteen.token, json: #"{"amountFen":2000,"reason":"两袋受潮"}"#)
            let refundId = try #require(refund.object["id"] as? String)
            #expect(try await client.call(.post, "/api/v1/orders/\(second)/refunds", token: shop.token, json: #"{"amountFen":1,"reason":"x"}"#).status == .forbidden)
            // Another organization's buyer cannot ask (the order does not exist for it) nor decide
            // (buyers never decide: the role is refused first); nobody at all is 401.
            #expect(try await client.call(.post, "/api/v1/orders/\(second)/refunds", token: stranger.token, json: #"{"amountFen":1,"reason":"x"}"#).status == .notFound)
            #expect(try await client.call(.post, "/api/v1/refunds/\(refundId)/approval", token: stranger.token, json: "{}").status == .forbidden)
            #expect(try await client.call(.post, "/api/v1/refunds/\(refundId)/approval", json: "{}").status == .unauthorized)
            #expect(try await client.call(.post, "/api/v1/orders/\(second)/refunds", token: canteen.token, json: #"{"amountFen":0,"reason":"x"}"#).fields == ["amountFen"])
            #expect(try await client.call(.post, "/api/v1/refunds/\(refundId)/approval", token: cast.admin, json: #"{"note":"核实"}"#).object["status"] as? String == "approved")
            var plan = try await canteen.plan(client)
            #expect(plan["committedFen"] as? Int == 8_000 && plan["refundedFen"] as? Int == 2_000)
            let full = try await client.call(.post, "/api/v1/orders/\(second)/payment", token: canteen.token, json: #"{"reference":"x","amountFen":10000}"#)
            #expect(full.status == .unprocessableContent)
            let owed = try await client.call(.get, "/api/v1/orders/\(second)", token: canteen.token)
            #expect(owed.object["owedFen"] as? Int == 8_000)
            // An admin may record the payment (against the invoice of what is owed).
            try await client.invoice(second, merchant: shop.token)
            let paid = try await client.call(.post, "/api/v1/orders/\(second)/payment", token: cast.admin, json: #"{"reference":"x","amountFen":8000}"#)
            #expect(paid.object["status"] as? String == "settled")
            plan = try await canteen.plan(client)
            #expect(plan["committedFen"] as? Int == 0 && plan["completedFen"] as? Int == 8_000)
            // A rejected refund frees its amount for a new request, up to the order total.
            let asked = try await client.call(.post, "/api/v1/orders/\(second)/refunds", token: canteen.token, json: #"{"amountFen":8000,"reason":"x"}"#)
            let askedId = try #require(asked.object["id"] as? String)
            #expect(try await client.call(.post, "/api/v1/orders/\(second)/refunds", token: canteen.token, json: #"{"amountFen":1,"reason":"x"}"#).status == .conflict)
            #expect(try await client.call(.post, "/api/v1/refunds/\(askedId)/rejection", token: shop.token, json: "{}").object["status"] as? String == "rejected")
            #expect(try await client.call(.post, "/api/v1/orders/\(second)/refunds", token: canteen.token, json: #"{"amountFen":8000,"reason":"x"}"#).status == .created)

            // Lists are scoped to the caller's part.
            #expect(try await client.call(.get, "/api/v1/orders", token: canteen.token).items.count == 2)
            #expect(try await client.call(.get, "/api/v1/orders?status=settled", token: shop.token).items.count == 1)
            #expect(try await client.call(.get, "/api/v1/orders", token: other.token).items.isEmpty)
            #expect(try await client.call(.get, "/api/v1/orders", token: stranger.token).items.isEmpty)
            #expect(try await client.call(.get, "/api/v1/orders", token: cast.admin).items.count == 2)
            #expect(try await client.call(.get, "/api/v1/orders?status=lost", token: cast.admin).status == .badRequest)
            try await expectPlanMatchesOrders(test, canteen.organizationId)
        }
    }

    @Test func placementRefusals() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let shop = try await Seller.make(test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller1")
            let rice = try await shop.listed(test, client, title: "延寿大米", price: 10_000)
            let draft = try await shop.product(client, title: "草稿")
            let canteen = try await Canteen.make(test, client, admin: cast.admin, username: "kitchen1", number: 1, budgetFen: 50_000)
            // The header, the role, the organization.
            let noKey = try await client.call(.post, "/api/v1/orders", token: canteen.token, json: #"{"items":[{"productId":"\#(rice)","quantity":1}]}"#)
            #expect(noKey.status == .preconditionRequired && noKey.code == "idempotency_key_required")
            #expect(try await client.place(shop.token, [(rice, 1)]).status == .forbidden)
            #expect(try await client.place(cast.buyer, [(rice, 1)]).status == .forbidden)
            _ = try await client.call(.post, "/api/v1/buyer-organizations", token: cast.buyer, json: organizationJSON(code: organizationCode(9)))
            let pending = try await client.place(cast.buyer, [(rice, 1)])
            #expect(pending.status == .forbidden && pending.text.contains("verified"))
            // Bad items, each naming its field.
            #expect(try await client.place(canteen.token, []).fields == ["items"])
            #expect(try await client.place(canteen.token, [(rice, 0)]).fields == ["items[0].quantity"])
            #expect(try await client.place(canteen.token, [(rice, 100_001)]).fields == ["items[0].quantity"])
            #expect(try await client.place(canteen.token, [(rice, 1), (rice, 2)]).fields == ["items[1].productId"])
            #expect(try await client.place(canteen.token, [(rice, 1)], shipWithinDays: 10).fields == ["shipWithinDays"])
            let many = (0..<101).map { ("p\($0)", 1) }
            #expect(try await client.place(canteen.token, many).fields == ["items"])
            let fraction = try await client.call(
                .post, "/api/v1/orders", token: canteen.token, json: #"{"items":[{"productId":"\#(rice)","quantity":1.5}]}"#,
                headers: [HTTPField.Name("Idempotency-Key")!: "k-fraction"])
            #expect(fraction.status == .unprocessableContent && fraction.fields == ["items[0].quantity"], "\(fraction.text)")
            let unknown = try await client.place(canteen.token, [("nope", 1)])
            #expect(unknown.status == .unprocessableContent && unknown.fields == ["items[0].productId"])
            let unavailable = try await client.place(canteen.token, [(rice, 1), (draft, 1)])
            #expect(unavailable.code == "product_unavailable" && unavailable.fields == ["items[1].productId"])
            let short = try await client.place(canteen.token, [(rice, 101)])
            #expect(short.code == "insufficient_stock" && short.fields == ["items[0].quantity"])
            // 50,000 fen of budget: 5 units fit, 6 do not.
            let over = try await client.place(canteen.token, [(rice, 6)])
            #expect(over.code == "quota_budget_exceeded")
            // Nothing was taken by the refusals.
            #expect(try await test.stock(rice) == (100, 0, 0))
            #expect(try await canteen.plan(client)["committedFen"] as? Int == 0)
            // No plan for the year; a plan without canteen.
            let planless = try await client.signUp("canteen3", role: "buyer")
            let org = try await client.call(.post, "/api/v1/buyer-organizations", token: planless, json: organizationJSON(code: organizationCode(3)))
            let orgId = try #require(org.object["id"] as? String)
            _ = try await client.call(.post, "/api/v1/buyer-organizations/\(orgId)/verification", token: cast.admin)
            #expect(try await client.place(planless, [(rice, 1)]).code == "quota_plan_missing")
            _ = try await client.call(.put, "/api/v1/buyer-organizations/\(orgId)/quota-plans/2026", token: planless, json: #"{"hasCanteen":false}"#)
            #expect(try await client.place(planless, [(rice, 1)]).code == "quota_budget_exceeded")
            // A suspended merchant's products cannot be ordered.
            _ = try await client.call(.post, "/api/v1/merchants/\(shop.merchantId)/suspension", token: cast.admin, json: #"{"reason":"整改"}"#)
            #expect(try await client.place(canteen.token, [(rice, 1)]).code == "product_unavailable")
            // The budget cannot be lowered below what orders hold.
            _ = try await client.call(.delete, "/api/v1/merchants/\(shop.merchantId)/suspension", token: cast.admin)
            #expect(try await client.place(canteen.token, [(rice, 4)]).status == .created)
            let lowered = try await client.call(.put, canteen.planPath, token: canteen.token, json: #"{"hasCanteen":true,"canteenBudgetFen":39999,"reservedRatioBp":1500}"#)
            #expect(lowered.fields == ["canteenBudgetFen"])
            let noCanteenNow = try await client.call(.put, canteen.planPath, token: canteen.token, json: #"{"hasCanteen":false}"#)
            #expect(noCanteenNow.fields == ["hasCanteen"])
        }
    }

    @Test func refundQueuesAreScopedToTheCallersOrders() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let market = try await Market.make(test, client)
            let (cast, shop, other, rice, canteen, stranger) = (market.cast, market.shop, market.other, market.rice, market.canteen, market.stranger)
            let honey = try await other.listed(test, client, title: "椴树蜂蜜", price: 2_000)
            var refunds: [String] = []
            for (product, buyer, seller, amount) in [(rice, canteen, shop, 1_000), (honey, canteen, other, 2_000), (rice, stranger, shop, 1_000)] {
                let order = try #require(try await client.place(buyer.token, [(product, 1)]).orderIds.first)
                try await client.walk(order, buyer: buyer.token, merchant: seller.token, to: "settled", amountFen: Int64(amount))
                let refund = try await client.call(
                    .post, "/api/v1/orders/\(order)/refunds", token: buyer.token, json: #"{"amountFen":100,"reason":"破损"}"#)
                refunds.append(try #require(refund.object["id"] as? String))
                test.clock.advance(seconds: 1)  // "newest first" needs distinct times
            }
            func queue(_ token: String?, _ query: String = "") async throws -> [String] {
                try await client.call(.get, "/api/v1/refunds" + query, token: token).items.compactMap {
                    ($0["refund"] as? [String: Any])?["id"] as? String
                }
            }
            // Newest first; each party sees its own orders' refunds, an admin all of them.
            #expect(try await queue(shop.token) == [refunds[2], refunds[0]])
            #expect(try await queue(other.token) == [refunds[1]])
            #expect(try await queue(canteen.token) == [refunds[1], refunds[0]])
            #expect(try await queue(stranger.token) == [refunds[2]])
            #expect(try await queue(cast.admin) == refunds.reversed())
            let first = try await client.call(.get, "/api/v1/refunds?limit=1", token: shop.token)
            let order = try #require(first.items.first?["order"] as? [String: Any])
            #expect(order["status"] as? String == "settled" && order["totalFen"] as? Int == 1_000)
            let cursor = try #require(first.object["nextCursor"] as? String)
            #expect(try await queue(shop.token, "?limit=1&cursor=\(cursor)") == [refunds[0]])
            // Deciding one takes it out of the queue of requested ones.
            _ = try await client.call(.post, "/api/v1/refunds/\(refunds[0])/approval", token: shop.token, json: "{}")
            #expect(try await queue(shop.token, "?status=requested") == [refunds[2]])
            #expect(try await queue(shop.token, "?status=approved") == [refunds[0]])
            #expect(try await client.call(.get, "/api/v1/refunds?status=lost", token: shop.token).status == .badRequest)
            #expect(try await client.call(.get, "/api/v1/refunds", token: cast.yanshouOfficer).status == .forbidden)
            #expect(try await client.call(.get, "/api/v1/refunds").status == .unauthorized)
        }
    }

    @Test func idempotencyKeysReplayTheFirstAnswer() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let shop = try await Seller.make(test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller1")
            let rice = try await shop.listed(test, client, title: "延寿大米", price: 1_000)
            let canteen = try await Canteen.make(test, client, admin: cast.admin, username: "kitchen1", number: 1)
            let first = try await client.place(canteen.token, [(rice, 2)], key: "checkout-1")
            #expect(first.status == .created)
            #expect(first.headers[HTTPField.Name("Idempotent-Replayed")!] == nil)
            // The same body, with other whitespace: the same answer, nothing new placed.
            let again = try await client.call(
                .post, "/api/v1/orders", token: canteen.token,
                json: #"{ "deliveryAddress" : "食堂后门", "items" : [ { "quantity" : 2, "productId" : "\#(rice)" } ] }"#,
                headers: [HTTPField.Name("Idempotency-Key")!: "checkout-1"])
            #expect(again.status == .created)
            #expect(again.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            #expect(again.text == first.text)
            #expect(try await test.stock(rice) == (98, 2, 0))
            // Another body under the same key is refused.
            let other = try await client.place(canteen.token, [(rice, 3)], key: "checkout-1")
            #expect(other.status == .conflict && other.code == "idempotency_key_reused")
            // A refusal is the key's answer too.
            let short = try await client.place(canteen.token, [(rice, 1000)], key: "checkout-2")
            #expect(short.code == "insufficient_stock")
            let shortAgain = try await client.place(canteen.token, [(rice, 1000)], key: "checkout-2")
            #expect(shortAgain.code == "insufficient_stock")
            #expect(shortAgain.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            // Keys belong to their user: another buyer's same key is a new checkout.
            let second = try await Canteen.make(test, client, admin: cast.admin, username: "kitchen2", number: 2)
            #expect(try await client.place(second.token, [(rice, 1)], key: "checkout-1").headers[HTTPField.Name("Idempotent-Replayed")!] == nil)
            #expect(try await test.stock(rice) == (97, 3, 0))
            #expect(try await client.place(canteen.token, [(rice, 1)], key: String(repeating: "x", count: 256)).status == .badRequest)
            // Two orders were placed; replays and refusals placed nothing.
            let metrics = try await client.call(.get, "/metrics", token: cast.admin)
            #expect(metrics.text.contains("bangfu_orders_placed_total 2"), "\(metrics.text.prefix(2000))")
        }
    }

    @Test func revocationAndExpiryStopOrderingButPlacedOrdersKeepTheirCertificate() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let shop = try await Seller.make(test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller1")
            let honey = try await shop.certified(client, cast: cast, title: "椴树蜂蜜")
            let rice = try await shop.certified(client, cast: cast, title: "延寿大米", validDays: 1)
            for id in [honey.productId, rice.productId] {
                #expect(try await client.call(.put, "/api/v1/products/\(id)/listing", token: shop.token).status == .ok)
            }
            let canteen = try await Canteen.make(test, client, admin: cast.admin, username: "kitchen1", number: 1)
            let placed = try await client.place(canteen.token, [(honey.productId, 1)])
            let orderId = try #require(placed.orderIds.first)
            _ = try await client.call(
                .post, "/api/v1/certificates/\(honey.number)/revocation", token: cast.admin, json: #"{"reason":"抽检不合格"}"#)
            let refused = try await client.place(canteen.token, [(honey.productId, 1)])
            #expect(refused.code == "product_unavailable")
            let order = try await client.call(.get, "/api/v1/orders/\(orderId)", token: canteen.token)
            #expect((order.object["items"] as? [[String: Any]])?.first?["certificateNumber"] as? String == honey.number)
            // Expiry: ordering works until the instant, and is refused from it on.
            #expect(try await client.place(canteen.token, [(rice.productId, 1)]).status == .created)
            test.clock.advance(seconds: 86400)
            let buyer = try await client.signIn("kitchen1")
            #expect(try await client.place(buyer, [(rice.productId, 1)]).code == "product_unavailable")
        }
    }
}

/// The plan's maintained sums equal their recomputation from the orders (SPEC formulas).
func expectPlanMatchesOrders(_ test: TestApp, _ organizationId: String, year: Int = 2026) async throws {
    let (plan, totals) = try await test.services.database.read { db in
        (
            try await test.services.buyers.plan(organizationId: organizationId, year: year, in: db),
            try await test.services.orders.recomputedTotals(
                organizationId: organizationId, year: year, rule: try await test.services.buyers.completionRule(lock: false, in: db), in: db)
        )
    }
    let stored = try #require(plan)
    #expect(stored.committedFen == totals.committedFen)
    #expect(stored.completedFen == totals.completedFen)
    #expect(stored.refundedFen == totals.refundedFen)
}
