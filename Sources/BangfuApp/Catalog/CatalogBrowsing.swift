import Foundation
import SQLKit

/// What buyers and the public see of the catalog (API.md "Products"): pages of the products on
/// sale, searched, filtered and sorted, with facet counts; a product's detail and price history.
/// Buyers and the public see only what is on sale (`OnSale`); a merchant also sees its own
/// products, and admins everything.
struct CatalogBrowsing: UseCase {
    let services: AppServices
    var store: ProductStore { services.products }

    init(_ services: AppServices) {
        self.services = services
    }

    /// An unknown county or category in a filter is a 400 naming the parameter, not an empty list
    /// (`page` checks its own filter).
    func checkFilters(_ filter: ProductFilter) async throws {
        guard filter.countyCode != nil || filter.categoryId != nil else { return }
        let feed = services.catalogFeed
        try await feed.catchUp()
        try feed.read { _, names in try Self.check(filter, names) }
    }

    /// Checked against the names the index holds, which follow every committed county and
    /// category (the feed's `names` changes): no query of its own.
    private static func check(_ filter: ProductFilter, _ names: CatalogFeed.Names) throws {
        if let code = filter.countyCode, names.counties[code] == nil {
            throw DomainError.badRequest("countyCode is not a registered county", field: "countyCode")
        }
        if let id = filter.categoryId, names.categories[id] == nil {
            throw DomainError.badRequest("categoryId is not a category", field: "categoryId")
        }
    }

    /// One page of the products on sale after `after` in `sort` order, with the facet counts of
    /// the whole filtered set (each facet with the other filters applied), answered by the
    /// catalog index with every committed change applied (`CatalogFeed.current`); the page's rows
    /// (stock and all) are read from the database. Placing an order moves stock, which the index
    /// does not hold, and writes no feed row (shipping does: it counts sales), so on SQLite reads
    /// stay on the pass that saves the catch-up's query while orders come in.
    func page(
        _ filter: ProductFilter, sort: ProductSort, after: ProductStore.Position?, paging: Paging, tag: String
    ) async throws -> CatalogDTO.ListOutput {
        let query = CatalogIndex.Query(filter: filter, sort: sort, after: after, limit: paging.fetchLimit)
        let store = self.store, database = self.database, clock = self.clock
        let (answered, rows) = try await services.catalogFeed.current { index, names, pass -> Answered? in
            // A name unknown to an index that has not caught up may be one just added.
            do { try Self.check(filter, names) } catch where pass == .verifying { return nil }
            let now = clock.now
            return (answer: index.answer(query, now: now.millis), names: names, now: now)
        } rows: { answered, pass in
            let ids = answered.answer.hits.map(\.id)
            switch pass {
            case .caughtUp: return (try await store.products(ids: ids, from: database), nil)
            case .verifying:
                let read = try await store.productsWithFeedHead(ids: ids, from: database)
                return (read?.rows ?? [], read?.feedHead)
            }
        }
        return Self.output(answered.answer, rows: rows, names: answered.names, paging: paging, tag: tag, now: answered.now)
    }

    private typealias Answered = (
        answer: (hits: [CatalogIndex.Hit], facets: CatalogIndex.Facets), names: CatalogFeed.Names, now: Date
    )

    /// A page's answer: the hits found among `rows`, in the index's order, and the facets.
    private static func output(
        _ answer: (hits: [CatalogIndex.Hit], facets: CatalogIndex.Facets), rows found: [ProductRow],
        names: CatalogFeed.Names, paging: Paging, tag: String, now: Date
    ) -> CatalogDTO.ListOutput {
        let (hits, facets) = (answer.hits, answer.facets)
        let byId = Dictionary(found.map { ($0.product.id, $0) }, uniquingKeysWith: { first, _ in first })
        let rows = hits.compactMap { hit in byId[hit.id].map { ($0, hit.position) } }
        let page = Page(
            rows, paging, tag: tag, position: { "\($0.1.key)|\($0.1.createdAt)|\($0.1.id)" },
            item: { CatalogDTO.ProductOutput($0.0, now: now) })
        func counts(_ counts: [CatalogIndex.Count], _ label: (String) -> String) -> [ProductStore.FacetCount] {
            counts.map { ProductStore.FacetCount(key: $0.key, label: label($0.key), count: $0.count) }
        }
        return CatalogDTO.ListOutput(
            items: page.items, nextCursor: page.nextCursor,
            facets: .init(
                category: counts(facets.category) { names.categories[$0] ?? $0 },
                county: counts(facets.county) { names.counties[$0] ?? $0 },
                label: counts(facets.label) { ProductLabel(rawValue: $0)?.chineseName ?? $0 }))
    }

    /// A product's detail with its images, if the viewer may see it.
    func detail(_ id: String, viewer: Identity?) async throws -> CatalogDTO.ProductOutput {
        let now = clock.now
        let store = self.store
        let found = try await database.read { db in
            try await store.productWithImages(id: id, in: db).asyncMap { found in
                // Buyers see the leaf category's median beside the unit price (价格监测).
                let (row, images) = found
                let median = row.product.perKgFen == nil ? nil : try await store.median(categoryId: row.product.categoryId, in: db)
                return (row, images, median)
            }
        }
        guard let (row, images, median) = found, try await canSee(row, viewer) else { throw DomainError.notFound("product") }
        var output = CatalogDTO.ProductOutput(row, now: now, images: images)
        output.unitPrice = row.product.perKgFen.map {
            CatalogDTO.UnitPrice(perKgFen: $0, categoryMedianPerKgFen: median?.medianPerKgFen)
        }
        return output
    }

    /// The prices of a product the viewer may see, oldest first.
    func priceHistory(_ id: String, viewer: Identity?) async throws -> [CatalogDTO.PricePoint] {
        let (row, prices) = try await database.read { db in
            (try await store.product(id: id, in: db), try await store.prices(productId: id, in: db))
        }
        guard let row, try await canSee(row, viewer) else { throw DomainError.notFound("product") }
        return prices.map { CatalogDTO.PricePoint(priceFen: $0.0, from: $0.1.rfc3339) }
    }

    /// Buyers and the public see what is on sale; the merchant and admins see everything of its own.
    func canSee(_ row: ProductRow, _ viewer: Identity?) async throws -> Bool {
        if viewer?.role == .admin { return true }
        if OnSale.isOnSale(row.product, now: clock.now) { return true }
        guard let viewer, viewer.role == .merchant else { return false }
        let merchant = try await database.read { db in try await merchants.merchant(ownerId: viewer.userId, in: db) }
        return merchant?.id == row.product.merchantId
    }
}
