import Foundation
import SQLKit

extension MerchantApplication: Reviewed {}

/// An application as its detail shows it: with its documents and its reviews.
struct MerchantApplicationDetail: Sendable {
    var application: MerchantApplication
    var documents: [MerchantDocument]
    var reviews: [HistoryRecord]
}

/// Merchant onboarding (API.md "Merchant onboarding"): the merchant applies, the county
/// officer of the application's county recommends, an admin approves. Each step is one
/// transaction with its review record and audit event. Knows nothing of HTTP.
struct MerchantOnboarding: UseCase {
    typealias Action = OnboardingRules.Action

    static let documentLimit = 10 << 20
    static let documentKinds = ["business_license", "food_license", "test_report", "other"]

    let services: AppServices
    var store: MerchantStore { services.merchants }
    var eligibleCountyLevels: Set<CountyLevel> { services.configuration.eligibleCountyLevels }
    let step: WorkflowStep<MerchantApplication, Action, Role>

    init(_ services: AppServices) {
        self.services = services
        let store = services.merchants
        step = WorkflowStep(
            services, workflow: OnboardingRules.workflow, history: .merchantApplications,
            entity: AuditEntity.merchantApplication, actionPrefix: "merchant_application",
            load: { id, actor, lock, db in
                (try await Self.visible(id, to: actor, lock: lock, store: store, in: db), actor.role)
            },
            save: { application, db in try await store.update(application, in: db) },
            auditData: { application in
                [
                    "creditCode": application.fields.creditCode, "countyCode": application.fields.countyCode,
                    "merchantId": application.merchantId,
                ]
            })
    }

    // MARK: Applying

    /// A new application of `user`, `submitted`: one per owner in progress, one per credit code.
    func submit(_ input: ApplicationFields, by user: Identity) async throws -> MerchantApplication {
        let fields = try await validate(input)
        let now = clock.now
        let application = MerchantApplication(
            id: ids.next(), ownerId: user.userId, status: .submitted, fields: fields, merchantId: nil,
            createdAt: now, updatedAt: now)
        try await database.write { db in
            try await Self.uniqueAsConflict {
                if try await store.ownerIsBusy(user.userId, in: db) {
                    throw DomainError.conflict("you already have a merchant or an application in progress")
                }
                if try await store.creditCodeInUse(application.fields.creditCode, excluding: nil, in: db) {
                    throw Self.creditCodeTaken
                }
                try await store.insert(application, in: db)
                try await step.record(application, action: "submit", from: nil, note: nil, by: user, at: now, in: db)
            }
        }
        return application
    }

    /// A rejected application, corrected and `submitted` again.
    func resubmit(_ id: String, _ input: ApplicationFields, by user: Identity) async throws
        -> MerchantApplicationDetail
    {
        let fields = try await validate(input)
        let now = clock.now
        return try await database.write { db in
            try await Self.uniqueAsConflict {
                let application = try await step.run(.resubmit, on: id, by: user, note: nil, at: now, in: db) {
                    application, _ in
                    if try await store.creditCodeInUse(fields.creditCode, excluding: id, in: db) {
                        throw Self.creditCodeTaken
                    }
                    application.fields = fields
                }
                return try await detail(of: application, in: db)
            }
        }
    }

