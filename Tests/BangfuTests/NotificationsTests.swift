import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import BangfuApp

extension TestClientProtocol {
    /// The caller's inbox: its items (kind, subjectId, …) and the unread count.
    func inbox(_ token: String, query: String = "") async throws -> (items: [[String: Any]], unread: Int?, next: String?) {
        let response = try await call(.get, "/api/v1/notifications" + query, token: token)
        #expect(response.status == .ok, "inbox answered \(response.status): \(response.text)")
        return (
            response.object["items"] as? [[String: Any]] ?? [], response.object["unreadCount"] as? Int,
            response.object["nextCursor"] as? String
        )
    }
}

@Suite struct NotificationsTests {
    /// The kinds of the caller's notifications about `subjectId` (the test clock may give
    /// several the same instant, so their order is not asserted).
    func kinds(_ client: any TestClientProtocol, _ token: String, about subjectId: String) async throws -> Set<String> {
        Set(try await client.inbox(token, query: "?limit=100").items.filter { $0["subjectId"] as? String == subjectId }
            .compactMap { $0["kind"] as? String })
    }

    @Test func orderStepsReachTheOtherPartyOnlyAndTheInboxIsTheCallersOwn() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let market = try await Market.make(test, client)
            let (shop, canteen, stranger) = (market.shop, market.canteen, market.stranger)
            let before = try await client.inbox(shop.token).items.count
            let buyerBefore = try await client.inbox(canteen.token).items.count
            let orderId = try #require(try await client.place(canteen.token, [(market.rice, 3)]).orderIds.first)

            // The merchant hears of the placement, with the order as subject; the buyer (the
            // actor) and a stranger hear nothing of it.
            let shopInbox = try await client.inbox(shop.token)
            let placed = try #require(shopInbox.items.first { $0["subjectId"] as? String == orderId })
            #expect(shopInbox.items.count == before + 1)
            #expect(placed["kind"] as? String == "order.placed" && placed["subjectType"] as? String == "order")
            #expect(placed["readAt"] is NSNull)
            #expect((placed["title"] as? String) == "新订单" && (placed["body"] as? String)?.contains(orderId) == true)
            #expect(try await client.inbox(canteen.token).items.count == buyerBefore)
            #expect(try await kinds(client, stranger.token, about: orderId).isEmpty)
            #expect(try await kinds(client, market.other.token, about: orderId).isEmpty)

            // Each later step tells the other party.
            try await client.walk(orderId, buyer: canteen.token, merchant: shop.token, to: "settled", amountFen: 3_000)
            #expect(try await kinds(client, canteen.token, about: orderId) == ["order.invoiced", "order.shipped", "order.confirmed"])
            #expect(try await kinds(client, shop.token, about: orderId) == ["order.settled", "order.accepted", "order.placed"])
            #expect(try await kinds(client, stranger.token, about: orderId).isEmpty)

            // Reading: only one's own; reading twice keeps the first time; the count follows.
            let id = try #require(placed["id"] as? String)
            for token in [canteen.token, stranger.token, market.cast.admin, market.cast.yanshouOfficer] {
                #expect(try await client.call(.post, "/api/v1/notifications/\(id)/read", token: token).status == .notFound)
            }
            #expect(try await client.call(.post, "/api/v1/notifications/\(id)/read").status == .unauthorized)
            let unreadBefore = try #require(try await client.inbox(shop.token).unread)
            let read = try await client.call(.post, "/api/v1/notifications/\(id)/read", token: shop.token)
            let readAt = try #require(read.object["readAt"] as? String)
            #expect(try await client.inbox(shop.token).unread == unreadBefore - 1)
            let again = try await client.call(.post, "/api/v1/notifications/\(id)/read", token: shop.token)
            #expect(again.object["readAt"] as? String == readAt)
            #expect(try await client.inbox(shop.token, query: "?unread=true").items.allSatisfy { $0["id"] as? String != id })

