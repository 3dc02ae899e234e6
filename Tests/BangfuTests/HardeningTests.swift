import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOPosix
import NIOSSL
import Testing

@testable import BangfuApp

/// Issue 16: each probe that stopped the server, slipped past a limit or changed what a
/// certificate vouches for, answered as API.md says.
@Suite struct HardeningTests {
    @Test func uploadsWithAnEmptyOrParameterOnlyContentTypeAreRefusedAndTheServerGoesOn() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let application = try await client.apply(cast.merchant)
            for type in [";", "", " ; charset=utf-8", ";;;", "/"] {
                let response = try await client.upload(cast.merchant, application, bytes: pdfBytes, type: type)
                #expect(response.status == .unsupportedMediaType, "Content-Type \"\(type)\": \(response.status)")
                #expect(response.code == "unsupported_media_type")
            }
            #expect(try await client.call(.get, "/healthz").status == .ok)
        }
    }

    @Test func aStockDeltaAtTheEdgesOfInt64IsAFieldErrorNotACrash() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let market = try await Market.make(test, client)
            for delta in [Int64.max, Int64.min, Int64.min + 1, ProductRules.maxStock + 1] {
                let response = try await client.call(
                    .post, "/api/v1/products/\(market.rice)/stock-adjustments", token: market.shop.token,
                    json: #"{"delta":\#(delta),"reason":"盘点"}"#)
                #expect(response.status == .unprocessableContent, "delta \(delta): \(response.status)")
                #expect(response.fields == ["delta"])
            }
            // Within the bound but past the stock: a conflict that names the allowed range.
            let tooMuch = try await client.call(
                .post, "/api/v1/products/\(market.rice)/stock-adjustments", token: market.shop.token,
                json: #"{"delta":\#(ProductRules.maxStock),"reason":"盘点"}"#)
            #expect(tooMuch.status == .conflict && tooMuch.code == "insufficient_stock")
            #expect(try await test.stock(market.rice).stock == 100)
        }
    }

    /// The router serves `/api/v1/products/` and `//api/v1/products` as the same route: the
    /// limit is the route's, so every spelling draws on one allowance.
    @Test func everySpellingOfALimitedRouteIsCountedTheSame() async throws {
        let test = try await TestApp.make { $0.rateLimitPerMinute = 60 }
        try await test.run { client in
            var statuses: [UInt] = []
            for spelling in ["/api/v1/products/?q=大米", "//api/v1/products?q=大米", "/api/v1//products?q=米"] {
                for _ in 0..<5 { statuses.append(UInt(try await client.call(.get, spelling).status.code)) }
            }
            #expect(statuses.prefix(10).allSatisfy { $0 == 200 }, "\(statuses)")
            #expect(statuses.dropFirst(10).allSatisfy { $0 == 429 }, "\(statuses)")
            // Registration under another spelling shares the allowance too.
            #expect(try await client.call(.post, "/api/v1/users/", json: "{}").status == .tooManyRequests)
        }
    }

    @Test func fortyConcurrentGuessesVerifyAtMostFivePasswords() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            _ = try await client.signUp("target")
            let codes = try await withThrowingTaskGroup(of: UInt.self) { group in
                for _ in 0..<40 {
                    group.addTask {
                        let response = try await client.call(
                            .post, "/api/v1/sessions", json: #"{"username":"target","password":"wrong guess 1"}"#)
                        return UInt(response.status.code)
                    }
                }
                return try await group.reduce(into: [UInt]()) { $0.append($1) }
            }
            #expect(codes.filter { $0 == 401 }.count == 5, "\(codes.sorted())")
            #expect(codes.filter { $0 == 429 }.count == 35)
            // Locked for this address now, the right password included.
            let right = try await client.call(
                .post, "/api/v1/sessions", json: #"{"username":"target","password":"correct horse 1"}"#)
            #expect(right.status == .tooManyRequests && right.headers[.retryAfter] != nil)
        }
    }

    @Test func textIsBoundedInScalarsAndBytesAndRefusesControlCharacters() async throws {
        let marks = "a" + String(repeating: "\u{0301}", count: 300_000)
        #expect(marks.count == 1)  // one grapheme cluster
        #expect(TextRules.problem(marks, max: 64, multiline: false) == "must be at most 64 characters")
        #expect(TextRules.problem(String(repeating: "米", count: 64), max: 64, multiline: false) == nil)
        #expect(TextRules.problem(String(repeating: "🍚", count: 60), max: 64, multiline: false) != nil)  // 240 bytes
        #expect(TextRules.problem("东宁\n黑木耳", max: 64, multiline: false) != nil)
        #expect(TextRules.problem("东宁\n黑木耳", max: 64, multiline: true) == nil)
        #expect(TextRules.problem("东宁\u{0007}", max: 64, multiline: true) != nil)
        #expect(TextRules.problem("木耳\u{202E}米大", max: 64, multiline: false) != nil)
        #expect(TextRules.problem("木耳\u{202E}米大", max: 64, multiline: true) != nil)
        for invisible in ["\u{200B}", "\u{2060}", "\u{FEFF}", "\u{2028}", "\u{2029}", "\u{00AD}"] {
            #expect(TextRules.problem("东宁" + invisible + "黑木耳", max: 64, multiline: false) != nil, "\(invisible.unicodeScalars.first!.value)")
        }
        #expect(TextRules.problem("东宁\u{2028}黑木耳", max: 64, multiline: true) == nil)

        let test = try await TestApp.make()
        try await test.run { client in
            let body = #"{"username":"marks","password":"correct horse 1","role":"merchant","displayName":"\#(marks)"}"#
            let user = try await client.call(.post, "/api/v1/users", json: body)
            #expect(user.status == .unprocessableContent && user.fields == ["displayName"])
            let market = try await Market.make(test, client)
            for title in [marks, "大米\\u0000", "大米\\n五常"] {
                let product = try await client.call(
                    .post, "/api/v1/products", token: market.shop.token,
                    json: """
                        {"title":"\(title)","categoryId":"rice","description":"产地直供","specification":"5kg/袋",
                         "unit":"袋","priceFen":1000,"stock":1,"originCountyCode":"230129"}
                        """)
                #expect(product.status == .unprocessableContent && product.fields == ["title"], "\(product.text.prefix(200))")
            }
        }
    }

    @Test func aCertifiedProductKeepsWhatItsCertificateNamesUntilItIsSurrendered() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let shop = try await Seller.make(test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller1")
            let other = try await Seller.make(
                test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller2",
                creditCode: Codes.yanshou2, company: "延寿县富民合作社")
            let certified = try await shop.certified(client, cast: cast, title: "延寿富硒大米")
            #expect(try await client.call(.put, "/api/v1/products/\(certified.productId)/listing", token: shop.token).status == .ok)
            let path = "/api/v1/products/\(certified.productId)"
            for (field, value) in [
                ("title", #""五常大米""#), ("categoryId", #""coarse-grains""#), ("specification", #""10kg/袋""#), ("unit", #""箱""#),
                ("originCountyCode", #""230221""#),
            ] {
                let patched = try await client.call(.patch, path, token: shop.token, json: "{\"\(field)\":\(value)}")
                #expect(patched.status == .conflict && patched.code == "certified_field_locked", "\(field): \(patched.text)")
                #expect(patched.fields == [field])
            }
            // The same value changes nothing, and price and description stay free.
            #expect(try await client.call(.patch, path, token: shop.token, json: #"{"title":"延寿富硒大米"}"#).status == .ok)
            let free = try await client.call(.patch, path, token: shop.token, json: #"{"priceFen":1200,"description":"新米上市"}"#)
            #expect(free.status == .ok && free.object["status"] as? String == "listed")

            // Only its own merchant surrenders it; then the product is delisted and may change.
            let surrender = "/api/v1/certificates/\(certified.number)/surrender"
            #expect(try await client.call(.post, surrender, token: other.token).status == .notFound)
            #expect(try await client.call(.post, surrender, token: cast.buyer).status == .forbidden)
            let surrendered = try await client.call(.post, surrender, token: shop.token)
            #expect(surrendered.status == .ok && surrendered.object["status"] as? String == "surrendered")
            let again = try await client.call(.post, surrender, token: shop.token)
            #expect(again.status == .conflict && again.code == "invalid_transition")
            let product = try await client.call(.get, path, token: shop.token)
            #expect(product.object["status"] as? String == "delisted")
            #expect(product.object["certificate"] is NSNull)
            #expect(try await client.call(.put, "\(path)/listing", token: shop.token).code == "product_unavailable")
            let valid = try await client.call(.get, "/api/v1/certificates?status=valid")
            #expect((valid.object["items"] as? [[String: Any]])?.isEmpty == true)
            #expect(try await client.call(.patch, path, token: shop.token, json: #"{"title":"延寿五常大米"}"#).status == .ok)

            // An open application locks the fields too (which is what keeps the title the
            // certificate signs, recorded at submission, the product's title).
            let applied = try await client.call(
                .post, "/api/v1/certification-applications", token: shop.token,
                json: #"{"productId":"\#(certified.productId)","householdsDriven":36,"description":"再次认定"}"#)
            let application = try #require(applied.object["id"] as? String)
            let locked = try await client.call(.patch, path, token: shop.token, json: #"{"title":"别的名字"}"#)
            #expect(locked.status == .conflict && locked.code == "certified_field_locked")
            _ = try await client.call(
                .post, "/api/v1/certification-applications/\(application)/county-review", token: cast.yanshouOfficer,
                json: #"{"approve":true,"note":"属实"}"#)
            let approved = try await client.call(
                .post, "/api/v1/certification-applications/\(application)/approve", token: cast.admin, json: "{}")
            let certificate = try #require(approved.object["certificate"] as? [String: Any])
            #expect(certificate["productTitle"] as? String == "延寿五常大米")
        }
    }

    @Test func documentsOnlyWhileTheApplicationCanChangeAndAtMostTwenty() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let application = try await client.apply(cast.merchant)
            for n in 0..<OnboardingRules.maxDocuments {
                // Distinct bytes, so each is a file of its own.
                let bytes = pdfBytes + Array("% \(n)\n".utf8)
                #expect(try await client.upload(cast.merchant, application, bytes: bytes, type: "application/pdf").status == .created)
            }
            let extra = try await client.upload(cast.merchant, application, bytes: pdfBytes + [1, 2], type: "application/pdf")
            #expect(extra.status == .conflict && extra.code == "document_limit_reached")

            let second = try await client.apply(
                cast.otherMerchant, applicationJSON(creditCode: Codes.yanshou2, company: "延寿县富民合作社"))
            _ = try await client.call(.post, "/api/v1/merchant-applications/\(second)/recommend", token: cast.yanshouOfficer, json: "{}")
            let late = try await client.upload(cast.otherMerchant, second, bytes: pdfBytes, type: "application/pdf")
            #expect(late.status == .conflict && late.code == "invalid_transition", "\(late.text)")
            _ = try await client.call(.post, "/api/v1/merchant-applications/\(second)/approve", token: cast.admin, json: "{}")
            let approved = try await client.upload(cast.otherMerchant, second, bytes: pdfBytes, type: "application/pdf")
            #expect(approved.status == .conflict && approved.code == "invalid_transition")
        }
    }

    /// `application/octet-stream` has the type read from the bytes (what generated clients send),
    /// still within the route's allowed types.
    @Test func anOctetStreamUploadIsTypedByItsBytes() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let application = try await client.apply(cast.merchant)
            let pdf = try await client.upload(cast.merchant, application, bytes: pdfBytes, type: "application/octet-stream")
            #expect(pdf.status == .created, "\(pdf.text)")
            let shown = try await client.call(.get, "/api/v1/merchant-applications/\(application)", token: cast.merchant)
            #expect((shown.object["documents"] as? [[String: Any]])?.first?["contentType"] as? String == "application/pdf")
            let text = try await client.upload(cast.merchant, application, bytes: Array("hello".utf8), type: "application/octet-stream")
            #expect(text.status == .unsupportedMediaType)
        }
    }

    /// A file stored for a record that was then refused is removed, unless another record uses
    /// the same bytes.
    @Test func aRefusedUploadLeavesNoFileThatNothingNames() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let uploads = test.services.uploads
            func stored(_ text: String) throws -> UploadStore.Stored {
                let sha = String(text.utf8.map { String(format: "%02x", $0) }.joined().prefix(64)).padding(toLength: 64, withPad: "0", startingAt: 0)
                let path = uploads.path(sha256: sha)
                try FileManager.default.createDirectory(
                    atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try Data(text.utf8).write(to: URL(fileURLWithPath: path))
                return UploadStore.Stored(sha256: sha, size: Int64(text.utf8.count), type: .pdf)
            }
            let orphan = try stored("orphan")
            await #expect(throws: DomainError.self) {
                try await uploads.recording(orphan, database: test.services.database) { _ in
                    throw DomainError.conflict("refused")
                }
            }
            #expect(!uploads.exists(sha256: orphan.sha256))

            // The same bytes already on a document: the refused second record leaves the file.
            let cast = try await Cast.make(test, client)
            let application = try await client.apply(cast.merchant)
            let first = try await client.upload(cast.merchant, application, bytes: pdfBytes, type: "application/pdf")
            let sha = try #require(first.object["sha256"] as? String)
            let shared = UploadStore.Stored(sha256: sha, size: Int64(pdfBytes.count), type: .pdf)
            await #expect(throws: DomainError.self) {
                try await uploads.recording(shared, database: test.services.database) { _ in throw DomainError.conflict("refused") }
            }
            #expect(uploads.exists(sha256: sha))
        }
    }

    @Test func imagesOnlyForAnActiveMerchantAndAtMostTenAProduct() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let market = try await Market.make(test, client)
            func image(_ n: UInt8) async throws -> TestResponse {
                try await client.execute(
                    uri: "/api/v1/products/\(market.rice)/images", method: .post,
                    headers: [.authorization: "Bearer \(market.shop.token)", .contentType: "image/png"],
                    body: ByteBuffer(bytes: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, n]))
            }
            for n in 0..<UInt8(ProductsController.maxImages) { #expect(try await image(n).status == .created) }
            let eleventh = try await image(99)
            #expect(eleventh.status == .conflict && eleventh.code == "image_limit_reached")
        }
    }

    @Test func aSuspendedMerchantAddsNoImages() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let market = try await Market.make(test, client)
            #expect(
                try await client.call(
                    .post, "/api/v1/merchants/\(market.shop.merchantId)/suspension", token: market.cast.admin,
                    json: #"{"reason":"抽检不合格"}"#
                ).status == .ok)
            let response = try await client.execute(
                uri: "/api/v1/products/\(market.rice)/images", method: .post,
                headers: [.authorization: "Bearer \(market.shop.token)", .contentType: "image/png"],
                body: ByteBuffer(bytes: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1]))
            #expect(response.status == .forbidden, "\(response.text)")
        }
    }

    /// Uploads race for the last places: the limit holds (the application, or the product, is
    /// locked while the count is checked again), and identical bytes sent at once are one file.
    @Test func concurrentUploadsKeepTheLimits() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let market = try await Market.make(test, client)
            let application = try await client.apply(
                market.cast.merchant, applicationJSON(creditCode: Codes.harbin, company: "哈尔滨农业合作社"))
            let merchant = market.cast.merchant
            let documents = try await withThrowingTaskGroup(of: UInt.self) { group in
                for n in 0..<30 {
                    group.addTask {
                        UInt(try await client.upload(merchant, application, bytes: pdfBytes + Array("% \(n)\n".utf8), type: "application/pdf").status.code)
                    }
                }
                // Identical bytes, several at once.
                for _ in 0..<4 {
                    group.addTask { UInt(try await client.upload(merchant, application, bytes: pdfBytes, type: "application/pdf").status.code) }
                }
                return try await group.reduce(into: [UInt]()) { $0.append($1) }
            }
            #expect(documents.filter { $0 == 201 }.count == OnboardingRules.maxDocuments, "\(documents.sorted())")
            #expect(documents.allSatisfy { $0 == 201 || $0 == 409 }, "\(documents.sorted())")
            let shown = try await client.call(.get, "/api/v1/merchant-applications/\(application)", token: merchant)
            #expect((shown.object["documents"] as? [[String: Any]])?.count == OnboardingRules.maxDocuments)

            let (token, rice) = (market.shop.token, market.rice)
            let images = try await withThrowingTaskGroup(of: UInt.self) { group in
                for n in 0..<16 {
                    group.addTask {
                        UInt(
                            try await client.execute(
                                uri: "/api/v1/products/\(rice)/images", method: .post,
                                headers: [.authorization: "Bearer \(token)", .contentType: "image/png"],
                                body: ByteBuffer(bytes: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, UInt8(n)])
                            ).status.code)
                    }
                }
                return try await group.reduce(into: [UInt]()) { $0.append($1) }
            }
            #expect(images.filter { $0 == 201 }.count == ProductsController.maxImages, "\(images.sorted())")
            #expect(images.allSatisfy { $0 == 201 || $0 == 409 })
        }
    }

    /// An older certificate still vouches for the product: surrendering the newer one does not
    /// unlock the fields while the older one is valid.
    @Test func everyValidCertificateOfTheProductLocksItsFields() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let shop = try await Seller.make(test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller1")
            let first = try await shop.certified(client, cast: cast, title: "延寿富硒大米")
            // Renewed: a second application and certificate for the same product.
            let applied = try await client.call(
                .post, "/api/v1/certification-applications", token: shop.token,
                json: #"{"productId":"\#(first.productId)","householdsDriven":36,"description":"续期"}"#)
            let application = try #require(applied.object["id"] as? String)
            _ = try await client.call(
                .post, "/api/v1/certification-applications/\(application)/county-review", token: cast.yanshouOfficer,
                json: #"{"approve":true,"note":"属实"}"#)
            let approved = try await client.call(
                .post, "/api/v1/certification-applications/\(application)/approve", token: cast.admin, json: "{}")
            let second = try #require((approved.object["certificate"] as? [String: Any])?["number"] as? String)
            #expect(second != first.number)
            #expect(try await client.call(.post, "/api/v1/certificates/\(second)/surrender", token: shop.token).status == .ok)
            let path = "/api/v1/products/\(first.productId)"
            let locked = try await client.call(.patch, path, token: shop.token, json: #"{"title":"别的大米"}"#)
            #expect(locked.status == .conflict && locked.code == "certified_field_locked")
            #expect(try await client.call(.post, "/api/v1/certificates/\(first.number)/surrender", token: shop.token).status == .ok)
            #expect(try await client.call(.patch, path, token: shop.token, json: #"{"title":"别的大米"}"#).status == .ok)
        }
    }

    /// FileMiddleware would answer a range past the end with a negative Content-Length; ranges
    /// are not served at all.
    @Test func staticFilesIgnoreRangeRequests() async throws {
        let test = try await TestApp.make { $0.publicDirectory = repositoryRoot + "/Public" }
        try await test.run(.live) { client in
            for range in ["bytes=99999999-", "bytes=0-0", "bytes=-5", "bytes=9223372036854775807-"] {
                let response = try await client.execute(uri: "/index.html", method: .get, headers: [.range: range])
                #expect(response.status == .ok, "\(range): \(response.status)")
                #expect(response.headers[.contentLength].flatMap(Int.init) == response.body.readableBytes)
                #expect(response.body.readableBytes > 100)
            }
        }
    }

    @Test func theFormulaGuardLooksAtTheFirstScalar() {
        let combining = "=\u{0301}HYPERLINK(\"https://evil.example\")"
        #expect(combining.first != "=")  // the first character is "=́", not "="
        #expect(CSV.cell(combining).unicodeScalars.starts(with: "\"'=".unicodeScalars))
        #expect(CSV.cell("\u{FEFF}=1+1").hasPrefix("'"))
        #expect(CSV.cell("  @SUM(A1)").hasPrefix("'"))
        #expect(CSV.cell("\t=1").hasPrefix("'"))
        #expect(CSV.cell("＝1+1").hasPrefix("'"))
        #expect(CSV.cell("-5") == "-5" && CSV.cell("-x") == "'-x")
        #expect(CSV.cell("东宁黑木耳") == "东宁黑木耳")
    }

    @Test func unknownFilterValuesAreA400NamingTheParameter() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let admin = try await test.adminToken(client)
            for (uri, field) in [
                ("/api/v1/products?categoryId=no-such-category", "categoryId"),
                ("/api/v1/products?countyCode=999999", "countyCode"),
                ("/api/v1/merchants?countyCode=999999", "countyCode"),
                ("/api/v1/certificates?merchantId=nobody", "merchantId"),
                ("/api/v1/certificates?countyCode=999999", "countyCode"),
                ("/api/v1/merchant-applications?countyCode=999999", "countyCode"),
            ] {
                let token = uri.hasPrefix("/api/v1/merchant-applications") ? admin : nil
                let response = try await client.call(.get, uri, token: token)
                #expect(response.status == .badRequest && response.fields == [field], "\(uri): \(response.status)")
            }
            // A query with nothing searchable in it checks its filters all the same.
            let punctuation = try await client.call(.get, "/api/v1/products?q=%21%21&categoryId=no-such-category")
            #expect(punctuation.status == .badRequest && punctuation.fields == ["categoryId"])
            // Known values with nothing to show are still an empty 200, a county added a moment ago
            // included (the catalog index follows the counties).
            #expect(try await client.call(.get, "/api/v1/products?countyCode=230221&categoryId=rice").status == .ok)
            #expect(try await client.call(.get, "/api/v1/products?countyCode=150121").status == .badRequest)
            let newCounty = #"{"code":"150121","name":"土默特左旗","prefecture":"呼和浩特市","province":"内蒙古自治区","level":"national"}"#
            #expect(try await client.call(.post, "/api/v1/counties", token: admin, json: newCounty).status == .created)
            #expect(try await client.call(.get, "/api/v1/products?countyCode=150121").status == .ok)
            #expect(try await client.call(.get, "/api/v1/merchants?countyCode=230221").status == .ok)
        }
    }

    @Test func aCookieWithoutOriginIsIgnoredAndOneFromAnotherSiteRefused() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            _ = try await client.signUp("jar", role: "merchant")
            let first = try await client.call(.post, "/api/v1/sessions", json: #"{"username":"jar","password":"correct horse 1"}"#)
            let cookie = try #require(first.headers[.setCookie]?.split(separator: ";").first.map(String.init))
            // A client with a cookie jar signs in again: the cookie is ignored, not refused.
            let second = try await client.call(
                .post, "/api/v1/sessions", json: #"{"username":"jar","password":"correct horse 1"}"#,
                headers: [.cookie: cookie])
            #expect(second.status == .created)
            // Without Origin a cookie does not authenticate a change.
            let anonymous = try await client.call(.post, "/api/v1/merchant-applications", json: applicationJSON(), headers: [.cookie: cookie])
            #expect(anonymous.status == .unauthorized)
            // Another site's page is refused; reads still use the cookie.
            let forged = try await client.call(
                .post, "/api/v1/merchant-applications", json: applicationJSON(),
                headers: [.cookie: cookie, .origin: "https://evil.example"])
            #expect(forged.status == .forbidden)
            #expect(try await client.call(.get, "/api/v1/me", headers: [.cookie: cookie]).status == .ok)
        }
    }
}

/// TLS below 1.2 is refused by the live server (issue 16), and 1.2 is accepted.
@Suite struct TLSVersionTests {
    /// Completes a TLS handshake with `localhost:port`, offering at most `version`.
    static func handshake(port: Int, maximum version: TLSVersion) async throws {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .none
        configuration.minimumTLSVersion = .tlsv1
        configuration.maximumTLSVersion = version
        let context = try NIOSSLContext(configuration: configuration)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        defer { channel.close(promise: nil) }
        // A request forces the handshake to finish (or fail) before the answer.
        try await channel.writeAndFlush(ByteBuffer(string: "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")).get()
        try await channel.closeFuture.get()
    }

    @Test func onlyTLS12AndLaterAreAccepted() async throws {
        let test = try await TestApp.make(tls: true)
        try await test.run(.ahc(.https)) { client in
            let port = try #require(client.port)
            await #expect(throws: (any Error).self) { try await Self.handshake(port: port, maximum: .tlsv1) }
            await #expect(throws: (any Error).self) { try await Self.handshake(port: port, maximum: .tlsv11) }
            try await Self.handshake(port: port, maximum: .tlsv12)
            #expect(try await client.call(.get, "/healthz").status == .ok)
        }
    }
}
