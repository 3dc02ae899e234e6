import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOConcurrencyHelpers
import Testing

@testable import BangfuApp

/// A receiver in the test's hands: it records every delivery (and the address its connection
/// was pinned to) and answers as `answer` says for the n-th attempt (0-based) at a URL; a nil
/// answer is a connection that never answered.
final class RecordingTransport: WebhookTransport, WebhookConnection {
    struct Received: Sendable {
        var url: String
        var headers: [String: String]
        var body: String
    }

    private let received = NIOLockedValueBox<[Received]>([])
    private let opened = NIOLockedValueBox<[String?]>([])
    private let answer: @Sendable (_ attempt: Int, _ url: String) -> Int?

    init(answer: @escaping @Sendable (_ attempt: Int, _ url: String) -> Int? = { _, _ in 200 }) {
        self.answer = answer
    }

    var deliveries: [Received] { received.withLockedValue { $0 } }
    /// The address each connection was made to (nil: not pinned).
    var addresses: [String?] { opened.withLockedValue { $0 } }

    func open(url: String, address: String?) -> any WebhookConnection {
        opened.withLockedValue { $0.append(address) }
        return self
    }

    func close() async {}

    func post(_ url: String, headers: [(String, String)], body: [UInt8]) async throws -> Int {
        let attempt = received.withLockedValue { list in
            list.append(Received(url: url, headers: Dictionary(headers, uniquingKeysWith: { $1 }), body: String(decoding: body, as: UTF8.self)))
            return list.filter { $0.url == url }.count - 1
        }
        guard let code = answer(attempt, url) else { throw CancellationError() }
        return code
    }
}

extension TestClientProtocol {
    /// Registers a webhook; answers the whole response.
    func webhook(_ token: String, url: String, events: [String]) async throws -> TestResponse {
        let list = events.map { "\"\($0)\"" }.joined(separator: ",")
        return try await call(.post, "/api/v1/webhooks", token: token, json: #"{"url":"\#(url)","events":[\#(list)]}"#)
    }
}

@Suite struct WebhooksTests {
    static let shopURL = "https://93.184.215.14/hooks/shop"
    static let canteenURL = "https://93.184.215.15/hooks/canteen"

    /// The HMAC a receiver computes to check `Bangfu-Signature`.
    static func verifies(_ received: RecordingTransport.Received, secret: String) -> Bool {
        guard let header = received.headers["Bangfu-Signature"] else { return false }
        let parts = Dictionary(
            header.split(separator: ",").compactMap { part -> (String, String)? in
                let pair = part.split(separator: "=", maxSplits: 1)
                return pair.count == 2 ? (String(pair[0]), String(pair[1])) : nil
            }, uniquingKeysWith: { $1 })
        guard let t = parts["t"], let v1 = parts["v1"] else { return false }
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(t).\(received.body)".utf8), using: SymmetricKey(data: Array(secret.utf8)))
        return Array(mac).lowercaseHex == v1
    }

