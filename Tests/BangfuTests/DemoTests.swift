import Foundation
import Hummingbird
import HummingbirdTesting
import SQLKit
import Testing

@testable import BangfuApp

@Suite struct DemoTests {
    @Test func demoDataFillsAnEmptyDatabaseOnly() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let first = try await test.services.loadDemo(password: "demo password 1")
            #expect(first == "loaded demo data: 28 merchants, 336 products, 30 settled orders")
            let again = try await test.services.loadDemo(password: "demo password 1")
            #expect(again.contains("not loaded"))

            let page = try await client.call(.get, "/api/v1/products?limit=100")
            #expect(page.items.count == 100)
            let facets = page.object["facets"] as? [String: [[String: Any]]] ?? [:]
            #expect(facets["category"]?.count == 13)  // every top-level category
            #expect(facets["county"]?.count == 28)  // every county
            #expect(facets["county"]?.reduce(0) { $0 + ($1["count"] as? Int ?? 0) } == 336)
            #expect(try await client.call(.get, "/api/v1/products?q=木耳").items.count > 0)
            #expect(try await client.call(.get, "/api/v1/products?q=米").items.count > 0)
            let merchants = try await client.call(.get, "/api/v1/merchants?limit=100")
            #expect(merchants.items.count == 28)
            // Demo users sign in with the demo password.
            let token = try await client.signIn("demo-m01", password: "demo password 1")
            let mine = try await client.call(.get, "/api/v1/merchants/me/products?limit=100", token: token)
            #expect(mine.items.count == 12)
            let admin = try await client.signIn("demo-admin", password: "demo password 1")
            #expect(try await client.call(.get, "/api/v1/audit-events/verification", token: admin).object["ok"] as? Bool == true)
            // A first start shows a history: settled orders with invoices, ratings on merchant
            // profiles, unit prices beside their category's median.
            let history = try await client.signIn("seed-b1", password: "demo password 1")
            let orders = try await client.call(.get, "/api/v1/orders?limit=100", token: history).items
            #expect(!orders.isEmpty && orders.allSatisfy { $0["status"] as? String == "settled" && $0["invoice"] is [String: Any] })
            #expect(orders.contains { $0["rating"] is [String: Any] })
            let rated = merchants.items.compactMap { $0["rating"] as? [String: Any] }
            #expect(!rated.isEmpty)
            let detail = try await client.call(.get, "/api/v1/products/\(try #require(page.items.first?["id"] as? String))")
            #expect((detail.object["unitPrice"] as? [String: Any])?["categoryMedianPerKgFen"] is Int)
            #expect(try await test.services.checkInvariants() == [])
        }
    }

    @Test func demoDataNeverGoesIntoADatabaseWithData() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            _ = try await client.signUp("realuser")
            #expect(try await test.services.loadDemo(password: "demo password 1").contains("not loaded"))
            #expect(try await test.services.seed(products: 10, merchants: 1).contains("not seeded"))
            #expect(try await client.call(.get, "/api/v1/products").items.isEmpty)
        }
    }

    /// A seed sets the secondary indexes of its tables aside while it loads and builds them after;
    /// a load that died part way leaves them recorded, and the next start builds them.
    @Test func aSeedLeavesEveryIndexItFoundAndAStartBuildsOnesLeftAside() async throws {
        let test = try await TestApp.make()
        let services = test.services, engine = services.database.engine
        @Sendable func indexes() async throws -> Set<String> {
            let query: SQLQueryString =
                engine == .postgres
                ? "SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'products'"
                : "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'products' AND sql IS NOT NULL"
            return Set(try await services.database.read { db in
                try await db.raw(query).all().map { try $0.decode(column: "name", as: String.self) }
            })
        }
        @Sendable func recorded() async throws -> Int64 {
            try await services.database.read { db in
                try await db.raw("SELECT COUNT(*) AS n FROM deferred_indexes").first()?.decode(column: "n", as: Int64.self) ?? -1
            }
        }
        try await test.run { _ in
            let before = try await indexes()
            #expect(before.contains("products_newest") && before.contains("products_merchant"))
            // Migration 24: the slow-moving alert reads `products_idle`; `products_last_ordered`,
            // which every order rewrote for no query, is gone.
            #expect(before.contains("products_idle") && !before.contains("products_last_ordered"))
            _ = try await services.seed(products: 300, merchants: 3)
            #expect(try await indexes() == before)
            #expect(try await recorded() == 0)
            // As if a load had died after setting them aside.
            let set = try await services.database.write { db in
                try await DeferredIndexes(engine: engine).setAside(tables: DemoLoader.bulkTables, in: db)
            }
            #expect(set > 5)
            #expect(try await indexes().isDisjoint(with: ["products_newest", "products_merchant"]))
            #expect(try await recorded() == Int64(set))
            try await services.prepare(logger: .init(label: "t"))
            #expect(try await indexes() == before)
            #expect(try await recorded() == 0)
        }
    }

    /// Batches are made while the one before is written: many small ones number every
    /// certificate once, write every product, and leave the database and the index agreeing.
    @Test func aSeedInManyBatchesWritesEachProductAndCertificateOnce() async throws {
        let test = try await TestApp.make()
        try await test.run { _ in
            let services = test.services
            #expect(try await DemoLoader(services: services).seed(products: 50, merchants: 2, batchSize: 7) == .loaded(merchants: 2, products: 50))
            let counts = try await services.database.read { db in
                try await db.raw(
                    "SELECT (SELECT COUNT(*) FROM products) AS p, (SELECT COUNT(DISTINCT number) FROM certificates) AS c, (SELECT COUNT(*) FROM products WHERE certificate_number IS NULL) AS missing"
                ).first().map { (try $0.decode(column: "p", as: Int.self), try $0.decode(column: "c", as: Int.self), try $0.decode(column: "missing", as: Int.self)) }
            }
            #expect(counts?.0 == 50 && counts?.1 == 50 && counts?.2 == 0)
            #expect(try await services.checkInvariants() == [])
            try await services.catalogFeed.catchUp()
            #expect(try await CatalogCheck(services).problems(live: services.catalogFeed) == [])
        }
    }

    @Test func seedGeneratesASearchableCatalog() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let message = try await test.services.seed(
                products: 1200, merchants: 7, buyers: 3, buyerPassword: "bench password 1", settledOrders: 700)
            #expect(message == "seeded 7 merchants, 1200 products and 3 buyer organizations with 700 settled orders")
            // The seeded orders add up: plans, sales totals and the audit chain all agree.
            #expect(try await test.services.checkInvariants() == [])
            let facets = try await client.call(.get, "/api/v1/products?limit=1").object["facets"] as? [String: [[String: Any]]] ?? [:]
            #expect(facets["category"]?.reduce(0) { $0 + ($1["count"] as? Int ?? 0) } == 1200)
            let rice = try await client.call(.get, "/api/v1/products?q=大米&limit=100")
            #expect(!rice.items.isEmpty)
            #expect(rice.items.allSatisfy { item in
                ["title", "description", "merchantName"].contains { (item[$0] as? String)?.contains("大米") == true }
            })
            #expect(try await client.call(.get, "/api/v1/merchants?limit=100").items.count == 7)
            // Seeded merchants cannot sign in.
            let refused = try await client.call(.post, "/api/v1/sessions", json: #"{"username":"seed-m1","password":"anything at all"}"#)
            #expect(refused.status == .unauthorized)
            // Every seeded product carries a real, verifiable certificate.
            let item = try #require(rice.items.first)
            let number = try #require((item["certificate"] as? [String: Any])?["number"] as? String)
            let certificate = try await client.call(.get, "/api/v1/certificates/\(number)")
            let keys = try await client.call(.get, "/api/v1/certificate-keys")
            let outcome = try CertificateVerification.verify(
                certificateJSON: Data(buffer: certificate.body), keysJSON: Data(buffer: keys.body), now: test.clock.now)
            #expect(outcome.signatureValid && certificate.object["productId"] as? String == item["id"] as? String)
            // Seeded buyers can sign in and order at once; their settled orders carry their invoices.
            let buyer = try await client.signIn("seed-b2", password: "bench password 1")
            let settled = try await client.call(.get, "/api/v1/orders?status=settled&limit=20", token: buyer).items
            #expect(!settled.isEmpty)
            #expect(settled.allSatisfy { order in
                let invoice = order["invoice"] as? [String: Any]
                return invoice?["status"] as? String == "current" && invoice?["amountFen"] as? Int == order["owedFen"] as? Int
            })
            // Two in three are rated: the merchants' profiles show averages from 3 to 5.
            let merchants = try await client.call(.get, "/api/v1/merchants?limit=100").items
            let rated = merchants.compactMap { $0["rating"] as? [String: Any] }
            #expect(!rated.isEmpty && rated.allSatisfy { ($0["quality"] as? Double).map { (3...5).contains($0) } == true })
            let placed = try await client.place(buyer, [(item["id"] as! String, 1)])
            #expect(placed.status == .created, "\(placed.text)")
            // The seeded tree: a department above the units, a purchaser in each, a finance officer
            // of the province who sees them all in the review queue and the bulletin.
            let organizations = try await client.call(.get, "/api/v1/buyer-organizations", token: try await client.signIn("seed-d1", password: "bench password 1"))
            #expect(organizations.items.count == 4 && organizations.items.filter { $0["parentId"] is String }.count == 3)
            #expect(try await client.signIn("seed-b3-p", password: "bench password 1").isEmpty == false)
            let finance = try await client.signIn("seed-finance", password: "bench password 1")
            #expect(try await client.call(.get, "/api/v1/filings?status=submitted", token: finance).items.count == 3)
            let bulletin = try await client.call(.get, "/api/v1/reports/bulletin", token: finance)
            #expect((bulletin.object["rows"] as? [[String: Any]])?.reduce(0) { $0 + ($1["units"] as? Int ?? 0) } == 4)
        }
    }
}
