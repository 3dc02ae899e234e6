import Foundation
import Hummingbird
import HummingbirdTesting
import NIOConcurrencyHelpers
import NIOCore
import SQLKit
import Testing

@testable import BangfuApp

@Suite struct CatalogCacheUnitTests {
    /// A render that counts its calls and answers their number.
    final class Renders: Sendable {
        let count = NIOLockedValueBox(0)
        func render(deadline: Date? = nil) -> CatalogCache.Render {
            { [count] in
                let n = count.withLockedValue { $0 += 1; return $0 }
                return (ByteBuffer(string: "\(n)"), deadline)
            }
        }
        var calls: Int { count.withLockedValue { $0 } }
    }

    @Test func aPageIsRenderedOncePerPeriodAndNeverPastItsDeadline() async throws {
        let clock = TestClock()
        let cache = CatalogCache(ttl: .seconds(1), clock: clock.appClock)
        let renders = Renders()
        #expect(String(buffer: try await cache.page("a", render: renders.render())) == "1")
        #expect(String(buffer: try await cache.page("a", render: renders.render())) == "1")
        #expect(renders.calls == 1)
        // Past its period the page is served once more while it renders afresh in the background.
        clock.advance(seconds: 1.5)
        #expect(String(buffer: try await cache.page("a", render: renders.render())) == "1")
        try await waitUntil { renders.calls == 2 && cache.cached("a") != nil }
        #expect(String(buffer: try await cache.page("a", render: renders.render())) == "2")
        // Long unused: rendered afresh before answering.
        clock.advance(seconds: 10)
        #expect(String(buffer: try await cache.page("a", render: renders.render())) == "3")
        // A page whose certificate expires in half a second is not served from then on.
        let expiring = Renders()
        _ = try await cache.page("b", render: expiring.render(deadline: clock.now.addingTimeInterval(0.5)))
        clock.advance(seconds: 0.6)
        _ = try await cache.page("b", render: expiring.render(deadline: clock.now.addingTimeInterval(0.5)))
        #expect(expiring.calls == 2)
    }

    @Test func concurrentMissesShareOneRenderAndAnInvalidationDropsRendersInFlight() async throws {
        let clock = TestClock()
        let cache = CatalogCache(ttl: .seconds(1), clock: clock.appClock)
        let count = NIOLockedValueBox(0)
        let slow: CatalogCache.Render = {
            let n = count.withLockedValue { $0 += 1; return $0 }
            try await Task.sleep(for: .milliseconds(100))
            return (ByteBuffer(string: "\(n)"), nil)
        }
        let bodies = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<20 { group.addTask { String(buffer: try await cache.page("a", render: slow)) } }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(Set(bodies) == ["1"] && count.withLockedValue { $0 } == 1)
        // A render that began before an invalidation answers its caller but is not kept.
        let renders = Renders()
        let slowRender: CatalogCache.Render = {
            try await Task.sleep(for: .milliseconds(200))
            return try await renders.render()()
        }
        async let inFlight = cache.page("d", render: slowRender)
        try await Task.sleep(for: .milliseconds(50))  // the render is under way
        cache.invalidate()
        #expect(String(buffer: try await inFlight) == "1")
        #expect(cache.cached("d") == nil)
        #expect(String(buffer: try await cache.page("d", render: renders.render())) == "2")
        cache.invalidate()
        let generation = cache.generation
        cache.invalidate()
        cache.store("c", body: ByteBuffer(string: "old"), deadline: nil, generation: generation)
        #expect(cache.cached("c") == nil)
        cache.store("c", body: ByteBuffer(string: "new"), deadline: nil, generation: cache.generation)
        #expect(cache.cached("c").map { String(buffer: $0) } == "new")
        // Off: every call renders.
        let off = CatalogCache(ttl: .zero, clock: clock.appClock)
        let offRenders = Renders()
        for _ in 0..<3 { _ = try await off.page("a", render: offRenders.render()) }
        #expect(offRenders.calls == 3)
    }
}

func waitUntil(_ condition: @Sendable () -> Bool) async throws {
    for _ in 0..<200 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
    #expect(condition())
}

