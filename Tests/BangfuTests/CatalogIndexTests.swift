import Foundation
import Hummingbird
import HummingbirdTesting
import SQLKit
import NIOConcurrencyHelpers
import Testing

@testable import BangfuApp

/// The in-memory catalog index as a pure value (issue 18).
@Suite struct CatalogIndexUnitTests {
    static func product(
        _ id: String, title: String = "大米", category: String = "c1", top: String = "top1", county: String = "230129",
        labels: [String] = [], price: Int64 = 1000, sales: Int64 = 0, created: Int64 = 1, expires: Int64? = 10_000,
        merchant: String = "合作社", listed: Bool = true, active: Bool = true, description: String = "描述"
    ) -> IndexedProduct {
        IndexedProduct(
            id: id, categoryId: category, topCategoryId: top, countyCode: county, labels: labels, listed: listed,
            merchantActive: active, certificateExpiresAt: expires, priceFen: price, sales: sales, merchantRating: 0,
            createdAt: created, searchText: SearchTerms.normalize([title, description, merchant].joined(separator: "\n")),
            title: SearchTerms.normalize(title), merchantName: SearchTerms.normalize(merchant))
    }

    func ids(_ index: CatalogIndex, _ filter: ProductFilter = ProductFilter(), sort: ProductSort = .newest, limit: Int = 10,
             after: ProductStore.Position? = nil, now: Int64 = 0) -> [String] {
        index.page(CatalogIndex.Query(filter: filter, sort: sort, after: after, limit: limit), now: now).map(\.id)
    }

    /// Id keys order as the ids do (bytes), and tell apart ids made in the same second, which
    /// share their first eight bytes (`IDGenerator.timeOrdered`): sorts then rarely compare whole
    /// ids.
    @Test func idKeysOrderAsTheIdsAndSeparateIdsOfOneSecond() {
        let ids = IDGenerator.timeOrdered(AppClock { Date(millis: 1_795_000_000_123) })
        let sameSecond = (0..<500).map { _ in ids.next() }
        #expect(Set(sameSecond.map { $0.prefix(8) }).count == 1)
        let keys = sameSecond.map(CatalogIndex.idPrefix)
        // 500 ids share a key only if 30 random bits repeat: a chance near 1e-4.
        #expect(Set(keys).count >= 499)
        var random = SystemRandomNumberGenerator()
        let others = ["", "a", "p1", "product-0001", "ÄÖ", "zz", String(repeating: "z", count: 40), "abcdefghijklmnop", "abcdefghijklmnoq"]
            + (0..<300).map { _ in String((0..<Int.random(in: 0...20, using: &random)).map { _ in "2az-Ä".randomElement(using: &random)! }) }
        let all = sameSecond + others
        for _ in 0..<5000 {
            let a = all.randomElement(using: &random)!, b = all.randomElement(using: &random)!
            let (ka, kb) = (CatalogIndex.idPrefix(a), CatalogIndex.idPrefix(b))
            if ka < kb { #expect(Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8)), "\(a) < \(b)") }
            if Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8)) { #expect(!(kb < ka), "\(a) < \(b)") }
        }
    }

    @Test func onlyWhatIsOnSaleIsListedAndExpiryHidesAtItsInstant() {
        var index = CatalogIndex()
        index.upsert(Self.product("a", created: 1))
        index.upsert(Self.product("b", created: 2, listed: false))
        index.upsert(Self.product("c", created: 3, active: false))
        index.upsert(Self.product("d", created: 4, expires: nil))
        index.upsert(Self.product("e", created: 5, expires: 500))
        #expect(ids(index, now: 499) == ["e", "a"])
        #expect(ids(index, now: 500) == ["a"])
        // A change replaces the product; a removal forgets it.
        index.upsert(Self.product("b", created: 2))
        #expect(ids(index, now: 0) == ["e", "b", "a"])
        index.remove(id: "e")
        #expect(ids(index, now: 0) == ["b", "a"])
        #expect(index.count == 4)
    }

    /// A sweep takes the lapsed certificates out of the candidates and every order (each read
    /// walked them all before); what reads answer is unchanged, and a later change to a swept
    /// product (an edit, a renewal) places it again.
    @Test func aSweepTakesTheLapsedOutAndAChangePlacesThemAgain() {
        var index = CatalogIndex()
        for i in 0..<10 {
            index.upsert(Self.product("p\(i)", county: "k\(i % 2)", price: Int64(100 * i), created: Int64(i), expires: i < 4 ? 500 : 10_000))
        }
        let newest = ids(index, now: 500), cheapest = ids(index, sort: .priceAsc, now: 500)
        let facets = index.facets(ProductFilter(), now: 500)
        #expect(newest == ["p9", "p8", "p7", "p6", "p5", "p4"])
        #expect(index.sweepLapsed(now: 499) == 0)
        #expect(index.sweepLapsed(now: 500) == 4)
        #expect(index.listable.count == 6 && index.orders.allSatisfy { $0.count == 6 })
        #expect(ids(index, now: 500) == newest && ids(index, sort: .priceAsc, now: 500) == cheapest)
        #expect(index.facets(ProductFilter(), now: 500) == facets)
        #expect(index.sweepLapsed(now: 600) == 0)
        // An edit to a lapsed product places it; reads still hide it; the next sweep takes it out.
        index.upsert(Self.product("p1", county: "k1", price: 150, created: 1, expires: 500))
        #expect(index.listable.count == 7 && ids(index, now: 600) == newest)
        #expect(index.sweepLapsed(now: 600) == 1 && index.listable.count == 6)
        // A renewal lists it again, in every order.
        index.upsert(Self.product("p2", county: "k0", price: 200, created: 2, expires: 20_000))
        #expect(ids(index, now: 600) == newest + ["p2"])
        #expect(ids(index, sort: .priceAsc, now: 600).first == "p2")
        #expect(index.facets(ProductFilter(), now: 600).county == [.init(key: "k0", count: 4), .init(key: "k1", count: 3)])
    }

    /// The feed sweeps once 64 certificates have lapsed, or any a minute after its last sweep.
    @Test func aSweepWaitsForEnoughLapsedOrAMinute() {
        #expect(!CatalogFeed.sweepDue(lapsed: 0, now: 1_000_000, lastSweep: 0))
        #expect(!CatalogFeed.sweepDue(lapsed: 63, now: 1_000_000, lastSweep: 990_000))
        #expect(CatalogFeed.sweepDue(lapsed: 64, now: 1_000_000, lastSweep: 999_000))
        #expect(CatalogFeed.sweepDue(lapsed: 1, now: 1_000_000, lastSweep: 940_000))
        #expect(!CatalogFeed.sweepDue(lapsed: 1, now: 1_000_000, lastSweep: 940_001))
        var index = CatalogIndex()
        for i in 0..<5 { index.upsert(Self.product("p\(i)", expires: Int64(100 * i) + 100)) }
        #expect(index.lapsed(now: 99) == (0, nil))
        #expect(index.lapsed(now: 300) == (3, 100))
    }

    /// The index keeps each field once, in its own arrays; what it gives back (`bangfu check`
    /// compares it) is what it was given, after changes and removals, and a changed product is no
    /// longer found by its old words, category, county or label.
    @Test func theIndexGivesBackEachProductAsItWasGiven() {
        var index = CatalogIndex()
        let a = Self.product("a", title: "五常大米", category: "rice", labels: ["organic", "gi"], expires: nil, merchant: "甲社")
        let b = Self.product("b", title: "木耳", county: "230184", price: 2500, sales: 7, created: 9, listed: false, active: false)
        index.upsert(a)
        index.upsert(b)
        #expect(index.allProducts == [a, b])
        let changed = Self.product("a", title: "黑木耳", category: "fungus", county: "230184", labels: ["gi"], merchant: "乙社")
        index.upsert(changed)
        #expect(index.allProducts == [changed, b])
        #expect(ids(index, ProductFilter(query: SearchTerms.query("大米"))).isEmpty)
        #expect(ids(index, ProductFilter(query: SearchTerms.query("黑木耳"))) == ["a"])
        #expect(ids(index, ProductFilter(categoryId: "rice")).isEmpty)
        #expect(ids(index, ProductFilter(label: "organic")).isEmpty)
        #expect(ids(index, ProductFilter(countyCode: "230184")) == ["a"])
        index.remove(id: "b")
        #expect(index.allProducts == [changed])
        #expect(index.count == 1)
    }