    static func envelope(_ received: RecordingTransport.Received) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(received.body.utf8)) as? [String: Any])
    }

    @Test func registrationShowsTheSecretOnceAndRefusesWhatItMust() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let market = try await Market.make(test, client)
            let created = try await client.webhook(market.shop.token, url: Self.shopURL, events: ["order.shipped", "order.placed"])
            #expect(created.status == .created, "\(created.text)")
            let secret = try #require(created.object["secret"] as? String)
            #expect(secret.hasPrefix("whsec_") && secret.count > 40)
            #expect(created.object["events"] as? [String] == ["order.placed", "order.shipped"])
            let id = try #require(created.object["id"] as? String)

            // Listed without its secret, to its owner only.
            let listed = try await client.call(.get, "/api/v1/webhooks", token: market.shop.token)
            let items = try #require(listed.object["items"] as? [[String: Any]])
            #expect(items.map { $0["id"] as? String } == [id] && items[0]["secret"] == nil && !listed.text.contains(secret))
            #expect((try await client.call(.get, "/api/v1/webhooks", token: market.other.token).object["items"] as? [Any])?.isEmpty == true)
            #expect((try await client.call(.get, "/api/v1/webhooks", token: market.cast.admin).object["items"] as? [Any])?.isEmpty == true)

            // Refusals name the field; nothing is written.
            for (url, field) in [
                ("https://127.0.0.1/hook", "url"), ("https://10.0.0.5/hook", "url"), ("https://[::1]/hook", "url"),
                ("https://169.254.169.254/latest", "url"), ("http://93.184.215.14/hook", "url"), ("not a url", "url"),
            ] {
                let refused = try await client.webhook(market.shop.token, url: url, events: ["order.placed"])
                #expect(refused.status == .unprocessableContent, "\(url): \(refused.status)")
                #expect(refused.text.contains("\"\(field)\""), "\(url): \(refused.text)")
            }
            let unknown = try await client.webhook(market.shop.token, url: Self.shopURL, events: ["order.teleported"])
            #expect(unknown.status == .unprocessableContent && unknown.text.contains("\"events\""))
            let none = try await client.webhook(market.shop.token, url: Self.shopURL, events: [])
            #expect(none.status == .unprocessableContent && none.text.contains("\"events\""))
            let county = try await client.webhook(market.cast.yanshouOfficer, url: Self.shopURL, events: ["order.placed"])
            #expect(county.status == .forbidden)
            #expect(try await client.webhook("", url: Self.shopURL, events: ["order.placed"]).status == .unauthorized)
            #expect((try await client.call(.get, "/api/v1/webhooks", token: market.shop.token).object["items"] as? [Any])?.count == 1)

            // Another owner's webhook does not exist for them.
            for token in [market.other.token, market.canteen.token, market.cast.admin] {
                #expect(try await client.call(.delete, "/api/v1/webhooks/\(id)", token: token).status == .notFound)
                #expect(try await client.call(.get, "/api/v1/webhooks/\(id)/deliveries", token: token).status == .notFound)
            }
            #expect(try await client.call(.delete, "/api/v1/webhooks/\(id)", token: market.shop.token).status == .noContent)
            #expect(try await client.call(.delete, "/api/v1/webhooks/\(id)", token: market.shop.token).status == .notFound)

            // The secret reaches no audit event.
            let audit = try await client.call(.get, "/api/v1/audit-events?limit=100", token: market.cast.admin)
            #expect(audit.text.contains("webhook.create") && !audit.text.contains(secret))
        }
    }

    @Test(arguments: [
        "https://evil@127.0.0.1/hook", "https://2130706433/hook", "https://0x7f.1/hook", "https://[::ffff:7f00:1]/hook",
        "https://localhost/hook", "https://localhost./hook", "https://[fe80::1%25eth0]/hook", "https://0/hook",
    ])
    func tricksForLoopbackAreRefused(url: String) async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let admin = try await test.adminToken(client)
            let refused = try await client.webhook(admin, url: url, events: ["order.placed"])
            #expect(refused.status == .unprocessableContent && refused.text.contains("\"url\""), "\(url): \(refused.text)")
        }
    }

    @Test func deliveriesGoToTheAddressCheckedAndANameThatTurnsPrivateIsRefused() async throws {
        let answers = NIOLockedValueBox<[UInt8]>([93, 184, 215, 14])
        let test = try await TestApp.make {
            $0.webhooks.resolver = HostResolver { host in
                guard host == "erp.example.cn" else { throw HostResolver.NotFound() }
                return [answers.withLockedValue { $0 }]
            }
        }
        try await test.run { client in
            let market = try await Market.make(test, client)
            let hook = try await client.webhook(market.shop.token, url: "https://erp.example.cn/in", events: ["order.placed"])
            #expect(hook.status == .created, "\(hook.text)")
            let hookId = try #require(hook.object["id"] as? String)
            let transport = RecordingTransport()
            let delivery = WebhookDelivery(services: test.services, transport: transport, logger: .init(label: "test"))
            _ = try await client.place(market.canteen.token, [(market.rice, 1)])
            #expect(try await delivery.pass() == 1)
            #expect(transport.addresses == ["93.184.215.14"] && transport.deliveries.count == 1)

            // The name now answers the cloud's metadata address: nothing is sent there.
            answers.withLockedValue { $0 = [169, 254, 169, 254] }
            _ = try await client.place(market.canteen.token, [(market.rice, 1)])
            #expect(try await delivery.pass() == 1)
            #expect(transport.deliveries.count == 1 && transport.addresses.count == 1)
            let log = try await client.call(.get, "/api/v1/webhooks/\(hookId)/deliveries", token: market.shop.token)
            let newest = try #require((log.object["items"] as? [[String: Any]])?.first)
            #expect(newest["status"] as? String == "pending" && (newest["error"] as? String)?.contains("public address") == true)
        }
    }

    @Test func aQueueWhoseLeaseLapsedAndWasTakenRecordsNothing() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let market = try await Market.make(test, client)
            let hook = try await client.webhook(market.shop.token, url: Self.shopURL, events: ["order.placed"])
            let hookId = try #require(hook.object["id"] as? String)
            _ = try await client.place(market.canteen.token, [(market.rice, 1)])
            let transport = RecordingTransport()
            let first = WebhookDelivery(services: test.services, transport: transport, logger: .init(label: "test"))
            let second = WebhookDelivery(services: test.services, transport: transport, logger: .init(label: "test"))
            let leased = try await first.exchange([], claiming: 8)
            #expect(leased.count == 1)
            #expect(try await second.exchange([], claiming: 8).isEmpty, "the webhook is leased")
            // The first holder is slow beyond its lease; a second claim takes the webhook.
            test.clock.advance(seconds: WebhookStore.lease + 1)
            let retaken = try await second.exchange([], claiming: 8)
            #expect(retaken.count == 1 && retaken[0][0].leasedBy != leased[0][0].leasedBy)
            let late = await first.send(leased[0])
            let current = await second.send(retaken[0])
            _ = try await first.exchange([late], claiming: 0)
            func log() async throws -> [String: Any] {
                let page = try await client.call(.get, "/api/v1/webhooks/\(hookId)/deliveries", token: market.shop.token)
                return try #require((page.object["items"] as? [[String: Any]])?.first)
            }
            #expect(try await log()["attempt"] as? Int == 0, "the lapsed lease recorded nothing")
            _ = try await second.exchange([current], claiming: 0)
            let entry = try await log()
            #expect(entry["attempt"] as? Int == 1 && entry["status"] as? String == "delivered")
            // Released: nothing is leased or due any more.
            #expect(try await first.exchange([], claiming: 8).isEmpty)
        }
    }

    @Test func thePinIsKeyedAsTheHTTPClientLooksItUp() {
        #expect(HTTPWebhookTransport.overrideKey("https://ERP.Example.cn:8443/in?x=1") == "ERP.Example.cn")
        #expect(HTTPWebhookTransport.overrideKey("https://erp.example.cn/in") == "erp.example.cn")
    }

    @Test func aChangeThatRollsBackWritesNoDelivery() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let market = try await Market.make(test, client)
            // Placed while no webhook is live (on SQLite the store then remembers there is none);
            // the registration that follows is heard at once.
            let order = try #require(try await client.place(market.canteen.token, [(market.rice, 1)]).orderIds.first)
            _ = try await client.webhook(market.shop.token, url: Self.shopURL, events: ["order.cancelled"])
            struct Abandoned: Error {}
            let services = test.services
            await #expect(throws: Abandoned.self) {
                try await services.database.write { db in
                    try await services.audit.append(
                        AuditEvent(actorId: nil, "order.cancel", .order(order), ["from": "placed", "to": "cancelled"]), in: db)
                    #expect(try await services.webhooks.pendingCount(in: db) == 1, "written in the transaction")
                    throw Abandoned()
                }
            }
            #expect(try await services.database.read { db in try await services.webhooks.pendingCount(in: db) } == 0)
        }
    }

    @Test func anOwnerMustExistAndKeepsAtMostTwenty() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let market = try await Market.make(test, client)
            // A merchant not yet approved and a buyer without an organization have no events.
            let applicant = try await client.signUp("applicant")
            let lone = try await client.signUp("lonebuyer", role: "buyer")
            let noMerchant = try await client.webhook(applicant, url: Self.shopURL, events: ["order.placed"])
            #expect(noMerchant.status == .conflict && noMerchant.text.contains("no_merchant"))
            let noOrganization = try await client.webhook(lone, url: Self.shopURL, events: ["order.placed"])
            #expect(noOrganization.status == .conflict && noOrganization.text.contains("no_organization"))
            #expect((try await client.call(.get, "/api/v1/webhooks", token: lone).object["items"] as? [Any])?.isEmpty == true)
            // Twenty live webhooks, then a refusal; deleting one makes room.
            var ids: [String] = []
            for n in 0..<WebhookRules.perOwner {
                let created = try await client.webhook(market.canteen.token, url: Self.canteenURL + "/\(n)", events: ["order.shipped"])
                ids.append(try #require(created.object["id"] as? String))
            }
            let extra = try await client.webhook(market.canteen.token, url: Self.canteenURL, events: ["order.shipped"])
            #expect(extra.status == .conflict && extra.text.contains("too_many_webhooks"))
            #expect(try await client.call(.delete, "/api/v1/webhooks/\(ids[0])", token: market.canteen.token).status == .noContent)
            #expect(try await client.webhook(market.canteen.token, url: Self.canteenURL, events: ["order.shipped"]).status == .created)
            // The other canteen sees none of them.
            #expect((try await client.call(.get, "/api/v1/webhooks", token: market.stranger.token).object["items"] as? [Any])?.isEmpty == true)
        }
    }

    @Test func theOperatorMayAllowPrivateAddressesForTesting() async throws {
        let test = try await TestApp.make { $0.webhooks.allowPrivate = true }
        try await test.run { client in
            let admin = try await test.adminToken(client)
            #expect(try await client.webhook(admin, url: "https://127.0.0.1:9443/hook", events: ["order.placed"]).status == .created)
            #expect(try await client.webhook(admin, url: "http://127.0.0.1:9443/hook", events: ["order.placed"]).status == .unprocessableContent)
        }
    }

    @Test func eachOwnerHearsItsOwnEventsSignedAndInOrderRetriedUntilDelivered() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let market = try await Market.make(test, client)
            let shopHook = try await client.webhook(
                market.shop.token, url: Self.shopURL, events: ["order.placed", "order.confirmed", "order.cancelled"])
            let shopSecret = try #require(shopHook.object["secret"] as? String)
            let shopHookId = try #require(shopHook.object["id"] as? String)
            let canteenHook = try await client.webhook(market.canteen.token, url: Self.canteenURL, events: ["order.confirmed"])
            let canteenSecret = try #require(canteenHook.object["secret"] as? String)
            _ = try await client.webhook(market.other.token, url: "https://93.184.215.16/other", events: ["order.placed"])
            _ = try await client.webhook(market.stranger.token, url: "https://93.184.215.17/stranger", events: ["order.confirmed"])

            // The shop's receiver fails its first three attempts (500, no answer, 503), then takes them.
            let transport = RecordingTransport { attempt, url in
                url == Self.shopURL ? [500, nil, 503][safe: attempt] ?? 200 : 200
            }
            let delivery = WebhookDelivery(services: test.services, transport: transport, logger: .init(label: "test"))
            let order = try #require(try await client.place(market.canteen.token, [(market.rice, 2)]).orderIds.first)
            #expect(try await client.call(.post, "/api/v1/orders/\(order)/confirm", token: market.shop.token, json: "{}").status == .ok)

            // First attempt: only the placement goes to the shop (its confirmation waits behind
            // it); the canteen hears of the confirmation.
            #expect(try await delivery.pass() == 2)
            #expect(Set(transport.deliveries.map(\.url)) == [Self.shopURL, Self.canteenURL])
            // Not yet due: nothing is sent again before its minute.
            #expect(try await delivery.pass() == 0)
            for delay in [60.0, 120] {
                test.clock.advance(seconds: delay)
                #expect(try await delivery.pass() == 1)
            }
            // Delivered on the fourth attempt, and the confirmation queued behind it follows in
            // the same pass.
            test.clock.advance(seconds: 240)
            #expect(try await delivery.pass() == 2)
            #expect(try await delivery.pass() == 0)

            let toShop = transport.deliveries.filter { $0.url == Self.shopURL }
            #expect(toShop.count == 5)
            let placements = toShop.prefix(4)
            #expect(Set(placements.map(\.body)).count == 1, "every attempt sends the same bytes")
            #expect(placements.allSatisfy { Self.verifies($0, secret: shopSecret) })
            #expect(!Self.verifies(toShop[0], secret: canteenSecret))
            let placed = try Self.envelope(toShop[0])
            #expect(placed["type"] as? String == "order.placed" && toShop[0].headers["Bangfu-Event-Id"] == placed["id"] as? String)
            let data = try #require(placed["data"] as? [String: Any])
            #expect(data["id"] as? String == order && data["status"] as? String == "placed" && data["totalFen"] as? Int == 2_000)
            let confirmed = try Self.envelope(toShop[4])
            #expect(confirmed["type"] as? String == "order.confirmed" && (confirmed["data"] as? [String: Any])?["status"] as? String == "confirmed")
            #expect(Self.verifies(toShop[4], secret: shopSecret))
            let toCanteen = try #require(transport.deliveries.first { $0.url == Self.canteenURL })
            #expect(Self.verifies(toCanteen, secret: canteenSecret))
            #expect(try Self.envelope(toCanteen)["type"] as? String == "order.confirmed")
            // The other merchant and the other canteen heard nothing of this order.
            #expect(!transport.deliveries.contains { $0.url.hasSuffix("/other") || $0.url.hasSuffix("/stranger") })

            // The delivery log, newest first.
            let log = try await client.call(.get, "/api/v1/webhooks/\(shopHookId)/deliveries", token: market.shop.token)
            let entries = try #require(log.object["items"] as? [[String: Any]])
            #expect(entries.map { $0["type"] as? String } == ["order.confirmed", "order.placed"])
            #expect(entries[1]["attempt"] as? Int == 4 && entries[1]["status"] as? String == "delivered")
            #expect(entries[1]["responseCode"] as? Int == 200 && entries[1]["nextAttemptAt"] is NSNull)
        }
    }

    @Test func aBacklogGoesOutInTheOrderItWasWrittenSeveralAPass() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let market = try await Market.make(test, client)
            _ = try await client.webhook(market.shop.token, url: Self.shopURL, events: ["order.placed"])
            var placed: [String] = []
            for _ in 0..<20 { placed += try await client.place(market.canteen.token, [(market.rice, 1)]).orderIds }
            // The 8th delivery fails once: the rest of its queue waits behind it.
            let transport = RecordingTransport { attempt, _ in attempt == 7 ? 500 : 200 }
            let delivery = WebhookDelivery(services: test.services, transport: transport, logger: .init(label: "test"))
            // 16 claimed, 8 tried (the 8th failed); then the 13 left, the failed one first.
            #expect(try await delivery.pass() == 8)
            #expect(try await delivery.pass() == 0, "its head is not due for a minute")
            test.clock.advance(seconds: 60)
            #expect(try await delivery.pass() == 13)
            #expect(try await delivery.pass() == 0)
            let delivered = try transport.deliveries.map { try #require((try Self.envelope($0)["data"] as? [String: Any])?["id"] as? String) }
            #expect(delivered.count == 21)
            #expect(Array(delivered.prefix(7)) + Array(delivered.dropFirst(8)) == placed)
        }
    }

    @Test func aDeliveryIsGivenUpAfterADayAndADeletedWebhookHearsNoMore() async throws {
        // Sessions outlive the day the test lets pass.
        let test = try await TestApp.make { $0.sessionLifetime = .seconds(7 * 24 * 3600) }
        try await test.run { client in
            let market = try await Market.make(test, client)
            let hook = try await client.webhook(market.shop.token, url: Self.shopURL, events: ["order.placed", "order.cancelled"])
            let hookId = try #require(hook.object["id"] as? String)
            let transport = RecordingTransport { _, _ in 500 }
            let delivery = WebhookDelivery(services: test.services, transport: transport, logger: .init(label: "test"))
            let order = try #require(try await client.place(market.canteen.token, [(market.rice, 1)]).orderIds.first)
            #expect(try await client.call(.post, "/api/v1/orders/\(order)/cancellation", token: market.canteen.token, json: "{}").status == .ok)
            var attempts = 0
            for _ in 0..<10 {
                attempts += try await delivery.pass()
                test.clock.advance(seconds: 4 * 3600)
            }
            let log = try await client.call(.get, "/api/v1/webhooks/\(hookId)/deliveries", token: market.shop.token)
            let entries = try #require(log.object["items"] as? [[String: Any]], "\(log.text)")
            #expect(entries.map { $0["status"] as? String } == ["failed", "failed"], "\(log.text)")
            // The placement was tried through its day; the cancellation, queued behind it and as
            // old, is given up after one attempt once its own day has passed too.
            #expect(entries.map { $0["attempt"] as? Int } == [1, 7] && entries.allSatisfy { $0["responseCode"] as? Int == 500 })
            #expect(attempts == transport.deliveries.count)

            // Deleting cancels what waits; later events are not written for it.
            let second = try #require(try await client.place(market.canteen.token, [(market.rice, 1)]).orderIds.first)
            #expect(try await client.call(.delete, "/api/v1/webhooks/\(hookId)", token: market.shop.token).status == .noContent)
            #expect(try await client.call(.post, "/api/v1/orders/\(second)/cancellation", token: market.canteen.token, json: "{}").status == .ok)
            let sent = transport.deliveries.count
            test.clock.advance(seconds: 3600)
            #expect(try await delivery.pass() == 0 && transport.deliveries.count == sent)
            #expect(try await test.services.database.read { db in try await test.services.webhooks.pendingCount(in: db) } == 0)
        }
    }

    @Test func certificatesAndRefundsReachTheMerchantAndTheAdmins() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let seller = try await Seller.make(test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller1")
            _ = try await client.webhook(seller.token, url: Self.shopURL, events: ["certificate.issued", "certificate.revoked"])
            _ = try await client.webhook(cast.admin, url: "https://93.184.215.20/admin", events: ["certificate.issued"])
            let certified = try await seller.certified(client, cast: cast)
            let revoked = try await client.call(
                .post, "/api/v1/certificates/\(certified.number)/revocation", token: cast.admin, json: #"{"reason":"抽检不合格"}"#)
            #expect(revoked.status == .ok, "\(revoked.text)")
            let transport = RecordingTransport()
            let delivery = WebhookDelivery(services: test.services, transport: transport, logger: .init(label: "test"))
            while try await delivery.pass() > 0 {}
            let kinds = try transport.deliveries.map { "\($0.url.split(separator: "/").last ?? "") \(try Self.envelope($0)["type"] as? String ?? "")" }
            #expect(kinds.sorted() == ["admin certificate.issued", "shop certificate.issued", "shop certificate.revoked"])
            let issued = try #require(transport.deliveries.first { $0.url == Self.shopURL })
            #expect((try Self.envelope(issued)["data"] as? [String: Any])?["number"] as? String == certified.number)
        }
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
