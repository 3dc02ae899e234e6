import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import BangfuApp

/// Every route × every kind of caller × own and another tenant's object (issue 11).
///
/// All objects under test belong to tenant A: merchant A's application, document, product, image,
/// certification application and certificate; buyer A's organization, plan, order and refund; their
/// county is county A. The "B" callers hold the same role in another tenant.
///
/// Expected answers, as API.md specifies them: an allowed caller gets past authorization (any
/// answer but 401, 403, 404 or 5xx: the empty body `{}` usually stops it with 422 before anything
/// is written); the role is checked first: a signed-in caller of a role the route never serves gets
/// 403, one of an allowed role but another tenant 404 (it may not know the object exists, and the
/// body is not judged before that is settled); nobody signed in, 401.
/// The table must name exactly the routes the router serves, so a new route cannot skip it.
@Suite struct AuthorizationMatrixTests {
    enum Caller: String, CaseIterable {
        /// `buyerA` and `buyerB` manage their organizations; `purchaserA` is a purchaser of A's;
        /// `supervisorA` manages the organization above A's (a 主管单位: A's subtree is its, B's is
        /// not). `financeA` is a finance officer of 黑龙江 (tenant A's province), `financeB` of 吉林.
        case anonymous, merchantA, merchantB, buyerA, buyerB, purchaserA, supervisorA, countyA, countyB, financeA, financeB, admin

        var kind: String {
            [.purchaserA, .supervisorA].contains(self) ? "buyer" : String(rawValue.prefix { $0.isLowercase })
        }
    }

    struct Access {
        let route: String
        let allowed: Set<Caller>
        /// Every role uses the route, each on its own objects: another caller's object is 404
        /// whatever the role (a user's notification).
        var everyRole = false
        /// The roles the route serves, each on its own objects, where that is more than the
        /// allowed callers' roles (a webhook: merchants, buyers and admins).
        var kinds: Set<String> = []
        /// Callers who see the object but whose part in it does not allow the step: 403 (a
        /// purchaser on a manager's route).
        var forbidden: Set<Caller> = []

        var method: HTTPRequest.Method { HTTPRequest.Method(String(route.prefix { $0 != " " }))! }
        var pathTemplate: String { String(route.drop { $0 != " " }.dropFirst()) }

        func expected(for caller: Caller) -> HTTPResponse.Status? {
            if allowed.contains(caller) { return nil }
            if caller == .anonymous { return .unauthorized }
            if forbidden.contains(caller) { return .forbidden }
            if everyRole || kinds.contains(caller.kind) || allowed.contains(where: { $0.kind == caller.kind }) { return .notFound }
            return .forbidden
        }
    }

    static let everyone = Set(Caller.allCases)
    static let signedIn = everyone.subtracting([.anonymous])
    static let merchants: Set<Caller> = [.merchantA, .merchantB]
    static let buyers: Set<Caller> = [.buyerA, .buyerB, .purchaserA, .supervisorA]
    static let managers: Set<Caller> = [.buyerA, .buyerB, .supervisorA]
    /// Organization A's members.
    static let unitA: Set<Caller> = [.buyerA, .purchaserA]
    static let counties: Set<Caller> = [.countyA, .countyB]

