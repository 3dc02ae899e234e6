import Foundation
import SQLKit

/// Products' images: their files live in the upload store, named by their SHA-256.
extension ProductStore {
    struct Image: TableRow {
        var id: String
        var productId: String
        /// The file's name in the upload store, and its type.
        var sha256, contentType: String
        var size: Int64
        @Millis var createdAt: Date

        /// `product_images`' columns in the order `row` binds them. The position is not held:
        /// an image goes after its product's others.
        static let columns = ["id", "product_id", "sha256", "content_type", "size", "position", "created_at"]

        /// The row's values in the order of `columns`.
        var row: SQLQueryString {
            """
            (\(bind: id), \(bind: productId), \(bind: sha256), \(bind: contentType), \(bind: size),
             (SELECT COUNT(*) + 1 FROM product_images WHERE product_id = \(bind: productId)), \(bind: createdAt.millis))
            """
        }
    }

    func imageCount(productId: String, in db: any SQLDatabase) async throws -> Int {
        let row = try await db.raw("SELECT COUNT(*) AS n FROM product_images WHERE product_id = \(bind: productId)").first()
        return Int(try row?.decode(column: "n", as: Int64.self) ?? 0)
    }

    func addImage(_ image: Image, in db: any SQLDatabase) async throws {
        try await db.raw("INSERT INTO product_images (\(Image.columnList)) VALUES \(image.row)").run()
    }

    /// A product with its images in one statement (one round trip to the database instead of two:
    /// the product detail is the catalog's busiest read). The image's columns come prefixed
    /// `image_`, all NULL for a product without images.
    func productWithImages(id: String, in db: any SQLDatabase) async throws -> (ProductRow, [Image])? {
        let rows = try await db.raw(
            """
            SELECT \(unsafeRaw: Self.columns), \(unsafeRaw: Self.names), i.id AS image_id, i.product_id AS image_product_id,
              i.sha256 AS image_sha256, i.content_type AS image_content_type, i.size AS image_size,
              i.created_at AS image_created_at
            FROM products p LEFT JOIN product_images i ON i.product_id = p.id
            WHERE p.id = \(bind: id) ORDER BY i.position
            """
        ).all()
        guard let first = rows.first else { return nil }
        let images = try rows.filter { try !$0.decodeNil(column: "image_id") }.map {
            try $0.decode(model: Image.self, prefix: "image_", keyDecodingStrategy: .convertFromSnakeCase)
        }
        return (try Self.row(first), images)
    }
}
