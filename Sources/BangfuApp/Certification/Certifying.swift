import Foundation
import SQLKit

extension CertificationApplication: Reviewed {}

/// A certification application as its detail shows it: with its reviews and its certificate,
/// whose status is read at `now`.
struct CertificationDetail: Sendable {
    var application: CertificationApplication
    var reviews: [HistoryRecord]
    var certificate: Certificate?
    var now: Date
}

/// 帮扶产品认定 (API.md "Certification"): the product's merchant applies, the officer of the
/// product's origin county reviews, an admin approves and a signed certificate is issued. Each
/// step is one transaction with its review record and audit event. Knows nothing of HTTP.
struct Certifying: UseCase {
    typealias Action = CertificationRules.Action

    let services: AppServices
    var store: CertificationStore { services.certification }
    var defaultValidDays: Int64 { services.configuration.certificateValidDays }
    let step: WorkflowStep<CertificationApplication, Action, Role>

    init(_ services: AppServices) {
        self.services = services
        let store = services.certification
        let merchants = services.merchants
        step = WorkflowStep(
            services, workflow: CertificationRules.workflow, history: .certifications,
            entity: AuditEntity.certificationApplication, actionPrefix: "certification",
            load: { id, actor, lock, db in
                (try await Self.visible(id, to: actor, lock: lock, store: store, merchants: merchants, in: db), actor.role)
            },
            save: { application, db in try await store.update(application, in: db) },
            auditData: { application in
                [
                    "productId": application.productId, "countyCode": application.countyCode,
                    "certificateNumber": application.certificateNumber,
                ]
            })
    }

    // MARK: Applying

    /// A new application for one of the active merchant's products; one open per product.
    func submit(_ input: CertificationDTO.ApplicationInput, by user: Identity) async throws -> CertificationApplication {
        var v = Validator()
        let description = v.text(input.description, "description", max: 2000, multiline: true)
        if !(0...10_000_000).contains(input.householdsDriven) {
            v.fail("householdsDriven", "must be a whole number from 0 to 10000000")
        }
        let productId = v.text(input.productId, "productId", max: 64)
        try v.check()
        guard let productId, let description else { throw DomainError.validation(v.errors) }
        let now = clock.now
        return try await database.write { db in
            let merchant = try await merchants.activeMerchant(ownerId: user.userId, in: db)
            try await products.lock(productId: productId, in: db)
            guard let row = try await products.product(id: productId, in: db), row.product.merchantId == merchant.id else {
                throw DomainError.invalid("productId", "is not one of your products")
            }
            if try await store.hasOpenApplication(productId: productId, in: db) { throw Self.openApplication }
            // The title as submitted is what the certificate will sign; it cannot change while
            // the application is open (certified_field_locked).
            var application = CertificationApplication(
                id: ids.next(), productId: productId, merchantId: merchant.id,
                countyCode: row.product.originCountyCode, status: .submitted, householdsDriven: input.householdsDriven,
                description: description, certificateNumber: nil, createdAt: now, updatedAt: now,
                productTitle: row.product.title)
            try await Self.openAsConflict { try await store.insert(application, in: db) }
            application.merchantName = merchant.companyName
            try await step.record(application, action: "submit", from: nil, note: nil, by: user, at: now, in: db)
            return application
        }
    }

