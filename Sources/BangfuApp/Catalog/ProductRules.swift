import Foundation

enum ProductStatus: String, Codable, Sendable, CaseIterable {
    case draft
    case listed
    case delisted
}

/// The product labels of API.md.
enum ProductLabel: String, Codable, Sendable, CaseIterable {
    case green
    case organic
    case geoIndication = "geo_indication"
    case blackSoil = "black_soil"
    case nonGMO = "non_gmo"
    case complianceCertificate = "compliance_certificate"

    var chineseName: String {
        switch self {
        case .green: "绿色食品"
        case .organic: "有机"
        case .geoIndication: "地理标志"
        case .blackSoil: "寒地黑土"
        case .nonGMO: "非转基因"
        case .complianceCertificate: "食用农产品达标合格证"
        }
    }
}

enum ProductRules {
    static let maxPriceFen: Int64 = 100_000_000_00  // 1亿元
    static let maxStock: Int64 = 1_000_000_000

    /// Why a product may not be listed now, or nil when it may: its merchant must be active and
    /// it must hold a certificate that has not expired (SPEC.md "Products").
    static func listingProblem(merchantActive: Bool, certificateExpiresAt: Date?, now: Date) -> String? {
        if !merchantActive { return "the merchant is suspended" }
        guard let expiresAt = certificateExpiresAt else { return "the product has no valid 帮扶产品 certificate" }
        if expiresAt <= now { return "the product's certificate has expired" }
        return nil
    }

    /// The identifying fields a certificate vouches for (SPEC.md "Certification"): while a
    /// product holds a valid certificate or a certification application is open, they are locked.
    static let certifiedFields = ["title", "categoryId", "specification", "unit", "originCountyCode"]

    /// The names of the identifying fields that `changes` would change on `product`, in
    /// `certifiedFields` order (a field sent with its current value changes nothing).
    static func changedIdentifyingFields(_ product: Product, _ changes: [String: String?]) -> [String] {
        let current: [String: String] = [
            "title": product.title, "categoryId": product.categoryId, "specification": product.specification,
            "unit": product.unit, "originCountyCode": product.originCountyCode,
        ]
        return certifiedFields.filter { field in
            guard let value = changes[field] ?? nil else { return false }
            return value != current[field]
        }
    }

    /// Available stock after an adjustment, or nil when it would go negative or past the maximum.
    /// `stock` counts units still for sale: units in open orders were taken out of it when they
    /// were ordered (and are counted in `held`), so an adjustment can never reach them.
    static func adjustedStock(stock: Int64, delta: Int64) -> Int64? {
        let (result, overflow) = stock.addingReportingOverflow(delta)
        guard !overflow, result >= 0, result <= maxStock else { return nil }
        return result
    }
}
