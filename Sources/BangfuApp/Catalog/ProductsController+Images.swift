import Foundation
import Hummingbird

extension ProductsController {
    static let imageLimit = ProductImages.sizeLimit

    /// `POST /api/v1/products/{id}/images`: a raw JPEG or PNG of at most 5 MiB, checked against
    /// its bytes and streamed to disk. Only an active merchant adds images (SPEC.md), at most
    /// `maxImages` a product.
    @Sendable func addImage(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let id = try context.parameters.require("id")
        // Ownership first, so nobody streams into another merchant's product.
        try await images.checkUpload(productId: id, by: user)
        let stored = try await services.uploads.store(request, limit: Self.imageLimit, allowed: [.jpeg, .png])
        let image = try await images.add(stored, productId: id, by: user)
        return try .json(CatalogDTO.ImageOutput(image), status: .created)
    }

    /// `GET /api/v1/products/{id}/images/{imageId}`: as visible as the product.
    @Sendable func image(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let imageId = try context.parameters.require("imageId")
        let (image, body) = try await images.image(imageId, productId: id, viewer: context.identity)
        return Response(
            status: .ok,
            headers: [.contentType: image.contentType, .cacheControl: "public, max-age=86400, immutable"],
            body: .init(byteBuffer: body))
    }
}
