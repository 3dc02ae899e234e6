import Foundation
import Hummingbird
import SQLKit

/// 帮扶产品认定 (API.md "Certification"): the product's merchant applies, the officer of the
/// product's origin county reviews, an admin approves and a signed certificate is issued.
struct CertificationController {
    let services: AppServices
    var store: CertificationStore { services.certification }

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.post("/api/v1/certification-applications", use: create)
        router.get("/api/v1/certification-applications", use: list)
        router.get("/api/v1/certification-applications/:id", use: show)
        router.post("/api/v1/certification-applications/:id/county-review", use: countyReview)
        router.post("/api/v1/certification-applications/:id/approve", use: approve)
        router.post("/api/v1/certification-applications/:id/reject", use: reject)
    }

    // MARK: DTOs

    struct Input: Decodable {
        var productId: String
        var householdsDriven: Int64
        var description: String
    }

    struct CountyReviewInput: Decodable {
        var approve: Bool
        var note: String?
    }

    struct ApproveInput: Decodable {
        var validDays: Int64?
    }

    struct ReasonInput: Decodable {
        var reason: String?
    }

    struct Output: Encodable {
        var id: String
        var productId: String
        var productTitle: String
        var merchantId: String
        var merchantName: String
        var countyCode: String
        var status: CertificationStatus
        var householdsDriven: Int64
        var description: String
        @NullEncoded var certificateNumber: String?
        /// In an application's detail (and the approval's answer); null in lists.
        @NullEncoded var certificate: CertificatesController.Output?
        @NullEncoded var reviews: [MerchantApplicationsController.ReviewOutput]?
        var createdAt: String
        var updatedAt: String

        init(
            _ a: CertificationApplication, reviews: [HistoryRecord]? = nil, certificate: Certificate? = nil,
            now: Date
        ) {
            id = a.id
            productId = a.productId
            productTitle = a.productTitle
            merchantId = a.merchantId
            merchantName = a.merchantName
            countyCode = a.countyCode
            status = a.status
            householdsDriven = a.householdsDriven
            description = a.description
            certificateNumber = a.certificateNumber
            self.certificate = certificate.map { CertificatesController.Output($0, now: now) }
            self.reviews = reviews?.map(MerchantApplicationsController.ReviewOutput.init)
            createdAt = a.createdAt.rfc3339
            updatedAt = a.updatedAt.rfc3339
        }
    }

    // MARK: Routes

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.require(.merchant)
        let input = try await request.decodeJSON(Input.self, context: context)
        var v = Validator()
        let description = v.text(input.description, "description", max: 2000, multiline: true)
        if !(0...10_000_000).contains(input.householdsDriven) {
            v.fail("householdsDriven", "must be a whole number from 0 to 10000000")
        }
        let productId = v.text(input.productId, "productId", max: 64)
        try v.check()
        guard let productId, let description else { throw DomainError.validation(v.errors) }
        let now = services.clock.now
        let application = try await services.database.write { db in
            let merchant = try await services.activeMerchant(user, in: db)
            try await services.products.lock(productId: productId, in: db)
            guard let row = try await services.products.product(id: productId, in: db),
                row.product.merchantId == merchant.id
            else {
                throw DomainError.invalid("productId", "is not one of your products")
            }
            if try await store.hasOpenApplication(productId: productId, in: db) {
                throw DomainError.conflict("this product already has a certification application in progress", field: "productId")
            }
            // The title as submitted is what the certificate will sign; it cannot change while
            // the application is open (certified_field_locked).
            var application = CertificationApplication(
                id: services.ids.next(), productId: productId, merchantId: merchant.id,
                countyCode: row.product.originCountyCode, status: .submitted, householdsDriven: input.householdsDriven,
                description: description, certificateNumber: nil, createdAt: now, updatedAt: now,
                productTitle: row.product.title)
            try await Self.openAsConflict { try await store.insert(application, in: db) }
            application.merchantName = merchant.companyName
            try await record(application, action: "submit", from: nil, note: nil, by: user, in: db)
            return application
        }
        return try .json(Output(application, reviews: [], now: now), status: .created)
    }

    /// The unique index refused a second open application (two requests raced past the check).
    static func openAsConflict<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch where isUniqueViolation(error) {
            throw DomainError.conflict("this product already has a certification application in progress", field: "productId")
        }
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.require(.merchant, .county, .admin)
        let paging = try Paging.parse(request, tag: "certification-applications")
        var filter = CertificationStore.ApplicationFilter()
        filter.status = try Paging.choice(request, "status", CertificationStatus.self)
        let after = try paging.position.map(Paging.timeAndId)
        let now = services.clock.now
        let requested = filter
        let rows = try await services.database.read { db -> [CertificationApplication] in
            var query = requested
            switch user.role {
            case .merchant:
                guard let merchant = try await services.merchants.merchant(ownerId: user.userId, in: db) else { return [] }
                query.merchantId = merchant.id
            case .county: query.countyCode = user.countyCode ?? "-"
            default: break
            }
            return try await store.applications(query, after: after, limit: paging.limit + 1, in: db)
        }
        let next = rows.count > paging.limit ? rows[paging.limit - 1] : nil
        return try .json(
            Page(
                items: rows.prefix(paging.limit).map { Output($0, now: now) },
                nextCursor: next.map {
                    Paging.cursor(tag: "certification-applications", position: "\($0.createdAt.millis)|\($0.id)")
                }))
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.require(.merchant, .county, .admin)
        let id = try context.parameters.require("id")
        let output = try await services.database.read { db in try await detail(id, for: user, in: db) }
        return try .json(output)
    }

    private func detail(_ id: String, for user: Identity, in db: any SQLDatabase) async throws -> Output {
        let application = try await visible(id, to: user, in: db)
        let certificate = try await application.certificateNumber.asyncMap {
            try await store.certificate(number: $0, in: db)
        }
        return Output(
            application, reviews: try await HistoryStore.certifications.records(ownerId: id, in: db), certificate: certificate ?? nil,
            now: services.clock.now)
    }

    @Sendable func countyReview(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.require(.county)
        let id = try context.parameters.require("id")
        // Another county's officer is told the application does not exist before the body is judged.
        _ = try await services.database.read { db in try await visible(id, to: user, in: db) }
        let input = try await request.decodeJSON(CountyReviewInput.self, context: context)
        var v = Validator()
        let note = v.text(input.note, "note", max: 500, required: !input.approve, multiline: true)
        try v.check()
        return try await transition(context, user, input.approve ? .countyApprove : .reject, note: note)
    }

    @Sendable func approve(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.require(.admin)
        let input = try await request.decodeJSON(ApproveInput.self, context: context)
        let days = input.validDays ?? services.configuration.certificateValidDays
        guard CertificationRules.validDaysRange.contains(days) else {
            throw DomainError.invalid("validDays", "must be a whole number from 1 to 3650")
        }
        return try await transition(context, user, .approve, note: nil, validDays: days)
    }

    @Sendable func reject(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.require(.admin)
        let input = try await request.decodeJSON(ReasonInput.self, context: context)
        var v = Validator()
        let reason = v.text(input.reason, "reason", max: 500, multiline: true)
        try v.check()
        return try await transition(context, user, .reject, note: reason)
    }

    /// One review step, in one transaction with its review record and audit event; approval also
    /// issues the certificate and puts it on the product.
    private func transition(
        _ context: AppRequestContext, _ user: Identity, _ action: CertificationRules.Action, note: String?,
        validDays: Int64 = 0
    ) async throws -> Response {
        let id = try context.parameters.require("id")
        let now = services.clock.now
        let output = try await services.database.write { db in
            var application = try await visible(id, to: user, lock: true, in: db)
            guard let next = CertificationRules.next(from: application.status, action, by: user.role) else {
                throw DomainError.invalidTransition(current: application.status.rawValue, action: action.rawValue)
            }
            let from = application.status
            if next == .certified {
                try await services.products.lock(productId: application.productId, in: db)
                guard let row = try await services.products.product(id: application.productId, in: db) else {
                    throw DomainError.notFound("product")
                }
                // Only an active merchant's products are certified (SPEC.md "Certification").
                guard row.product.merchantActive else {
                    throw DomainError(
                        .conflict, code: "product_unavailable", detail: "the merchant is suspended; its products are not certified",
                        errors: [FieldError("merchantId", "is suspended")])
                }
                let subject = CertificateIssuer.Subject(
                    productId: row.product.id, productTitle: application.productTitle, merchantId: row.product.merchantId,
                    merchantName: row.merchantName, countyCode: application.countyCode, applicationId: application.id)
                guard let certificate = try await services.issuer.issue([subject], validDays: validDays, now: now, in: db).first
                else { throw DomainError.conflict("no certificate was issued; try again") }
                application.certificateNumber = certificate.number
            }
            application.status = next
            application.updatedAt = now
            try await store.update(application, in: db)
            try await record(application, action: action.rawValue, from: from, note: note, by: user, in: db)
            return try await detail(id, for: user, in: db)
        }
        return try .json(output)
    }

    /// The application if `user` may see it: its merchant, the officer of its county, or an
    /// admin. Anyone else is told it does not exist.
    private func visible(_ id: String, to user: Identity, lock: Bool = false, in db: any SQLDatabase) async throws
        -> CertificationApplication
    {
        guard let application = try await store.application(id: id, lock: lock, in: db) else {
            throw DomainError.notFound("certification application")
        }
        switch user.role {
        case .admin: return application
        case .county where application.countyCode == user.countyCode: return application
        case .merchant:
            let merchant = try await services.merchants.merchant(ownerId: user.userId, in: db)
            if merchant?.id == application.merchantId { return application }
        default: break
        }
        throw DomainError.notFound("certification application")
    }

    private func record(
        _ application: CertificationApplication, action: String, from: CertificationStatus?, note: String?,
        by user: Identity, in db: any SQLDatabase
    ) async throws {
        let now = services.clock.now
        try await HistoryStore.certifications.add(
            HistoryRecord(
                action: action, actorId: user.userId, actorRole: user.role.rawValue, fromStatus: from?.rawValue,
                toStatus: application.status.rawValue, note: note, at: now),
            ownerId: application.id, id: services.ids.next(), in: db)
        try await services.audit.append(
            AuditEvent(
                actorId: user.userId, action: "certification.\(action)", entityType: "certification_application",
                entityId: application.id,
                data: [
                    "from": AuditValue(from?.rawValue), "to": .string(application.status.rawValue),
                    "note": AuditValue(note), "productId": .string(application.productId),
                    "countyCode": .string(application.countyCode),
                    "certificateNumber": AuditValue(application.certificateNumber),
                ]), in: db)
    }
}
