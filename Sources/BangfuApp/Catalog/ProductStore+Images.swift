import Foundation
import SQLKit

/// Products' images: their files live in the upload store, named by their SHA-256.
extension ProductStore {
    struct Image: Sendable {
        var id: String
        var productId: String
        var sha256: String
        var contentType: String
        var size: Int64
        var createdAt: Date
    }

    func imageCount(productId: String, in db: any SQLDatabase) async throws -> Int {
        let row = try await db.raw("SELECT COUNT(*) AS n FROM product_images WHERE product_id = \(bind: productId)").first()
        return Int(try row?.decode(column: "n", as: Int64.self) ?? 0)
    }

    func addImage(_ image: Image, in db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO product_images (id, product_id, sha256, content_type, size, position, created_at)
            VALUES (\(bind: image.id), \(bind: image.productId), \(bind: image.sha256), \(bind: image.contentType),
              \(bind: image.size), (SELECT COUNT(*) + 1 FROM product_images WHERE product_id = \(bind: image.productId)),
              \(bind: image.createdAt.millis))
            """
        ).run()
    }

    /// A product with its images in one statement (one round trip to the database instead of two:
    /// the product detail is the catalog's busiest read).
    func productWithImages(id: String, in db: any SQLDatabase) async throws -> (ProductRow, [Image])? {
        let rows = try await db.raw(
            """
            SELECT p.*, \(unsafeRaw: Self.names), i.id AS image_id, i.sha256 AS image_sha256,
              i.content_type AS image_content_type, i.size AS image_size, i.created_at AS image_created_at
            FROM products p LEFT JOIN product_images i ON i.product_id = p.id
            WHERE p.id = \(bind: id) ORDER BY i.position
            """
        ).all()
        guard let first = rows.first else { return nil }
        let images = try rows.compactMap { row -> Image? in
            guard let imageId = try row.decode(column: "image_id", as: String?.self) else { return nil }
            return Image(
                id: imageId, productId: id, sha256: try row.decode(column: "image_sha256", as: String.self),
                contentType: try row.decode(column: "image_content_type", as: String.self),
                size: try row.decode(column: "image_size", as: Int64.self),
                createdAt: Date(millis: try row.decode(column: "image_created_at", as: Int64.self)))
        }
        return (try Self.row(first), images)
    }
}
