import Foundation
import SQLKit

/// A merchant's own products (API.md "Products"): creating and editing them, adjusting their
/// stock, listing and delisting them, and the merchant's list of them. Only the merchant that
/// owns a product sees it here (another's is "not found"), and every change is audited.
struct ProductEditing: UseCase {
    let services: AppServices
    var store: ProductStore { services.products }
    var eligibleCountyLevels: Set<CountyLevel> { services.configuration.eligibleCountyLevels }

    init(_ services: AppServices) {
        self.services = services
    }

    // MARK: Creating and editing

    /// A new draft product of the caller's (active) merchant, its first price recorded.
    func create(_ input: CatalogDTO.CreateInput, by user: Identity) async throws -> CatalogDTO.ProductOutput {
        let now = clock.now
        let id = ids.next()
        let row = try await database.write { db in
            let merchant = try await merchants.activeMerchant(ownerId: user.userId, in: db)
            var v = Validator()
            let text = ProductRules.text(
                &v, title: input.title, description: input.description, specification: input.specification,
                unit: input.unit, required: true)
            ProductRules.checkPrice(&v, input.priceFen)
            PriceRules.checkNetContent(&v, input.netContentGrams)
            ProductRules.checkStock(&v, input.stock)
            let labels = ProductRules.checkLabels(&v, input.labels) ?? []
            let top = try await category(input.categoryId, &v, in: db)
            try await originCounty(input.originCountyCode, &v, in: db)
            try v.check()
            guard let title = text.title, let description = text.description, let specification = text.specification,
                let unit = text.unit, let top
            else { throw DomainError.validation(v.errors) }
            let product = Product(
                id: id, merchantId: merchant.id, title: title, categoryId: input.categoryId, topCategoryId: top,
                description: description, specification: specification, unit: unit, priceFen: input.priceFen,
                stock: input.stock, held: 0, originCountyCode: input.originCountyCode, labels: labels, status: .draft,
                sales: 0, merchantActive: true, certificateNumber: nil, certificateExpiresAt: nil, createdAt: now,
                updatedAt: now, netContentGrams: input.netContentGrams)
            try await store.insert(product, merchantName: merchant.companyName, in: db)
            try await store.addPrice(productId: id, priceFen: product.priceFen, at: now, id: ids.next(), in: db)
            try await audit.append(
                AuditEvent(
                    user, "product.create", .product(id),
                    ["title": product.title, "priceFen": product.priceFen, "stock": product.stock]),
                in: db)
            return ProductRow(product: product, merchantName: merchant.companyName, countyName: "")
        }
        let stored = try await database.read { db in try await store.product(id: row.product.id, in: db) }
        return CatalogDTO.ProductOutput(stored ?? row, now: now)
    }

