import Foundation

/// What the product and reference-data routes read and write (API.md "Products", "Reference
/// data"); no logic beyond mapping.
enum CatalogDTO {

    // MARK: Products

    struct CreateInput: Decodable, Sendable {
        var title: String
        var categoryId: String
        var description: String
        var specification: String
        var unit: String
        var priceFen: Int64
        var stock: Int64
        var originCountyCode: String
        var labels: [String]?
        var netContentGrams: Int64?
    }

    struct PatchInput: Decodable, Sendable {
        var title: String?
        var categoryId: String?
        var description: String?
        var specification: String?
        var unit: String?
        var priceFen: Int64?
        var stock: Int64?
        var originCountyCode: String?
        var labels: [String]?
        /// Absent keeps the net content; it cannot be cleared once stated (it only changes).
        var netContentGrams: Int64?
    }

    struct StockInput: Decodable, Sendable {
        var delta: Int64
        var reason: String?
    }

    struct CertificateSummary: Encodable, Sendable {
        var number: String
        var expiresAt: String
        var status: String
    }

    struct ProductOutput: Encodable, Sendable {
        var id: String
        var title: String
        var categoryId: String
        var description: String
        var specification: String
        var unit: String
        var priceFen: Int64
        var stock: Int64
        var originCountyCode: String
        var countyName: String
        var merchantId: String
        var merchantName: String
        var labels: [String]
        var status: ProductStatus
        /// Whether buyers see and may order it now: listed, of an active merchant, with a valid
        /// certificate (derived at read time, so expiry takes effect at its instant).
        var onSale: Bool
        var sales: Int64
        @NullEncoded var certificate: CertificateSummary?
        /// In a product's detail; null in lists.
        @NullEncoded var images: [ImageOutput]?
        @NullEncoded var netContentGrams: Int64?
        /// In a product's detail when it states its net content: its price per kg (litre) and its
        /// leaf category's median (null below five comparable products); null otherwise.
        @NullEncoded var unitPrice: UnitPrice?
        var createdAt: String
        var updatedAt: String

        init(_ row: ProductRow, now: Date, images: [ProductStore.Image]? = nil) {
            self.images = images?.map(ImageOutput.init)
            let p = row.product
            id = p.id
            title = p.title
            categoryId = p.categoryId
            description = p.description
            specification = p.specification
            unit = p.unit
            priceFen = p.priceFen
            stock = p.stock
            originCountyCode = p.originCountyCode
            countyName = row.countyName
            merchantId = p.merchantId
            merchantName = row.merchantName
            labels = p.labels
            status = p.status
            onSale = OnSale.isOnSale(p, now: now)
            sales = p.sales
            if let number = p.certificateNumber, let expiresAt = p.certificateExpiresAt {
                certificate = CertificateSummary(
                    number: number, expiresAt: expiresAt.rfc3339, status: expiresAt > now ? "valid" : "expired")
            }
            createdAt = p.createdAt.rfc3339
            updatedAt = p.updatedAt.rfc3339
            netContentGrams = p.netContentGrams
        }
    }

    struct UnitPrice: Encodable, Sendable {
        var perKgFen: Int64
        @NullEncoded var categoryMedianPerKgFen: Int64?
    }

    struct ListOutput: Encodable, Sendable {
        struct Facets: Encodable, Sendable {
            var category: [ProductStore.FacetCount]
            var county: [ProductStore.FacetCount]
            var label: [ProductStore.FacetCount]
        }
        var items: [ProductOutput]
        @NullEncoded var nextCursor: String?
        var facets: Facets

        /// The answer to a query with nothing searchable in it.
        static let empty = ListOutput(items: [], nextCursor: nil, facets: .init(category: [], county: [], label: []))
    }

    struct ImageOutput: Encodable, Sendable {
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

    struct PricePoint: Encodable, Sendable {
        var priceFen: Int64
        var from: String
    }

    // MARK: Reference data

    struct CountyInput: Decodable, Sendable {
        var code: String?
        var name: String?
        var prefecture: String?
        var province: String?
        var level: String?
    }

    /// What a county's and a category's answers add to their rows: a county's `id` is its code,
    /// and both show when they were added.
    struct ReferenceExtra: Encodable, Sendable {
        var id: String?
        @Millis var createdAt: Date
    }

    typealias CountyOutput = Merged<County, ReferenceExtra>
    typealias CategoryOutput = Merged<Category, ReferenceExtra>
}

extension Merged where Base == County, Extra == CatalogDTO.ReferenceExtra {
    init(_ county: County, createdAt: Date) {
        self.init(county, .init(id: county.code, createdAt: createdAt))
    }
}

extension Merged where Base == Category, Extra == CatalogDTO.ReferenceExtra {
    /// The category row has its own `id`; the extra leaves it out (a nil `id` is not encoded).
    init(_ category: Category, createdAt: Date) {
        self.init(category, .init(id: nil, createdAt: createdAt))
    }
}