    /// Every page of `filter` in `sort` joined, each `limit()` long, each after the last one's cursor.
    func pages(
        _ index: CatalogIndex, _ filter: ProductFilter, sort: ProductSort, now: Int64 = 0, plan: CatalogIndex.Plan = .automatic,
        limit: () -> Int
    ) -> [String] {
        var seen: [String] = []
        var after: ProductStore.Position?
        repeat {
            let size = limit()
            let hits = index.page(CatalogIndex.Query(filter: filter, sort: sort, after: after, limit: size), now: now, plan: plan)
            seen += hits.map(\.id)
            after = hits.count == size ? hits.last?.position : nil
        } while after != nil && seen.count <= 1_000
        return seen
    }

    /// Relevance's order for a query whose first piece is `first`: title 2, merchant name 1, then
    /// newest, then id.
    static func relevanceOrder(_ products: [IndexedProduct], first: String) -> [String] {
        func score(_ p: IndexedProduct) -> Int { (p.title.contains(first) ? 2 : 0) + (p.merchantName.contains(first) ? 1 : 0) }
        return products.sorted { a, b in
            if score(a) != score(b) { return score(a) > score(b) }
            return a.createdAt != b.createdAt ? a.createdAt > b.createdAt : a.id > b.id
        }.map(\.id)
    }

    @Test func everySortPagesByItsCursorWithoutGapsOrRepeats() {
        var index = CatalogIndex()
        for i in 0..<57 {
            index.upsert(Self.product(String(format: "p%02d", i), price: Int64(i % 7) * 100, sales: Int64(i % 5), created: Int64(i % 11)))
        }
        for sort in ProductSort.allCases {
            var seen: [String] = []
            var after: ProductStore.Position?
            repeat {
                let hits = index.page(CatalogIndex.Query(filter: ProductFilter(), sort: sort, after: after, limit: 8), now: 0)
                seen += hits.map(\.id)
                after = hits.count == 8 ? hits.last?.position : nil
            } while after != nil && seen.count <= 1_000
            #expect(seen.count == 57 && Set(seen).count == 57, "\(sort)")
        }
        let byPrice = ids(index, sort: .priceAsc, limit: 3)
        #expect(byPrice == ["p00", "p07", "p14"])
        let byPriceDesc = ids(index, sort: .priceDesc, limit: 2)
        #expect(byPriceDesc == ["p55", "p48"])
    }