    /// Changes the fields sent. What a valid certificate (or an open certification application)
    /// vouches for is locked; a new price starts a new entry of the price history.
    func update(_ id: String, _ input: CatalogDTO.PatchInput, by user: Identity) async throws -> CatalogDTO.ProductOutput {
        let now = clock.now
        try await database.write { db in
            let merchant = try await merchants.activeMerchant(ownerId: user.userId, in: db)
            try await store.lock(productId: id, in: db)
            var product = try await ownProduct(id, merchant, in: db).product
            var v = Validator()
            let text = ProductRules.text(
                &v, title: input.title, description: input.description, specification: input.specification,
                unit: input.unit, required: false)
            ProductRules.checkPrice(&v, input.priceFen)
            PriceRules.checkNetContent(&v, input.netContentGrams)
            if input.stock != nil { v.fail("stock", "changes through POST /products/{id}/stock-adjustments") }
            let labels = ProductRules.checkLabels(&v, input.labels)
            let top = try await input.categoryId.asyncMap { try await category($0, &v, in: db) }
            if let county = input.originCountyCode { try await originCounty(county, &v, in: db) }
            try v.check()
            // What a certificate vouches for cannot change under it (SPEC.md "Certification").
            let locked = ProductRules.changedIdentifyingFields(
                product,
                [
                    "title": text.title, "categoryId": input.categoryId, "specification": text.specification,
                    "unit": text.unit, "originCountyCode": input.originCountyCode,
                    "netContentGrams": input.netContentGrams.map(String.init),
                ])
            if !locked.isEmpty { try await checkUnlocked(locked, productId: id, product, now: now, in: db) }
            let (oldPrice, oldCategory, oldPerKg) = (product.priceFen, product.categoryId, product.perKgFen)
            product.netContentGrams = input.netContentGrams ?? product.netContentGrams
            product.title = text.title ?? product.title
            product.description = text.description ?? product.description
            product.specification = text.specification ?? product.specification
            product.unit = text.unit ?? product.unit
            product.priceFen = input.priceFen ?? product.priceFen
            product.labels = labels ?? product.labels
            if let categoryId = input.categoryId, let top = top ?? nil {
                product.categoryId = categoryId
                product.topCategoryId = top
            }
            product.originCountyCode = input.originCountyCode ?? product.originCountyCode
            product.updatedAt = now
            // A listed product's unit price or category moves its categories' medians; other edits do not.
            let moved = product.status == .listed && (product.perKgFen != oldPerKg || product.categoryId != oldCategory)
            try await store.update(
                product, merchantName: merchant.companyName, medianCategories: moved ? [oldCategory, product.categoryId] : [], in: db)
            if product.priceFen != oldPrice {
                // The jump base is the lowest price of the 30 days before this one (价格监测).
                let history = try await store.prices(productId: id, in: db).map { (priceFen: $0.0, from: $0.1) }
                try await store.setPriceJump(productId: id, baseFen: PriceRules.jumpBase(history: history, now: now), at: now, in: db)
                try await store.addPrice(productId: id, priceFen: product.priceFen, at: now, id: ids.next(), in: db)
            }
            try await audit.append(
                AuditEvent(
                    user, "product.update", .product(id),
                    ["title": product.title, "priceFen": product.priceFen, "previousPriceFen": oldPrice]),
                in: db)
        }
        return try await current(id, now: now)
    }

    /// Refuses a change of `locked` identifying fields while a certificate or an open
    /// certification application names them.
    private func checkUnlocked(_ locked: [String], productId id: String, _ product: Product, now: Date, in db: any SQLDatabase)
        async throws
    {
        let current = product.certificateExpiresAt.map { $0 > now } ?? false
        let older = try await certification.hasValidCertificate(productId: id, now: now, in: db)
        let certified = current || older
        let underReview = try await certification.hasOpenApplication(productId: id, in: db)
        guard certified || underReview else { return }
        let why =
            certified
            ? "is named by a valid certificate of the product; surrender it (POST /api/v1/certificates/{number}/surrender) to change it"
            : "is under review in a certification application"
        throw DomainError(
            .conflict, code: "certified_field_locked", detail: locked.joined(separator: ", ") + " " + why,
            errors: locked.map { FieldError($0, why) })
    }

    // MARK: Stock

    /// Another merchant's product is "not found" before the body of a stock adjustment is judged.
    func checkOwnProduct(_ id: String, by user: Identity) async throws {
        _ = try await database.read { db in try await ownProduct(id, try await merchants.activeMerchant(ownerId: user.userId, in: db), in: db) }
    }

    /// Adds `delta` (negative: removes) to the stock still for sale, with its reason.
    func adjustStock(_ id: String, _ input: CatalogDTO.StockInput, by user: Identity) async throws
        -> CatalogDTO.ProductOutput
    {
        var v = Validator()
        let text = ProductRules.checkAdjustment(&v, delta: input.delta, reason: input.reason)
        try v.check()
        guard let reason = text else { throw DomainError.validation(v.errors) }
        let now = clock.now
        try await database.write { db in
            let merchant = try await merchants.activeMerchant(ownerId: user.userId, in: db)
            let product = try await ownProduct(id, merchant, in: db).product
            guard let stock = ProductRules.adjustedStock(stock: product.stock, delta: input.delta) else {
                throw DomainError(
                    .conflict, code: "insufficient_stock",
                    detail: "the stock still for sale is \(product.stock) (at most \(ProductRules.maxStock)); units in open orders (\(product.held)) cannot be removed",
                    errors: [FieldError("delta", "from \(-product.stock) to \(ProductRules.maxStock - product.stock)")])
            }
            guard try await store.setStock(productId: id, expected: product.stock, to: stock, in: db) else {
                throw DomainError.conflict("the stock changed meanwhile; try again")
            }
            try await store.addStockAdjustment(
                id: ids.next(), productId: id, delta: input.delta, reason: reason, actorId: user.userId,
                stockAfter: stock, at: now, in: db)
            try await audit.append(
                AuditEvent(user, "product.stock", .product(id), ["delta": input.delta, "reason": reason, "stock": stock]),
                in: db)
        }
        return try await current(id, now: now)
    }