    /// A unique index refused the row: another process inserted the same credit code between our
    /// check and our insert.
    static func uniqueAsConflict<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch where isUniqueViolation(error) {
            throw creditCodeTaken
        }
    }

    static let creditCodeTaken = DomainError.conflict(
        "this credit code belongs to a merchant or an application in progress", field: "creditCode")

    // MARK: Reviewing

    func recommend(_ id: String, note: String?, by user: Identity) async throws -> MerchantApplicationDetail {
        try await review(.recommend, id, note: try Self.note(note), by: user)
    }

    /// Approval also creates the active merchant.
    func approve(_ id: String, note: String?, by user: Identity) async throws -> MerchantApplicationDetail {
        try await review(.approve, id, note: try Self.note(note), by: user)
    }

    func reject(_ id: String, reason: String?, by user: Identity) async throws -> MerchantApplicationDetail {
        var v = Validator()
        let reason = v.text(reason, "reason", max: 500, multiline: true)
        try v.check()
        return try await review(.reject, id, note: reason, by: user)
    }

    /// An optional review `note`, checked.
    private static func note(_ note: String?) throws -> String? {
        var v = Validator()
        let note = v.text(note, "note", max: 500, required: false, multiline: true)
        try v.check()
        return note
    }

    /// One review step, in one transaction with its review record and audit event. Approval also
    /// creates the active merchant.
    private func review(_ action: Action, _ id: String, note: String?, by user: Identity) async throws
        -> MerchantApplicationDetail
    {
        let now = clock.now
        return try await database.write { db in
            try await Self.uniqueAsConflict {
                let application = try await step.run(action, on: id, by: user, note: note, at: now, in: db) {
                    application, next in
                    guard next == .approved else { return }
                    if try await store.creditCodeInUse(application.fields.creditCode, excluding: id, in: db) {
                        throw DomainError.conflict("a merchant already holds this credit code", field: "creditCode")
                    }
                    let merchantId = ids.next()
                    try await store.insertMerchant(id: merchantId, from: application, at: now, in: db)
                    application.merchantId = merchantId
                }
                return try await detail(of: application, in: db)
            }
        }
    }

    // MARK: Reading

    /// Newest first: a merchant's own, a county officer's county (`countyCode` may name only it),
    /// or all for admins; read with `paging.fetchLimit`.
    func applications(
        status: ApplicationStatus?, countyCode: String?, paging: Paging, for user: Identity
    ) async throws -> [MerchantApplication] {
        var filter = MerchantStore.ApplicationFilter()
        filter.status = status
        switch user.role {
        case .merchant:
            filter.ownerId = user.userId
            filter.countyCode = countyCode
        case .county:
            if let countyCode, countyCode != user.countyCode {
                throw DomainError(.forbidden, code: "forbidden", detail: "county officers see their own county only")
            }
            filter.countyCode = user.countyCode ?? "-"
        default:
            filter.countyCode = countyCode
        }
        let after = try paging.position.map(Paging.timeAndId)
        let query = filter
        return try await database.read { db in
            try await store.applications(query, after: after, limit: paging.fetchLimit, in: db)
        }
    }

    func detail(_ id: String, for user: Identity) async throws -> MerchantApplicationDetail {
        try await database.read { db in
            try await detail(of: try await Self.visible(id, to: user, store: store, in: db), in: db)
        }
    }

    /// Who may touch the application is settled before a body is read or judged (404 for
    /// another's), so a stranger learns nothing from validation errors.
    func checkVisible(_ id: String, to user: Identity) async throws {
        try await step.checkVisible(id, by: user, in: database)
    }

    private func detail(of application: MerchantApplication, in db: any SQLDatabase) async throws
        -> MerchantApplicationDetail
    {
        MerchantApplicationDetail(
            application: application, documents: try await store.documents(applicationId: application.id, in: db),
            reviews: try await HistoryStore.merchantApplications.records(ownerId: application.id, in: db))
    }

    /// The application if `user` may see it: its owner, the officer of its county, or an admin.
    /// Anyone else is told it does not exist.
    static func visible(
        _ id: String, to user: Identity, lock: Bool = false, store: MerchantStore, in db: any SQLDatabase
    ) async throws -> MerchantApplication {
        guard let application = try await store.application(id: id, lock: lock, in: db) else {
            throw DomainError.notFound("application")
        }
        switch user.role {
        case .admin: return application
        case .merchant where application.ownerId == user.userId: return application
        case .county where application.fields.countyCode == user.countyCode: return application
        default: throw DomainError.notFound("application")
        }
    }
}
