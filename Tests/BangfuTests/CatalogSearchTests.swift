import Foundation
import Hummingbird
import HummingbirdTesting
import NIOConcurrencyHelpers
import Testing

@testable import BangfuApp

@Suite struct SearchTermsTests {
    @Test func documentTermsAreUnigramsAndBigramsOfEachRun() {
        #expect(SearchTerms.documentTerms("黑木耳 Ab") == ["黑", "黑木", "木", "木耳", "耳", "a", "ab", "b"])
        #expect(SearchTerms.documentTerms("５ＫＧ/袋") == ["5", "5k", "k", "kg", "g", "袋"])
        #expect(SearchTerms.documentTerms("大米大米") == ["大", "大米", "米", "米大"])
    }

    /// The shortcut for caseless texts agrees with folding then `lowercased()`, for every scalar
    /// it skips and for random mixes of scripts.
    @Test func normalizeAgreesWithLowercased() {
        func slow(_ text: String) -> String {
            var scalars = String.UnicodeScalarView()
            for scalar in text.unicodeScalars {
                switch scalar.value {
                case 0xFF01...0xFF5E: scalars.append(Unicode.Scalar(scalar.value - 0xFEE0) ?? scalar)
                case 0x3000: scalars.append(" ")
                default: scalars.append(scalar)
                }
            }
            return String(scalars).lowercased()
        }
        for value in Array(UInt32(0x2000)...0x206F) + Array(UInt32(0x3000)...0x9FFF) + Array(UInt32(0xFF5F)...0xFFEF) {
            guard let scalar = Unicode.Scalar(value) else { continue }
            #expect(String(scalar).lowercased() == String(scalar), "U+\(String(value, radix: 16)) has a lower case")
        }
        var random = SeededRandom(7)
        let alphabet = Array("大米ABCxyzＡＺａ５　ÄÖİΣσ𝐀ǅ\u{301}ｶ!．·—…℃Ω")
        for _ in 0..<2000 {
            let text = String((0..<random.next(12)).map { _ in alphabet[random.next(alphabet.count)] })
            #expect(Array(SearchTerms.normalize(text).unicodeScalars) == Array(slow(text).unicodeScalars), "\(text)")
        }
        #expect(SearchTerms.normalize("五常ＲＩＣＥ　Rice") == "五常rice rice")
    }

    @Test func queries() {
        #expect(SearchTerms.query("米") == .init(terms: ["米"], pieces: ["米"]))
        #expect(SearchTerms.query("大米") == .init(terms: ["大米"], pieces: ["大米"]))
        #expect(SearchTerms.query("黑木耳") == .init(terms: ["木耳", "黑木"], pieces: ["黑木耳"]))
        #expect(SearchTerms.query("木 耳") == .init(terms: ["木", "耳"], pieces: ["木", "耳"]))
        #expect(SearchTerms.query("!!! ...") == nil)
        #expect(SearchTerms.likePattern("5%_\\") == "%5\\%\\_\\\\%")
    }
}

