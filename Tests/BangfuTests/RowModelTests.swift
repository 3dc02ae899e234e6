import Foundation
import SQLKit
import Testing

@testable import BangfuApp

/// Row models decode by name (`decode(model:)`, snake_case columns, `@Millis` times) and refuse
/// what they do not know: an unknown status used to fall back to `placed` silently.
@Suite struct RowModelTests {
    /// The fast key conversion splits words exactly as SQLKit's own snake_case strategy does.
    @Test func columnNamesMatchSQLKitsSnakeCase() throws {
        let keys = [
            "id", "organizationId", "reservedRatioBp", "unionCompletedFen", "a", "aB", "URLValue", "myURLValue", "x1Y",
            "abcDEFGhi", "ABC", "lastSignInAt", "已知Key", "ÉtéValue", "",
        ]
        let encoder = SQLQueryEncoder(keyEncodingStrategy: .convertToSnakeCase)
        for key in keys {
            let sqlKit = try encoder.encode([key: 0]).map(\.0)
            #expect(sqlKit == [SnakeCase.column(for: key)], "\(key)")
        }
        #expect(SnakeCase.column(for: "organizationId") == "organization_id")
        #expect(SnakeCase.column(for: "unionCompletedFen") == "union_completed_fen")
    }

    @Test func anOrderRoundTripsAndAnUnknownStatusFailsLoudly() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let market = try await Market.make(test, client)
            let placed = try await client.place(market.canteen.token, [(market.rice, 3)])
            #expect(placed.status == .created, "\(placed.text)")
            let orderId = try #require((placed.object["orders"] as? [[String: Any]])?.first?["id"] as? String)
            let store = test.services.orders
            let order = try #require(try await test.services.database.read { db in try await store.order(id: orderId, in: db) })
            #expect(order.status == .placed)
            #expect(order.totalFen == 3_000)
            #expect(order.shippedAt == nil)
            #expect(order.createdAt.millis == test.clock.appClock.now.millis)
            #expect(Order.columns.count == 22)

            try await test.services.database.write { db in
                try await db.raw("UPDATE orders SET status = 'lost' WHERE id = \(bind: orderId)").run()
            }
            // (a DecodingError on SQLite; PostgreSQL's driver wraps it)
            await #expect(throws: (any Error).self) {
                _ = try await test.services.database.read { db in try await store.order(id: orderId, in: db) }
            }
        }
    }
}