    /// The unique index refused a second open application (two requests raced past the check).
    static func openAsConflict<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch where isUniqueViolation(error) {
            throw openApplication
        }
    }

    static let openApplication = DomainError.conflict(
        "this product already has a certification application in progress", field: "productId")

    // MARK: Reviewing

    /// The county officer's review: approved on to the admin, or rejected with a `note`.
    func countyReview(_ id: String, approve: Bool, note: String?, by user: Identity) async throws -> CertificationDetail {
        var v = Validator()
        let note = v.text(note, "note", max: 500, required: !approve, multiline: true)
        try v.check()
        return try await review(approve ? .countyApprove : .reject, id, note: note, by: user)
    }

    /// Certifies: issues a certificate valid for `validDays` (the configured default when nil)
    /// and puts it on the product.
    func approve(_ id: String, validDays: Int64?, by user: Identity) async throws -> CertificationDetail {
        let days = validDays ?? defaultValidDays
        guard CertificationRules.validDaysRange.contains(days) else {
            throw DomainError.invalid("validDays", "must be a whole number from 1 to 3650")
        }
        return try await review(.approve, id, note: nil, validDays: days, by: user)
    }

    func reject(_ id: String, reason: String?, by user: Identity) async throws -> CertificationDetail {
        var v = Validator()
        let reason = v.text(reason, "reason", max: 500, multiline: true)
        try v.check()
        return try await review(.reject, id, note: reason, by: user)
    }

    /// One review step, in one transaction with its review record and audit event; approval also
    /// issues the certificate and puts it on the product.
    private func review(_ action: Action, _ id: String, note: String?, validDays: Int64 = 0, by user: Identity)
        async throws -> CertificationDetail
    {
        let now = clock.now
        return try await database.write { db in
            try await step.run(action, on: id, by: user, note: note, at: now, in: db) { application, next in
                guard next == .certified else { return }
                application.certificateNumber = try await issue(for: application, validDays: validDays, now: now, in: db)
            }
            return try await detail(id, for: user, in: db)
        }
    }

    /// Signs and stores the certificate of `application`'s product; answers its number.
    private func issue(for application: CertificationApplication, validDays: Int64, now: Date, in db: any SQLDatabase)
        async throws -> String
    {
        try await products.lock(productId: application.productId, in: db)
        guard let row = try await products.product(id: application.productId, in: db) else {
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
        guard let certificate = try await issuer.issue([subject], validDays: validDays, now: now, in: db).first else {
            throw DomainError.conflict("no certificate was issued; try again")
        }
        return certificate.number
    }

    // MARK: Reading

    /// Newest first, read with `paging.fetchLimit`: a merchant's own, a county officer's county,
    /// or all for admins.
    func applications(status: CertificationStatus?, paging: Paging, for user: Identity) async throws
        -> [CertificationApplication]
    {
        var filter = CertificationStore.ApplicationFilter()
        filter.status = status
        let after = try paging.position.map(Paging.timeAndId)
        let requested = filter
        return try await database.read { db -> [CertificationApplication] in
            var query = requested
            switch user.role {
            case .merchant:
                guard let merchant = try await merchants.merchant(ownerId: user.userId, in: db) else { return [] }
                query.merchantId = merchant.id
            case .county: query.countyCode = user.countyCode ?? "-"
            default: break
            }
            return try await store.applications(query, after: after, limit: paging.fetchLimit, in: db)
        }
    }

    func detail(_ id: String, for user: Identity) async throws -> CertificationDetail {
        try await database.read { db in try await detail(id, for: user, in: db) }
    }

    /// Another county's officer is told the application does not exist before a body is judged.
    func checkVisible(_ id: String, to user: Identity) async throws {
        try await step.checkVisible(id, by: user, in: database)
    }

    private func detail(_ id: String, for user: Identity, in db: any SQLDatabase) async throws -> CertificationDetail {
        let application = try await Self.visible(id, to: user, store: store, merchants: merchants, in: db)
        var certificate: Certificate?
        if let number = application.certificateNumber { certificate = try await store.certificate(number: number, in: db) }
        return CertificationDetail(
            application: application, reviews: try await HistoryStore.certifications.records(ownerId: id, in: db),
            certificate: certificate, now: clock.now)
    }

    /// The application if `user` may see it: its merchant, the officer of its county, or an
    /// admin. Anyone else is told it does not exist.
    static func visible(
        _ id: String, to user: Identity, lock: Bool = false, store: CertificationStore, merchants: MerchantStore,
        in db: any SQLDatabase
    ) async throws -> CertificationApplication {
        guard let application = try await store.application(id: id, lock: lock, in: db) else {
            throw DomainError.notFound("certification application")
        }
        switch user.role {
        case .admin: return application
        case .county where application.countyCode == user.countyCode: return application
        case .merchant:
            let merchant = try await merchants.merchant(ownerId: user.userId, in: db)
            if merchant?.id == application.merchantId { return application }
        default: break
        }
        throw DomainError.notFound("certification application")
    }
}