    /// In the order they run: state-changing calls that an allowed caller might complete are placed
    /// so that the objects are back in shape for the routes after them; signing out comes last.
    static let table: [Access] = [
        Access(route: "GET /healthz", allowed: everyone),
        Access(route: "GET /readyz", allowed: everyone),
        Access(route: "GET /metrics", allowed: [.admin]),
        Access(route: "GET /openapi.yaml", allowed: everyone),
        Access(route: "POST /api/v1/users", allowed: everyone),
        Access(route: "POST /api/v1/sessions", allowed: everyone),
        Access(route: "GET /api/v1/me", allowed: signedIn),
        Access(route: "GET /api/v1/counties", allowed: everyone),
        Access(route: "POST /api/v1/counties", allowed: [.admin]),
        Access(route: "PATCH /api/v1/counties/{county}", allowed: [.admin]),
        Access(route: "GET /api/v1/categories", allowed: everyone),
        Access(route: "GET /api/v1/audit-events", allowed: [.admin]),
        Access(route: "GET /api/v1/audit-events/verification", allowed: [.admin]),

        Access(route: "POST /api/v1/merchant-applications", allowed: merchants),
        Access(route: "GET /api/v1/merchant-applications", allowed: merchants.union(counties).union([.admin])),
        Access(route: "GET /api/v1/merchant-applications/{application}", allowed: [.merchantA, .countyA, .admin]),
        Access(route: "PUT /api/v1/merchant-applications/{application}", allowed: [.merchantA]),
        Access(route: "POST /api/v1/merchant-applications/{application}/documents", allowed: [.merchantA]),
        Access(
            route: "GET /api/v1/merchant-applications/{application}/documents/{document}",
            allowed: [.merchantA, .countyA, .admin]),
        Access(route: "POST /api/v1/merchant-applications/{application}/recommend", allowed: [.countyA]),
        Access(route: "POST /api/v1/merchant-applications/{application}/approve", allowed: [.admin]),
        Access(route: "POST /api/v1/merchant-applications/{application}/reject", allowed: [.countyA, .admin]),
        Access(route: "GET /api/v1/merchants", allowed: everyone),
        Access(route: "GET /api/v1/merchants/{merchant}", allowed: everyone),
        Access(route: "POST /api/v1/merchants/{merchant}/suspension", allowed: [.admin]),
        Access(route: "DELETE /api/v1/merchants/{merchant}/suspension", allowed: [.admin]),

        Access(route: "POST /api/v1/products", allowed: merchants),
        Access(route: "GET /api/v1/products", allowed: everyone),
        Access(route: "GET /api/v1/products/{product}", allowed: everyone),
        Access(route: "PATCH /api/v1/products/{product}", allowed: [.merchantA]),
        Access(route: "GET /api/v1/products/{product}/price-history", allowed: everyone),
        Access(route: "POST /api/v1/products/{product}/stock-adjustments", allowed: [.merchantA]),
        Access(route: "POST /api/v1/products/{product}/images", allowed: [.merchantA]),
        Access(route: "GET /api/v1/products/{product}/images/{image}", allowed: everyone),
        Access(route: "DELETE /api/v1/products/{product}/listing", allowed: [.merchantA]),
        Access(route: "PUT /api/v1/products/{product}/listing", allowed: [.merchantA]),
        Access(route: "GET /api/v1/merchants/me/products", allowed: merchants),

        Access(route: "POST /api/v1/certification-applications", allowed: merchants),
        Access(route: "GET /api/v1/certification-applications", allowed: merchants.union(counties).union([.admin])),
        Access(route: "GET /api/v1/certification-applications/{certification}", allowed: [.merchantA, .countyA, .admin]),
        Access(route: "POST /api/v1/certification-applications/{certification}/county-review", allowed: [.countyA]),
        Access(route: "POST /api/v1/certification-applications/{certification}/approve", allowed: [.admin]),
        Access(route: "POST /api/v1/certification-applications/{certification}/reject", allowed: [.admin]),
        Access(route: "GET /api/v1/certificates", allowed: everyone),
        Access(route: "GET /api/v1/certificates/{certificate}", allowed: everyone),
        Access(route: "POST /api/v1/certificates/{certificate}/revocation", allowed: [.admin]),
        Access(route: "POST /api/v1/certificates/{certificate}/surrender", allowed: [.merchantA]),
        Access(route: "GET /api/v1/certificate-keys", allowed: everyone),

        Access(route: "GET /api/v1/regions", allowed: everyone),
        Access(route: "POST /api/v1/regions", allowed: [.admin]),

        Access(route: "POST /api/v1/buyer-organizations", allowed: buyers),
        // A manager lists its own subtree; a purchaser is refused.
        Access(
            route: "GET /api/v1/buyer-organizations", allowed: managers.union([.financeA, .financeB, .admin]),
            forbidden: [.purchaserA]),
        // The supervisor reads A's organization, plan and filing, and changes none of them.
        Access(route: "GET /api/v1/buyer-organizations/{organization}", allowed: unitA.union([.supervisorA, .financeA, .admin])),
        Access(
            route: "PATCH /api/v1/buyer-organizations/{organization}", allowed: [.buyerA, .admin],
            forbidden: [.purchaserA, .supervisorA, .financeA]),
        Access(
            route: "GET /api/v1/buyer-organizations/{organization}/members", allowed: unitA.union([.admin]),
            forbidden: [.supervisorA, .financeA]),
        Access(
            route: "POST /api/v1/buyer-organizations/{organization}/members", allowed: [.buyerA],
            forbidden: [.purchaserA, .supervisorA, .financeA]),
        Access(
            route: "DELETE /api/v1/buyer-organizations/{organization}/members/{member}", allowed: [.buyerA],
            forbidden: [.purchaserA, .supervisorA, .financeA]),
        Access(route: "POST /api/v1/buyer-organizations/{organization}/verification", allowed: [.admin]),
        Access(
            route: "PUT /api/v1/buyer-organizations/{organization}/quota-plans/{year}", allowed: [.buyerA, .admin],
            forbidden: [.purchaserA, .supervisorA, .financeA]),
        Access(
            route: "GET /api/v1/buyer-organizations/{organization}/quota-plans/{year}",
            allowed: unitA.union([.supervisorA, .financeA, .admin])),
        // A's organization has a parent: its manager reviews A's filing, not the finance officer
        // (who sees it), nor A's own members, nor a manager of another subtree.
        Access(
            route: "POST /api/v1/buyer-organizations/{organization}/quota-plans/{year}/confirmation", allowed: [.supervisorA],
            kinds: ["buyer", "finance"], forbidden: unitA.union([.financeA])),
        Access(
            route: "POST /api/v1/buyer-organizations/{organization}/quota-plans/{year}/return", allowed: [.supervisorA],
            kinds: ["buyer", "finance"], forbidden: unitA.union([.financeA])),
        Access(
            route: "POST /api/v1/buyer-organizations/{organization}/quota-plans/{year}/waiver", allowed: [.financeA],
            forbidden: unitA.union([.supervisorA])),
        Access(
            route: "GET /api/v1/filings", allowed: managers.union([.financeA, .financeB, .admin]), forbidden: [.purchaserA]),
        Access(route: "GET /api/v1/reports/bulletin", allowed: [.financeA, .financeB, .admin]),
        Access(route: "GET /api/v1/policy/minimum-ratios", allowed: everyone),
        Access(route: "PUT /api/v1/policy/minimum-ratios/{region}", allowed: [.admin]),
        Access(route: "DELETE /api/v1/policy/minimum-ratios/{region}", allowed: [.admin]),
        Access(route: "GET /api/v1/quota-plans", allowed: [.admin]),

        Access(route: "POST /api/v1/orders", allowed: buyers),
        Access(route: "GET /api/v1/orders", allowed: buyers.union(merchants).union([.admin])),
        Access(route: "GET /api/v1/orders/{order}", allowed: unitA.union([.merchantA, .admin])),
        Access(route: "POST /api/v1/orders/{order}/confirm", allowed: [.merchantA]),
        Access(route: "POST /api/v1/orders/{order}/rejection", allowed: [.merchantA]),
        Access(route: "POST /api/v1/orders/{order}/cancellation", allowed: unitA),
        Access(route: "POST /api/v1/orders/{order}/shipment", allowed: [.merchantA]),
        Access(route: "POST /api/v1/orders/{order}/acceptance", allowed: unitA),
        Access(route: "POST /api/v1/orders/{order}/payment", allowed: unitA.union([.admin])),
        Access(route: "POST /api/v1/orders/{order}/refunds", allowed: unitA),
        // The invoice is the merchant's to record; the order's parties read its PDF.
        Access(route: "PUT /api/v1/orders/{order}/invoice", allowed: [.merchantA], forbidden: unitA),
        Access(route: "POST /api/v1/orders/{order}/invoice/file", allowed: [.merchantA], forbidden: unitA),
        Access(route: "GET /api/v1/orders/{order}/invoice/file", allowed: unitA.union([.merchantA, .admin])),
        // A member of the buying organization rates; its merchant answers; anyone reads.
        Access(route: "POST /api/v1/orders/{order}/rating", allowed: unitA),
        Access(route: "POST /api/v1/orders/{order}/rating/reply", allowed: [.merchantA]),
        Access(route: "GET /api/v1/merchants/{merchant}/ratings", allowed: everyone),
        Access(route: "GET /api/v1/refunds", allowed: buyers.union(merchants).union([.admin])),
        Access(route: "POST /api/v1/refunds/{refund}/approval", allowed: [.merchantA, .admin]),
        Access(route: "POST /api/v1/refunds/{refund}/rejection", allowed: [.merchantA, .admin]),

        Access(route: "GET /api/v1/reports/sales", allowed: counties.union([.admin])),
        Access(route: "GET /api/v1/reports/quota", allowed: [.admin]),
        Access(
            route: "GET /api/v1/reports/alerts",
            allowed: merchants.union(counties).union(managers).union([.admin, .financeA, .financeB]), forbidden: [.purchaserA]),

        Access(route: "GET /api/v1/notifications", allowed: signedIn),
        Access(route: "GET /api/v1/notifications/stream", allowed: signedIn),
        Access(route: "POST /api/v1/notifications/{notification}/read", allowed: [.merchantA], everyRole: true),
        Access(route: "POST /api/v1/notifications/read-all", allowed: signedIn),
        Access(route: "GET /api/v1/notifications/settings", allowed: signedIn),
        Access(route: "PUT /api/v1/notifications/settings", allowed: signedIn),

        // An organization's webhooks are its managers'.
        Access(route: "POST /api/v1/webhooks", allowed: merchants.union(managers).union([.admin]), forbidden: [.purchaserA]),
        Access(route: "GET /api/v1/webhooks", allowed: merchants.union(managers).union([.admin]), forbidden: [.purchaserA]),
        Access(
            route: "GET /api/v1/webhooks/{webhook}/deliveries", allowed: [.merchantA], kinds: ["merchant", "buyer", "admin"],
            forbidden: [.purchaserA]),
        Access(
            route: "DELETE /api/v1/webhooks/{webhook}", allowed: [.merchantA], kinds: ["merchant", "buyer", "admin"],
            forbidden: [.purchaserA]),

        Access(route: "DELETE /api/v1/sessions/current", allowed: signedIn),
    ]

