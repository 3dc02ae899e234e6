import Foundation
import Hummingbird

/// Products (API.md "Products"): merchants create and edit them, list them once certified, and
/// buyers browse and search what is listed. The routes decode, call a use case (`ProductEditing`,
/// `ProductImages`, `CatalogBrowsing`) and encode.
struct ProductsController {
    let services: AppServices
    let editing: ProductEditing
    let images: ProductImages
    let browsing: CatalogBrowsing

    /// At most this many images on one product.
    static let maxImages = ProductImages.maxImages

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.only(.merchant).post("/api/v1/products", use: create)
        // Catalog reads take turns past a bound, then are refused with 503 (`LoadShedder`).
        let shed = LoadSheddingMiddleware(shedder: services.catalogShedder)
        router.group().add(middleware: services.rateLimited(.searching)).add(middleware: shed).get("/api/v1/products", use: browse)
        router.group().add(middleware: LoadSheddingMiddleware(shedder: services.detailShedder)).get("/api/v1/products/:id", use: show)
        router.only(.merchant).patch("/api/v1/products/:id", use: update)
        router.get("/api/v1/products/:id/price-history", use: priceHistory)
        router.only(.merchant).post("/api/v1/products/:id/stock-adjustments", use: adjustStock)
        router.only(.merchant).put("/api/v1/products/:id/listing", use: putListing)
        router.only(.merchant).delete("/api/v1/products/:id/listing", use: deleteListing)
        router.only(.merchant).get("/api/v1/merchants/me/products", use: mine)
        router.group().add(middleware: services.rateLimited()).only(.merchant).post("/api/v1/products/:id/images", use: addImage)
        router.get("/api/v1/products/:id/images/:imageId", use: image)
    }

    // MARK: A merchant's products

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let input = try await request.decodeJSON(CatalogDTO.CreateInput.self, context: context)
        return try .json(try await editing.create(input, by: user), status: .created)
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let id = try context.parameters.require("id")
        let input = try await request.decodeJSON(CatalogDTO.PatchInput.self, context: context)
        return try .json(try await editing.update(id, input, by: user))
    }

    @Sendable func adjustStock(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let id = try context.parameters.require("id")
        // Another merchant's product is 404 before the body is judged.
        try await editing.checkOwnProduct(id, by: user)
        let input = try await request.decodeJSON(CatalogDTO.StockInput.self, context: context)
        return try .json(try await editing.adjustStock(id, input, by: user))
    }

    /// PUT lists (from draft or delisted) and DELETE delists (from listed); both are idempotent.
    @Sendable func putListing(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await setListing(context, listed: true)
    }

    @Sendable func deleteListing(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await setListing(context, listed: false)
    }

    private func setListing(_ context: AppRequestContext, listed: Bool) async throws -> Response {
        let user = try context.requireIdentity()
        let id = try context.parameters.require("id")
        return try .json(try await editing.setListing(id, listed: listed, by: user))
    }

    @Sendable func mine(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let paging = try Paging.parse(request, tag: "my-products")
        let status = try Paging.choice(request, "status", ProductStatus.self)
        return try .json(try await editing.ownProducts(by: user, status: status, paging: paging))
    }

    // MARK: Detail

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        return .json(bytes: ByteBuffer(bytes: CatalogJSON.bytes(try await browsing.detail(id, viewer: context.identity))))
    }

    @Sendable func priceHistory(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        return try .json(try await browsing.priceHistory(id, viewer: context.identity))
    }
}
