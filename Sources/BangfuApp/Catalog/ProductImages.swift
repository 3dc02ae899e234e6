import Foundation
import NIOCore
import SQLKit

/// A product's images (API.md "Products"): an active merchant adds JPEG or PNG files to its own
/// products, at most `maxImages` a product; anyone who may see a product may fetch its images.
struct ProductImages: UseCase {
    let services: AppServices
    var store: ProductStore { services.products }
    let browsing: CatalogBrowsing

    /// At most this many images on one product.
    static let maxImages = 10
    /// At most this many bytes in one image (5 MiB).
    static let sizeLimit = 5 << 20

    init(_ services: AppServices) {
        self.services = services
        browsing = CatalogBrowsing(services)
    }

    /// The caller's merchant must own the product (404 otherwise) and be active (403), and the
    /// product must have room for another image (409). Checked before the upload is read, so
    /// nobody streams into another merchant's product, and again when it is recorded.
    func checkUpload(productId: String, by user: Identity) async throws {
        try await database.read { db in try await checkUpload(user, productId: productId, in: db) }
    }

    /// Records an upload already stored on disk as an image of the product.
    func add(_ stored: UploadStore.Stored, productId id: String, by user: Identity) async throws -> ProductStore.Image {
        let image = ProductStore.Image(
            id: ids.next(), productId: id, sha256: stored.sha256, contentType: stored.type.rawValue,
            size: stored.size, createdAt: clock.now)
        try await uploads.recording(stored, database: database) { db in
            // Again inside the transaction, the product locked: a suspension or other uploads may
            // have come meanwhile.
            try await store.lock(productId: id, in: db)
            try await checkUpload(user, productId: id, in: db)
            try await store.addImage(image, in: db)
            try await audit.append(
                AuditEvent(
                    user, "product.image", .product(id), ["imageId": image.id, "sha256": image.sha256, "size": image.size]),
                in: db)
        }
        return image
    }

    private func checkUpload(_ user: Identity, productId: String, in db: any SQLDatabase) async throws {
        guard let merchant = try await merchants.merchant(ownerId: user.userId, in: db) else {
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

    /// An image and its bytes, as visible as its product (otherwise "not found").
    func image(_ imageId: String, productId id: String, viewer: Identity?) async throws -> (ProductStore.Image, ByteBuffer) {
        let found = try await database.read { db in try await store.productWithImages(id: id, in: db) }
        guard let (row, images) = found, try await browsing.canSee(row, viewer),
            let image = images.first(where: { $0.id == imageId })
        else { throw DomainError.notFound("image") }
        return (image, try await uploads.read(sha256: image.sha256))
    }
}
