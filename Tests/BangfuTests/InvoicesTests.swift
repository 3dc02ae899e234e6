import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import BangfuApp

/// Invoices (issue 20; SPEC "Invoices"): recorded by the merchant of a shipped order for its net
/// amount, its PDF for the order's parties, payment waits for it, an approved refund supersedes it.
@Suite struct InvoicesTests {
    static func body(number: String = "12345678", kind: String = "electronic", issuedOn: String, amountFen: Int) -> String {
        #"{"number":"\#(number)","kind":"\#(kind)","issuedOn":"\#(issuedOn)","amountFen":\#(amountFen)}"#
    }

    static func today(_ test: TestApp) -> String {
        let day = InvoiceRules.day(of: test.clock.now)
        return day.text
    }

    @Test func theMerchantInvoicesAShippedOrderForItsNetAmountAndPaymentWaitsForIt() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let market = try await Market.make(test, client)
            let (shop, canteen) = (market.shop.token, market.canteen.token)
            let order = try #require(try await client.place(canteen, [(market.rice, 10)]).orderIds.first)
            let path = "/api/v1/orders/\(order)/invoice"
            let today = Self.today(test)
            let good = Self.body(issuedOn: today, amountFen: 10_000)
            // Not before it ships; only its merchant; strangers learn nothing.
            let placed = try await client.call(.put, path, token: shop, json: good)
            #expect(placed.status == .conflict && placed.code == "invalid_transition" && placed.fields == ["status"], "\(placed.text)")
            #expect(try await client.call(.put, path, token: market.other.token, json: good).status == .notFound)
            #expect(try await client.call(.put, path, token: canteen, json: good).status == .forbidden)
            #expect(try await client.call(.put, path, token: market.stranger.token, json: good).status == .forbidden)
            #expect(try await client.call(.put, path, json: good).status == .unauthorized)
            try await client.walk(order, buyer: canteen, merchant: shop, to: "shipped", amountFen: 0)
            // Each bad field is named; nothing is written.
            let cases: [(String, [String])] = [
                (Self.body(issuedOn: today, amountFen: 9_999), ["amountFen"]),
                (Self.body(number: "12", issuedOn: today, amountFen: 10_000), ["number"]),
                (Self.body(number: "1234 5678", issuedOn: today, amountFen: 10_000), ["number"]),
                (Self.body(kind: "receipt", issuedOn: today, amountFen: 10_000), ["kind"]),
                (Self.body(issuedOn: "2026-02-30", amountFen: 10_000), ["issuedOn"]),
                (Self.body(issuedOn: "2099-01-01", amountFen: 10_000), ["issuedOn"]),
                (Self.body(issuedOn: "2000-01-01", amountFen: 10_000), ["issuedOn"]),
                (Self.body(issuedOn: "2026-+5-+6", amountFen: 10_000), ["issuedOn"]),
                (#"{}"#, ["amountFen", "issuedOn", "kind", "number"]),
            ]
            for (body, fields) in cases {
                let refused = try await client.call(.put, path, token: shop, json: body)
                #expect(refused.status == .unprocessableContent && refused.fields.sorted() == fields, "\(body): \(refused.text)")
            }
            #expect(try await client.call(.get, "/api/v1/orders/\(order)", token: canteen).object["invoice"] is NSNull)
            // The merchant's list of orders waiting for their invoice.
            let waiting = try await client.call(.get, "/api/v1/orders?invoice=missing", token: shop)
            #expect(waiting.items.compactMap { $0["id"] as? String } == [order])
            #expect(try await client.call(.get, "/api/v1/orders?invoice=present", token: shop).status == .badRequest)

            let recorded = try await client.call(.put, path, token: shop, json: good)
            #expect(recorded.status == .ok && recorded.object["status"] as? String == "current", "\(recorded.text)")
            #expect(recorded.object["amountFen"] as? Int == 10_000 && recorded.object["fileId"] is NSNull)
            #expect(try await client.call(.get, "/api/v1/orders?invoice=missing", token: shop).items.isEmpty)
            // Sending it again changes nothing and tells nobody again.
            #expect(try await client.call(.put, path, token: shop, json: good).object["recordedAt"] as? String == recorded.object["recordedAt"] as? String)
            // The buyer's members are told, and see it on the order before paying.
            let told = try await client.inbox(canteen).items.filter { $0["kind"] as? String == "order.invoiced" }
            #expect(told.count == 1 && told.first?["subjectId"] as? String == order)
            let seen = try await client.call(.get, "/api/v1/orders/\(order)", token: canteen)
            #expect((seen.object["invoice"] as? [String: Any])?["number"] as? String == "12345678")

            // A refund approved after it supersedes it: payment waits for a new one.
            try await client.walk(order, buyer: canteen, merchant: shop, to: "accepted", amountFen: 0)
            let refund = try await client.call(
                .post, "/api/v1/orders/\(order)/refunds", token: canteen, json: #"{"amountFen":2000,"reason":"破损"}"#)
            let refundId = try #require(refund.object["id"] as? String)
            #expect(try await client.call(.post, "/api/v1/refunds/\(refundId)/approval", token: shop, json: "{}").status == .ok)
            let after = try await client.call(.get, "/api/v1/orders/\(order)", token: canteen)
            #expect((after.object["invoice"] as? [String: Any])?["status"] as? String == "superseded")
            let pay = #"{"reference":"国库支付 7","amountFen":8000}"#
            let waits = try await client.call(.post, "/api/v1/orders/\(order)/payment", token: canteen, json: pay)
            #expect(waits.status == .conflict && waits.code == "invoice_missing", "\(waits.text)")
            #expect(try await client.call(.put, path, token: shop, json: good).fields == ["amountFen"])
            let second = try await client.call(.put, path, token: shop, json: Self.body(number: "87654321", issuedOn: today, amountFen: 8_000))
            #expect(second.object["status"] as? String == "current")
            let paid = try await client.call(.post, "/api/v1/orders/\(order)/payment", token: canteen, json: pay)
            #expect(paid.object["status"] as? String == "settled", "\(paid.text)")
            #expect((paid.object["invoice"] as? [String: Any])?["number"] as? String == "87654321")
            // Each invoice is audited against its order.
            let audit = try await client.call(.get, "/api/v1/audit-events?entityType=order&entityId=\(order)&limit=50", token: market.cast.admin)
            #expect(audit.items.filter { $0["action"] as? String == "order.invoice" }.count == 2)
        }
    }

