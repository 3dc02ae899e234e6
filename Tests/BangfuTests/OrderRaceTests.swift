import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SQLKit
import Testing

@testable import BangfuApp

/// Placement races, run on whichever engine the suite runs on (SQLite here, PostgreSQL in CI).
@Suite struct OrderRaceTests {
    @Test func fiftyBuyersRaceForTheLastTenUnits() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let shop = try await Seller.make(test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller1")
            let rice = try await shop.listed(test, client, title: "延寿大米", price: 1_000)
            _ = try await client.call(
                .post, "/api/v1/products/\(rice)/stock-adjustments", token: shop.token, json: #"{"delta":-90,"reason":"盘点"}"#)
            var canteens: [Canteen] = []
            for n in 1...4 {
                canteens.append(try await Canteen.make(test, client, admin: cast.admin, username: "kitchen\(n)", number: n))
            }
            let tokens = canteens.map(\.token)
            let statuses = try await withThrowingTaskGroup(of: (HTTPResponse.Status, String?).self) { group in
                for attempt in 0..<60 {
                    group.addTask {
                        let response = try await client.place(tokens[attempt % tokens.count], [(rice, 1)])
                        return (response.status, response.code)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0.0 == .created }.count == 10)
            #expect(statuses.filter { $0.1 == "insufficient_stock" }.count == 50)
            #expect(try await test.stock(rice) == (0, 10, 0))
            for canteen in canteens { try await expectPlanMatchesOrders(test, canteen.organizationId) }
        }
    }

    @Test func fiftyCheckoutsRaceForTheLastOfTheBudget() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let shop = try await Seller.make(test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller1")
            let rice = try await shop.listed(test, client, title: "延寿大米", price: 1_000)
            let canteen = try await Canteen.make(test, client, admin: cast.admin, username: "kitchen1", number: 1, budgetFen: 10_000, ratioBp: 1000)
            let token = canteen.token
            let statuses = try await withThrowingTaskGroup(of: (HTTPResponse.Status, String?).self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        let response = try await client.place(token, [(rice, 1)])
                        return (response.status, response.code)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0.0 == .created }.count == 10)
            #expect(statuses.filter { $0.1 == "quota_budget_exceeded" }.count == 40)
            let plan = try await canteen.plan(client)
            #expect(plan["committedFen"] as? Int == 10_000 && plan["remainingBudgetFen"] as? Int == 0)
            #expect(try await test.stock(rice) == (90, 10, 0))
            try await expectPlanMatchesOrders(test, canteen.organizationId)
        }
    }

    @Test func identicalRequestsWithOneKeyCreateOneCheckout() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let shop = try await Seller.make(test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller1")
            let rice = try await shop.listed(test, client, title: "延寿大米", price: 1_000)
            let canteen = try await Canteen.make(test, client, admin: cast.admin, username: "kitchen1", number: 1)
            let token = canteen.token
            let answers = try await withThrowingTaskGroup(of: (HTTPResponse.Status, String?, Bool).self) { group in
                for _ in 0..<30 {
                    group.addTask {
                        let response = try await client.place(token, [(rice, 3)], key: "same-key")
                        return (
                            response.status, response.object["checkoutId"] as? String,
                            response.headers[HTTPField.Name("Idempotent-Replayed")!] == "true"
                        )
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.allSatisfy { $0.0 == .created })
            #expect(Set(answers.compactMap(\.1)).count == 1)
            #expect(answers.filter(\.2).count == 29)
            let checkouts = try await test.services.database.read { db in
                try await db.raw("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM checkouts").first()!.decode(column: "n", as: Int64.self)
            }
            #expect(checkouts == 1)
            #expect(try await test.stock(rice) == (97, 3, 0))
        }
    }

    /// A random workload of every operation; afterwards the plans' maintained sums equal their
    /// recomputation from the orders, and every unit is in stock, held or sold.
    @Test func randomWorkloadKeepsEveryInvariant() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let a = try await Seller.make(test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller1")
            let b = try await Seller.make(
                test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller2", creditCode: Codes.yanshou2,
                company: "延寿县富民合作社")
            let products = [
                (try await a.listed(test, client, title: "大米", price: 1_990), a.token),
                (try await a.listed(test, client, title: "小米", price: 870), a.token),
                (try await b.listed(test, client, title: "木耳", price: 3_450), b.token),
            ]
            let canteens = [
                try await Canteen.make(test, client, admin: cast.admin, username: "kitchen1", number: 1, budgetFen: 300_000),
                try await Canteen.make(test, client, admin: cast.admin, username: "kitchen2", number: 2, budgetFen: 150_000),
            ]
            let merchantOf = [a.merchantId: a.token, b.merchantId: b.token]
            var random = SeededRandom(20261129)
            var orders: [(id: String, buyer: String, merchant: String)] = []
            for _ in 0..<200 {
                let roll = random.next(10)
                if roll < 3 || orders.isEmpty {
                    let canteen = canteens[random.next(canteens.count)]
                    let picked = products.shuffled(using: &random).prefix(1 + random.next(products.count))
                    let placed = try await client.place(canteen.token, picked.map { ($0.0, 1 + random.next(8)) })
                    for order in placed.object["orders"] as? [[String: Any]] ?? [] {
                        orders.append((order["id"] as! String, canteen.token, merchantOf[order["merchantId"] as! String]!))
                    }
                    continue
                }
                let order = orders[random.next(orders.count)]
                let path = "/api/v1/orders/\(order.id)"
                switch roll {
                case 3: _ = try await client.call(.post, path + "/confirm", token: order.merchant)
                case 4: _ = try await client.call(.post, path + "/shipment", token: order.merchant, json: #"{"carrier":"邮政","trackingNumber":"1"}"#)
                case 5: _ = try await client.call(.post, path + "/acceptance", token: order.buyer)
                case 6:
                    let owed = try await client.call(.get, path, token: order.buyer).object["owedFen"] as? Int ?? 0
                    // The merchant invoices what is owed (refused before shipment), then the buyer pays.
                    let day = InvoiceRules.day(of: test.clock.now)
                    let today = day.text
                    let invoiced = try await client.call(
                        .put, path + "/invoice", token: order.merchant,
                        json: #"{"number":"88880000","kind":"vat_normal","issuedOn":"\#(today)","amountFen":\#(owed)}"#)
                    #expect([.ok, .conflict].contains(invoiced.status), "invoice: \(invoiced.text)")
                    _ = try await client.call(.post, path + "/payment", token: order.buyer, json: #"{"reference":"r","amountFen":\#(owed)}"#)
                case 7:
                    if random.next(2) == 0 {
                        _ = try await client.call(.post, path + "/cancellation", token: order.buyer, json: "{}")
                    } else {
                        _ = try await client.call(.post, path + "/rejection", token: order.merchant, json: #"{"reason":"缺货"}"#)
                    }
                default:
                    let refund = try await client.call(
                        .post, path + "/refunds", token: order.buyer, json: #"{"amountFen":\#(1 + random.next(3000)),"reason":"破损"}"#)
                    if let id = refund.object["id"] as? String {
                        let decision = random.next(2) == 0 ? "approval" : "rejection"
                        _ = try await client.call(.post, "/api/v1/refunds/\(id)/\(decision)", token: order.merchant, json: "{}")
                    }
                }
            }
            for canteen in canteens {
                try await expectPlanMatchesOrders(test, canteen.organizationId)
                let plan = try await canteen.plan(client)
                let budget = plan["canteenBudgetFen"] as! Int
                #expect((plan["committedFen"] as! Int) + (plan["completedFen"] as! Int) <= budget)
                #expect((plan["committedFen"] as! Int) >= 0 && (plan["completedFen"] as! Int) >= 0)
            }
            for (product, _) in products {
                let (stock, held, sales) = try await test.stock(product)
                #expect(stock >= 0 && held >= 0)
                #expect(stock + held + sales == 100)
            }
            let statuses = try await test.services.database.read { db in
                try await db.raw("SELECT DISTINCT status FROM orders").all().map { try $0.decode(column: "status", as: String.self) }
            }
            #expect(Set(statuses).count >= 5, "the workload reached \(statuses)")
            #expect(try await test.services.verifyAudit().ok)
            #expect(try await test.services.checkInvariants() == [])
            // The check is not blind: a tampered sum and a lost hold are reported.
            try await test.services.database.write { db in
                try await db.raw("UPDATE quota_plans SET committed_fen = committed_fen + 1").run()
                try await db.raw("UPDATE products SET held = held + 1 WHERE id = \(bind: products[0].0)").run()
            }
            let problems = try await test.services.checkInvariants()
            #expect(problems.filter { $0.contains("committed_fen") }.count == 2)
            #expect(problems.contains { $0.contains(products[0].0) && $0.contains("held") })
        }
    }
}