    /// Random catalogs with many ties, random filters, every sort but relevance, paged by random
    /// page sizes: the pages joined are the products a plain sort of the filtered list gives, and
    /// each facet counts what the other filters leave. Products are then changed and removed one
    /// by one or in a batch (which re-sorts the orders), and pages are found both by walking the
    /// sort's order and by ranking.
    @Test(arguments: [CatalogIndex.Plan.automatic, .walk(budget: .max), .walk(budget: 5), .rank])
    func pagesAndFacetsAgreeWithAPlainSortAndCount(plan: CatalogIndex.Plan) {
        var random = SeededRandom(18)
        for round in 0..<20 {
            var index = CatalogIndex()
            var products: [String: IndexedProduct] = [:]
            func made(_ id: String) -> IndexedProduct {
                var product = Self.product(
                    id, title: ["大米", "小米", "木耳", "米粉", "蜂蜜", "蜂蜜水"][random.next(6)],
                    category: "c\(random.next(4))", top: "t\(random.next(3))",
                    county: "k\(random.next(5))", labels: ["a", "b", "c"].filter { _ in random.next(3) == 0 },
                    price: Int64(random.next(9)) * 100, sales: Int64(random.next(4)), created: Int64(random.next(30)),
                    expires: random.next(10) == 0 ? 5 : random.next(15) == 0 ? nil : 10_000,
                    merchant: ["米社", "林社", "合作社"][random.next(3)], listed: random.next(12) != 0,
                    active: random.next(15) != 0, description: ["描述", "粉丝", "蜂蜜水"][random.next(3)])
                // A label given twice counts once.
                if random.next(8) == 0 { product.labels += product.labels }
                // A search text that does not begin with the title: its title is checked on its own.
                if random.next(6) == 0 {
                    product.searchText = SearchTerms.normalize(["描述", product.title, product.merchantName].joined(separator: "\n"))
                }
                product.merchantRating = Int64(random.next(3))
                return product
            }
            for i in 0..<(40 + random.next(200)) {
                // Ids longer than 8 bytes with a shared prefix compare past their prefix keys.
                let product = made(random.next(2) == 0 ? "p\(random.next(1000))-\(i)" : "product-\(random.next(1000))-\(i)")
                index.upsert(product)
                products[product.id] = product
            }
            // Swept before the changes, lapsed products that change are placed again; after them,
            // the sweep takes out what they left lapsed. Reads answer the same either way.
            if round % 3 == 0 { #expect(index.sweepLapsed(now: 10) > 0, "round \(round)") }
            var changes: [(id: String, product: IndexedProduct?)] = []
            for id in products.keys.sorted() where random.next(3) == 0 {
                changes.append((id, random.next(4) == 0 ? nil : made(id)))
            }
            if round % 2 == 0 {
                index.apply(changes, bulk: 0)
            } else {
                for (id, product) in changes {
                    if let product { index.upsert(product) } else { index.remove(id: id) }
                }
            }
            for (id, product) in changes { products[id] = product }
            // Some removed products come back under the same id.
            for (id, product) in changes where product == nil && random.next(2) == 0 {
                let again = made(id)
                index.upsert(again)
                products[id] = again
            }
            if round % 4 == 1 { index.sweepLapsed(now: 10) }
            let catalog = Array(products.values)
            var filter = ProductFilter()
            if random.next(2) == 0 { filter.categoryId = random.next(2) == 0 ? "t\(random.next(3))" : "c\(random.next(4))" }
            if random.next(2) == 0 { filter.countyCode = "k\(random.next(5))" }
            if random.next(3) == 0 { filter.label = ["a", "b", "c"][random.next(3)] }
            switch random.next(6) {
            case 0: (filter.minPriceFen, filter.maxPriceFen) = (200, 600)
            case 1: filter.minPriceFen = 350
            case 2: filter.maxPriceFen = 250
            case 3: (filter.minPriceFen, filter.maxPriceFen) = (700, 100)
            default: break
            }
            let now: Int64 = 10
            func passes(_ p: IndexedProduct, except facet: CatalogIndex.Facet? = nil) -> Bool {
                p.listed && p.merchantActive && (p.certificateExpiresAt ?? .min) > now
                    && (facet == .category || filter.categoryId.map { $0 == p.topCategoryId || $0 == p.categoryId } ?? true)
                    && (facet == .county || filter.countyCode.map { $0 == p.countyCode } ?? true)
                    && (facet == .label || filter.label.map { p.labels.contains($0) } ?? true)
                    && p.priceFen >= (filter.minPriceFen ?? .min) && p.priceFen <= (filter.maxPriceFen ?? .max)
            }
            for sort in ProductSort.allCases where sort != .relevance {
                func key(_ p: IndexedProduct) -> Int64 {
                    switch sort {
                    case .newest: p.createdAt
                    case .priceAsc, .priceDesc: p.priceFen
                    case .sales: p.sales
                    case .rating: p.merchantRating
                    case .relevance: 0
                    }
                }
                let expected = catalog.filter { passes($0) }.sorted { a, b in
                    if key(a) != key(b) { return sort == .priceAsc ? key(a) < key(b) : key(a) > key(b) }
                    return sort == .priceAsc ? a.id < b.id : a.id > b.id
                }.map(\.id)
                let seen = pages(index, filter, sort: sort, now: now, plan: plan) { 1 + random.next(12) }
                #expect(seen == expected, "round \(round), \(sort)")
            }
            // Relevance: a title holding the query scores 2, a merchant name 1; then newest, then id.
            // "米" and "合作社" are in merchants' names (scores 3 and 1 too); the others are not, and
            // "粉", "蜂蜜" and "蜂蜜水" are in some descriptions (score 0). With two pieces, both must be
            // found and the first one scores. Each text is asked in at least two rounds.
            var searched = filter
            let text = ["米", "粉", "蜂蜜", "小米", "蜂蜜水", "蜂蜜水 粉", "蜂蜜水 米", "蜂蜜水 合作社", "合作社 蜂蜜水", "米社"][round % 10]
            searched.query = SearchTerms.query(text)
            let pieces = text.split(separator: " ").map(String.init), first = pieces[0]
            let relevant = Self.relevanceOrder(catalog.filter { p in passes(p) && pieces.allSatisfy { p.searchText.contains($0) } }, first: first)
            let seen = pages(index, searched, sort: .relevance, now: now, plan: plan) { 1 + random.next(12) }
            #expect(seen == relevant, "round \(round), relevance for \(text)")
            let facets = index.facets(filter, now: now)
            func counts(_ facet: CatalogIndex.Facet, _ keys: (IndexedProduct) -> [String]) -> [CatalogIndex.Count] {
                let passing = catalog.filter { passes($0, except: facet) }
                return Dictionary(grouping: passing.flatMap(keys), by: { $0 }).map { .init(key: $0.key, count: Int64($0.value.count)) }
                    .sorted { $0.count != $1.count ? $0.count > $1.count : $0.key < $1.key }
            }
            #expect(facets.category == counts(.category) { [$0.topCategoryId] }, "round \(round)")
            #expect(facets.county == counts(.county) { [$0.countyCode] }, "round \(round)")
            #expect(facets.label == counts(.label) { Array(Set($0.labels)) }, "round \(round)")
            #expect(index.count == products.count && Set(index.allProducts.map(\.id)) == Set(products.keys), "round \(round)")
            // Each order holds exactly the candidates, in its order, after sweeps and bulk batches.
            var candidates: [Int32] = []
            index.listable.forEach { candidates.append(Int32($0)) }
            for order in CatalogIndex.Order.allCases {
                #expect(index.orders[order.rawValue] == index.sorted(candidates, in: order), "round \(round), \(order)")
            }
        }
    }

    /// Relevance with all four scores held (title and merchant name 3, title 2, merchant name 1,
    /// neither 0): each plan pages through the same order as a plain sort, cursors crossing from
    /// one score's group to the next.
    @Test(arguments: [CatalogIndex.Plan.automatic, .walk(budget: .max), .walk(budget: 5), .rank])
    func relevancePagesThroughEveryScoreInOrder(plan: CatalogIndex.Plan) {
        var random = SeededRandom(3)
        var index = CatalogIndex()
        var catalog: [IndexedProduct] = []
        for i in 0..<400 {
            let product = Self.product(
                "p\(random.next(1000))-\(i)", title: ["大米", "木耳", "米粉", "蜂蜜"][random.next(4)], created: Int64(random.next(60)),
                merchant: ["米社", "林社", "合作社"][random.next(3)], description: "米")
            index.upsert(product)
            catalog.append(product)
        }
        let scores = Set(catalog.map { ($0.title.contains("米") ? 2 : 0) + ($0.merchantName.contains("米") ? 1 : 0) })
        #expect(scores == [0, 1, 2, 3])
        let seen = pages(index, ProductFilter(query: SearchTerms.query("米")), sort: .relevance, plan: plan) { 1 + random.next(40) }
        #expect(seen == Self.relevanceOrder(catalog, first: "米"))
    }

    /// Facet counts by tally (a sparse selection among many counties) and by intersections (most
    /// of the catalogue) agree with counting the products themselves.
    @Test func facetsCountTheSameByTallyAndByIntersection() {
        var random = SeededRandom(12)
        var index = CatalogIndex()
        var catalog: [IndexedProduct] = []
        for n in 0..<5_000 {
            let product = Self.product(
                String(format: "p%05d", n), category: "c\(random.next(40))", top: "t\(random.next(10))", county: "k\(random.next(300))",
                labels: random.next(4) == 0 ? ["a"] : [], created: Int64(n))
            index.upsert(product)
            catalog.append(product)
        }
        for filter in [ProductFilter(), ProductFilter(categoryId: "c7"), ProductFilter(categoryId: "t3"), ProductFilter(countyCode: "k9")] {
            let facets = index.facets(filter, now: 0)
            func counts(_ keep: (IndexedProduct) -> Bool, _ key: (IndexedProduct) -> String) -> [CatalogIndex.Count] {
                Dictionary(grouping: catalog.filter(keep), by: key).map { .init(key: $0.key, count: Int64($0.value.count)) }
                    .sorted { $0.count != $1.count ? $0.count > $1.count : $0.key < $1.key }
            }
            let inCategory = { (p: IndexedProduct) in filter.categoryId.map { $0 == p.categoryId || $0 == p.topCategoryId } ?? true }
            let inCounty = { (p: IndexedProduct) in filter.countyCode.map { $0 == p.countyCode } ?? true }
            #expect(facets.category == counts(inCounty, \.topCategoryId), "\(filter)")
            #expect(facets.county == counts(inCategory, \.countyCode), "\(filter)")
        }
    }

    @Test func filtersIntersectAndFacetsCountWithTheOtherFilters() {
        var index = CatalogIndex()
        index.upsert(Self.product("a", category: "rice", top: "grain", county: "A", labels: ["green"], price: 100))
        index.upsert(Self.product("b", category: "rice", top: "grain", county: "B", labels: ["organic"], price: 200))
        index.upsert(Self.product("c", category: "oil", top: "grain", county: "A", labels: ["green", "organic"], price: 300))
        index.upsert(Self.product("d", category: "tea", top: "drink", county: "B", price: 400))
        #expect(Set(ids(index, ProductFilter(categoryId: "grain"))) == ["a", "b", "c"])
        #expect(ids(index, ProductFilter(categoryId: "rice", countyCode: "A")) == ["a"])
        #expect(Set(ids(index, ProductFilter(label: "organic"))) == ["b", "c"])
        #expect(Set(ids(index, ProductFilter(minPriceFen: 200, maxPriceFen: 300))) == ["b", "c"])
        #expect(ids(index, ProductFilter(countyCode: "nowhere")).isEmpty)

        let facets = index.facets(ProductFilter(countyCode: "A"), now: 0)
        // The county facet ignores the county filter; the others apply it.
        #expect(facets.county == [.init(key: "A", count: 2), .init(key: "B", count: 2)])
        #expect(facets.category == [.init(key: "grain", count: 2)])
        #expect(facets.label == [.init(key: "green", count: 2), .init(key: "organic", count: 1)])
        let priced = index.facets(ProductFilter(minPriceFen: 250), now: 0)
        #expect(priced.category == [.init(key: "drink", count: 1), .init(key: "grain", count: 1)])
    }

    @Test func searchFindsSubstringsAndRanksTitleBeforeMerchant() {
        var index = CatalogIndex()
        index.upsert(Self.product("title", title: "五常大米", created: 1))
        index.upsert(Self.product("merchant", title: "豆油", created: 2, merchant: "大米合作社"))
        index.upsert(Self.product("apart", title: "大豆 米粉", created: 3))
        index.upsert(Self.product("latin", title: "GREEN Tea 绿茶", created: 4))
        let rice = SearchTerms.query("大米")
        #expect(ids(index, ProductFilter(query: rice), sort: .relevance) == ["title", "merchant"])
        #expect(Set(ids(index, ProductFilter(query: SearchTerms.query("米")), sort: .relevance)) == ["title", "merchant", "apart"])
        #expect(ids(index, ProductFilter(query: SearchTerms.query("五常大米")), sort: .relevance) == ["title"])
        #expect(ids(index, ProductFilter(query: SearchTerms.query("green tea")), sort: .relevance) == ["latin"])
        #expect(ids(index, ProductFilter(query: SearchTerms.query("ｇｒｅｅｎ绿茶")), sort: .relevance).isEmpty)
        #expect(ids(index, ProductFilter(query: SearchTerms.query("绿茶")), sort: .relevance) == ["latin"])
        // An edit re-indexes the text: the old words stop matching.
        index.upsert(Self.product("title", title: "黑木耳", created: 1))
        #expect(ids(index, ProductFilter(query: rice), sort: .relevance) == ["merchant"])
        #expect(ids(index, ProductFilter(query: SearchTerms.query("木耳")), sort: .relevance) == ["title"])
    }
}

/// The index in the server: current after every committed change, equal to the database's answers.
extension CatalogIndexUnitTests {
    /// A build normalizes each merchant's name once per chunk, telling names apart by their bytes.
    @Test func merchantNamesAreNormalizedOncePerSpelling() {
        var names = ProductStore.MerchantNames()
        let plain = "\u{91D1}穗ＡＢ合作社", compatibility = "\u{F90A}穗ＡＢ合作社"
        #expect(plain == compatibility)
        for raw in [plain, compatibility, plain, "", compatibility] {
            #expect(Array(names.normalize(raw).utf8) == Array(SearchTerms.normalize(raw).utf8), "\(Array(raw.unicodeScalars))")
        }
    }

