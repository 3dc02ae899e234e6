import Foundation
import Hummingbird

extension ProductsController {
    /// `GET /api/v1/products`: what buyers may order, searched, filtered, sorted and paged by an
    /// opaque keyset cursor (so every item appears exactly once even while products are added),
    /// with facet counts over the whole filtered set.
    @Sendable func browse(_ request: Request, context: AppRequestContext) async throws -> Response {
        let parameters = request.uri.queryParameters
        let known: Set<String> = [
            "q", "categoryId", "countyCode", "label", "minPriceFen", "maxPriceFen", "sort", "limit", "cursor",
        ]
        if let unknown = parameters.map({ String($0.key) }).first(where: { !known.contains($0) }) {
            throw DomainError.badRequest("unknown parameter \(unknown)", field: unknown)
        }
        let browsing = self.browsing
        var filter = ProductFilter()
        let rawQuery = parameters["q"].map(String.init) ?? ""
        if rawQuery.unicodeScalars.count > 100 { throw DomainError.badRequest("q must be at most 100 characters", field: "q") }
        let hasQuery = !rawQuery.trimmingCharacters(in: .whitespaces).isEmpty
        filter.query = hasQuery ? SearchTerms.query(rawQuery) : nil
        filter.categoryId = parameters["categoryId"].map(String.init)
        filter.countyCode = parameters["countyCode"].map(String.init)
        if let label = parameters["label"].map(String.init) {
            guard ProductLabel(rawValue: label) != nil else { throw DomainError.badRequest("unknown label", field: "label") }
            filter.label = label
        }
        filter.minPriceFen = try Self.price(parameters["minPriceFen"].map(String.init), "minPriceFen")
        filter.maxPriceFen = try Self.price(parameters["maxPriceFen"].map(String.init), "maxPriceFen")
        var sort: ProductSort = hasQuery ? .relevance : .newest
        if let parsed = try Paging.choice(request, "sort", ProductSort.self) {
            sort = parsed == .relevance && !hasQuery ? .newest : parsed
        }
        let tag = "products-\(sort.rawValue)"
        let paging = try Paging.parse(request, tag: tag)
        let after = try paging.position.map(Self.position)
        // A query with nothing searchable in it (only punctuation) matches nothing.
        if hasQuery && filter.query == nil {
            try await browsing.checkFilters(filter)
            return try .json(CatalogDTO.ListOutput.empty)
        }
        let page = try await browsing.page(filter, sort: sort, after: after, paging: paging, tag: tag)
        return .json(bytes: ByteBuffer(bytes: CatalogJSON.bytes(page)))
    }

    static func price(_ raw: String?, _ field: String) throws -> Int64? {
        guard let raw else { return nil }
        guard let value = Int64(raw), value >= 0 else {
            throw DomainError.badRequest("\(field) must be a whole number of fen, 0 or more", field: field)
        }
        return value
    }

    static func position(_ text: String) throws -> ProductStore.Position {
        let parts = text.split(separator: "|", maxSplits: 2)
        guard parts.count == 3, let key = Int64(parts[0]), let at = Int64(parts[1]) else {
            throw DomainError.badRequest("cursor was not issued by this list", field: "cursor")
        }
        return ProductStore.Position(key: key, createdAt: at, id: String(parts[2]))
    }
}