    @Test func theInvoicePDFIsSniffedBoundedAndForTheOrdersPartiesOnly() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let market = try await Market.make(test, client)
            let (shop, canteen) = (market.shop.token, market.canteen.token)
            let order = try #require(try await client.place(canteen, [(market.rice, 2)]).orderIds.first)
            try await client.walk(order, buyer: canteen, merchant: shop, to: "shipped", amountFen: 0)
            let file = "/api/v1/orders/\(order)/invoice/file"
            func upload(_ token: String, _ bytes: [UInt8], type: String = "application/pdf") async throws -> TestResponse {
                try await client.execute(
                    uri: file, method: .post, headers: [.authorization: "Bearer \(token)", .contentType: type],
                    body: ByteBuffer(bytes: bytes))
            }
            // Before the invoice is recorded there is nothing to attach it to.
            let early = try await upload(shop, pdfBytes)
            #expect(early.status == .conflict && early.code == "invoice_missing", "\(early.text)")
            try await client.invoice(order, merchant: shop)
            #expect(try await upload(shop, Array("not a pdf at all".utf8)).status == .unsupportedMediaType)
            #expect(try await upload(shop, pdfBytes, type: "image/png").status == .unsupportedMediaType)
            #expect(try await upload(shop, pdfBytes + Array(repeating: 0x20, count: InvoiceRules.fileLimit)).status == .contentTooLarge)
            #expect(try await upload(canteen, pdfBytes).status == .forbidden)
            #expect(try await upload(market.other.token, pdfBytes).status == .notFound)
            let attached = try await upload(shop, pdfBytes)
            #expect(attached.status == .ok && attached.object["fileSize"] as? Int == pdfBytes.count, "\(attached.text)")
            // A replaced PDF leaves the disk once nothing refers to it.
            let first = try #require(attached.object["fileId"] as? String)
            let second = pdfBytes + Array("% second copy\n".utf8)
            let replaced = try await upload(shop, second)
            #expect(replaced.status == .ok && replaced.object["fileId"] as? String != first)
            #expect(!test.services.uploads.exists(sha256: first))
            #expect(try await upload(shop, pdfBytes).status == .ok)
            #expect(test.services.uploads.exists(sha256: first))
            for token in [canteen, shop, market.cast.admin] {
                let got = try await client.execute(uri: file, method: .get, headers: [.authorization: "Bearer \(token)"])
                #expect(got.status == .ok && Array(got.body.readableBytesView) == pdfBytes)
                #expect(got.headers[.contentType] == "application/pdf")
            }
            #expect(try await client.call(.get, file, token: market.stranger.token).status == .notFound)
            // A contractor of the canteen reads it too (it accepts the goods); it records nothing.
            let outsourced = #"{"canteenMode":"outsourced","canteenBudgetFen":10000000,"reservedRatioBp":1500}"#
            #expect(try await client.call(.put, market.canteen.planPath, token: canteen, json: outsourced).status == .ok)
            let cook = #"{"username":"cook-i","password":"correct horse 1","displayName":"厨师","memberRole":"contractor"}"#
            #expect(try await client.call(.post, "/api/v1/buyer-organizations/\(market.canteen.organizationId)/members", token: canteen, json: cook).status == .created)
            let contractor = try await client.signIn("cook-i")
            #expect(try await client.call(.get, file, token: contractor).status == .ok)
            #expect(try await upload(contractor, pdfBytes).status == .forbidden)
            #expect(try await client.call(.get, file, token: market.other.token).status == .notFound)
        }
    }

    @Test func theOperatorMayLetBudgetUnitsPayWithoutAnInvoice() async throws {
        let test = try await TestApp.make { $0.requireInvoice = false }
        try await test.run { client in
            let market = try await Market.make(test, client)
            let order = try #require(try await client.place(market.canteen.token, [(market.rice, 1)]).orderIds.first)
            try await client.walk(order, buyer: market.canteen.token, merchant: market.shop.token, to: "accepted", amountFen: 0)
            let paid = try await client.call(
                .post, "/api/v1/orders/\(order)/payment", token: market.canteen.token, json: #"{"reference":"r","amountFen":1000}"#)
            #expect(paid.object["status"] as? String == "settled" && paid.object["invoice"] is NSNull, "\(paid.text)")
        }
    }

    @Test func invoiceRules() {
        let day = CalendarDate(year: 2026, month: 5, day: 1)
        let ok = InvoiceRules.problems(
            number: "A1234567", kind: "vat_special", issuedOn: "2026-05-01", amountFen: 10, netFen: 10, orderedOn: day, today: day)
        #expect(ok.isEmpty)
        #expect(InvoiceRules.isNumber("12345678901234567890") && !InvoiceRules.isNumber("发票12345678") && !InvoiceRules.isNumber(nil))
        #expect(InvoiceRules.day(of: Date(timeIntervalSince1970: 1_767_196_800)) == CalendarDate(year: 2026, month: 1, day: 1))  // 2025-12-31T16:00Z
    }
}