    @Test func theTableNamesEveryRouteTheRouterServes() async throws {
        let test = try await TestApp.make()
        let router = buildRouter(services: test.services, logger: .init(label: "t"))
        let served = Set(router.routes.map { "\($0.method.rawValue) \(OperationsTests.normalise($0.path.description))" })
        let listed = Self.table.map { "\($0.method.rawValue) \(OperationsTests.normalise($0.pathTemplate))" }
        #expect(Set(listed).count == listed.count, "a route is listed twice")
        #expect(served.subtracting(listed).isEmpty, "routes without an authorization row: \(served.subtracting(listed).sorted())")
        #expect(Set(listed).subtracting(served).isEmpty, "rows for routes not served: \(Set(listed).subtracting(served).sorted())")
        try await test.run { _ in }  // starts and stops the services, which closes the database
    }

    @Test func everyRouteAnswersEveryCallerAsAPIMdSays() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let world = try await World.make(test, client)
            var mismatches: [String] = []
            for access in Self.table {
                let path = world.path(access.pathTemplate)
                // Refusals first, so that an allowed caller's change cannot mask them.
                let callers = Caller.allCases.sorted { (access.expected(for: $0) != nil ? 0 : 1) < (access.expected(for: $1) != nil ? 0 : 1) }
                for caller in callers {
                    let takesBody = ![.get, .delete].contains(access.method)
                    // A refused caller is also tried with a valid body naming tenant A's objects,
                    // so a route that judges (or acts on) the body before the caller shows.
                    let expected = access.expected(for: caller)
                    let bodies: [String?] =
                        !takesBody ? [nil] : expected == nil ? ["{}"] : ["{}", world.path(SampleBodies.body(access.route))]
                    for body in bodies {
                        let response = try await client.call(
                            access.method, path, token: world.tokens[caller], json: body,
                            headers: [.idempotencyKey: "matrix-\(caller)-\(body?.count ?? 0)"])
                        let status = response.status
                        let with = body.map { $0 == "{}" ? "" : " with a valid body" } ?? ""
                        if let expected {
                            if status != expected {
                                mismatches.append("\(access.route) as \(caller)\(with): \(status.code), expected \(expected.code)")
                            }
                            if status.code >= 400 && !response.text.isEmpty && response.headers[.contentType] != "application/problem+json" {
                                mismatches.append("\(access.route) as \(caller): refusal is not problem+json")
                            }
                        } else if [401, 403, 404].contains(status.code) || status.code >= 500 {
                            mismatches.append("\(access.route) as \(caller): \(status.code), expected to be allowed (\(response.text.prefix(120)))")
                        }
                    }
                }
            }
            #expect(mismatches.isEmpty, "\(mismatches.count) mismatches:\n\(mismatches.joined(separator: "\n"))")
        }
    }

    /// Tenant A's objects, tenant B's callers, and a token per caller.
    struct World {
        let tokens: [Caller: String]
        let ids: [String: String]

        func path(_ template: String) -> String {
            ids.reduce(template) { $0.replacingOccurrences(of: "{\($1.key)}", with: $1.value) }
        }

        static func make(_ test: TestApp, _ client: any TestClientProtocol) async throws -> World {
            let cast = try await Cast.make(test, client)
            // Merchant A, onboarded with a document on its application.
            let merchantA = try await client.signUp("sellera")
            let application = try await client.apply(merchantA)
            let document = try await client.upload(merchantA, application, bytes: pdfBytes, type: "application/pdf")
            _ = try await client.call(.post, "/api/v1/merchant-applications/\(application)/recommend", token: cast.yanshouOfficer, json: "{}")
            let approved = try await client.call(.post, "/api/v1/merchant-applications/\(application)/approve", token: cast.admin, json: "{}")
            let sellerA = Seller(token: merchantA, merchantId: try #require(approved.object["merchantId"] as? String))
            let sellerB = try await Seller.make(
                test, client, admin: cast.admin, officer: cast.longjiangOfficer, username: "sellerb",
                creditCode: Codes.longjiang, company: "龙江县农业合作社", county: "230221")
            let certified = try await sellerA.certified(client, cast: cast)
            #expect(try await client.call(.put, "/api/v1/products/\(certified.productId)/listing", token: merchantA).status == .ok)
            let image = try await client.execute(
                uri: "/api/v1/products/\(certified.productId)/images", method: .post,
                headers: [.authorization: "Bearer \(merchantA)", .contentType: "image/jpeg"],
                body: ByteBuffer(bytes: [0xFF, 0xD8, 0xFF, 0xE0] + Array(repeating: 7, count: 100)))
            // Buyers A and B, each with an active organization and a plan; A's order is settled
            // and carries a requested refund.
            let buyerA = try await Canteen.make(test, client, admin: cast.admin, username: "kitchena", number: 1)
            let buyerB = try await Canteen.make(test, client, admin: cast.admin, username: "kitchenb", number: 2)
            // A's purchaser, and a member that A's manager may remove.
            var memberIds: [String] = []
            for name in ["kitchena-p", "kitchena-r"] {
                let added = try await client.call(
                    .post, "/api/v1/buyer-organizations/\(buyerA.organizationId)/members", token: buyerA.token,
                    json: #"{"username":"\#(name)","password":"correct horse 1","displayName":"采购员","memberRole":"purchaser"}"#)
                memberIds.append(try #require(added.object["userId"] as? String, "\(added.text)"))
            }
            let purchaserA = try await client.signIn("kitchena-p")
            // A's supervising unit: A's manager puts A's organization below it.
            let supervisorA = try await Canteen.make(test, client, admin: cast.admin, username: "bureaua", number: 3)
            let moved = try await client.call(
                .patch, "/api/v1/buyer-organizations/\(buyerA.organizationId)", token: buyerA.token,
                json: #"{"parentId":"\#(supervisorA.organizationId)"}"#)
            #expect(moved.status == .ok, "\(moved.text)")
            var finance: [String] = []
            for (name, region) in [("financea", "230000"), ("financeb", "220000")] {
                let created = try await client.call(
                    .post, "/api/v1/users", token: cast.admin,
                    json: #"{"username":"\#(name)","password":"correct horse 1","role":"finance","displayName":"财政","regionCode":"\#(region)"}"#)
                #expect(created.status == .created, "\(created.text)")
                finance.append(try await client.signIn(name))
            }
            // A regional minimum for the DELETE row to remove.
            let ratio = try await client.call(
                .put, "/api/v1/policy/minimum-ratios/230100", token: cast.admin, json: #"{"minimumBp":1200}"#)
            #expect(ratio.status == .ok, "\(ratio.text)")
            let placed = try await client.place(buyerA.token, [(certified.productId, 2)])
            let order = try #require(placed.orderIds.first)
            try await client.walk(order, buyer: buyerA.token, merchant: merchantA, to: "settled", amountFen: 2000)
            // Its invoice (recorded on the way) carries its PDF.
            let invoiceFile = try await client.execute(
                uri: "/api/v1/orders/\(order)/invoice/file", method: .post,
                headers: [.authorization: "Bearer \(merchantA)", .contentType: "application/pdf"], body: ByteBuffer(bytes: pdfBytes))
            #expect(invoiceFile.status == .ok)
            let refund = try await client.call(
                .post, "/api/v1/orders/\(order)/refunds", token: buyerA.token, json: #"{"amountFen":500,"reason":"破损"}"#)
            // Merchant A was told of the order: that notification is its own.
            let inbox = try await client.call(.get, "/api/v1/notifications", token: merchantA)
            let notification = try #require((inbox.object["items"] as? [[String: Any]])?.first?["id"] as? String)
            let webhook = try await client.webhook(merchantA, url: "https://93.184.215.14/hook", events: ["order.placed"])
            return World(
                tokens: [
                    .merchantA: merchantA, .merchantB: sellerB.token, .buyerA: buyerA.token, .buyerB: buyerB.token, .purchaserA: purchaserA,
                    .supervisorA: supervisorA.token, .financeA: finance[0], .financeB: finance[1],
                    .countyA: cast.yanshouOfficer, .countyB: cast.longjiangOfficer, .admin: cast.admin,
                ],
                ids: [
                    "county": "230129", "application": application,
                    "document": try #require(document.object["id"] as? String), "merchant": sellerA.merchantId,
                    "product": certified.productId,
                    "image": try #require((image.object["url"] as? String)?.split(separator: "/").last.map(String.init)),
                    "certification": certified.applicationId, "certificate": certified.number,
                    "organization": buyerA.organizationId, "year": "2026", "order": order,
                    "refund": try #require(refund.object["id"] as? String), "notification": notification,
                    "webhook": try #require(webhook.object["id"] as? String), "member": memberIds[1], "region": "230100",
                ])
        }
    }
}
