import Foundation
import Hummingbird
import HummingbirdTesting
import SQLKit
import Testing

@testable import BangfuApp

/// A merchant taken through onboarding, ready to sell.
struct Seller {
    let token: String
    let merchantId: String

    static func make(
        _ test: TestApp, _ client: any TestClientProtocol, admin: String, officer: String, username: String,
        creditCode: String = Codes.yanshou, company: String = "延寿县长寿山农业合作社", county: String = "230129",
        documents: [String] = []
    ) async throws -> Seller {
        let token = try await client.signUp(username)
        let id = try await client.apply(token, applicationJSON(creditCode: creditCode, countyCode: county, company: company))
        // Documents go with the application, before it is reviewed (`kind=…&expiresOn=…` each).
        for query in documents {
            let uploaded = try await client.upload(token, id, bytes: pdfBytes, type: "application/pdf", query: query)
            #expect(uploaded.status == .created, "\(uploaded.text)")
        }
        _ = try await client.call(.post, "/api/v1/merchant-applications/\(id)/recommend", token: officer, json: "{}")
        let approved = try await client.call(.post, "/api/v1/merchant-applications/\(id)/approve", token: admin, json: "{}")
        return Seller(token: token, merchantId: try #require(approved.object["merchantId"] as? String))
    }

    func product(
        _ client: any TestClientProtocol, title: String, description: String = "产地直供", category: String = "rice",
        price: Int64 = 1000, county: String = "230129", labels: [String] = [], netContentGrams: Int64? = nil
    ) async throws -> String {
        let grams = netContentGrams.map { #","netContentGrams":\#($0)"# } ?? ""
        let labelsJSON = "[" + labels.map { "\"\($0)\"" }.joined(separator: ",") + "]"
        let title = title.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        let response = try await client.call(
            .post, "/api/v1/products", token: token,
            json: """
                {"title":"\(title)","categoryId":"\(category)","description":"\(description)","specification":"5kg/袋",
                 "unit":"袋","priceFen":\(price),"stock":100,"originCountyCode":"\(county)","labels":\(labelsJSON)\(grams)}
                """)
        #expect(response.status == .created, "create answered \(response.status): \(response.text)")
        return try #require(response.object["id"] as? String)
    }

    /// Certifies (as the certification workflow will) and lists the product.
    func listed(
        _ test: TestApp, _ client: any TestClientProtocol, title: String, description: String = "产地直供",
        category: String = "rice", price: Int64 = 1000, county: String = "230129", labels: [String] = [],
        netContentGrams: Int64? = nil
    ) async throws -> String {
        let id = try await product(
            client, title: title, description: description, category: category, price: price, county: county, labels: labels,
            netContentGrams: netContentGrams)
        try await test.certify(id)
        let listed = try await client.call(.put, "/api/v1/products/\(id)/listing", token: token)
        #expect(listed.object["status"] as? String == "listed")
        return id
    }
}

extension TestApp {
    func certify(_ productId: String, days: Double = 365) async throws {
        let expiry = clock.now.addingTimeInterval(days * 86400)
        let products = services.products
        try await services.database.write { db in
            try await products.setCertificate(productId: productId, number: "BF-2026-\(productId.prefix(6))", expiresAt: expiry, in: db)
        }
    }
}

extension TestResponse {
    var items: [[String: Any]] { (object["items"] as? [[String: Any]]) ?? [] }
    var titles: [String] { items.compactMap { $0["title"] as? String } }
}

@Suite struct ProductsTests {
    @Test func merchantProfilesCountTheProductsOnSale() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let seller = try await Seller.make(test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller1")
            _ = try await seller.listed(test, client, title: "五常大米")
            let expiring = try await seller.listed(test, client, title: "椴树蜂蜜")
            _ = try await seller.product(client, title: "黑木耳")  // a draft
            try await test.certify(expiring, days: 1)
            func counts() async throws -> (Int?, Int?) {
                let profile = try await client.call(.get, "/api/v1/merchants/\(seller.merchantId)")
                let directory = try await client.call(.get, "/api/v1/merchants?countyCode=230129")
                return (profile.object["productCount"] as? Int, directory.items.first?["productCount"] as? Int)
            }
            #expect(try await counts() == (2, 2))
            test.clock.advance(seconds: 2 * 86400)
            #expect(try await counts() == (1, 1))
        }
    }

    @Test func draftsAreForTheirMerchantAndAdminsOnly() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let seller = try await Seller.make(test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller1")
            let created = try await client.call(
                .post, "/api/v1/products", token: seller.token,
                json: #"{"title":" 五常大米 ","categoryId":"rice","description":"稻花香","specification":"5kg/袋","unit":"袋","priceFen":5990,"stock":20,"originCountyCode":"230129","labels":["green","black_soil","green"]}"#)
            #expect(created.status == .created)
            #expect(created.object["status"] as? String == "draft")
            #expect(created.object["title"] as? String == "五常大米")
            #expect(created.object["labels"] as? [String] == ["black_soil", "green"])
            #expect(created.object["certificate"] is NSNull)
            let id = try #require(created.object["id"] as? String)
            #expect(try await client.call(.get, "/api/v1/products/\(id)").status == .notFound)
            #expect(try await client.call(.get, "/api/v1/products/\(id)", token: cast.buyer).status == .notFound)
            #expect(try await client.call(.get, "/api/v1/products/\(id)", token: cast.otherMerchant).status == .notFound)
            #expect(try await client.call(.get, "/api/v1/products/\(id)", token: seller.token).status == .ok)
            #expect(try await client.call(.get, "/api/v1/products/\(id)", token: cast.admin).status == .ok)
            #expect(try await client.call(.get, "/api/v1/products/\(id)/price-history").status == .notFound)
            let mine = try await client.call(.get, "/api/v1/merchants/me/products?status=draft", token: seller.token)
            #expect(mine.items.count == 1)
            #expect(try await client.call(.get, "/api/v1/merchants/me/products", token: cast.buyer).status == .forbidden)
            #expect(try await client.call(.get, "/api/v1/merchants/me/products").status == .unauthorized)
            #expect(try await client.call(.get, "/api/v1/merchants/me/products?status=sold", token: seller.token).status == .badRequest)
            let theirs = try await client.call(.get, "/api/v1/merchants/me/products", token: cast.otherMerchant)
            #expect(theirs.items.isEmpty)
            #expect(try await client.call(.get, "/api/v1/products").items.isEmpty)
            // Only an approved, active merchant creates products.
            let body = #"{"title":"x","categoryId":"rice","description":"x","specification":"x","unit":"x","priceFen":1,"stock":1,"originCountyCode":"230129"}"#
            #expect(try await client.call(.post, "/api/v1/products", token: cast.otherMerchant, json: body).status == .forbidden)
            #expect(try await client.call(.post, "/api/v1/products", token: cast.buyer, json: body).status == .forbidden)
            #expect(try await client.call(.post, "/api/v1/products", json: body).status == .unauthorized)
        }
    }

    @Test func listingNeedsAValidCertificateAndAnActiveMerchant() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let seller = try await Seller.make(test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller1")
            let id = try await seller.product(client, title: "椴木黑木耳")
            let refused = try await client.call(.put, "/api/v1/products/\(id)/listing", token: seller.token)
            #expect(refused.status == .conflict)
            #expect(refused.code == "product_unavailable")
            #expect(try await client.call(.delete, "/api/v1/products/\(id)/listing", token: seller.token).code == "invalid_transition")
            #expect(try await client.call(.put, "/api/v1/products/\(id)/listing", token: cast.otherMerchant).status == .forbidden)
            try await test.certify(id, days: 0.25)
            #expect(try await client.call(.put, "/api/v1/products/\(id)/listing", token: seller.token).status == .ok)
            #expect(try await client.call(.put, "/api/v1/products/\(id)/listing", token: seller.token).status == .ok)
            #expect(try await client.call(.get, "/api/v1/products").titles == ["椴木黑木耳"])
            let detail = try await client.call(.get, "/api/v1/products/\(id)")
            #expect((detail.object["certificate"] as? [String: Any])?["status"] as? String == "valid")

            // Suspension hides it at once; reinstatement brings it back.
            let path = "/api/v1/merchants/\(seller.merchantId)/suspension"
            _ = try await client.call(.post, path, token: cast.admin, json: #"{"reason":"抽检"}"#)
            #expect(try await client.call(.get, "/api/v1/products").items.isEmpty)
            #expect(try await client.call(.get, "/api/v1/products/\(id)").status == .notFound)
            _ = try await client.call(.delete, path, token: cast.admin)
            #expect(try await client.call(.get, "/api/v1/products").items.count == 1)

            // Expiry is read from the clock: no job needed.
            test.clock.advance(seconds: 0.25 * 86400 + 1)
            #expect(try await client.call(.get, "/api/v1/products").items.isEmpty)
            #expect(try await client.call(.get, "/api/v1/products/\(id)").status == .notFound)
            let own = try await client.call(.get, "/api/v1/products/\(id)", token: seller.token)
            #expect((own.object["certificate"] as? [String: Any])?["status"] as? String == "expired")
            let relist = try await client.call(.put, "/api/v1/products/\(id)/listing", token: seller.token)
            #expect(relist.status == .ok)  // already listed: idempotent
            #expect(try await client.call(.delete, "/api/v1/products/\(id)/listing", token: seller.token).object["status"] as? String == "delisted")
            #expect(try await client.call(.put, "/api/v1/products/\(id)/listing", token: seller.token).code == "product_unavailable")
        }
    }

    @Test func editsKeepThePriceHistory() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let seller = try await Seller.make(test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller1")
            let id = try await seller.listed(test, client, title: "五常大米", price: 5000)
            test.clock.advance(seconds: 60)
            // The certificate names the title: it changes only after the certificate is surrendered.
            let locked = try await client.call(.patch, "/api/v1/products/\(id)", token: seller.token, json: #"{"priceFen":5500,"title":"五常稻花香大米"}"#)
            #expect(locked.status == .conflict && locked.code == "certified_field_locked" && locked.fields == ["title"])
            // (This product's certificate is a test stand-in without a certificate row, so it is
            // given up in the store; HardeningTests surrenders a real one over HTTP.)
            let product = try await client.call(.get, "/api/v1/products/\(id)")
            let number = try #require((product.object["certificate"] as? [String: Any])?["number"] as? String)
            let (products, now) = (test.services.products, test.clock.now)
            _ = try await test.services.database.write { db in
                try await products.revokeCertificate(productId: id, number: number, at: now, in: db)
            }
            let patched = try await client.call(.patch, "/api/v1/products/\(id)", token: seller.token, json: #"{"priceFen":5500,"title":"五常稻花香大米"}"#)
            #expect(patched.status == .ok)
            try await test.certify(id)
            #expect(try await client.call(.put, "/api/v1/products/\(id)/listing", token: seller.token).status == .ok)
            #expect(patched.object["priceFen"] as? Int == 5500)
            test.clock.advance(seconds: 60)
            _ = try await client.call(.patch, "/api/v1/products/\(id)", token: seller.token, json: #"{"description":"新米上市"}"#)
            _ = try await client.call(.patch, "/api/v1/products/\(id)", token: seller.token, json: #"{"priceFen":4800}"#)
            let history = try await client.call(.get, "/api/v1/products/\(id)/price-history")
            #expect(history.array.map { $0["priceFen"] as? Int } == [5000, 5500, 4800])
            #expect(history.array.first?["from"] as? String == (test.clock.now.addingTimeInterval(-120)).rfc3339)
            // Search follows the edit.
            #expect(try await client.call(.get, "/api/v1/products?q=稻花香").titles == ["五常稻花香大米"])
            #expect(try await client.call(.get, "/api/v1/products?q=新米").titles == ["五常稻花香大米"])
            // Refusals.
            #expect(try await client.call(.patch, "/api/v1/products/\(id)", token: seller.token, json: #"{"stock":5}"#).fields == ["stock"])
            #expect(try await client.call(.patch, "/api/v1/products/\(id)", token: seller.token, json: #"{"priceFen":0}"#).fields == ["priceFen"])
            #expect(try await client.call(.patch, "/api/v1/products/\(id)", token: seller.token, json: #"{"title":""}"#).fields == ["title"])
            #expect(try await client.call(.patch, "/api/v1/products/\(id)", token: cast.otherMerchant, json: #"{"priceFen":1}"#).status == .forbidden)
            #expect(try await client.call(.patch, "/api/v1/products/\(id)", token: cast.buyer, json: #"{"priceFen":1}"#).status == .forbidden)
            let other = try await Seller.make(test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller2", creditCode: Codes.yanshou2, company: "延寿县富民合作社")
            #expect(try await client.call(.patch, "/api/v1/products/\(id)", token: other.token, json: #"{"priceFen":1}"#).status == .notFound)
            #expect(try await client.call(.get, "/api/v1/products/\(id)/price-history").array.count == 3)
        }
    }

    @Test func stockAdjustments() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let seller = try await Seller.make(test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller1")
            let id = try await seller.product(client, title: "蜂蜜")
            let path = "/api/v1/products/\(id)/stock-adjustments"
            let added = try await client.call(.post, path, token: seller.token, json: #"{"delta":25,"reason":"新到货"}"#)
            #expect(added.object["stock"] as? Int == 125)
            let removed = try await client.call(.post, path, token: seller.token, json: #"{"delta":-125,"reason":"盘点"}"#)
            #expect(removed.object["stock"] as? Int == 0)
            let negative = try await client.call(.post, path, token: seller.token, json: #"{"delta":-1,"reason":"盘点"}"#)
            #expect(negative.status == .conflict)
            #expect(negative.code == "insufficient_stock")
            #expect(try await client.call(.post, path, token: seller.token, json: #"{"delta":0,"reason":"x"}"#).fields == ["delta"])
            #expect(try await client.call(.post, path, token: seller.token, json: #"{"delta":5}"#).fields == ["reason"])
            #expect(try await client.call(.post, path, token: seller.token, json: #"{"delta":9223372036854775807,"reason":"x"}"#).fields == ["delta"])
            #expect(try await client.call(.post, path, token: cast.otherMerchant, json: #"{"delta":5,"reason":"x"}"#).status == .forbidden)
            let events = try await client.call(.get, "/api/v1/audit-events?entityType=product&entityId=\(id)", token: cast.admin)
            #expect(events.items.map { $0["action"] as? String } == ["product.create", "product.stock", "product.stock"])
        }
    }

    @Test func imagesAreSniffedLimitedAndAsVisibleAsTheProduct() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let seller = try await Seller.make(test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller1")
            let id = try await seller.product(client, title: "五常大米")
            func upload(_ token: String, _ bytes: [UInt8], _ type: String) async throws -> TestResponse {
                try await client.execute(
                    uri: "/api/v1/products/\(id)/images", method: .post,
                    headers: [.authorization: "Bearer \(token)", .contentType: type], body: ByteBuffer(bytes: bytes))
            }
            let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0] + Array(repeating: 7, count: 100)
            let created = try await upload(seller.token, jpeg, "image/jpeg")
            #expect(created.status == .created)
            let url = try #require(created.object["url"] as? String)
            #expect(try await upload(seller.token, pdfBytes, "application/pdf").status == .unsupportedMediaType)
            #expect(try await upload(seller.token, Array("text".utf8), "image/png").status == .unsupportedMediaType)
            var big = [UInt8](repeating: 0, count: (5 << 20) + 1)
            big.replaceSubrange(0..<4, with: [0xFF, 0xD8, 0xFF, 0xE0])
            #expect(try await upload(seller.token, big, "image/jpeg").status == .contentTooLarge)
            #expect(try await upload(cast.otherMerchant, jpeg, "image/jpeg").status == .forbidden)
            #expect(try await upload(cast.buyer, jpeg, "image/jpeg").status == .forbidden)
            // A draft's image is the merchant's; once listed, everyone's.
            #expect(try await client.call(.get, url).status == .notFound)
            let own = try await client.call(.get, url, token: seller.token)
            #expect(own.status == .ok && Array(own.body.readableBytesView) == jpeg)
            try await test.certify(id)
            _ = try await client.call(.put, "/api/v1/products/\(id)/listing", token: seller.token)
            #expect(try await client.call(.get, url).headers[.contentType] == "image/jpeg")
            let detail = try await client.call(.get, "/api/v1/products/\(id)")
            #expect((detail.object["images"] as? [[String: Any]])?.first?["url"] as? String == url)
        }
    }

    @Test func invalidProducts() async throws {
        let test = try await TestApp.make { $0.eligibleCountyLevels = [.national] }
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let seller = try await Seller.make(test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller1")
            func fields(_ change: (inout [String: Any]) -> Void) async throws -> [String] {
                var body: [String: Any] = [
                    "title": "大米", "categoryId": "rice", "description": "x", "specification": "5kg", "unit": "袋",
                    "priceFen": 100, "stock": 1, "originCountyCode": "230129", "labels": [],
                ]
                change(&body)
                let json = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
                let response = try await client.call(.post, "/api/v1/products", token: seller.token, json: json)
                #expect(response.status == .unprocessableContent)
                return response.fields
            }
            #expect(try await fields { $0["categoryId"] = "shoes" } == ["categoryId"])
            #expect(try await fields { $0["originCountyCode"] = "110101" } == ["originCountyCode"])
            #expect(try await fields { $0["originCountyCode"] = "230126" } == ["originCountyCode"])  // provincial
            #expect(try await fields { $0["priceFen"] = 0 } == ["priceFen"])
            #expect(try await fields { $0["priceFen"] = 12.5 } == ["priceFen"])
            #expect(try await fields { $0["stock"] = -1 } == ["stock"])
            #expect(try await fields { $0["labels"] = ["tasty"] } == ["labels[0]"])
            #expect(try await fields { $0["title"] = String(repeating: "米", count: 101) } == ["title"])
            #expect(try await fields { $0.removeValue(forKey: "unit") } == ["unit"])
        }
    }
}