    /// 金 (U+91D1) and its compatibility ideograph (U+F90A) are equal as Swift strings but not as
    /// bytes, terms or SQL text: a retitle from one to the other moves the product's terms.
    @Test func aRetitleBetweenCanonicallyEquivalentTextsMovesItsTerms() {
        var index = CatalogIndex()
        index.upsert(Self.product("a", title: "\u{91D1}耳"))
        let compatibility = Self.product("a", title: "\u{F90A}耳")
        index.upsert(compatibility)
        func found(_ text: String) -> [String] {
            var filter = ProductFilter()
            filter.query = SearchTerms.query(text)
            return ids(index, filter, sort: .relevance)
        }
        #expect(found("\u{91D1}").isEmpty && found("\u{F90A}") == ["a"])
        #expect(index.product(0).map { Array($0.title.unicodeScalars) } == Array(compatibility.title.unicodeScalars))
    }

    /// A build that defers its orders keeps new documents' postings aside and puts them in place
    /// a chunk at a time; changes and removals of documents still waiting move them first. The
    /// postings end as a build one product at a time makes them.
    @Test func postingsKeptAsideDuringABuildEndAsOneByOne() {
        var random = SeededRandom(2026)
        let words = ["大米", "小米", "五常", "稻花香", "黑木耳", "rice", "5kg"]
        func text() -> String { (0..<1 + random.next(3)).map { _ in words[random.next(words.count)] }.joined(separator: " ") }
        var steps: [(id: String, product: IndexedProduct?)] = []
        for step in 0..<400 {
            let id = "p\(random.next(120))"
            steps.append((id, step % 9 == 8 ? nil : Self.product(id, title: text(), merchant: text(), description: text())))
        }
        var oneByOne = CatalogIndex()
        for (id, product) in steps {
            if let product { oneByOne.upsert(product) } else { oneByOne.remove(id: id) }
        }
        var deferred = CatalogIndex()
        deferred.deferOrders()
        for (step, (id, product)) in steps.enumerated() {
            if let product { deferred.upsertBuilding(product) } else { deferred.remove(id: id) }
            if step % 37 == 36 { deferred.flushPostings() }
        }
        deferred.sortOrders()
        #expect(deferred.postings == oneByOne.postings)
        #expect(deferred.titlePostings == oneByOne.titlePostings)
        #expect(deferred.orders == oneByOne.orders)
    }

    /// A sort of the orders (a build's end) puts documents where placing them one by one does,
    /// in every order: keys that tie, ids that tie on their first eight bytes, some products
    /// not on sale (in no order).
    @Test func sortedOrdersMatchPlacingOneByOne() {
        var random = SeededRandom(18)
        var oneByOne = CatalogIndex()
        var deferred = CatalogIndex()
        deferred.deferOrders()
        for n in 0..<300 {
            // Ten first-eight-byte prefixes ("p0-abcde" to "p9-abcde"), each shared by some thirty ids.
            let id = "p\(random.next(10))-abcdef-\(n)"
            let product = Self.product(
                id, price: Int64(random.next(5)) * 100, sales: Int64(random.next(3)), created: Int64(random.next(4)),
                expires: Int64(random.next(3)), listed: random.next(5) != 0)
            oneByOne.upsert(product)
            deferred.upsertBuilding(product)
        }
        deferred.sortOrders()
        for order in CatalogIndex.Order.allCases {
            #expect(deferred.orders[order.rawValue] == oneByOne.orders[order.rawValue], "\(order)")
        }
        let listed = oneByOne.orders[0].count
        #expect(listed > 150 && listed < 300 && deferred.orders.allSatisfy { $0.count == listed })
    }

    /// A batch applied in bulk (its products taken out of the orders and merged back in) leaves
    /// the same orders, postings and products as the same changes applied one by one, and as the
    /// orders sorted afresh: changed keys, removals, new products, products delisted and listed.
    @Test func aBatchMergedIntoTheOrdersMatchesPlacingOneByOne() {
        var random = SeededRandom(7)
        func made(_ id: String) -> IndexedProduct {
            Self.product(
                id, title: ["大米", "小米", "蜂蜜"][random.next(3)], price: Int64(random.next(5)) * 100,
                sales: Int64(random.next(3)), created: Int64(random.next(4)), expires: Int64(random.next(3)) + 10,
                listed: random.next(5) != 0)
        }
        for round in 0..<10 {
            var oneByOne = CatalogIndex()
            for n in 0..<300 { oneByOne.upsert(made("p\(random.next(10))-abcdef-\(n)")) }
            var merged = oneByOne
            let known = oneByOne.ids
            var changes: [(id: String, product: IndexedProduct?)] = known.filter { _ in random.next(3) == 0 }.map { id in
                (id, random.next(5) == 0 ? nil : made(id))
            }
            for n in 0..<random.next(40) {
                let id = "n\(random.next(10))-abcdef-\(round)-\(n)"
                changes.append((id, made(id)))
            }
            oneByOne.apply(changes, bulk: .max)
            merged.apply(changes, bulk: 0)
            var sorted = merged
            sorted.deferOrders()
            sorted.sortOrders()
            for order in CatalogIndex.Order.allCases {
                #expect(merged.orders[order.rawValue] == oneByOne.orders[order.rawValue], "round \(round), \(order)")
                #expect(merged.orders[order.rawValue] == sorted.orders[order.rawValue], "round \(round), \(order)")
            }
            #expect(merged.ordered && merged.orders[0].count == merged.listable.count)
            #expect(merged.postings == oneByOne.postings && merged.titlePostings == oneByOne.titlePostings)
            #expect(merged.allProducts == oneByOne.allProducts, "round \(round)")
        }
    }

    /// `bangfu check`'s look at the index's structure names an order that lost, misplaced or
    /// gained a document; a sound index has nothing to name.
    @Test func theStructureCheckNamesStrayCandidatesAndBrokenOrders() {
        var index = CatalogIndex()
        for i in 0..<20 { index.upsert(Self.product("p\(i)", price: Int64(i % 7) * 100, created: Int64(i))) }
        index.upsert(Self.product("hidden", listed: false))
        #expect(index.structuralProblems() == [])
        var lost = index
        lost.orders[CatalogIndex.Order.sales.rawValue].removeLast()
        #expect(lost.structuralProblems() == ["the sales order does not hold exactly the candidates in order"])
        var misplaced = index
        misplaced.orders[CatalogIndex.Order.price.rawValue].reverse()
        #expect(misplaced.structuralProblems() == ["the price order does not hold exactly the candidates in order"])
        var stray = index
        if let hidden = index.documents["hidden"] { stray.orders[CatalogIndex.Order.created.rawValue].append(hidden) }
        #expect(stray.structuralProblems() == ["the created order does not hold exactly the candidates in order"])
    }

    /// The shortcut for the CJK block agrees with the scalar properties it stands in for.
    @Test func everyUnifiedIdeographIsAWordPart() {
        for value in UInt32(0x4E00)...0x9FFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let properties = scalar.properties
            #expect(properties.isAlphabetic, "U+\(String(value, radix: 16)) is not alphabetic")
            #expect(IndexTerms.isWordPart(scalar) == (properties.isAlphabetic || properties.numericType != nil))
        }
    }

    /// A document's terms, sorted without repeats, are the set of its runs' unigrams, bigrams and
    /// trigrams.
    @Test func aDocumentsTermsAreItsRunsUnigramsBigramsAndTrigramsOnceInOrder() {
        var random = SeededRandom(18)
        let alphabet = Array("大米小米五常稻花香ab1 ,。\u{301}éé")
        for _ in 0..<500 {
            let text = SearchTerms.normalize(String((0..<random.next(40)).map { _ in alphabet[random.next(alphabet.count)] }))
            var expected = Set<UInt64>()
            for run in IndexTerms.runs(text) {
                for (at, scalar) in run.enumerated() {
                    expected.insert(IndexTerms.unigram(scalar))
                    if at > 0 { expected.insert(IndexTerms.bigram(run[at - 1], scalar)) }
                    if at > 1 { expected.insert(IndexTerms.trigram(run[at - 2], run[at - 1], scalar)) }
                }
            }
            #expect(IndexTerms.document(text) == expected.sorted(), "\(text)")
        }
    }