    // MARK: Listing

    /// `listed` true lists (from draft or delisted), false delists (from listed); both are
    /// idempotent. Listing requires what being on sale requires of the product (`OnSale`).
    func setListing(_ id: String, listed: Bool, by user: Identity) async throws -> CatalogDTO.ProductOutput {
        let now = clock.now
        try await database.write { db in
            guard let merchant = try await merchants.merchant(ownerId: user.userId, in: db) else {
                throw DomainError(.forbidden, code: "forbidden", detail: "only an approved merchant may do this")
            }
            let product = try await ownProduct(id, merchant, in: db).product
            let target: ProductStatus = listed ? .listed : .delisted
            guard product.status != target else { return }
            if listed {
                if let problem = ProductRules.listingProblem(
                    merchantActive: merchant.status == .active, certificateExpiresAt: product.certificateExpiresAt,
                    now: now)
                {
                    throw DomainError(.conflict, code: "product_unavailable", detail: "cannot list: \(problem)")
                }
            } else if product.status == .draft {
                throw DomainError.invalidTransition(current: product.status.rawValue, action: "delist")
            }
            if listed {
                guard try await store.list(productId: id, at: now, in: db) else {
                    throw DomainError(
                        .conflict, code: "product_unavailable",
                        detail: "cannot list: the certificate or the merchant changed meanwhile")
                }
            } else {
                try await store.setStatus(productId: id, target, at: now, in: db)
            }
            try await audit.append(AuditEvent(user, listed ? "product.list" : "product.delist", .product(id)), in: db)
        }
        return try await current(id, now: now)
    }

    // MARK: Reading

    /// The caller's products, newest first, optionally of one status (none without a merchant).
    func ownProducts(by user: Identity, status: ProductStatus?, paging: Paging) async throws
        -> Page<CatalogDTO.ProductOutput>
    {
        let after = try paging.position.map(Paging.timeAndId)
        let now = clock.now
        let rows = try await database.read { db -> [ProductRow] in
            guard let merchant = try await merchants.merchant(ownerId: user.userId, in: db) else { return [] }
            return try await store.products(
                merchantId: merchant.id, status: status, after: after, limit: paging.fetchLimit, in: db)
        }
        return Page(rows, paging, tag: "my-products", position: { Paging.timeAndId($0.product.createdAt, $0.product.id) }) {
            CatalogDTO.ProductOutput($0, now: now)
        }
    }

    /// The product as stored now, after a change the caller made to it.
    private func current(_ id: String, now: Date) async throws -> CatalogDTO.ProductOutput {
        guard let stored = try await database.read({ db in try await store.product(id: id, in: db) }) else {
            throw DomainError.notFound("product")
        }
        return CatalogDTO.ProductOutput(stored, now: now)
    }

    /// The product if it belongs to `merchant`; otherwise it does not exist for the caller.
    private func ownProduct(_ id: String, _ merchant: Merchant, in db: any SQLDatabase) async throws -> ProductRow {
        guard let row = try await store.product(id: id, in: db), row.product.merchantId == merchant.id else {
            throw DomainError.notFound("product")
        }
        return row
    }

    // MARK: Validation against reference data

    /// The category's top-level id, or a field error.
    private func category(_ id: String, _ v: inout Validator, in db: any SQLDatabase) async throws -> String? {
        let categories = try await reference.categories(in: db).map(\.0)
        guard let category = categories.first(where: { $0.id == id }) else {
            v.fail("categoryId", "is not a category")
            return nil
        }
        return category.parentId ?? category.id
    }

    private func originCounty(_ code: String, _ v: inout Validator, in db: any SQLDatabase) async throws {
        guard let county = try await reference.county(code: code, in: db) else {
            v.fail("originCountyCode", "is not a registered 脱贫县")
            return
        }
        if !eligibleCountyLevels.contains(county.level) {
            v.fail("originCountyCode", "is a \(county.level.rawValue) county, which this platform does not admit")
        }
    }
}
