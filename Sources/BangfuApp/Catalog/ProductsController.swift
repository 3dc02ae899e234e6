import Foundation
import Hummingbird
import SQLKit

/// Products (API.md "Products"): merchants create and edit them, list them once certified, and
/// buyers browse and search what is listed.
struct ProductsController {
    let services: AppServices
    var store: ProductStore { services.products }

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.post("/api/v1/products", use: create)
        router.group().add(middleware: services.rateLimited(.searching)).get("/api/v1/products", use: browse)
        router.get("/api/v1/products/:id", use: show)
        router.patch("/api/v1/products/:id", use: update)
        router.get("/api/v1/products/:id/price-history", use: priceHistory)
        router.post("/api/v1/products/:id/stock-adjustments", use: adjustStock)
        router.put("/api/v1/products/:id/listing", use: putListing)
        router.delete("/api/v1/products/:id/listing", use: deleteListing)
        router.get("/api/v1/merchants/me/products", use: mine)
        router.group().add(middleware: services.rateLimited()).post("/api/v1/products/:id/images", use: addImage)
        router.get("/api/v1/products/:id/images/:imageId", use: image)
    }

    // MARK: DTOs

    struct CreateInput: Decodable {
        var title: String
        var categoryId: String
        var description: String
        var specification: String
        var unit: String
        var priceFen: Int64
        var stock: Int64
        var originCountyCode: String
        var labels: [String]?
    }

    struct PatchInput: Decodable {
        var title: String?
        var categoryId: String?
        var description: String?
        var specification: String?
        var unit: String?
        var priceFen: Int64?
        var stock: Int64?
        var originCountyCode: String?
        var labels: [String]?
    }

    struct CertificateSummary: Encodable {
        var number: String
        var expiresAt: String
        var status: String
    }

    struct Output: Encodable {
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
            onSale = ProductsController.isOnSale(p, now: now)
            sales = p.sales
            if let number = p.certificateNumber, let expiresAt = p.certificateExpiresAt {
                certificate = CertificateSummary(
                    number: number, expiresAt: expiresAt.rfc3339, status: expiresAt > now ? "valid" : "expired")
            }
            createdAt = p.createdAt.rfc3339
            updatedAt = p.updatedAt.rfc3339
        }
    }

    struct FacetOutput: Encodable {
        var key: String
        var label: String
        var count: Int64
    }

    struct ListOutput: Encodable {
        struct Facets: Encodable {
            var category: [FacetOutput]
            var county: [FacetOutput]
            var label: [FacetOutput]
        }
        var items: [Output]
        @NullEncoded var nextCursor: String?
        var facets: Facets
    }

    // MARK: Validation

    private func validateText(_ v: inout Validator, title: String?, description: String?, specification: String?, unit: String?, required: Bool)
        -> (String?, String?, String?, String?)
    {
        (
            v.text(title, "title", max: 100, required: required || title != nil),
            v.text(description, "description", max: 2000, required: required || description != nil, multiline: true),
            v.text(specification, "specification", max: 50, required: required || specification != nil),
            v.text(unit, "unit", max: 10, required: required || unit != nil)
        )
    }

    private func checkPrice(_ v: inout Validator, _ price: Int64?) {
        if let price, !(1...ProductRules.maxPriceFen).contains(price) {
            v.fail("priceFen", "must be a whole number of fen from 1 to \(ProductRules.maxPriceFen)")
        }
    }

    private func checkLabels(_ v: inout Validator, _ labels: [String]?) -> [String]? {
        guard let labels else { return nil }
        let known = Set(ProductLabel.allCases.map(\.rawValue))
        for (index, label) in labels.enumerated() where !known.contains(label) {
            v.fail("labels[\(index)]", "must be one of " + ProductLabel.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return Array(Set(labels)).sorted()
    }

    /// The category's top-level id, or a field error.
    private func category(_ id: String, _ v: inout Validator, in db: any SQLDatabase) async throws -> String? {
        let categories = try await services.reference.categories(in: db).map(\.0)
        guard let category = categories.first(where: { $0.id == id }) else {
            v.fail("categoryId", "is not a category")
            return nil
        }
        return category.parentId ?? category.id
    }

    private func originCounty(_ code: String, _ v: inout Validator, in db: any SQLDatabase) async throws {
        guard let county = try await services.reference.county(code: code, in: db) else {
            v.fail("originCountyCode", "is not a registered 脱贫县")
            return
        }
        if !services.configuration.eligibleCountyLevels.contains(county.level) {
            v.fail("originCountyCode", "is a \(county.level.rawValue) county, which this platform does not admit")
        }
    }

    /// The caller's merchant, which must be active to create or change products.
    private func activeMerchant(_ user: Identity, in db: any SQLDatabase) async throws -> Merchant {
        try await services.activeMerchant(user, in: db)
    }

    /// The product if it belongs to the caller's merchant; otherwise it does not exist for them.
    private func ownProduct(_ id: String, _ merchant: Merchant, in db: any SQLDatabase) async throws -> ProductRow {
        guard let row = try await store.product(id: id, in: db), row.product.merchantId == merchant.id else {
            throw DomainError.notFound("product")
        }
        return row
    }

    // MARK: Routes

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.require(.merchant)
        let input = try await request.decodeJSON(CreateInput.self, context: context)
        let now = services.clock.now
        let id = services.ids.next()
        let row = try await services.database.write { db in
            let merchant = try await activeMerchant(user, in: db)
            var v = Validator()
            let (title, description, specification, unit) = validateText(
                &v, title: input.title, description: input.description, specification: input.specification,
                unit: input.unit, required: true)
            checkPrice(&v, input.priceFen)
            if !(0...ProductRules.maxStock).contains(input.stock) {
                v.fail("stock", "must be a whole number from 0 to \(ProductRules.maxStock)")
            }
            let labels = checkLabels(&v, input.labels) ?? []
            let top = try await category(input.categoryId, &v, in: db)
            try await originCounty(input.originCountyCode, &v, in: db)
            try v.check()
            guard let title, let description, let specification, let unit, let top else {
                throw DomainError.validation(v.errors)
            }
            let product = Product(
                id: id, merchantId: merchant.id, title: title, categoryId: input.categoryId, topCategoryId: top,
                description: description, specification: specification, unit: unit, priceFen: input.priceFen,
                stock: input.stock, held: 0, originCountyCode: input.originCountyCode, labels: labels, status: .draft,
                sales: 0, merchantActive: true, certificateNumber: nil, certificateExpiresAt: nil, createdAt: now,
                updatedAt: now)
            try await store.insert(product, merchantName: merchant.companyName, in: db)
            try await store.addPrice(productId: id, priceFen: product.priceFen, at: now, id: services.ids.next(), in: db)
            try await services.audit.append(
                AuditEvent(
                    actorId: user.userId, action: "product.create", entityType: "product", entityId: id,
                    data: ["title": .string(product.title), "priceFen": .int(product.priceFen), "stock": .int(product.stock)]),
                in: db)
            return ProductRow(product: product, merchantName: merchant.companyName, countyName: "")
        }
        let stored = try await services.database.read { db in try await store.product(id: row.product.id, in: db) }
        return try .json(Output(stored ?? row, now: now), status: .created)
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.require(.merchant)
        let id = try context.parameters.require("id")
        let input = try await request.decodeJSON(PatchInput.self, context: context)
        let now = services.clock.now
        try await services.database.write { db in
            let merchant = try await activeMerchant(user, in: db)
            try await store.lock(productId: id, in: db)
            var product = try await ownProduct(id, merchant, in: db).product
            var v = Validator()
            let (title, description, specification, unit) = validateText(
                &v, title: input.title, description: input.description, specification: input.specification,
                unit: input.unit, required: false)
            checkPrice(&v, input.priceFen)
            if input.stock != nil { v.fail("stock", "changes through POST /products/{id}/stock-adjustments") }
            let labels = checkLabels(&v, input.labels)
            let top = try await input.categoryId.asyncMap { try await category($0, &v, in: db) }
            if let county = input.originCountyCode { try await originCounty(county, &v, in: db) }
            try v.check()
            // What a certificate vouches for cannot change under it (SPEC.md "Certification").
            let locked = ProductRules.changedIdentifyingFields(
                product,
                [
                    "title": title, "categoryId": input.categoryId, "specification": specification, "unit": unit,
                    "originCountyCode": input.originCountyCode,
                ])
            if !locked.isEmpty {
                let current = product.certificateExpiresAt.map { $0 > now } ?? false
                let older = try await services.certification.hasValidCertificate(productId: id, now: now, in: db)
                let certified = current || older
                let underReview = try await services.certification.hasOpenApplication(productId: id, in: db)
                if certified || underReview {
                    let why =
                        certified
                        ? "is named by a valid certificate of the product; surrender it (POST /api/v1/certificates/{number}/surrender) to change it"
                        : "is under review in a certification application"
                    throw DomainError(
                        .conflict, code: "certified_field_locked",
                        detail: locked.joined(separator: ", ") + " " + why,
                        errors: locked.map { FieldError($0, why) })
                }
            }
            let oldPrice = product.priceFen
            product.title = title ?? product.title
            product.description = description ?? product.description
            product.specification = specification ?? product.specification
            product.unit = unit ?? product.unit
            product.priceFen = input.priceFen ?? product.priceFen
            product.labels = labels ?? product.labels
            if let categoryId = input.categoryId, let top = top ?? nil {
                product.categoryId = categoryId
                product.topCategoryId = top
            }
            product.originCountyCode = input.originCountyCode ?? product.originCountyCode
            product.updatedAt = now
            try await store.update(product, merchantName: merchant.companyName, in: db)
            if product.priceFen != oldPrice {
                try await store.addPrice(productId: id, priceFen: product.priceFen, at: now, id: services.ids.next(), in: db)
            }
            try await services.audit.append(
                AuditEvent(
                    actorId: user.userId, action: "product.update", entityType: "product", entityId: id,
                    data: [
                        "title": .string(product.title), "priceFen": .int(product.priceFen),
                        "previousPriceFen": .int(oldPrice),
                    ]), in: db)
        }
        return try await current(id, now: now)
    }

    /// The product as stored now, after a change the caller made to it.
    private func current(_ id: String, now: Date) async throws -> Response {
        guard let stored = try await services.database.read({ db in try await store.product(id: id, in: db) }) else {
            throw DomainError.notFound("product")
        }
        return try .json(Output(stored, now: now))
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        // A product on sale looks the same to everyone, so its rendered detail is shared.
        let key = "product/" + id
        if let body = services.catalogCache.cached(key) { return .json(bytes: body) }
        let generation = services.catalogCache.generation
        let now = services.clock.now
        let found = try await services.database.read { db in try await store.productWithImages(id: id, in: db) }
        guard let (row, images) = found, try await canSee(row, context.identity) else { throw DomainError.notFound("product") }
        let body = try Response.jsonBytes(Output(row, now: now, images: images))
        if Self.isOnSale(row.product, now: now) {
            services.catalogCache.store(key, body: body, deadline: row.product.certificateExpiresAt, generation: generation)
        }
        return .json(bytes: body)
    }

    /// Buyers and the public see what is on sale; the merchant and admins see everything of its own.
    func canSee(_ row: ProductRow, _ viewer: Identity?) async throws -> Bool {
        if viewer?.role == .admin { return true }
        if Self.isOnSale(row.product, now: services.clock.now) { return true }
        guard let viewer, viewer.role == .merchant else { return false }
        let merchant = try await services.database.read { db in
            try await services.merchants.merchant(ownerId: viewer.userId, in: db)
        }
        return merchant?.id == row.product.merchantId
    }

    static func isOnSale(_ product: Product, now: Date) -> Bool {
        product.status == .listed && product.merchantActive && (product.certificateExpiresAt.map { $0 > now } ?? false)
    }

    struct PricePoint: Encodable {
        var priceFen: Int64
        var from: String
    }

    @Sendable func priceHistory(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let (row, prices) = try await services.database.read { db in
            (try await store.product(id: id, in: db), try await store.prices(productId: id, in: db))
        }
        guard let row, try await canSee(row, context.identity) else { throw DomainError.notFound("product") }
        return try .json(prices.map { PricePoint(priceFen: $0.0, from: $0.1.rfc3339) })
    }

    struct StockInput: Decodable {
        var delta: Int64
        var reason: String?
    }

    @Sendable func adjustStock(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.require(.merchant)
        let id = try context.parameters.require("id")
        // Another merchant's product is 404 before the body is judged.
        _ = try await services.database.read { db in try await ownProduct(id, try await activeMerchant(user, in: db), in: db) }
        let input = try await request.decodeJSON(StockInput.self, context: context)
        var v = Validator()
        let text = v.text(input.reason, "reason", max: 200, multiline: true)
        if input.delta == 0 { v.fail("delta", "must not be zero") }
        if !(-ProductRules.maxStock...ProductRules.maxStock).contains(input.delta) {
            v.fail("delta", "must be a whole number from -\(ProductRules.maxStock) to \(ProductRules.maxStock)")
        }
        try v.check()
        guard let reason = text else { throw DomainError.validation(v.errors) }
        let now = services.clock.now
        try await services.database.write { db in
            let merchant = try await activeMerchant(user, in: db)
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
                id: services.ids.next(), productId: id, delta: input.delta, reason: reason, actorId: user.userId,
                stockAfter: stock, at: now, in: db)
            try await services.audit.append(
                AuditEvent(
                    actorId: user.userId, action: "product.stock", entityType: "product", entityId: id,
                    data: ["delta": .int(input.delta), "reason": .string(reason), "stock": .int(stock)]), in: db)
        }
        return try await current(id, now: now)
    }

    @Sendable func putListing(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await setListing(context, listed: true)
    }

    @Sendable func deleteListing(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await setListing(context, listed: false)
    }

    /// PUT lists (from draft or delisted) and DELETE delists (from listed); both are idempotent.
    private func setListing(_ context: AppRequestContext, listed: Bool) async throws -> Response {
        let user = try context.require(.merchant)
        let id = try context.parameters.require("id")
        let now = services.clock.now
        try await services.database.write { db in
            guard let merchant = try await services.merchants.merchant(ownerId: user.userId, in: db) else {
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
                    throw DomainError(.conflict, code: "product_unavailable", detail: "cannot list: the certificate or the merchant changed meanwhile")
                }
            } else {
                try await store.setStatus(productId: id, target, at: now, in: db)
            }
            try await services.audit.append(
                AuditEvent(
                    actorId: user.userId, action: listed ? "product.list" : "product.delist", entityType: "product",
                    entityId: id, data: [:]), in: db)
        }
        return try await current(id, now: now)
    }

    @Sendable func mine(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.require(.merchant)
        let paging = try Paging.parse(request, tag: "my-products")
        let filterStatus = try Paging.choice(request, "status", ProductStatus.self)
        let after = try paging.position.map(Paging.timeAndId)
        let now = services.clock.now
        let rows = try await services.database.read { db -> [ProductRow] in
            guard let merchant = try await services.merchants.merchant(ownerId: user.userId, in: db) else { return [] }
            return try await store.products(
                merchantId: merchant.id, status: filterStatus, after: after, limit: paging.limit + 1, in: db)
        }
        let items = rows.prefix(paging.limit).map { Output($0, now: now) }
        let next = rows.count > paging.limit ? rows[paging.limit - 1].product : nil
        return try .json(
            Page(
                items: Array(items),
                nextCursor: next.map { Paging.cursor(tag: "my-products", position: "\($0.createdAt.millis)|\($0.id)") }))
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
