import Foundation
import SQLKit
import Testing

@testable import BangfuApp

/// The reports' rows are row models: a maintained total refuses an unknown dimension, report lines
/// decode by name, and the alerts keep their times to the millisecond.
@Suite struct RowModelReportsTests {
    @Test func salesTotalsRoundTripAndAnUnknownDimensionFailsLoudly() async throws {
        let test = try await TestApp.make()
        try await test.run { _ in
            let reports = test.services.reports
            let database = test.services.database
            let contributions = [
                SalesRules.Contribution(scope: "*", dimension: .month, key: "2026-03", orders: 1, amountFen: 1_000),
                SalesRules.Contribution(scope: "*", dimension: .month, key: "2026-01", orders: 2, amountFen: 500),
            ]
            try await database.write { db in
                try await reports.record(contributions, year: 2026, in: db)
                try await reports.record(Array(contributions.prefix(1)), year: 2026, in: db)
            }
            let (lines, stored) = try await database.read { db in
                (
                    try await reports.sales(year: 2026, dimension: .month, scope: "*", in: db),
                    try await db.raw("SELECT * FROM sales_totals ORDER BY key").all().map { try $0.model(SalesTotal.self) }
                )
            }
            #expect(
                lines == [
                    ReportStore.SalesRow(key: "2026-01", label: "2026-01", orders: 2, amountFen: 500),
                    ReportStore.SalesRow(key: "2026-03", label: "2026-03", orders: 2, amountFen: 2_000),
                ])
            #expect(stored.map(\.dimension) == [.month, .month])
            #expect(stored.map(\.year) == [2026, 2026])
            #expect(SalesTotal.columns.count == 6)

            try await database.write { db in
                try await db.raw(
                    "INSERT INTO sales_totals (year, scope, dimension, key, orders, amount_fen) VALUES (2026, '*', 'planet', 'mars', 1, 1)"
                ).run()
            }
            // (a DecodingError on SQLite; PostgreSQL's driver wraps it)
            await #expect(throws: (any Error).self) {
                _ = try await database.read { db in
                    try await db.raw("SELECT * FROM sales_totals WHERE key = 'mars'").all().map { try $0.model(SalesTotal.self) }
                }
            }
        }
    }

    @Test func alertsKeepTheirTimesToTheMillisecond() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let market = try await Market.make(test, client)
            test.clock.advance(seconds: 0.123)
            let placedAt = test.clock.now
            let unshipped = try #require(try await client.place(market.canteen.token, [(market.rice, 1)]).orderIds.first)
            let unpaid = try #require(try await client.place(market.canteen.token, [(market.rice, 1)]).orderIds.first)
            try await client.walk(unpaid, buyer: market.canteen.token, merchant: market.shop.token, to: "accepted", amountFen: 0)

            let services = test.services
            let later = placedAt.addingTimeInterval(31 * 86400)
            let (alerts, shipping, paying) = try await services.database.read { db in
                (
                    try await services.alerts.alerts(
                        Set(AlertKind.allCases), scope: .merchant(market.shop.merchantId), settings: AlertSettings(), now: later,
                        limit: 100, in: db),
                    try await services.orders.order(id: unshipped, in: db), try await services.orders.order(id: unpaid, in: db)
                )
            }
            let day: Int64 = 86_400_000
            let byKind = Dictionary(grouping: alerts, by: \.kind)
            let shipment = try #require(byKind[.shipmentOverdue]?.first)
            #expect(shipment.subjectId == unshipped)
            #expect(shipment.since.millis == shipping?.shipBy.millis)
            #expect(shipment.detail.contains("still placed"))
            let payment = try #require(byKind[.paymentOverdue]?.first)
            #expect(payment.subjectId == unpaid)
            #expect(payment.since.millis == (paying?.acceptedAt?.millis).map { $0 + 30 * day })
            #expect(payment.since.millis == placedAt.millis + 30 * day)
            let slow = try #require(byKind[.slowMoving]?.first)
            #expect(slow.subjectId == market.rice)
            #expect(slow.since.millis == placedAt.millis + 30 * day)
            #expect(slow.detail.contains("no order since \(placedAt.rfc3339)"))

            // The slow-moving alert reads the on-sale rule: a suspended merchant's product is not on sale.
            try await services.database.write { db in
                try await db.raw("UPDATE products SET merchant_active = 0 WHERE id = \(bind: market.rice)").run()
            }
            let suspended = try await services.database.read { db in
                try await services.alerts.alerts(
                    [.slowMoving], scope: .all, settings: AlertSettings(), now: later, limit: 100, in: db)
            }
            #expect(suspended.isEmpty)
        }
    }
}
