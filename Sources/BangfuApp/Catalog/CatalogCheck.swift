import Foundation
import Logging

/// `bangfu check`'s look at the catalog index (issue 18): an index built from the database must
/// answer sampled listings (every sort; each top category, some counties and labels, price
/// ranges, searches drawn from titles) with the same products in the same order as the SQL of
/// `ProductStore.publicProducts`, and a live index (kept current by the change feed) must hold
/// the same products as one built afresh; each index's orders must hold exactly its candidates
/// (`CatalogIndex.structuralProblems`).
struct CatalogCheck: UseCase {
    let services: AppServices

    init(_ services: AppServices) {
        self.services = services
    }

    /// Mismatches between the index and the database's own answers; empty when they agree.
    func problems(live: CatalogFeed? = nil) async throws -> [String] {
        var quiet = Logger(label: "bangfu")
        quiet.logLevel = .warning
        let fresh = CatalogFeed(database: database, store: products, logger: quiet)
        try await fresh.catchUp()
        var problems: [String] = []
        // Relevance's title is the first line of the search text in SQL; the index checks such a
        // product's title on its own, so the two would only disagree on its order. Named here.
        let untitled = fresh.read { index, _ in index.allProducts.filter { CatalogIndex.titleEnd($0) < 0 }.map(\.id) }
        for id in untitled.sorted().prefix(5) {
            problems.append("catalog index: the search text of product \(id) does not begin with its title; saving the product writes it again")
        }
        problems += fresh.read { index, _ in index.structuralProblems() }.map { "catalog index: \($0)" }
        if let live {
            try await live.catchUp()
            try await fresh.catchUp()
            problems += live.read { index, _ in index.structuralProblems() }.map { "catalog index (live): \($0)" }
            let held = live.read { index, _ in index.allProducts }.sorted { $0.id < $1.id }
            let built = fresh.read { index, _ in index.allProducts }.sorted { $0.id < $1.id }
            if held.count != built.count || zip(held, built).contains(where: { !$0.isIdentical(to: $1) }) {
                let differing = zip(held, built).first { !$0.isIdentical(to: $1) }.map { $0.0.id } ?? "(count \(held.count) vs \(built.count))"
                problems.append("catalog index: the live index differs from the database at product \(differing)")
            }
        }
        for (filter, sort) in samples(fresh) {
            let now = clock.now
            let query = CatalogIndex.Query(filter: filter, sort: sort, after: nil, limit: 21)
            let store = self.products
            let expected = try await database.read { db in
                try await store.publicProducts(filter, sort: sort, after: nil, limit: 21, now: now, in: db)
            }
            let answered = fresh.read { index, _ in index.page(query, now: now.millis) }
            let (want, got) = (expected.map(\.0.product.id), answered.map(\.id))
            if want != got {
                problems.append(
                    "catalog index: \(Self.describe(filter)) sort=\(sort.rawValue) answered \(got.prefix(3)) where the database has \(want.prefix(3))")
            }
        }
        return problems
    }

    /// The listings compared: every sort unfiltered; each top category, up to 20 counties, each
    /// label, two price ranges and 20 searches (pieces of titles), newest first and by price.
    private func samples(_ feed: CatalogFeed) -> [(ProductFilter, ProductSort)] {
        let products = feed.read { index, _ in index.allProducts }
        var filters: [ProductFilter] = [ProductFilter()]
        for category in Set(products.map(\.topCategoryId)).sorted() { filters.append(ProductFilter(categoryId: category)) }
        for county in Set(products.map(\.countyCode)).sorted().prefix(20) { filters.append(ProductFilter(countyCode: county)) }
        for label in ProductLabel.allCases { filters.append(ProductFilter(label: label.rawValue)) }
        let prices = products.map(\.priceFen).sorted()
        if let low = prices.first, let high = prices.last {
            let middle = prices[prices.count / 2]
            filters.append(ProductFilter(minPriceFen: low, maxPriceFen: middle))
            filters.append(ProductFilter(minPriceFen: middle, maxPriceFen: high))
        }
        var searches: [ProductFilter] = []
        for product in products.prefix(200) where searches.count < 20 {
            let title = Array(product.title)
            guard title.count >= 2 else { continue }
            let length = min(title.count, 1 + searches.count % 3)
            if let query = SearchTerms.query(String(title[0..<length])) { searches.append(ProductFilter(query: query)) }
        }
        var samples: [(ProductFilter, ProductSort)] = ProductSort.allCases.filter { $0 != .relevance }.map { (ProductFilter(), $0) }
        for filter in filters.dropFirst() {
            samples.append((filter, .newest))
            samples.append((filter, .priceAsc))
        }
        for search in searches {
            samples.append((search, .relevance))
            samples.append((search, .sales))
        }
        return samples
    }

    private static func describe(_ filter: ProductFilter) -> String {
        [
            filter.query.map { "q=\($0.pieces.joined(separator: " "))" }, filter.categoryId.map { "categoryId=\($0)" },
            filter.countyCode.map { "countyCode=\($0)" }, filter.label.map { "label=\($0)" },
            filter.minPriceFen.map { "minPriceFen=\($0)" }, filter.maxPriceFen.map { "maxPriceFen=\($0)" },
        ].compactMap { $0 }.joined(separator: "&").ifEmpty("(no filter)")
    }
}

extension String {
    fileprivate func ifEmpty(_ other: String) -> String { isEmpty ? other : self }
}