    /// No two terms share a number: a trigram's first scalar fills bits a bigram leaves clear.
    @Test func unigramsBigramsAndTrigramsAreDistinctNumbers() {
        let scalars = ["a", "1", "米", "\u{301}", "\u{10FFFF}", "\u{20000}"].compactMap(\.unicodeScalars.first)
        var seen = Set<UInt64>()
        var made = 0
        for a in scalars {
            seen.insert(IndexTerms.unigram(a))
            made += 1
            for b in scalars {
                seen.insert(IndexTerms.bigram(a, b))
                made += 1
                for c in scalars {
                    seen.insert(IndexTerms.trigram(a, b, c))
                    made += 1
                }
            }
        }
        #expect(seen.count == made)
    }

    /// A run of up to three scalars is one term, whose postings are the answer; a longer run is
    /// its trigrams and a substring to check.
    @Test func aRunOfThreeIsItsTrigramAndALongerRunIsCheckedToo() {
        func scalars(_ text: String) -> [Unicode.Scalar] { Array(text.unicodeScalars) }
        let kg = scalars("5kg"), box = scalars("礼盒装好")
        #expect(IndexTerms.query(["5kg"]).terms == [IndexTerms.trigram(kg[0], kg[1], kg[2])])
        #expect(IndexTerms.query(["5kg"]).long.isEmpty)
        #expect(IndexTerms.query(["礼盒装好"]).terms == [IndexTerms.trigram(box[0], box[1], box[2]), IndexTerms.trigram(box[1], box[2], box[3])])
        #expect(IndexTerms.query(["礼盒装好"]).long == [Array("礼盒装好".utf8)])
        #expect(IndexTerms.query(["米", "大米"]).terms == [IndexTerms.unigram(scalars("米")[0]), IndexTerms.bigram(scalars("大")[0], scalars("米")[0])])
        // A piece split by a scalar that is no word part (a zero-width joiner) is checked whole.
        #expect(IndexTerms.query(["米\u{200D}粉"]).long == [Array("米\u{200D}粉".utf8)])
        #expect(!IndexTerms.isExact("米\u{200D}粉") && IndexTerms.isExact("米粉") && !IndexTerms.isExact("米粉丝汤"))
        // Bigrams 木耳 and 耳木 both occur in 木耳耳木, the trigram 木耳木 does not: no match.
        var index = CatalogIndex()
        index.upsert(Self.product("fungus", title: "木耳耳木"))
        index.upsert(Self.product("noodles", title: "米粉", created: 2))
        // A title may not hold a joiner (`TextRules`), a description may.
        index.upsert(Self.product("joined", title: "粉", created: 3, description: "米\u{200D}粉"))
        index.upsert(Self.product("apart", title: "大米 粉丝", created: 4))
        #expect(ids(index, ProductFilter(query: SearchTerms.query("木耳木")), sort: .relevance).isEmpty)
        #expect(ids(index, ProductFilter(query: SearchTerms.query("耳耳木")), sort: .relevance) == ["fungus"])
        #expect(ids(index, ProductFilter(query: SearchTerms.query("米\u{200D}粉")), sort: .relevance) == ["joined"])
        #expect(ids(index, ProductFilter(query: SearchTerms.query("米粉")), sort: .relevance) == ["noodles"])
        #expect(ids(index, ProductFilter(query: SearchTerms.query("米 粉")), sort: .relevance) == ["apart", "noodles", "joined"])
    }
}

