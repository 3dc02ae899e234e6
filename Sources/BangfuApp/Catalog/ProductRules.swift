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
        switch OnSale.obstacle(listed: true, merchantActive: merchantActive, certificateExpiresAt: certificateExpiresAt, now: now) {
        case .merchantSuspended: "the merchant is suspended"
        case .noCertificate: "the product has no valid 帮扶产品 certificate"
        case .certificateExpired: "the product's certificate has expired"
        case .notListed, nil: nil
        }
    }

    /// The identifying fields a certificate vouches for (SPEC.md "Certification"): while a
    /// product holds a valid certificate or a certification application is open, they are locked.
    static let certifiedFields = ["title", "categoryId", "specification", "unit", "netContentGrams", "originCountyCode"]

    /// The names of the identifying fields that `changes` would change on `product`, in
    /// `certifiedFields` order (a field sent with its current value changes nothing). A net
    /// content not stated yet may be stated when it is what the certified specification says
    /// ("5kg/袋": 5000): that claims nothing the certificate does not (products certified before
    /// net contents existed get their unit price this way).
    static func changedIdentifyingFields(_ product: Product, _ changes: [String: String?]) -> [String] {
        let current: [String: String] = [
            "title": product.title, "categoryId": product.categoryId, "specification": product.specification,
            "unit": product.unit, "originCountyCode": product.originCountyCode,
            "netContentGrams": product.netContentGrams.map(String.init) ?? "",
        ]
        let stated = product.netContentGrams == nil ? PriceRules.netContent(ofSpecification: product.specification) : nil
        return certifiedFields.filter { field in
            guard let value = changes[field] ?? nil else { return false }
            if field == "netContentGrams", let stated, value == String(stated) { return false }
            return value != current[field]
        }
    }

    // MARK: Validation

    /// The free-text fields of a product, trimmed and checked; with `required` false only those
    /// present are (a PATCH).
    static func text(
        _ v: inout Validator, title: String?, description: String?, specification: String?, unit: String?,
        required: Bool
    ) -> (title: String?, description: String?, specification: String?, unit: String?) {
        (
            v.text(title, "title", max: 100, required: required || title != nil),
            v.text(description, "description", max: 2000, required: required || description != nil, multiline: true),
            v.text(specification, "specification", max: 50, required: required || specification != nil),
            v.text(unit, "unit", max: 10, required: required || unit != nil)
        )
    }

    static func checkPrice(_ v: inout Validator, _ price: Int64?) {
        if let price, !(1...maxPriceFen).contains(price) {
            v.fail("priceFen", "must be a whole number of fen from 1 to \(maxPriceFen)")
        }
    }

    static func checkStock(_ v: inout Validator, _ stock: Int64) {
        if !(0...maxStock).contains(stock) {
            v.fail("stock", "must be a whole number from 0 to \(maxStock)")
        }
    }

    /// The labels, each known, without repeats and sorted (nil when absent).
    static func checkLabels(_ v: inout Validator, _ labels: [String]?) -> [String]? {
        guard let labels else { return nil }
        let known = Set(ProductLabel.allCases.map(\.rawValue))
        for (index, label) in labels.enumerated() where !known.contains(label) {
            v.fail("labels[\(index)]", "must be one of " + ProductLabel.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return Array(Set(labels)).sorted()
    }

    /// The reason of a stock adjustment, after checking it and the delta.
    static func checkAdjustment(_ v: inout Validator, delta: Int64, reason: String?) -> String? {
        let text = v.text(reason, "reason", max: 200, multiline: true)
        if delta == 0 { v.fail("delta", "must not be zero") }
        if !(-maxStock...maxStock).contains(delta) {
            v.fail("delta", "must be a whole number from -\(maxStock) to \(maxStock)")
        }
        return text
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
