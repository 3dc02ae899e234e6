import Foundation
import SQLKit
import Testing

@testable import BangfuApp

/// Order items, checkouts, idempotency keys and what placing reads of a product are row models:
/// decoded by name, times kept to the millisecond, and an unknown status refused (a product's used
/// to fall back to `draft`, an order's to `placed` in the quota sums).
@Suite struct RowModelOrdersTests {
    @Test func orderRowsRoundTripAndUnknownStatusesFailLoudly() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let market = try await Market.make(test, client)
            test.clock.advance(seconds: 0.123)
            let placedAt = test.clock.now
            let placed = try await client.place(market.canteen.token, [(market.rice, 3)], key: "row-key-1")
            #expect(placed.status == .created, "\(placed.text)")
            let orderId = try #require(placed.orderIds.first)

            let store = test.services.orders
            let database = test.services.database
            let (products, items, checkouts, keys, listed) = try await database.write { db in
                (
                    try await store.orderable(ids: [market.rice], in: db), try await store.items(orderIds: [orderId], in: db),
                    try await db.raw("SELECT * FROM checkouts").all().map { try $0.model(CheckoutRow.self) },
                    try await db.raw("SELECT * FROM idempotency_keys").all().map { try $0.model(IdempotencyKey.self) },
                    try await test.services.products.product(id: market.rice, in: db)
                )
            }
            let product = try #require(products[market.rice])
            #expect(product.status == .listed)
            #expect(product.merchantActive)
            #expect(product.merchantId == market.shop.merchantId)
            #expect(product.priceFen == 1_000)
            #expect(product.certificateNumber != nil)
            let expiresAt = try #require(listed?.product.certificateExpiresAt)
            #expect(product.certificateExpiresAt?.millis == expiresAt.millis)
            #expect(OrderableProduct.columns.count == 11)

            let item = try #require(items[orderId]?.first)
            #expect(items[orderId]?.count == 1)
            #expect(item.productId == market.rice)
            #expect(item.title == "延寿大米")
            #expect(item.unitPriceFen == 1_000 && item.quantity == 3 && item.amountFen == 3_000)
            #expect(item.certificateNumber == product.certificateNumber)
            #expect(item.countyCode == product.originCountyCode && item.categoryId == product.topCategoryId)
            #expect(OrderItem.columns.count == 10)

            let checkout = try #require(checkouts.first)
            #expect(checkouts.count == 1)
            #expect(checkout.organizationId == market.canteen.organizationId)
            #expect(checkout.totalFen == 3_000)
            #expect(checkout.createdAt.millis == placedAt.millis)

            let key = try #require(keys.first)
            #expect(keys.count == 1)
            #expect(key.key == "row-key-1")
            #expect(key.status == 201)
            #expect(!key.requestHash.isEmpty && key.body.contains(orderId))
            #expect(key.createdAt.millis == placedAt.millis)
            let replayed = try await database.write { db in
                try await store.claim([(userId: key.userId, key: key.key, requestHash: "x")], at: test.clock.now, in: db)
            }
            #expect(replayed[key.claimKey]?.status == 201)
            #expect(replayed[key.claimKey]?.requestHash == key.requestHash)
            #expect(try await test.services.checkInvariants() == [])

            try await database.write { db in
                try await db.raw("UPDATE products SET status = 'vanished' WHERE id = \(bind: market.rice)").run()
                try await db.raw("UPDATE orders SET status = 'lost' WHERE id = \(bind: orderId)").run()
            }
            // (a DecodingError on SQLite; PostgreSQL's driver wraps it)
            await #expect(throws: (any Error).self) {
                _ = try await database.write { db in try await store.orderable(ids: [market.rice], in: db) }
            }
            await #expect(throws: (any Error).self) {
                _ = try await database.read { db in
                    try await store.recomputedTotals(organizationId: market.canteen.organizationId, year: 2026, rule: .settled, in: db)
                }
            }
        }
    }
}
