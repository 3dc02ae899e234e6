import Foundation
import Hummingbird

extension ProductsController {
    static let imageLimit = 5 << 20

    struct ImageOutput: Encodable {
        var id: String
        var url: String
        var contentType: String
        var size: Int64
        var createdAt: String

        init(_ image: ProductStore.Image) {
            id = image.id
            url = "/api/v1/products/\(image.productId)/images/\(image.id)"
            contentType = image.contentType
            size = image.size
            createdAt = image.createdAt.rfc3339
        }
    }

    /// `POST /api/v1/products/{id}/images`: a raw JPEG or PNG of at most 5 MiB, checked against
    /// its bytes and streamed to disk.
    @Sendable func addImage(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.require(.merchant)
        let id = try context.parameters.require("id")
        // Ownership first, so nobody streams into another merchant's product.
        _ = try await services.database.read { db in
            guard let merchant = try await services.merchants.merchant(ownerId: user.userId, in: db) else {
                throw APIError(.forbidden, code: "forbidden", detail: "only an approved merchant may do this")
            }
            guard let row = try await store.product(id: id, in: db), row.product.merchantId == merchant.id else {
                throw APIError.notFound("product")
            }
        }
        let stored = try await services.uploads.store(request, limit: Self.imageLimit, allowed: [.jpeg, .png])
        let image = ProductStore.Image(
            id: services.ids.next(), productId: id, sha256: stored.sha256, contentType: stored.type.rawValue,
            size: stored.size, createdAt: services.clock.now)
        try await services.database.write { db in
            try await store.addImage(image, in: db)
            try await services.audit.append(
                AuditEvent(
                    actorId: user.userId, action: "product.image", entityType: "product", entityId: id,
                    data: ["imageId": .string(image.id), "sha256": .string(image.sha256), "size": .int(image.size)]),
                in: db)
        }
        return try .json(ImageOutput(image), status: .created)
    }

    /// `GET /api/v1/products/{id}/images/{imageId}`: as visible as the product.
    @Sendable func image(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let imageId = try context.parameters.require("imageId")
        let found = try await services.database.read { db in try await store.productWithImages(id: id, in: db) }
        guard let (row, images) = found, try await canSee(row, context.identity),
            let image = images.first(where: { $0.id == imageId })
        else { throw APIError.notFound("image") }
        let body = try await services.uploads.read(sha256: image.sha256)
        return Response(
            status: .ok,
            headers: [.contentType: image.contentType, .cacheControl: "public, max-age=86400, immutable"],
            body: .init(byteBuffer: body))
    }
}
