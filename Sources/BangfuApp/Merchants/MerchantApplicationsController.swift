import Foundation
import Hummingbird

/// Merchant onboarding (API.md "Merchant onboarding"): the merchant applies, the county
/// officer of the application's county recommends, an admin approves.
struct MerchantApplicationsController {
    let services: AppServices
    var store: MerchantStore { services.merchants }

    static let documentLimit = 10 << 20
    static let documentKinds = ["business_license", "food_license", "test_report", "other"]

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.post("/api/v1/merchant-applications", use: create)
        router.get("/api/v1/merchant-applications", use: list)
        router.get("/api/v1/merchant-applications/:id", use: show)
        router.put("/api/v1/merchant-applications/:id", use: resubmit)
        router.group().add(middleware: services.rateLimited()).post("/api/v1/merchant-applications/:id/documents", use: upload)
        router.get("/api/v1/merchant-applications/:id/documents/:documentId", use: download)
        router.post("/api/v1/merchant-applications/:id/recommend", use: recommend)
        router.post("/api/v1/merchant-applications/:id/approve", use: approve)
        router.post("/api/v1/merchant-applications/:id/reject", use: reject)
    }

    // MARK: DTOs

    struct Input: Decodable {
        var companyName: String
        var creditCode: String
        var legalRepresentative: String
        var contactName: String
        var contactPhone: String
        var countyCode: String
        var address: String
        var foodLicenseNumber: String?
        var bankName: String
        var bankAccount: String
        var householdsDriven: Int64
    }

    /// One step of a history: application reviews and order events alike.
    struct ReviewOutput: Encodable {
        var action: String
        var actorId: String
        var actorRole: String
        @NullEncoded var fromStatus: String?
        var toStatus: String
        @NullEncoded var note: String?
        var at: String

        init(_ review: HistoryRecord) {
            action = review.action
            actorId = review.actorId
            actorRole = review.actorRole
            fromStatus = review.fromStatus
            toStatus = review.toStatus
            note = review.note
            at = review.at.rfc3339
        }
    }

    struct DocumentOutput: Encodable {
        var id: String
        var kind: String
        var contentType: String
        var sha256: String
        var size: Int64
        @NullEncoded var expiresOn: String?
        var createdAt: String

        init(_ document: MerchantDocument) {
            id = document.id
            kind = document.kind
            contentType = document.contentType
            sha256 = document.sha256
            size = document.size
            expiresOn = document.expiresOn
            createdAt = document.createdAt.rfc3339
        }
    }

    struct Output: Encodable {
        var id: String
        var ownerId: String
        var status: ApplicationStatus
        var companyName: String
        var creditCode: String
        var legalRepresentative: String
        var contactName: String
        var contactPhone: String
        var countyCode: String
        var address: String
        @NullEncoded var foodLicenseNumber: String?
        var bankName: String
        /// In full for the owner and admins; masked for county officers.
        var bankAccount: String
        var householdsDriven: Int64
        @NullEncoded var merchantId: String?
        /// Shown to reviewers: e.g. the credit code's area differs from the county.
        var warnings: [String]
        @NullEncoded var documents: [DocumentOutput]?
        @NullEncoded var reviews: [ReviewOutput]?
        var createdAt: String
        var updatedAt: String

        init(
            _ application: MerchantApplication, viewer: Identity, documents: [MerchantDocument]? = nil,
            reviews: [HistoryRecord]? = nil
        ) {
            let f = application.fields
            id = application.id
            ownerId = application.ownerId
            status = application.status
            companyName = f.companyName
            creditCode = f.creditCode
            legalRepresentative = f.legalRepresentative
            contactName = f.contactName
            contactPhone = f.contactPhone
            countyCode = f.countyCode
            address = f.address
            foodLicenseNumber = f.foodLicenseNumber
            bankName = f.bankName
            bankAccount = viewer.role == .county ? maskedAccount(f.bankAccount) : f.bankAccount
            householdsDriven = f.householdsDriven
            merchantId = application.merchantId
            warnings = OnboardingRules.warnings(for: f)
            self.documents = documents?.map(DocumentOutput.init)
            self.reviews = reviews?.map(ReviewOutput.init)
            createdAt = application.createdAt.rfc3339
            updatedAt = application.updatedAt.rfc3339
        }
    }

    // MARK: Validation

    /// Trimmed, bounded fields; the credit code checked (GB 32100-2015); the county registered
    /// and of an eligible level; the phone a mobile or fixed line.
    func validate(_ input: Input, in county: County?) throws -> ApplicationFields {
        var v = Validator()
        let companyName = v.text(input.companyName, "companyName", max: 100)
        let creditCode = v.text(input.creditCode, "creditCode", max: 18)?.uppercased()
        if let creditCode, let problem = CreditCode.problem(creditCode) { v.fail("creditCode", problem.message) }
        let legal = v.text(input.legalRepresentative, "legalRepresentative", max: 50)
        let contactName = v.text(input.contactName, "contactName", max: 50)
        let phone = v.text(input.contactPhone, "contactPhone", max: 20)
        if let phone, !PhoneNumber.isValid(phone) {
            v.fail("contactPhone", "must be a mobile number (1[3-9] and 9 digits) or a fixed line with its area code")
        }
        let countyCode = input.countyCode.trimmingCharacters(in: .whitespaces)
        if let county {
            if !services.configuration.eligibleCountyLevels.contains(county.level) {
                v.fail("countyCode", "is a \(county.level.rawValue) county, which this platform does not admit")
            }
        } else {
            v.fail("countyCode", "is not a registered 脱贫县")
        }
        let address = v.text(input.address, "address", max: 200)
        let food = v.text(input.foodLicenseNumber, "foodLicenseNumber", max: 50, required: false)
        let bankName = v.text(input.bankName, "bankName", max: 100)
        let account = input.bankAccount.filter { $0 != " " }
        if !(8...32).contains(account.count) || !account.allSatisfy(\.isASCIIDigit) {
            v.fail("bankAccount", "must be 8 to 32 digits")
        }
        if !(0...10_000_000).contains(input.householdsDriven) {
            v.fail("householdsDriven", "must be a whole number from 0 to 10000000")
        }
        try v.check()
        guard let companyName, let creditCode, let legal, let contactName, let phone, let address, let bankName else {
            throw DomainError.validation(v.errors)
        }
        return ApplicationFields(
            companyName: companyName, creditCode: creditCode, legalRepresentative: legal, contactName: contactName,
            contactPhone: phone, countyCode: countyCode, address: address, foodLicenseNumber: food,
            bankName: bankName, bankAccount: account, householdsDriven: input.householdsDriven)
    }

    // MARK: Routes

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.require(.merchant)
        let input = try await request.decodeJSON(Input.self, context: context)
        let county = try await services.database.read { db in
            try await services.reference.county(code: input.countyCode.trimmingCharacters(in: .whitespaces), in: db)
        }
        let fields = try validate(input, in: county)
        let now = services.clock.now
        let application = MerchantApplication(
            id: services.ids.next(), ownerId: user.userId, status: .submitted, fields: fields, merchantId: nil,
            createdAt: now, updatedAt: now)
        try await services.database.write { db in
            try await Self.uniqueAsConflict {
                try await insertNew(application, by: user, in: db)
            }
        }
        return try .json(Output(application, viewer: user, documents: [], reviews: []), status: .created)
    }

    /// A unique index refused the row: another process inserted the same credit code between our
    /// check and our insert.
    static func uniqueAsConflict<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch where isUniqueViolation(error) {
            throw DomainError.conflict(
                "this credit code belongs to a merchant or an application in progress", field: "creditCode")
        }
    }

    private func insertNew(_ application: MerchantApplication, by user: Identity, in db: any SQLDatabase) async throws {
        if try await store.ownerIsBusy(user.userId, in: db) {
            throw DomainError.conflict("you already have a merchant or an application in progress")
        }
        if try await store.creditCodeInUse(application.fields.creditCode, excluding: nil, in: db) {
            throw DomainError.conflict(
                "this credit code belongs to a merchant or an application in progress", field: "creditCode")
        }
        try await store.insert(application, in: db)
        try await record(application, action: "submit", from: nil, note: nil, by: user, in: db)
    }

    @Sendable func resubmit(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.require(.merchant)
        let id = try context.parameters.require("id")
        // Who may touch the application is settled before its body is read or judged (404 for
        // another's), so a stranger learns nothing from validation errors.
        _ = try await services.database.read { db in try await visible(id, to: user, in: db) }
        let input = try await request.decodeJSON(Input.self, context: context)
        let county = try await services.database.read { db in
            try await services.reference.county(code: input.countyCode.trimmingCharacters(in: .whitespaces), in: db)
        }
        let fields = try validate(input, in: county)
        let (application, documents, reviews) = try await services.database.write { db in try await Self.uniqueAsConflict {
            var application = try await visible(id, to: user, in: db)
            guard let next = OnboardingRules.next(from: application.status, .resubmit, by: user.role) else {
                throw DomainError.invalidTransition(current: application.status.rawValue, action: "resubmit")
            }
            if try await store.creditCodeInUse(fields.creditCode, excluding: id, in: db) {
                throw DomainError.conflict(
                    "this credit code belongs to a merchant or an application in progress", field: "creditCode")
            }
            let from = application.status
            application.fields = fields
            application.status = next
            application.updatedAt = services.clock.now
            try await store.update(application, in: db)
            try await record(application, action: "resubmit", from: from, note: nil, by: user, in: db)
            return (
                application, try await store.documents(applicationId: id, in: db),
                try await HistoryStore.merchantApplications.records(ownerId: id, in: db)
            )
        } }
        return try .json(Output(application, viewer: user, documents: documents, reviews: reviews))
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.require(.merchant, .county, .admin)
        let paging = try Paging.parse(request, tag: "applications")
        var filter = MerchantStore.ApplicationFilter()
        filter.status = try Paging.choice(request, "status", ApplicationStatus.self)
        let countyParameter = request.uri.queryParameters["countyCode"].map(String.init)
        try await services.checkFilters(countyCode: countyParameter)
        switch user.role {
        case .merchant:
            filter.ownerId = user.userId
            filter.countyCode = countyParameter
        case .county:
            if let countyParameter, countyParameter != user.countyCode {
                throw DomainError(.forbidden, code: "forbidden", detail: "county officers see their own county only")
            }
            filter.countyCode = user.countyCode ?? "-"
        default:
            filter.countyCode = countyParameter
        }
        let after = try paging.position.map(Paging.timeAndId)
        let query = filter
        let rows = try await services.database.read { db in
            try await store.applications(query, after: after, limit: paging.limit + 1, in: db)
        }
        let items = rows.prefix(paging.limit).map { Output($0, viewer: user) }
        let next = rows.count > paging.limit ? rows[paging.limit - 1] : nil
        return try .json(
            Page(
                items: Array(items),
                nextCursor: next.map { Paging.cursor(tag: "applications", position: "\($0.createdAt.millis)|\($0.id)") }))
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.require(.merchant, .county, .admin)
        let id = try context.parameters.require("id")
        let (application, documents, reviews) = try await services.database.read { db in
            let application = try await visible(id, to: user, in: db)
            return (
                application, try await store.documents(applicationId: id, in: db),
                try await HistoryStore.merchantApplications.records(ownerId: id, in: db)
            )
        }
        return try .json(Output(application, viewer: user, documents: documents, reviews: reviews))
    }

    @Sendable func upload(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.require(.merchant)
        let id = try context.parameters.require("id")
        // The owner check comes before the query is judged or the body read, so nobody streams into
        // another's application or learns from its validation errors that it exists.
        let (application, count) = try await services.database.read { db in
            let application = try await visible(id, to: user, in: db)
            return (application, try await store.documentCount(applicationId: id, in: db))
        }
        try OnboardingRules.checkDocumentUpload(status: application.status, documents: count)
        var v = Validator()
        let kind = request.uri.queryParameters["kind"].map(String.init)
        if kind == nil || !Self.documentKinds.contains(kind ?? "") {
            v.fail("kind", "must be one of " + Self.documentKinds.joined(separator: ", "))
        }
        let expiresOn = request.uri.queryParameters["expiresOn"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        if let expiresOn, CalendarDate(expiresOn) == nil { v.fail("expiresOn", "must be a date YYYY-MM-DD") }
        try v.check()
        guard let kind else { throw DomainError.invalid("kind", "is required") }
        let stored = try await services.uploads.store(
            request, limit: Self.documentLimit, allowed: [.pdf, .jpeg, .png])
        let document = MerchantDocument(
            id: services.ids.next(), applicationId: id, kind: kind, contentType: stored.type.rawValue,
            sha256: stored.sha256, size: stored.size, expiresOn: expiresOn, createdAt: services.clock.now)
        try await services.uploads.recording(stored, database: services.database) { db in
            // Again inside the transaction: the application may have moved on, or other uploads
            // filled it, while this body streamed.
            guard let current = try await store.application(id: id, lock: true, in: db) else {
                throw DomainError.notFound("application")
            }
            try OnboardingRules.checkDocumentUpload(
                status: current.status, documents: try await store.documentCount(applicationId: id, in: db))
            try await store.addDocument(document, in: db)
            try await services.audit.append(
                AuditEvent(
                    actorId: user.userId, action: "merchant_application.document", entityType: "merchant_application",
                    entityId: id,
                    data: [
                        "documentId": .string(document.id), "kind": .string(document.kind),
                        "sha256": .string(document.sha256), "size": .int(document.size),
                        "expiresOn": AuditValue(document.expiresOn),
                    ]), in: db)
        }
        return try .json(DocumentOutput(document), status: .created)
    }

    @Sendable func download(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.require(.merchant, .county, .admin)
        let id = try context.parameters.require("id")
        let documentId = try context.parameters.require("documentId")
        let document = try await services.database.read { db in
            _ = try await visible(id, to: user, in: db)
            guard let document = try await store.document(id: documentId, applicationId: id, in: db) else {
                throw DomainError.notFound("document")
            }
            return document
        }
        let body = try await services.uploads.read(sha256: document.sha256)
        return Response(
            status: .ok,
            headers: [
                .contentType: document.contentType,
                .contentDisposition: "attachment; filename=\"\(document.kind)-\(document.id)\"",
            ],
            body: .init(byteBuffer: body))
    }

    struct NoteInput: Decodable {
        var note: String?
    }

    struct ReasonInput: Decodable {
        var reason: String?
    }

    @Sendable func recommend(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await noted(request, context, .recommend, by: try context.require(.county))
    }

    @Sendable func approve(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await noted(request, context, .approve, by: try context.require(.admin))
    }

    /// A step whose body carries an optional `note`.
    private func noted(
        _ request: Request, _ context: AppRequestContext, _ action: OnboardingRules.Action, by user: Identity
    ) async throws -> Response {
        let input = try await request.decodeJSON(NoteInput.self, context: context)
        var v = Validator()
        let note = v.text(input.note, "note", max: 500, required: false, multiline: true)
        try v.check()
        return try await transition(request, context, user, action, note: note)
    }

    @Sendable func reject(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.require(.county, .admin)
        let id = try context.parameters.require("id")
        _ = try await services.database.read { db in try await visible(id, to: user, in: db) }
        let input = try await request.decodeJSON(ReasonInput.self, context: context)
        var v = Validator()
        let reason = v.text(input.reason, "reason", max: 500, multiline: true)
        try v.check()
        return try await transition(request, context, user, .reject, note: reason)
    }

    /// One review step, in one transaction with its review record and audit event. Approval also
    /// creates the active merchant.
    private func transition(
        _ request: Request, _ context: AppRequestContext, _ user: Identity, _ action: OnboardingRules.Action,
        note: String?
    ) async throws -> Response {
        let id = try context.parameters.require("id")
        let (application, documents, reviews) = try await services.database.write { db in try await Self.uniqueAsConflict {
            var application = try await visible(id, to: user, in: db)
            guard let next = OnboardingRules.next(from: application.status, action, by: user.role) else {
                throw DomainError.invalidTransition(current: application.status.rawValue, action: action.rawValue)
            }
            let from = application.status
            let now = services.clock.now
            if next == .approved {
                if try await store.creditCodeInUse(application.fields.creditCode, excluding: id, in: db) {
                    throw DomainError.conflict("a merchant already holds this credit code", field: "creditCode")
                }
                let merchantId = services.ids.next()
                try await store.insertMerchant(id: merchantId, from: application, at: now, in: db)
                application.merchantId = merchantId
            }
            application.status = next
            application.updatedAt = now
            try await store.update(application, in: db)
            try await record(application, action: action.rawValue, from: from, note: note, by: user, in: db)
            return (
                application, try await store.documents(applicationId: id, in: db),
                try await HistoryStore.merchantApplications.records(ownerId: id, in: db)
            )
        } }
        return try .json(Output(application, viewer: user, documents: documents, reviews: reviews))
    }

    /// The application if `user` may see it: its owner, the officer of its county, or an admin.
    /// Anyone else is told it does not exist.
    private func visible(_ id: String, to user: Identity, in db: any SQLDatabase) async throws -> MerchantApplication {
        guard let application = try await store.application(id: id, in: db) else {
            throw DomainError.notFound("application")
        }
        switch user.role {
        case .admin: return application
        case .merchant where application.ownerId == user.userId: return application
        case .county where application.fields.countyCode == user.countyCode: return application
        default: throw DomainError.notFound("application")
        }
    }

    private func record(
        _ application: MerchantApplication, action: String, from: ApplicationStatus?, note: String?, by user: Identity,
        in db: any SQLDatabase
    ) async throws {
        let now = services.clock.now
        try await HistoryStore.merchantApplications.add(
            HistoryRecord(
                action: action, actorId: user.userId, actorRole: user.role.rawValue, fromStatus: from?.rawValue,
                toStatus: application.status.rawValue, note: note, at: now),
            ownerId: application.id, id: services.ids.next(), in: db)
        try await services.audit.append(
            AuditEvent(
                actorId: user.userId, action: "merchant_application.\(action)", entityType: "merchant_application",
                entityId: application.id,
                data: [
                    "from": AuditValue(from?.rawValue), "to": .string(application.status.rawValue),
                    "note": AuditValue(note), "creditCode": .string(application.fields.creditCode),
                    "countyCode": .string(application.fields.countyCode),
                    "merchantId": AuditValue(application.merchantId),
                ]), in: db)
    }
}

import SQLKit
