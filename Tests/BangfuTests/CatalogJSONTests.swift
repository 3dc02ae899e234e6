import Foundation
import Testing

@testable import BangfuApp

/// `CatalogJSON` writes pages and products byte for byte as `JSONEncoder.api` encodes them.
@Suite struct CatalogJSONTests {
    /// Every escape the encoder makes, other scripts, an emoji and a slash.
    static let hostile = "a\"b\\c/d\n\r\t\u{8}\u{c}\u{0}\u{1}\u{1f}\u{7f} 五常大米 😀 \u{2028} é"

    static func output(_ text: String, full: Bool) -> CatalogDTO.ProductOutput {
        let now = Date(millis: 1_780_000_000_123)
        let product = Product(
            id: "id-\(text)", merchantId: "m-\(text)", title: "title \(text)", categoryId: "rice", topCategoryId: "grain",
            description: text, specification: "5kg/袋 \(text)", unit: "袋", priceFen: 12_345, stock: -1, held: 3,
            originCountyCode: "230129", labels: full ? ["organic", text] : [], status: full ? .listed : .draft, sales: 9,
            merchantActive: full, certificateNumber: full ? "cert/\(text)" : nil,
            certificateExpiresAt: full ? now.addingTimeInterval(86_400) : nil, createdAt: now, updatedAt: now,
            netContentGrams: full ? 5_000 : nil)
        let images = full
            ? [ProductStore.Image(id: "i1", productId: product.id, sha256: "ab", contentType: "image/png", size: 7, createdAt: now)]
            : nil
        var output = CatalogDTO.ProductOutput(
            ProductRow(product: product, merchantName: "合作社 \(text)", countyName: "延寿县"), now: now, images: images)
        if full { output.unitPrice = .init(perKgFen: 2_469, categoryMedianPerKgFen: text.isEmpty ? nil : 2_000) }
        return output
    }

    @Test(arguments: [hostile, "", "plain"])
    func pagesAndProductsAreWhatTheEncoderWrites(text: String) throws {
        for full in [true, false] {
            let product = Self.output(text, full: full)
            #expect(CatalogJSON.bytes(product) == Array(try JSONEncoder.api.encode(product)), "full: \(full)")
        }
        let counts = [ProductStore.FacetCount(key: text, label: "标签 \(text)", count: 42)]
        let list = CatalogDTO.ListOutput(
            items: [Self.output(text, full: true), Self.output(text, full: false)], nextCursor: "1|2|\(text)",
            facets: .init(category: counts, county: counts + counts, label: []))
        #expect(CatalogJSON.bytes(list) == Array(try JSONEncoder.api.encode(list)))
        #expect(CatalogJSON.bytes(CatalogDTO.ListOutput.empty) == Array(try JSONEncoder.api.encode(CatalogDTO.ListOutput.empty)))
    }
}