            // Read all: the buyer's, then nothing unread; the merchant's are untouched.
            let buyerUnread = try #require(try await client.inbox(canteen.token).unread)
            #expect(buyerUnread >= 2)
            let all = try await client.call(.post, "/api/v1/notifications/read-all", token: canteen.token)
            #expect(all.object["marked"] as? Int == buyerUnread && all.object["unreadCount"] as? Int == 0)
            #expect(try await client.inbox(canteen.token, query: "?unread=true").items.isEmpty)
            #expect(try await client.inbox(shop.token).unread == unreadBefore - 1)
        }
    }

    @Test func refundsAndRefusalsAndPaging() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let market = try await Market.make(test, client)
            let (shop, canteen) = (market.shop, market.canteen)
            let orderId = try #require(try await client.place(canteen.token, [(market.rice, 2)]).orderIds.first)
            // A refused step writes nothing: shipping a placed order is 409, and nobody is told.
            let shopBefore = try await client.inbox(shop.token).items.count
            let early = try await client.call(
                .post, "/api/v1/orders/\(orderId)/shipment", token: shop.token, json: #"{"carrier":"顺丰","trackingNumber":"1"}"#)
            #expect(early.code == "invalid_transition")
            #expect(try await kinds(client, canteen.token, about: orderId).isEmpty)
            #expect(try await client.inbox(shop.token).items.count == shopBefore)

            try await client.walk(orderId, buyer: canteen.token, merchant: shop.token, to: "settled", amountFen: 2_000)
            let refund = try await client.call(
                .post, "/api/v1/orders/\(orderId)/refunds", token: canteen.token, json: #"{"amountFen":500,"reason":"破损"}"#)
            let refundId = try #require(refund.object["id"] as? String)
            let asked = try #require(try await client.inbox(shop.token).items.first { $0["subjectId"] as? String == refundId })
            #expect(asked["kind"] as? String == "refund.requested" && asked["subjectType"] as? String == "refund")
            #expect((asked["body"] as? String)?.contains("5.00 元") == true && (asked["body"] as? String)?.contains("破损") == true)
            _ = try await client.call(.post, "/api/v1/refunds/\(refundId)/rejection", token: shop.token, json: #"{"note":"已过质保"}"#)
            let decided = try #require(try await client.inbox(canteen.token).items.first { $0["subjectId"] as? String == refundId })
            #expect(decided["kind"] as? String == "refund.decided" && decided["title"] as? String == "退款被拒绝")
            #expect(try await kinds(client, shop.token, about: refundId) == ["refund.requested"])

            // Pages: newest first, a cursor for the rest; bad parameters name themselves.
            let all = try await client.inbox(canteen.token, query: "?limit=100")
            let first = try await client.inbox(canteen.token, query: "?limit=1")
            #expect(first.items.count == 1 && first.unread == all.items.count && all.items.count >= 4)
            let cursor = try #require(first.next)
            let second = try await client.inbox(canteen.token, query: "?limit=1&cursor=\(cursor)")
            #expect(second.items.first?["id"] as? String != first.items.first?["id"] as? String)
            #expect(try await client.call(.get, "/api/v1/notifications?unread=yes", token: canteen.token).fields == ["unread"])
            #expect(try await client.call(.get, "/api/v1/notifications?cursor=\(cursor)&unread=true", token: canteen.token).fields == ["cursor"])
            #expect(try await client.call(.get, "/api/v1/notifications").status == .unauthorized)
        }
    }

    @Test func reviewsReachTheCountyOfTheApplicationAndThenTheAdmins() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let applicant = try await client.signUp("newshop")
            let applicationId = try await client.apply(applicant)
            #expect(try await kinds(client, cast.yanshouOfficer, about: applicationId) == ["merchant_application.submitted"])
            #expect(try await client.inbox(cast.longjiangOfficer).items.allSatisfy { $0["subjectId"] as? String != applicationId })
            #expect(try await client.inbox(cast.admin).items.allSatisfy { $0["subjectId"] as? String != applicationId })

            _ = try await client.call(
                .post, "/api/v1/merchant-applications/\(applicationId)/recommend", token: cast.yanshouOfficer, json: "{}")
            let admin = try #require(try await client.inbox(cast.admin).items.first { $0["subjectId"] as? String == applicationId })
            #expect(admin["kind"] as? String == "merchant_application.recommended")
            #expect(admin["subjectType"] as? String == "merchant_application")
            _ = try await client.call(
                .post, "/api/v1/merchant-applications/\(applicationId)/approve", token: cast.admin, json: #"{"note":"材料齐全"}"#)
            let told = try #require(try await client.inbox(applicant).items.first { $0["subjectId"] as? String == applicationId })
            #expect(told["kind"] as? String == "merchant_application.approved")
            #expect((told["body"] as? String)?.contains("材料齐全") == true)
        }
    }

    @Test func aRemovedMembersStreamEndsAtTheNextHeartbeat() async throws {
        let test = try await TestApp.make {
            $0.notificationStreamDuration = .seconds(20)
            $0.notificationHeartbeat = .milliseconds(100)
        }
        try await test.run { client in
            let market = try await Market.make(test, client)
            let canteen = market.canteen
            let members = "/api/v1/buyer-organizations/\(canteen.organizationId)/members"
            let body = #"{"username":"buyer-gone","password":"correct horse 1","displayName":"采购员","memberRole":"purchaser"}"#
            let added = try await client.call(.post, members, token: canteen.token, json: body)
            let userId = try #require(added.object["userId"] as? String, "\(added.text)")
            let token = try await client.signIn("buyer-gone")
            let started = ContinuousClock.now
            async let open = client.execute(
                uri: "/api/v1/notifications/stream", method: .get, headers: [.authorization: "Bearer \(token)"], body: nil)
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await client.call(.delete, "\(members)/\(userId)", token: canteen.token).status == .noContent)
            // Its session ended with the removal: the open stream ends within a heartbeat or so,
            // not at the end of its 20 s.
            #expect(try await open.status == .ok)
            #expect(ContinuousClock.now - started < .seconds(5))
            #expect(test.services.inboxHub.openStreams == 0)
        }
    }

    @Test func theStreamBringsEachNewNotificationOnceAndResumesFromTheLastId() async throws {
        // No heartbeat within the stream's life: only the wake after COMMIT can bring the order.
        let test = try await TestApp.make {
            $0.notificationStreamDuration = .seconds(2)
            $0.notificationHeartbeat = .seconds(30)
        }
        try await test.run { client in
            let market = try await Market.make(test, client)
            let (shop, canteen) = (market.shop, market.canteen)
            let lastEventID = HTTPField.Name("Last-Event-ID")!
            func stream(_ token: String, from position: String? = nil) async throws -> TestResponse {
                var headers: HTTPFields = [.authorization: "Bearer \(token)"]
                if let position { headers[lastEventID] = position }
                return try await client.execute(uri: "/api/v1/notifications/stream", method: .get, headers: headers, body: nil)
            }
            // Opened before the order (a second later than the shop's earlier notifications): the
            // placement arrives while it is open, once, and nothing from before it opened.
            async let open = stream(shop.token)
            try await Task.sleep(for: .milliseconds(500))
            test.clock.advance(seconds: 1)
            let orderId = try #require(try await client.place(canteen.token, [(market.rice, 1)]).orderIds.first)
            let live = try await open
            #expect(live.status == .ok && live.headers[.contentType] == "text/event-stream; charset=utf-8")
            let text = String(buffer: live.body)
            #expect(text.hasPrefix("retry: 5000\n\nid: "))
            #expect(text.contains("event: unread\ndata: {\"unreadCount\":"))
            let events = text.components(separatedBy: "\n\n").filter { $0.contains("event: notification") }
            #expect(events.count == 1, "\(text)")
            let event = try #require(events.first)
            #expect(event.contains("\"kind\":\"order.placed\"") && event.contains(orderId) && event.contains("\"unreadCount\":"))
            // A reconnection from before the order brings it again; from its own id, nothing.
            let id = try #require(event.split(separator: "\n").first { $0.hasPrefix("id: ") }).dropFirst(4)
            let before = try await stream(shop.token, from: "\(test.clock.now.millis - 1)|-")
            #expect(String(buffer: before.body).components(separatedBy: "event: notification").count == 2)
            #expect(String(buffer: before.body).contains(orderId))
            let after = try await stream(shop.token, from: String(id))
            #expect(!String(buffer: after.body).contains("event: notification"))
            // Nobody else's stream sees it; a bad id is refused naming the header.
            #expect(!String(buffer: try await stream(market.stranger.token, from: "0|-").body).contains(orderId))
            #expect(try await stream(shop.token, from: "yesterday").status == .badRequest)
            #expect(try await client.call(.get, "/api/v1/notifications/stream").status == .unauthorized)
            #expect(test.services.inboxHub.openStreams == 0)
        }
    }

    /// The notification is written by the change's own transaction: when the transaction fails
    /// after the change, neither the change's audit event nor its notification remains.
    @Test func aRolledBackChangeLeavesNoNotification() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let market = try await Market.make(test, client)
            let orderId = try #require(try await client.place(market.canteen.token, [(market.rice, 1)]).orderIds.first)
            let before = try await client.inbox(market.canteen.token).items.count
            struct Boom: Error {}
            let event = AuditEvent(actorId: nil, "order.confirm", .order(orderId), [:])
            await #expect(throws: Boom.self) {
                try await test.services.database.write { db in
                    try await test.services.audit.append(event, in: db)
                    throw Boom()
                }
            }
            #expect(try await client.inbox(market.canteen.token).items.count == before)
            try await test.services.database.write { db in try await test.services.audit.append(event, in: db) }
            #expect(try await client.inbox(market.canteen.token).items.count == before + 1)
        }
    }

    @Test func aCheckoutOfTwoMerchantsTellsEachOfItsOwnOrder() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let market = try await Market.make(test, client)
            let beans = try await market.other.listed(test, client, title: "延寿黄豆", price: 800)
            let placed = try await client.place(market.canteen.token, [(market.rice, 1), (beans, 2)])
            let orders = placed.orderIds
            #expect(orders.count == 2)
            var told: [String] = []
            for seller in [market.shop, market.other] {
                let mine = try await client.inbox(seller.token, query: "?limit=100").items
                    .filter { $0["kind"] as? String == "order.placed" }.compactMap { $0["subjectId"] as? String }
                #expect(mine.count == 1, "\(mine)")
                told += mine
                let order = try await client.call(.get, "/api/v1/orders/\(mine.first ?? "-")", token: seller.token)
                #expect(order.status == .ok)
            }
            #expect(Set(told) == Set(orders))
        }
    }

    @Test func streamMessagesAsText() throws {
        #expect(try NotificationsController.text(of: .keepAlive) == ": keep-alive\n\n")
        #expect(try NotificationsController.text(of: .retry(milliseconds: 5000)) == "retry: 5000\n\n")
        #expect(
            try NotificationsController.text(of: .opened(position: "5|-", unread: .init(unreadCount: 2)))
                == "id: 5|-\nevent: unread\ndata: {\"unreadCount\":2}\n\n")
    }

    @Test func everyRuleNamesAKindAndATitleAndMoneyIsExact() {
        for (action, rule) in NotificationRules.table {
            #expect(action.contains(".") && rule.kind.contains(".") && !rule.title.isEmpty, "\(action)")
        }
        // The order kinds are API.md's webhook event types.
        let orderKinds = Set(NotificationRules.table.values.map(\.kind).filter { $0.hasPrefix("order.") })
        #expect(orderKinds == ["order.placed", "order.confirmed", "order.rejected", "order.cancelled", "order.shipped", "order.accepted", "order.settled", "order.invoiced", "order.rated", "order.rating_replied"])
        // Each is a webhook event type but the reply, which only the buyer's inbox hears of.
        #expect(orderKinds.subtracting(WebhookRules.eventTypes) == ["order.rating_replied"])
        #expect(NotificationRules.yuan(0) == "0.00" && NotificationRules.yuan(5) == "0.05" && NotificationRules.yuan(123_456) == "1234.56")
        #expect(NotificationRules.yuan(-250) == "-2.50" && NotificationRules.yuan(Int64.min).hasPrefix("-92233720368547758."))
        #expect(
            NotificationRules.body(subjectType: "refund", subjectId: "r1", data: ["amountFen": .int(500), "reason": "破损"])
                == "退款 r1，金额 5.00 元。说明：破损")
        #expect(NotificationRules.body(subjectType: "order", subjectId: "o1", data: ["note": .null]) == "订单 o1")
    }
}