@Suite struct CatalogSearchTests {
    /// A small catalog from two merchants in two counties.
    static func catalog(_ test: TestApp, _ client: any TestClientProtocol) async throws -> (Cast, Seller, Seller) {
        let cast = try await Cast.make(test, client)
        let yanshou = try await Seller.make(test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller1")
        let longjiang = try await Seller.make(
            test, client, admin: cast.admin, officer: cast.longjiangOfficer, username: "seller2",
            creditCode: Codes.longjiang, company: "龙江县龙兴杂粮合作社", county: "230221")
        _ = try await yanshou.listed(test, client, title: "东宁黑木耳", description: "秋耳 肉厚 耳木", category: "black-fungus", price: 3980, labels: ["geo_indication"])
        test.clock.advance(seconds: 1)
        _ = try await yanshou.listed(test, client, title: "五常大米", description: "稻花香", category: "rice", price: 5990, labels: ["green", "black_soil"])
        test.clock.advance(seconds: 1)
        _ = try await yanshou.listed(test, client, title: "有机大米", description: "当年新米", category: "rice", price: 7990, county: "230221", labels: ["organic"])
        test.clock.advance(seconds: 1)
        _ = try await yanshou.listed(test, client, title: "椴木黑木耳", description: "小碗耳", category: "black-fungus", price: 4580, county: "230221")
        test.clock.advance(seconds: 1)
        _ = try await longjiang.listed(test, client, title: "椴树蜂蜜 Honey", description: "500g 玻璃瓶", category: "bee-products", price: 6800, county: "230221")
        test.clock.advance(seconds: 1)
        _ = try await longjiang.listed(test, client, title: "龙江小米", description: "黄小米", category: "coarse-grains", price: 1290, county: "230221", labels: ["green"])
        return (cast, yanshou, longjiang)
    }

    func titles(_ client: any TestClientProtocol, _ query: String) async throws -> Set<String> {
        let encoded = query.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? query
        let response = try await client.call(.get, "/api/v1/products?limit=100&q=\(encoded)")
        #expect(response.status == .ok, "q=\(query) answered \(response.status)")
        return Set(response.titles)
    }

    @Test func searchEdgeCases() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            _ = try await Self.catalog(test, client)
            #expect(try await titles(client, "木耳") == ["东宁黑木耳", "椴木黑木耳"])
            #expect(try await titles(client, "黑木耳") == ["东宁黑木耳", "椴木黑木耳"])
            #expect(try await titles(client, "大米") == ["五常大米", "有机大米"])
            #expect(try await titles(client, "米") == ["五常大米", "有机大米", "龙江小米"])
            #expect(try await titles(client, "椴") == ["椴木黑木耳", "椴树蜂蜜 Honey"])
            #expect(try await titles(client, "稻花香") == ["五常大米"])  // description
            #expect(try await titles(client, "长寿山") == ["东宁黑木耳", "五常大米", "有机大米", "椴木黑木耳"])  // merchant name
            #expect(try await titles(client, "honey") == ["椴树蜂蜜 Honey"])
            #expect(try await titles(client, "HONEY") == ["椴树蜂蜜 Honey"])
            #expect(try await titles(client, "ＨＯＮＥＹ") == ["椴树蜂蜜 Honey"])
            #expect(try await titles(client, "蜂蜜 500g") == ["椴树蜂蜜 Honey"])  // mixed scripts, both pieces
            #expect(try await titles(client, "木 耳") == ["东宁黑木耳", "椴木黑木耳"])
            #expect(try await titles(client, "木耳木").isEmpty)  // bigrams 木耳 and 耳木 both occur, the substring does not
            #expect(try await titles(client, "海参").isEmpty)
            #expect(try await titles(client, "!!!").isEmpty)
            #expect(try await titles(client, "%").isEmpty)
            #expect(try await titles(client, "_").isEmpty)
            #expect(try await titles(client, "'; DROP TABLE products; --").isEmpty)
            #expect(try await titles(client, "\" OR 1=1 --").isEmpty)
            #expect(try await titles(client, "米\" OR \"木").isEmpty)
            #expect(try await client.call(.get, "/api/v1/products").items.count == 6)
            let long = String(repeating: "米", count: 101)
            #expect(try await client.call(.get, "/api/v1/products?q=\(long.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)").status == .badRequest)
        }
    }

    /// A word split by a zero-width joiner is found as a whole substring by the index and by the
    /// SQL `bangfu check` compares with (whose FTS5 phrase alone matched 米 and 粉 side by side).
    @Test func aWordSplitByAJoinerIsFoundWholeAsTheSQLFindsIt() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let (_, yanshou, _) = try await Self.catalog(test, client)
            _ = try await yanshou.listed(test, client, title: "米线", description: "米\u{200D}粉", category: "rice", price: 1000)
            _ = try await yanshou.listed(test, client, title: "大米 粉丝", description: "细", category: "rice", price: 1000)
            #expect(try await titles(client, "米\u{200D}粉") == ["米线"])
            #expect(try await titles(client, "米 粉") == ["米线", "大米 粉丝"])
            let services = test.services, now = test.services.clock.now
            let filter = ProductFilter(query: SearchTerms.query("米\u{200D}粉"))
            let sql = try await services.database.read { db in
                try await services.products.publicProducts(filter, sort: .relevance, after: nil, limit: 20, now: now, in: db)
            }
            #expect(sql.map(\.0.product.title) == ["米线"])
        }
    }

    /// A full-width title scores for its half-width word in the SQL `bangfu check` compares with
    /// as in the index (the SQL's `lower()` folded no full-width letters): the same order.
    @Test func relevanceMatchesNormalizedTitlesInTheSQLAsInTheIndex() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let (_, yanshou, _) = try await Self.catalog(test, client)
            _ = try await yanshou.listed(test, client, title: "ＡＢＣ蜂蜜", description: "椴树", category: "bee-products", price: 1000)
            test.clock.advance(seconds: 1)
            _ = try await yanshou.listed(test, client, title: "椴树蜜", description: "abc 认证", category: "bee-products", price: 1000)
            let response = try await client.call(.get, "/api/v1/products?q=abc&sort=relevance")
            #expect(response.titles == ["ＡＢＣ蜂蜜", "椴树蜜"])
            let services = test.services, now = test.services.clock.now
            let sql = try await services.database.read { db in
                try await services.products.publicProducts(
                    ProductFilter(query: SearchTerms.query("abc")), sort: .relevance, after: nil, limit: 20, now: now, in: db)
            }
            #expect(sql.map(\.0.product.title) == ["ＡＢＣ蜂蜜", "椴树蜜"])
            #expect(sql.map(\.1.key) == [2, 0])
            // A word in a merchant's name (延寿县长寿山…) scores 1 in both, paged by cursors alike.
            let api = try await client.call(.get, "/api/v1/products?q=长寿山&sort=relevance&limit=3".addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? "")
            var paged: [String] = []
            var after: ProductStore.Position?
            repeat {
                let cursor = after
                let page = try await services.database.read { db in
                    try await services.products.publicProducts(
                        ProductFilter(query: SearchTerms.query("长寿山")), sort: .relevance, after: cursor, limit: 3, now: now, in: db)
                }
                #expect(page.allSatisfy { $0.1.key == 1 })
                paged += page.map(\.0.product.title)
                after = page.count == 3 ? page.last?.1 : nil
            } while after != nil && paged.count < 100
            #expect(Array(paged.prefix(3)) == api.titles && paged.count == 6)
        }
    }

    @Test func filtersSortsAndFacets() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            _ = try await Self.catalog(test, client)
            func list(_ query: String) async throws -> TestResponse {
                let response = try await client.call(.get, "/api/v1/products?limit=100&" + query)
                #expect(response.status == .ok, "\(query): \(response.text)")
                return response
            }
            // A top-level category includes its subcategories.
            #expect(Set(try await list("categoryId=grain-oil").titles) == ["五常大米", "有机大米", "龙江小米"])
            #expect(Set(try await list("categoryId=rice").titles) == ["五常大米", "有机大米"])
            #expect(Set(try await list("countyCode=230221&categoryId=black-fungus").titles) == ["椴木黑木耳"])
            #expect(Set(try await list("label=green").titles) == ["五常大米", "龙江小米"])
            #expect(Set(try await list("minPriceFen=4000&maxPriceFen=6000").titles) == ["五常大米", "椴木黑木耳"])
            #expect(Set(try await list("q=米&label=organic").titles) == ["有机大米"])
            #expect(try await list("sort=price_asc").titles == ["龙江小米", "东宁黑木耳", "椴木黑木耳", "五常大米", "椴树蜂蜜 Honey", "有机大米"])
            #expect(try await list("sort=price_desc").titles.first == "有机大米")
            #expect(try await list("").titles.first == "龙江小米")  // newest by default
            #expect(try await list("sort=newest").titles.last == "东宁黑木耳")
            // Relevance: a title match before a match in the merchant's name only.
            let relevance = try await list("q=龙江").titles
            #expect(relevance.first == "龙江小米")
            #expect(Set(relevance) == ["龙江小米", "椴树蜂蜜 Honey"])

            let facets = try await list("q=米").object["facets"] as? [String: [[String: Any]]] ?? [:]
            let category = Dictionary(uniqueKeysWithValues: (facets["category"] ?? []).map { ($0["key"] as? String ?? "", $0["count"] as? Int ?? 0) })
            #expect(category == ["grain-oil": 3])
            #expect((facets["category"] ?? []).first?["label"] as? String == "粮油")
            let county = Dictionary(uniqueKeysWithValues: (facets["county"] ?? []).map { ($0["key"] as? String ?? "", $0["count"] as? Int ?? 0) })
            #expect(county == ["230129": 1, "230221": 2])
            let labels = Dictionary(uniqueKeysWithValues: (facets["label"] ?? []).map { ($0["key"] as? String ?? "", $0["count"] as? Int ?? 0) })
            #expect(labels == ["green": 2, "black_soil": 1, "organic": 1])

            for bad in ["sort=cheapest", "label=tasty", "minPriceFen=-1", "maxPriceFen=abc", "color=red", "limit=0", "cursor=xyz"] {
                let response = try await client.call(.get, "/api/v1/products?" + bad)
                #expect(response.status == .badRequest, "\(bad)")
            }
            // A cursor from one sort is refused by another.
            let page = try await client.call(.get, "/api/v1/products?limit=2&sort=price_asc")
            let cursor = try #require(page.object["nextCursor"] as? String)
            #expect(try await client.call(.get, "/api/v1/products?sort=newest&cursor=\(cursor)").status == .badRequest)
        }
    }

    /// Paging by cursor returns every product exactly once, even while new ones are listed.
    @Test(arguments: ["newest", "price_asc", "price_desc", "sales"])
    func pagingIsCompleteUnderInserts(_ sort: String) async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let seller = try await Seller.make(test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller1")
            var original: Set<String> = []
            for index in 0..<7 {
                original.insert(try await seller.listed(test, client, title: "大米\(index)", price: Int64(1000 + (index % 3) * 100)))
                if index % 2 == 0 { test.clock.advance(seconds: 1) }
            }
            var seen: [String] = []
            var cursor: String?
            var inserted = 0
            repeat {
                let page = try await client.call(
                    .get, "/api/v1/products?limit=3&sort=\(sort)" + (cursor.map { "&cursor=\($0)" } ?? ""))
                #expect(page.status == .ok)
                seen += page.items.compactMap { $0["id"] as? String }
                cursor = page.object["nextCursor"] as? String
                // New products arrive between pages.
                test.clock.advance(seconds: 1)
                _ = try await seller.listed(test, client, title: "新米\(inserted)", price: 1100)
                inserted += 1
            } while cursor != nil && inserted < 10
            #expect(cursor == nil)
            #expect(seen.count == Set(seen).count, "an item came twice")
            #expect(original.isSubset(of: Set(seen)), "an item was skipped")
        }
    }
}