@Suite struct CatalogIndexTests {
    @Test func aListingShowsAnOrdersStockAndADelistingAtOnce() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let market = try await Market.make(test, client)
            func listed() async throws -> [[String: Any]] { try await client.call(.get, "/api/v1/products?q=延寿大米").items }
            #expect(try await listed().first?["stock"] as? Int == 100)
            let placed = try await client.place(market.canteen.token, [(market.rice, 3)])
            #expect(placed.status == .created, "\(placed.text)")
            #expect(try await listed().first?["stock"] as? Int == 97)
            let delisted = try await client.call(.delete, "/api/v1/products/\(market.rice)/listing", token: market.shop.token)
            #expect(delisted.status == .ok, "\(delisted.text)")
            #expect(try await listed().isEmpty)
            let facets = try await client.call(.get, "/api/v1/products").object["facets"] as? [String: [[String: Any]]]
            #expect(facets?["category"]?.isEmpty == true)
        }
    }

    @Test func aChangeWrittenByAnotherProcessIsReadAtOnce() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let market = try await Market.make(test, client)
            #expect(try await client.call(.get, "/api/v1/products?minPriceFen=5000").items.isEmpty)
            // Straight to the database, as another process on it would: the triggers write the feed.
            try await test.services.database.write { db in
                try await db.raw("UPDATE products SET price_fen = 6000 WHERE id = \(bind: market.rice)").run()
            }
            #expect(try await client.call(.get, "/api/v1/products?minPriceFen=5000").items.map { $0["id"] as? String } == [market.rice])
        }
    }

    /// The feed's sweep (asked by the background pass each second) takes a product whose
    /// certificate lapsed out of the index's candidates once a minute has passed since its last
    /// sweep; the product stays hidden throughout, and a renewal written by another process lists
    /// it again.
    @Test func aLapsedCertificateIsSweptAndARenewalListsItAgain() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let market = try await Market.make(test, client)
            let feed = test.services.catalogFeed, database = test.services.database
            func listed() async throws -> [String] { try await client.call(.get, "/api/v1/products").items.compactMap { $0["id"] as? String } }
            func candidate() -> Bool? { feed.read { index, _ in index.documents[market.rice].map { index.listable.contains(Int($0)) } } }
            func expire(in seconds: Double) async throws {
                let at = test.clock.now.addingTimeInterval(seconds).millis
                try await database.write { db in
                    try await db.raw("UPDATE products SET certificate_expires_at = \(bind: at) WHERE id = \(bind: market.rice)").run()
                }
            }
            // The background pass runs in tests too, on the test clock: it may sweep first, and
            // the metric counts each product swept once either way.
            try await expire(in: 60)
            #expect(try await listed().contains(market.rice))
            #expect(feed.sweepLapsed(now: test.clock.now) == 0 && candidate() == true)
            test.clock.advance(seconds: 61)
            #expect(try await !listed().contains(market.rice))
            feed.sweepLapsed(now: test.clock.now)
            #expect(candidate() == false)
            #expect(try await !listed().contains(market.rice))
            // Renewed for ten seconds, it is a candidate again; lapsed again eleven seconds after a
            // sweep, it is hidden but not worth a pass over every order until a minute has passed.
            try await expire(in: 10)
            #expect(try await listed().contains(market.rice))
            test.clock.advance(seconds: 11)
            #expect(try await !listed().contains(market.rice))
            #expect(feed.sweepLapsed(now: test.clock.now) == 0 && candidate() == true)
            test.clock.advance(seconds: 60)
            feed.sweepLapsed(now: test.clock.now)
            #expect(candidate() == false)
            try await expire(in: 365 * 86400)
            #expect(try await listed().contains(market.rice))
            #expect(candidate() == true)
            // Operators see each applied batch's time and the products swept (`/metrics`).
            let metrics = try await client.call(.get, "/metrics", token: market.cast.admin).text
            #expect(metrics.contains("bangfu_catalog_apply_duration_seconds_count"))
            #expect(metrics.contains("bangfu_catalog_swept_total 2\n"), "\(metrics)")
        }
    }

    /// A county added by another process is a filter at once: the name check of an index that
    /// has not caught up (SQLite's reads check the feed's head after answering) does not refuse it.
    @Test func aCountyAddedByAnotherProcessFiltersAtOnce() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            _ = try await Market.make(test, client)
            #expect(try await client.call(.get, "/api/v1/products").status == .ok)
            try await test.services.database.write { db in
                try await db.raw(
                    """
                    INSERT INTO counties (code, name, prefecture, province, level, created_at)
                    VALUES ('239999', '新县', '测试市', '黑龙江省', 'county', 0)
                    """
                ).run()
            }
            let answer = try await client.call(.get, "/api/v1/products?countyCode=239999")
            #expect(answer.status == .ok, "\(answer.text)")
            #expect(answer.items.isEmpty)
        }
    }

    /// The page's rows and the feed's head come from one statement; the head is the last number
    /// written, or pruned when the feed is empty; no ids reads the head alone. SQLite only.
    @Test func aPageIsReadWithTheFeedsHead() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let market = try await Market.make(test, client)
            let services = test.services, store = services.products, database = services.database
            func head() async throws -> Int64 {
                try await database.read { db in
                    try await db.raw("SELECT MAX(seq) AS n FROM catalog_changes").first()?.decode(column: "n", as: Int64?.self)
                } ?? -1
            }
            let read = try await store.productsWithFeedHead(ids: [market.rice, "no-such-product"], from: database)
            guard TestApp.engine == .sqlite else {
                #expect(read == nil)
                #expect(!ProductStore.readsFeedHeadWithRows(from: database))
                return
            }
            #expect(ProductStore.readsFeedHeadWithRows(from: database))
            // A page read by an index that has caught up is checked by the head, not caught up.
            let feed = services.catalogFeed
            try await feed.catchUp()
            let verified = feed.verifiedReads
            #expect(try await client.call(.get, "/api/v1/products?q=延寿大米").items.count == 1)
            #expect(feed.verifiedReads == verified + 1)
            #expect(read?.rows.map(\.product.id) == [market.rice])
            #expect(read?.feedHead == (try await head()))
            try await database.write { db in
                try await db.raw("UPDATE products SET price_fen = 6000 WHERE id = \(bind: market.rice)").run()
            }
            let written = try await head()
            let alone = try await store.productsWithFeedHead(ids: [], from: database)
            #expect(alone?.rows.isEmpty == true)
            #expect(alone?.feedHead == written)
            try await database.write { db in
                try await store.pruneCatalogChanges(before: Date().addingTimeInterval(2 * CatalogFeed.retention).millis, in: db)
            }
            #expect(try await head() == -1)
            #expect(try await store.productsWithFeedHead(ids: [market.rice], from: database)?.feedHead == written)
            #expect(CatalogFeed.Position(applied: written, complete: true).covers(feedHead: written))
            #expect(!CatalogFeed.Position(applied: written - 1, complete: true).covers(feedHead: written))
            #expect(!CatalogFeed.Position(applied: written, complete: false).covers(feedHead: written))
            // Without the feed's row (a damaged restore) the read says so.
            try await database.write { db in try await db.raw("DELETE FROM catalog_feed").run() }
            await #expect(throws: CatalogFeedMissing.self) {
                try await store.productsWithFeedHead(ids: [market.rice], from: database)
            }
        }
    }

    /// A process that did not read the feed before its changes were pruned cannot follow it: it
    /// builds its index again. The change and the prune share one transaction, so no catch-up
    /// (the background pass included) can read the change first.
    @Test func anIndexBehindAPrunedFeedIsBuiltAgain() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let market = try await Market.make(test, client)
            let services = test.services, store = services.products
            try await services.catalogFeed.catchUp()
            #expect(try await client.call(.get, "/api/v1/products?minPriceFen=5000").items.isEmpty)
            let later = Date().addingTimeInterval(2 * CatalogFeed.retention).millis
            try await services.database.write { db in
                try await db.raw("UPDATE products SET price_fen = 6000 WHERE id = \(bind: market.rice)").run()
                try await store.pruneCatalogChanges(before: later, in: db)
            }
            let left = try await services.database.read { db in
                try await db.raw("SELECT COUNT(*) AS n FROM catalog_changes").first()?.decode(column: "n", as: Int64.self)
            }
            #expect(left == 0)
            #expect(try await client.call(.get, "/api/v1/products?minPriceFen=5000").items.map { $0["id"] as? String } == [market.rice])
        }
    }

    /// PostgreSQL numbers a change before it commits: a transaction that took a number and commits
    /// after a later one did is still read (the number skipped is looked for until it shows).
    @Test(.enabled(if: TestApp.engine == .postgres)) func aChangeCommittedAfterALaterOneIsStillRead() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let market = try await Market.make(test, client)
            let millet = try await market.shop.listed(test, client, title: "延寿小米", price: 800)
            let services = test.services, database = services.database
            try await services.catalogFeed.catchUp()
            let (updated, updatedSignal) = AsyncStream.makeStream(of: Void.self)
            let (release, releaseSignal) = AsyncStream.makeStream(of: Void.self)
            // Whatever fails, neither side waits for ever.
            defer { releaseSignal.finish() }
            async let slow: Void = database.write { db in
                defer { updatedSignal.finish() }
                try await db.raw("UPDATE products SET price_fen = 6000 WHERE id = \(bind: market.rice)").run()
                updatedSignal.yield()
                for await _ in release { break }
            }
            for await _ in updated { break }
            // A later number, committed first; the catch-up sees it with the earlier one missing.
            try await database.write { db in
                try await db.raw("UPDATE products SET price_fen = 7000 WHERE id = \(bind: millet)").run()
            }
            func expensive() async throws -> Set<String> {
                Set(try await client.call(.get, "/api/v1/products?minPriceFen=5000").items.compactMap { $0["id"] as? String })
            }
            #expect(try await expensive() == [millet])
            releaseSignal.yield()
            try await slow
            #expect(try await expensive() == [millet, market.rice])
        }
    }

    @Test func theLiveIndexAndTheDatabaseAgreeAfterRandomChanges() async throws {
        let test = try await TestApp.make()
        try await test.run { _ in
            let services = test.services
            _ = try await services.seed(products: 120, merchants: 4)
            let feed = services.catalogFeed
            try await feed.catchUp()
            #expect(try await CatalogCheck(services).problems(live: feed) == [])
            var random = SystemRandomNumberGenerator()
            let ids = try await services.database.read { db in
                try await db.raw("SELECT id, merchant_id FROM products ORDER BY id").all().map {
                    (try $0.decode(column: "id", as: String.self), try $0.decode(column: "merchant_id", as: String.self))
                }
            }
            let store = services.products, now = services.clock.now
            for step in 0..<60 {
                let (id, merchant) = ids[Int.random(in: 0..<ids.count, using: &random)]
                try await services.database.write { db in
                    switch step % 7 {
                    case 0: try await store.setStatus(productId: id, .delisted, at: now, in: db)
                    case 1: try await store.setMerchantActive(merchantId: merchant, step % 12 != 1, at: now, in: db)
                    case 2: try await db.raw("UPDATE products SET price_fen = \(bind: Int64(step) * 37 + 1) WHERE id = \(bind: id)").run()
                    case 3: try await db.raw("UPDATE products SET sales = sales + \(bind: Int64(step)) WHERE id = \(bind: id)").run()
                    case 4: try await store.setCertificate(productId: id, number: nil, expiresAt: nil, in: db)
                    case 5: try await db.raw("UPDATE products SET stock = stock - 1 WHERE id = \(bind: id)").run()
                    default:
                        // A merchant's name is searched with each of its products.
                        try await db.raw("UPDATE merchants SET company_name = company_name || '新' WHERE id = \(bind: merchant)").run()
                    }
                }
                if step % 10 == 9 { #expect(try await CatalogCheck(services).problems(live: feed) == [], "after step \(step)") }
            }
        }
    }

    /// A search text that does not begin with its product's title (written by hand, or by an older
    /// release) is named by `bangfu check` rather than left to show as an order mismatch.
    @Test func aSearchTextThatDoesNotBeginWithTheTitleIsNamed() async throws {
        let test = try await TestApp.make()
        try await test.run { _ in
            let services = test.services
            _ = try await services.seed(products: 6, merchants: 2)
            #expect(try await CatalogCheck(services).problems() == [])
            let id = try await services.database.read { db in
                try await db.raw("SELECT id FROM products ORDER BY id LIMIT 1").first()?.decode(column: "id", as: String.self)
            }
            let product = try #require(id)
            try await services.database.write { db in
                try await db.raw("UPDATE products SET search_text = 'x' || search_text WHERE id = \(bind: product)").run()
            }
            let problems = try await CatalogCheck(services).problems()
            #expect(problems.contains { $0.contains("product \(product) does not begin with its title") }, "\(problems)")
        }
    }

    /// Changes committed while a build reads (between its chunks, to products read already and
    /// to ones still ahead) are in the index once the build is in and caught up: the feed's head
    /// is taken before the first chunk.
    @Test func writesBetweenTheChunksOfABuildAreCaughtUp() async throws {
        let test = try await TestApp.make()
        try await test.run { _ in
            let services = test.services, database = services.database, store = services.products
            _ = try await services.seed(products: 40, merchants: 3)
            let read = try await store.indexed(after: .start, limit: 40, from: database).products.map(\.id)
            #expect(read.count == 40)
            let (early, later) = (Array(read.prefix(7)), Array(read.suffix(10)))
            let writes = NIOLockedValueBox(0)
            let plan = CatalogFeed.BuildPlan(size: 7) { count in
                guard count == 7 || count == 21 else { return }
                writes.withLockedValue { $0 += 1 }
                try await database.write { db in
                    for (id, price) in [(early[0], 12_345), (later[0], 23_456)] as [(String, Int64)] {
                        try await db.raw("UPDATE products SET price_fen = \(bind: price + Int64(count)) WHERE id = \(bind: id)").run()
                    }
                    try await db.raw("UPDATE products SET status = 'delisted' WHERE id = \(bind: early[count == 7 ? 1 : 2])").run()
                    try await db.raw("UPDATE products SET sales = sales + 5 WHERE id = \(bind: later[count == 7 ? 1 : 2])").run()
                }
            }
            let feed = CatalogFeed(database: database, store: store, plan: plan)
            try await feed.prepare()
            #expect(writes.withLockedValue { $0 } == 2)
            try await feed.catchUp()
            #expect(try await CatalogCheck(services).problems(live: feed) == [])
            let held = feed.read { index, _ in Dictionary(uniqueKeysWithValues: index.allProducts.map { ($0.id, $0) }) }
            #expect(held[early[0]]?.priceFen == 12_345 + 21 && held[later[0]]?.priceFen == 23_456 + 21)
            #expect(held[early[1]]?.listed == false && held[early[2]]?.listed == false)
        }
    }

    /// A build reads every product once, chunk after chunk in storage order (rowid on SQLite,
    /// id on PostgreSQL), however the chunks fall.
    @Test func aChunkedReadGivesEveryProductOnce() async throws {
        let test = try await TestApp.make()
        try await test.run { _ in
            let services = test.services
            _ = try await services.seed(products: 47, merchants: 3)
            let store = services.products
            let all = try await services.database.read { db in
                try await db.raw("SELECT id FROM products").all().map { try $0.decode(column: "id", as: String.self) }
            }
            // A product without a certificate and one with labels: the columns that may be null
            // or lists are decoded too.
            let (bare, labelled) = (all[0], all[1])
            try await services.database.write { db in
                try await store.setCertificate(productId: bare, number: nil, expiresAt: nil, in: db)
                try await db.raw("UPDATE products SET labels = 'organic,selenium' WHERE id = \(bind: labelled)").run()
            }
            // A cursor of the other engine's kind would restart the read: refused.
            let foreign: ProductStore.IndexCursor = TestApp.engine == .sqlite ? .id(all[0]) : .rowid(1)
            await #expect(throws: ProductStore.IndexCursorMismatch.self) {
                _ = try await store.indexed(after: foreign, limit: 5, from: services.database)
            }
            for size in [1, 7, 47, 100] {
                var cursor = ProductStore.IndexCursor.start
                var read: [IndexedProduct] = []
                var chunks = 0
                while chunks <= all.count {
                    let after = cursor
                    let (products, next) = try await store.indexed(after: after, limit: size, from: services.database)
                    read += products
                    chunks += 1
                    cursor = next
                    if products.count < size { break }
                }
                #expect(read.count == all.count && Set(read.map(\.id)) == Set(all), "chunks of \(size)")
                let direct = try await services.database.read { db in try await store.indexed(ids: all, in: db) }
                let byId = Dictionary(read.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
                #expect(Dictionary(direct.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a }) == byId)
                #expect(byId[bare]?.certificateExpiresAt == nil && byId[labelled]?.labels == ["organic", "selenium"])
                #expect(byId.values.allSatisfy { !$0.merchantName.isEmpty && !$0.searchText.isEmpty })
            }
        }
    }

    /// A stored value of the wrong type (SQLite's affinity lets text into a BIGINT column through
    /// raw SQL) is an error naming the product and the column, in the index's chunked read and in
    /// a page's read, never a value taken from the wrong place.
    @Test(.enabled(if: TestApp.engine == .sqlite)) func aColumnOfTheWrongTypeIsNamed() async throws {
        let test = try await TestApp.make()
        try await test.run { _ in
            let services = test.services, store = services.products
            _ = try await services.seed(products: 5, merchants: 1)
            let ids = try await services.database.read { db in
                try await db.raw("SELECT id FROM products ORDER BY id").all().map { try $0.decode(column: "id", as: String.self) }
            }
            let broken = try #require(ids.first)
            try await services.database.write { db in
                try await db.raw("UPDATE products SET price_fen = 'cheap' WHERE id = \(bind: broken)").run()
            }
            for read in [
                { _ = try await store.indexed(after: .start, limit: 10, from: services.database) },
                { _ = try await store.products(ids: ids, from: services.database) },
            ] as [@Sendable () async throws -> Void] {
                let error = await #expect(throws: RowColumnsMismatch.self) { try await read() }
                #expect(error?.detail.contains(broken) == true && error?.detail.contains("price_fen") == true, "\(String(describing: error))")
            }
            // The other rows still read.
            #expect(try await store.products(ids: Array(ids.dropFirst()), from: services.database).count == ids.count - 1)
        }
    }

    /// Read by name, a column the select lacks is an error, not a null (a product would have
    /// read as uncertified), and a place past the list is one too.
    @Test func aMissingColumnIsAnErrorNotANull() async throws {
        let test = try await TestApp.make()
        try await test.run { _ in
            let row = try await test.services.database.read { db in try await db.raw("SELECT 'p1' AS id, NULL AS note").first() }
            let columns = NamedColumns(row: try #require(row), names: ["id", "note", "certificate_expires_at"])
            #expect(try columns.text(0) == "p1" && columns.isNull(1))
            #expect(throws: RowColumnsMismatch.self) { try columns.isNull(2) }
            #expect(throws: RowColumnsMismatch.self) { try columns.optionalInteger(3) }
        }
    }

    /// Without the feed's row (a damaged restore) the index cannot follow the feed: a catch-up is
    /// an error saying so, not an index silently left behind.
    @Test func aMissingFeedRowStopsTheCatchUp() async throws {
        let test = try await TestApp.make()
        try await test.run { _ in
            let services = test.services
            _ = try await services.seed(products: 3, merchants: 1)
            let feed = CatalogFeed(database: services.database, store: services.products)
            try await feed.prepare()
            try await feed.catchUp()
            try await services.database.write { db in try await db.raw("DELETE FROM catalog_feed").run() }
            await #expect(throws: CatalogFeedMissing.self) { try await feed.catchUp() }
        }
    }
}

/// Catalog reads take turns past a bound and are refused with 503 past the queue (issue 18).
@Suite struct LoadSheddingTests {
    @Test func turnsAreTakenInOrderAndTheOverflowIsRefused() async throws {
        let shedder = LoadShedder(running: 1, waiting: 1)
        #expect(await shedder.enter())
        let second = Task { await shedder.enter() }
        // Once the second request is queued, a third finds the queue full.
        try await Task.sleep(for: .milliseconds(50))
        #expect(await shedder.enter() == false)
        shedder.leave()
        #expect(await second.value)
        shedder.leave()
        #expect(await shedder.enter())
        // A waiter whose task is cancelled leaves the queue without a turn.
        let cancelled = Task { await shedder.enter() }
        try await Task.sleep(for: .milliseconds(50))
        cancelled.cancel()
        #expect(await cancelled.value == false)
        shedder.leave()
        #expect(await shedder.enter())
        shedder.leave()
    }

    @Test func aBusyCatalogAnswers503WithRetryAfter() async throws {
        let test = try await TestApp.make {
            $0.catalogRunning = 1
            $0.catalogWaiting = 0
        }
        try await test.run { client in
            #expect(await test.services.catalogShedder.enter())
            let busy = try await client.call(.get, "/api/v1/products")
            #expect(busy.status == .serviceUnavailable && busy.headers[.retryAfter] == "1")
            #expect(busy.object["code"] as? String == "overloaded")
            // Details take turns of their own: a burst of listings never queues them.
            #expect(try await client.call(.get, "/api/v1/products/nothing").status == .notFound)
            #expect(await test.services.detailShedder.enter())
            #expect(await test.services.detailShedder.enter())
            #expect(await test.services.detailShedder.enter())
            #expect(await test.services.detailShedder.enter())
            #expect(try await client.call(.get, "/api/v1/products/nothing").status == .serviceUnavailable)
            for _ in 0..<4 { test.services.detailShedder.leave() }
            test.services.catalogShedder.leave()
            #expect(try await client.call(.get, "/api/v1/products").status == .ok)
        }
    }
}

/// The text the index checks searches against (`TextColumn`, `CatalogIndex.contains`).
@Suite struct TextColumnTests {
    /// A reproducible generator (SplitMix64), so a failure can be run again.
    struct Random {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(bound))
        }
        mutating func text(_ maxLength: Int) -> String {
            let alphabet: [Character] = ["米", "大", "k", "g", "5", "0", "蜂", "蜜", " "]
            return String((0..<next(maxLength + 1)).map { _ in alphabet[next(alphabet.count)] })
        }
    }

    @Test func containsFindsWhatASlowSearchFindsWhereItFindsIt() {
        var random = Random(state: 18)
        for _ in 0..<20_000 {
            let haystack = Array(random.text(60).utf8)
            let needle: [UInt8]
            if random.next(2) == 0, !haystack.isEmpty {
                let start = random.next(haystack.count), length = 1 + random.next(min(24, haystack.count - start))
                needle = Array(haystack[start..<start + length])
            } else {
                needle = Array(random.text(6).utf8)
            }
            let slowFirst = needle.isEmpty ? 0 : haystack.count < needle.count ? nil
                : (0...(haystack.count - needle.count)).first { haystack[$0..<$0 + needle.count].elementsEqual(needle) }
            #expect(CatalogIndex.contains(haystack, needle) == (slowFirst != nil), "\(haystack) \(needle)")
            let first = haystack.withUnsafeBytes { haystack in needle.withUnsafeBytes { CatalogIndex.firstOffset(of: $0, in: haystack) } }
            #expect(first == slowFirst, "\(haystack) \(needle)")
        }
    }

    /// `forEachText` gives each document its own text, across chunks, in the order asked, and an
    /// empty text past the column.
    @Test func eachTextIsGivenToItsDocumentAcrossChunks() {
        var column = TextColumn()
        var random = Random(state: 5)
        var model: [Int32: String] = [:]
        for _ in 0..<300 {
            let doc = Int32(random.next(3 * (1 << TextColumn.chunkShift)))
            let text = random.text(12)
            column.set(Int(doc), text)
            model[doc] = text
        }
        let asked = (Array(model.keys) + [-1, Int32(4 << TextColumn.chunkShift), 7]).sorted()
        var given: [(Int32, String)] = []
        column.forEachText(of: asked) { doc, text in given.append((doc, String(decoding: text, as: UTF8.self))) }
        #expect(given.map(\.0) == asked)
        for (doc, text) in given { #expect(text == model[doc] ?? "", "document \(doc)") }
    }

    @Test func textsAreReplacedInPlaceOrAppendedAndTheBufferIsWrittenAfresh() {
        var random = Random(state: 7)
        var column = TextColumn(slack: 64)
        var model: [Int: String] = [:]
        var compacted = false
        for _ in 0..<5_000 {
            let doc = random.next(40)
            if random.next(6) == 0 {
                column.clear(doc)
                if model[doc] != nil { model[doc] = "" }
            } else {
                let text = random.text(30)
                let before = column.storedBytes
                column.set(doc, text)
                if column.storedBytes < before { compacted = true }
                model[doc] = text
            }
        }
        #expect(compacted)
        for doc in 0..<45 { #expect(column.string(doc) == (model[doc] ?? ""), "document \(doc)") }
        let docs = (0..<45).map(Int32.init)
        let needle = Array("米k".utf8)
        #expect(column.filter(docs, containing: [needle]) == docs.filter { (model[Int($0)] ?? "").contains("米k") })
        #expect(column.filter(docs, containing: [needle]) { $0 % 2 == 0 } == docs.filter { $0 % 2 == 0 && (model[Int($0)] ?? "").contains("米k") })
        // Documents in later chunks; an unchanged text writes nothing.
        column.set(9_000, "大米k")
        column.set(4_096, "米k")
        let stored = column.storedBytes
        column.set(9_000, "大米k")
        #expect(column.storedBytes == stored)
        #expect(column.string(9_000) == "大米k" && column.string(4_096) == "米k" && column.string(5_000).isEmpty)
        let firstHolds = (model[1] ?? "").contains("米k")
        let expected: [Int32] = (firstHolds ? [1] : []) + [4_096, 9_000]
        #expect(column.filter([1, 4_096, 5_000, 9_000, 20_000, -1], containing: [needle]) == expected)
    }

    @Test func aSearchForALongPieceFollowsRetitledAndRemovedProducts() {
        var random = Random(state: 3)
        var index = CatalogIndex()
        var titles: [String: String] = [:]
        for step in 0..<3_000 {
            let id = "p\(random.next(200))"
            if random.next(8) == 0 {
                index.remove(id: id)
                titles[id] = nil
            } else {
                let title = random.text(12)
                index.upsert(CatalogIndexUnitTests.product(id, title: title, created: Int64(step), merchant: "社"))
                titles[id] = SearchTerms.normalize(title)
            }
        }
        for query in ["5kg", "大米k", "蜂蜜 5", "米大米", "00g", "大米大米", "00g5", "5kg 米大"] {
            guard let search = SearchTerms.query(query) else { continue }
            var filter = ProductFilter()
            filter.query = search
            for sort in [ProductSort.relevance, .newest] {
                let found = Set(index.page(CatalogIndex.Query(filter: filter, sort: sort, limit: 1_000), now: 0).map(\.id))
                let expected = Set(titles.filter { _, title in search.pieces.allSatisfy { title.contains($0) } }.keys)
                #expect(found == expected, "\(query) \(sort)")
            }
        }
    }
}

/// The index's bit sets against `Set<Int>`.
@Suite struct DocumentBitsTests {
    @Test func setOperationsAgreeWithASet() {
        var random = TextColumnTests.Random(state: 11)
        for _ in 0..<200 {
            let capacity = random.next(300)
            // Some documents past the capacity and some negative ones (ignored).
            let a = (0..<random.next(200)).map { _ in Int32(random.next(400) - 20) }
            let b = (0..<random.next(200)).map { _ in Int32(random.next(400)) }
            let bitsA = DocumentBits(a, capacity: capacity), bitsB = DocumentBits(b, capacity: capacity)
            let setA = Set(a.filter { $0 >= 0 }.map(Int.init)), setB = Set(b.map(Int.init))
            var seen: [Int] = []
            bitsA.forEach { seen.append($0) }
            #expect(seen == setA.sorted())
            #expect(bitsA.count == setA.count && bitsA.intersectionCount(bitsB) == setA.intersection(setB).count)
            var both = bitsA, less = bitsA
            both.formIntersection(bitsB)
            less.subtract(bitsB)
            for doc in -1..<420 {
                #expect(both.contains(doc) == setA.intersection(setB).contains(doc), "\(doc)")
                #expect(less.contains(doc) == setA.subtracting(setB).contains(doc), "\(doc)")
            }
        }
    }
}

/// The flush's table of terms numbers them in order of first sight, as a dictionary would, even
/// when every term lands on the same place (a multiplier of 1 and small terms).
@Suite struct TermSlotsTests {
    @Test(arguments: [nil, 1] as [UInt64?]) func numbersTermsInOrderOfFirstSight(multiplier: UInt64?) {
        var random = SeededRandom(7)
        var table = multiplier.map { TermSlots(expected: 2, multiplier: $0) } ?? TermSlots(expected: 2)
        var numbers: [UInt64: Int] = [:]
        for _ in 0..<5000 {
            let term = UInt64(random.next(1500)) * (multiplier == nil ? 0x9E37_79B9 : 1)
            let expected = numbers[term] ?? numbers.count
            numbers[term] = expected
            #expect(table.slot(term) == expected)
        }
        #expect(table.terms.count == numbers.count && table.terms.enumerated().allSatisfy { numbers[$0.element] == $0.offset })
    }
}
