import Foundation
import SQLKit
import Testing

@testable import BangfuApp

/// Products, their images and price history, counties and categories are row models: decoded by
/// name, times kept to the millisecond, and an unknown status or level refused (a product used to
/// fall back to `draft`, a county to `provincial`).
@Suite struct RowModelCatalogTests {
    @Test func productRowsRoundTripAndAnUnknownStatusFailsLoudly() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let seller = try await Seller.make(test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller1")
            test.clock.advance(seconds: 0.123)
            let createdAt = test.clock.now
            let id = try await seller.product(client, title: "五常大米", labels: ["organic", "black_soil"])
            test.clock.advance(seconds: 1.456)
            let listedAt = test.clock.now
            let listed = try await seller.listed(test, client, title: "黑木耳", labels: ["organic"], netContentGrams: 5_000)

            let store = test.services.products
            let database = test.services.database
            test.clock.advance(seconds: 2.789)
            let imageAt = test.clock.now
            let images = (1...2).map {
                ProductStore.Image(
                    id: "image-\($0)", productId: id, sha256: String(repeating: "a\($0)", count: 32), contentType: "image/png",
                    size: Int64(100 * $0), createdAt: imageAt.addingTimeInterval(Double($0) / 1000))
            }
            try await database.write { db in
                for image in images { try await store.addImage(image, in: db) }
            }

            let (row, withImages, prices, certified, bare, count) = try await database.read { db in
                (
                    try await store.product(id: id, in: db), try await store.productWithImages(id: id, in: db),
                    try await store.prices(productId: id, in: db), try await store.product(id: listed, in: db),
                    try await store.productWithImages(id: listed, in: db),
                    try await store.imageCount(productId: id, in: db)
                )
            }
            let r = try #require(row)
            let p = r.product
            // Pages decode column by column (`ProductStore.row`); `Decodable` reads the same.
            for productId in [id, listed] {
                let both = try await database.read { db in
                    try await db.raw("\(unsafeRaw: ProductStore.select) WHERE p.id = \(bind: productId)").first()
                        .map { (try ProductStore.row($0), try $0.model(ProductRow.self)) }
                }
                let (direct, decoded) = try #require(both)
                let encoder = JSONEncoder()
                encoder.outputFormatting = .sortedKeys
                let now = test.clock.now
                #expect(
                    try encoder.encode(CatalogDTO.ProductOutput(direct, now: now))
                        == encoder.encode(CatalogDTO.ProductOutput(decoded, now: now)))
                #expect(direct.product == decoded.product)
                // A page's read (by position on SQLite) gives the same row.
                let paged = try await store.products(ids: [productId], from: database)
                #expect(paged.count == 1 && paged.first?.product == decoded.product)
                #expect(paged.first?.merchantName == decoded.merchantName && paged.first?.countyName == decoded.countyName)
            }
            #expect(p.status == .draft)
            #expect(p.title == "五常大米")
            #expect(p.labels == ["black_soil", "organic"])
            #expect(p.merchantActive)
            #expect(p.priceFen == 1_000 && p.stock == 100 && p.held == 0 && p.sales == 0)
            #expect(p.merchantId == seller.merchantId)
            #expect(p.originCountyCode == "230129")
            #expect(p.certificateNumber == nil && p.certificateExpiresAt == nil)
            #expect(p.createdAt.millis == createdAt.millis)
            #expect(p.updatedAt.millis == createdAt.millis)
            #expect(r.merchantName == "延寿县长寿山农业合作社")
            #expect(r.countyName == "延寿县")
            #expect(Product.columns.count == 22 && p.netContentGrams == nil)

            let c = try #require(certified?.product)
            #expect(c.status == .listed && c.netContentGrams == 5_000 && c.topCategoryId != c.categoryId)
            #expect(c.labels == ["organic"])
            #expect(c.certificateNumber != nil)
            #expect(c.certificateExpiresAt?.millis == listedAt.addingTimeInterval(365 * 86400).millis)
            #expect(c.createdAt.millis == listedAt.millis)

            #expect(prices.map(\.0) == [1_000])
            #expect(prices.map(\.1.millis) == [createdAt.millis])

            let (detail, read) = try #require(withImages)
            #expect(detail.product.id == id && detail.merchantName == r.merchantName)
            #expect(read.map(\.id) == ["image-1", "image-2"])
            #expect(read.map(\.productId) == [id, id])
            #expect(read.map(\.sha256) == images.map(\.sha256))
            #expect(read.map(\.contentType) == ["image/png", "image/png"])
            #expect(read.map(\.size) == [100, 200])
            #expect(read.map(\.createdAt.millis) == images.map(\.createdAt.millis))
            #expect(count == 2)
            #expect(try #require(bare).1.isEmpty)

            // The catalog index reads the same rows: the listed product's facets and their names.
            try await test.services.catalogFeed.catchUp()
            let (facets, names) = test.services.catalogFeed.read { index, names in
                (index.facets(ProductFilter(), now: test.clock.now.millis), names)
            }
            #expect(facets.label == [.init(key: "organic", count: 1)])
            #expect(facets.county.map(\.key) == ["230129"] && names.counties["230129"] == "延寿县")
            #expect(facets.category.map(\.count) == [1])

            try await database.write { db in
                try await db.raw("UPDATE products SET status = 'archived' WHERE id = \(bind: id)").run()
            }
            // (a DecodingError on SQLite; PostgreSQL's driver wraps it)
            await #expect(throws: (any Error).self) {
                _ = try await database.read { db in try await store.product(id: id, in: db) }
            }
            await #expect(throws: (any Error).self) {
                _ = try await database.read { db in try await store.productWithImages(id: id, in: db) }
            }
            await #expect(throws: (any Error).self) {
                _ = try await database.read { db in
                    try await store.products(merchantId: seller.merchantId, status: nil, after: nil, limit: 10, in: db)
                }
            }
        }
    }

    @Test func referenceRowsRoundTripAndAnUnknownLevelFailsLoudly() async throws {
        let test = try await TestApp.make()
        try await test.run { _ in
            let store = test.services.reference
            let database = test.services.database
            test.clock.advance(seconds: 0.321)
            let createdAt = test.clock.now
            let county = County(code: "239999", name: "测试县", prefecture: "测试市", province: "黑龙江省", level: .national)
            let inserted = try await database.write { db in try await store.insert(county, in: db) }
            #expect(inserted)
            test.clock.advance(seconds: 5)
            let again = try await database.write { db in try await store.insert(county, in: db) }
            #expect(!again)

            let (read, created, counties, categories) = try await database.read { db in
                (
                    try await store.county(code: "239999", in: db), try await store.countyCreatedAt(code: "239999", in: db),
                    try await store.counties(in: db), try await store.categories(in: db)
                )
            }
            #expect(read == county)
            #expect(created?.millis == createdAt.millis)
            #expect(counties.first { $0.0.code == "239999" }?.1.millis == createdAt.millis)
            #expect(counties.contains { $0.0.code == "230129" && $0.0.name == "延寿县" })
            #expect(categories.contains { $0.0.id == "rice" && $0.0.parentId != nil })
            #expect(categories.contains { $0.0.parentId == nil })
            #expect(County.columns.count == 6 && Category.columns.count == 5)

            try await database.write { db in
                try await db.raw("UPDATE counties SET level = 'municipal' WHERE code = '239999'").run()
            }
            await #expect(throws: (any Error).self) {
                _ = try await database.read { db in try await store.county(code: "239999", in: db) }
            }
            await #expect(throws: (any Error).self) {
                _ = try await database.read { db in try await store.counties(in: db) }
            }
        }
    }
}
