import Foundation
import Hummingbird
import SQLKit

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

    /// At most this many images on one product.
    static let maxImages = 10

    /// `POST /api/v1/products/{id}/images`: a raw JPEG or PNG of at most 5 MiB, checked against
    /// its bytes and streamed to disk. Only an active merchant adds images (SPEC.md), at most
    /// `maxImages` a product.
    @Sendable func addImage(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.require(.merchant)
        let id = try context.parameters.require("id")
        // Ownership first, so nobody streams into another merchant's product.
        try await services.database.read { db in
            try await checkImageUpload(user, productId: id, in: db)
        }
        let stored = try await services.uploads.store(request, limit: Self.imageLimit, allowed: [.jpeg, .png])
        let image = ProductStore.Image(
            id: services.ids.next(), productId: id, sha256: stored.sha256, contentType: stored.type.rawValue,
            size: stored.size, createdAt: services.clock.now)
        try await services.uploads.recording(stored, database: services.database) { db in
            // Again inside the transaction, the product locked: a suspension or other uploads may
            // have come meanwhile.
            try await store.lock(productId: id, in: db)
            try await checkImageUpload(user, productId: id, in: db)
            try await store.addImage(image, in: db)
            try await services.audit.append(
                AuditEvent(
                    actorId: user.userId, action: "product.image", entityType: "product", entityId: id,
                    data: ["imageId": .string(image.id), "sha256": .string(image.sha256), "size": .int(image.size)]),
                in: db)
        }
        return try .json(ImageOutput(image), status: .created)
    }

    /// The caller's merchant must own the product (404 otherwise) and be active (403), and the
    /// product must have room for another image (409).
    private func checkImageUpload(_ user: Identity, productId: String, in db: any SQLDatabase) async throws {
        guard let merchant = try await services.merchants.merchant(ownerId: user.userId, in: db) else {
            throw DomainError(.forbidden, code: "forbidden", detail: "only an approved merchant may do this")
        }
        guard let row = try await store.product(id: productId, in: db), row.product.merchantId == merchant.id else {
            throw DomainError.notFound("product")
        }
        guard merchant.status == .active else {
            throw DomainError(.forbidden, code: "forbidden", detail: "the merchant is suspended")
        }
        guard try await store.imageCount(productId: productId, in: db) < Self.maxImages else {
            throw DomainError.conflict(
                "a product holds at most \(Self.maxImages) images", code: "image_limit_reached", field: "images")
        }
    }

    /// `GET /api/v1/products/{id}/images/{imageId}`: as visible as the product.
    @Sendable func image(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let imageId = try context.parameters.require("imageId")
        let found = try await services.database.read { db in try await store.productWithImages(id: id, in: db) }
        guard let (row, images) = found, try await canSee(row, context.identity),
            let image = images.first(where: { $0.id == imageId })
        else { throw DomainError.notFound("image") }
        let body = try await services.uploads.read(sha256: image.sha256)
        return Response(
            status: .ok,
            headers: [.contentType: image.contentType, .cacheControl: "public, max-age=86400, immutable"],
            body: .init(byteBuffer: body))
    }
}