@Suite struct CatalogCacheTests {
    @Test func visibilityChangesAndStockShowAtOnce() async throws {
        let test = try await TestApp.make { $0.catalogCacheTTL = .seconds(1) }
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let seller = try await Seller.make(test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller1")
            let rice = try await seller.listed(test, client, title: "五常大米")
            let honey = try await seller.listed(test, client, title: "椴树蜂蜜")
            func listed(_ query: String = "") async throws -> [String] {
                try await client.call(.get, "/api/v1/products" + query).items.compactMap { $0["id"] as? String }
            }
            #expect(Set(try await listed()) == [rice, honey])
            #expect(try await listed("?q=大米") == [rice])
            #expect(try await client.call(.get, "/api/v1/products/\(rice)").status == .ok)
            // Delisting: gone from every cached page and the cached detail at once.
            #expect(try await client.call(.delete, "/api/v1/products/\(honey)/listing", token: seller.token).status == .ok)
            #expect(try await listed() == [rice])
            #expect(try await client.call(.get, "/api/v1/products/\(honey)").status == .notFound)
            // Suspension of the merchant: the same.
            let suspension = "/api/v1/merchants/\(seller.merchantId)/suspension"
            #expect(try await client.call(.post, suspension, token: cast.admin, json: #"{"reason":"抽检不合格"}"#).status == .ok)
            #expect(try await listed().isEmpty)
            #expect(try await listed("?q=大米").isEmpty)
            #expect(try await client.call(.get, "/api/v1/products/\(rice)").status == .notFound)
            #expect(try await client.call(.delete, suspension, token: cast.admin).status == .ok)
            #expect(try await listed() == [rice])
            // Orders move stock and the catalog shows it at once (SPEC: catalog reads are current):
            // a buyer who cancels sees the stock back on the next read.
            let canteen = try await Canteen.make(test, client, admin: cast.admin, username: "kitchen1", number: 1)
            func stock() async throws -> Int? {
                try await client.call(.get, "/api/v1/products").items.first?["stock"] as? Int
            }
            #expect(try await stock() == 100)
            let order = try #require(try await client.place(canteen.token, [(rice, 3)]).orderIds.first)
            #expect(try await stock() == 97)
            #expect(try await client.call(.post, "/api/v1/orders/\(order)/cancellation", token: canteen.token, json: "{}").status == .ok)
            #expect(try await stock() == 100)
            // A refused request writes nothing and leaves the cache alone (nobody can keep it cold
            // with bad requests); registration cannot change the catalog either. A change made
            // behind the server's back shows only once the period ends, so the cache was kept.
            try await test.services.database.write { db in
                try await db.raw("UPDATE products SET stock = 50 WHERE id = \(bind: rice)").run()
            }
            #expect(try await client.call(.post, "/api/v1/products", token: seller.token, json: "{}").status == .unprocessableContent)
            #expect(try await client.call(.post, "/api/v1/products", json: "{}").status == .unauthorized)
            _ = try await client.signUp("visitor1")
            #expect(try await stock() == 100)
            test.clock.advance(seconds: 2.5)
            #expect(try await stock() == 50)
        }
    }

    @Test func expiryHidesACachedProductAtItsInstantAndDraftsAreNeverShared() async throws {
        let test = try await TestApp.make { $0.catalogCacheTTL = .seconds(1) }
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let seller = try await Seller.make(test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller1")
            let rice = try await seller.listed(test, client, title: "五常大米")
            try await test.certify(rice, days: 0.5 / 86400)  // expires in half a second
            #expect(try await client.call(.get, "/api/v1/products").items.count == 1)
            #expect(try await client.call(.get, "/api/v1/products/\(rice)").status == .ok)
            test.clock.advance(seconds: 0.6)
            #expect(try await client.call(.get, "/api/v1/products").items.isEmpty)
            #expect(try await client.call(.get, "/api/v1/products/\(rice)").status == .notFound)
            // The merchant sees its own draft; nobody else is ever given that answer.
            let draft = try await seller.product(client, title: "黑木耳")
            #expect(try await client.call(.get, "/api/v1/products/\(draft)", token: seller.token).status == .ok)
            #expect(try await client.call(.get, "/api/v1/products/\(draft)").status == .notFound)
        }
    }
}
