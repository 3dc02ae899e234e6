import Foundation
import SQLKit

extension QuotaPlan: Reviewed {}

/// Reviewing the yearly filing (SPEC "The yearly filing", API.md "Hierarchy, accounts and
/// filings"): the parent's manager, or for a top-level organization a finance officer of its
/// region, confirms or returns it; finance decides waivers; reviewers read their queue. Knows
/// nothing of HTTP.
struct Filings: UseCase {
    let services: AppServices
    let organizations: BuyerOrganizations
    let step: WorkflowStep<QuotaPlan, FilingAction, FilingReviewer>
    var store: FilingStore { services.filings }

    init(_ services: AppServices) {
        self.services = services
        let organizations = BuyerOrganizations(services)
        let buyers = services.buyers
        self.organizations = organizations
        step = WorkflowStep(
            services, workflow: FilingRules.workflow, history: .filings, entity: AuditEntity.quotaPlan, actionPrefix: "filing",
            load: { id, actor, lock, db in try await Self.reviewable(id, by: actor, lock: lock, organizations: organizations, in: db) },
            save: { plan, db in try await buyers.save(plan, in: db) },
            auditData: { plan in
                ["reservedRatioBp": plan.reservedRatioBp, "canteenBudgetFen": plan.canteenBudgetFen, "returnReason": plan.returnReason]
            })
    }

    /// The filing `"{organization}/{year}"` and the caller's part in its review: 404 when the
    /// caller may not see the organization, 403 when it sees it but does not review it.
    static func reviewable(
        _ id: String, by actor: Identity, lock: Bool, organizations: BuyerOrganizations, in db: any SQLDatabase
    ) async throws -> (QuotaPlan, FilingReviewer) {
        guard let filing = FilingID(id) else { throw DomainError.notFound("filing") }
        let organization = try await organizations.visible(filing.organizationId, to: actor, in: db)
        guard let plan = try await organizations.store.plan(organizationId: organization.id, year: filing.year, lock: lock, in: db)
        else {
            throw DomainError.notFound("filing")
        }
        guard let reviewer = try await reviewer(of: organization, actor: actor, in: db, store: organizations.store) else {
            throw DomainError(
                .forbidden, code: "forbidden",
                detail: organization.parentId == nil
                    ? "a top-level organization's filing is reviewed by a finance officer of its region"
                    : "a filing is reviewed by a manager of the organization's parent")
        }
        return (plan, reviewer)
    }

    /// The caller's part in reviewing `organization`'s filing, if any.
    static func reviewer(of organization: BuyerOrganization, actor: Identity, in db: any SQLDatabase, store: BuyerStore)
        async throws -> FilingReviewer?
    {
        switch actor.role {
        case .buyer:
            guard let parent = organization.parentId, let membership = try await store.membership(userId: actor.userId, in: db)
            else { return nil }
            return membership.role == .manager && membership.organization.id == parent ? .supervisor : nil
        case .finance:
            guard organization.parentId == nil, let scope = actor.regionCode, let region = organization.regionCode else { return nil }
            return RegionRules.covers(scope, region) ? .finance : nil
        default:
            return nil
        }
    }

    /// `submitted` → `confirmed`; refused (409 `waiver_pending`) while finance has not decided a
    /// waiver the filing asks for.
    func confirm(_ organizationId: String, year: Int, by actor: Identity, note: String?) async throws -> BuyerDTO.PlanOutput {
        try await take(.confirm, organizationId, year: year, by: actor, note: note) { plan in
            if plan.waiverStatus == .requested {
                throw DomainError.conflict("finance has not decided the waiver this filing asks for", code: "waiver_pending")
            }
        }
    }

    /// `submitted` or `confirmed` → `returned`, with the reason the manager sees.
    func `return`(_ organizationId: String, year: Int, by actor: Identity, reason: String) async throws -> BuyerDTO.PlanOutput {
        try await take(.return, organizationId, year: year, by: actor, note: reason) { plan in
            plan.returnReason = reason
        }
    }

    private func take(
        _ action: FilingAction, _ organizationId: String, year: Int, by actor: Identity, note: String?,
        prepare: @escaping @Sendable (inout QuotaPlan) throws -> Void
    ) async throws -> BuyerDTO.PlanOutput {
        let now = clock.now
        let (plan, minimum): (QuotaPlan, Int64) = try await database.write { db in
            let plan = try await step.run(action, on: FilingID(organizationId: organizationId, year: year).description, by: actor, note: note, at: now, in: db) { plan, _ in
                try prepare(&plan)
            }
            return (plan, try await minimumBp(of: organizationId, in: db))
        }
        return BuyerDTO.PlanOutput(plan, now: now, minimumBp: minimum)
    }

    /// Refuses (404 / 403) a caller who may not review the filing, before its body is judged.
    func checkReviewer(_ organizationId: String, year: Int, by actor: Identity) async throws {
        try await step.checkVisible(FilingID(organizationId: organizationId, year: year).description, by: actor, in: database)
    }

    private func minimumBp(of organizationId: String, in db: any SQLDatabase) async throws -> Int64 {
        guard let organization = try await buyers.organization(id: organizationId, in: db) else { return minimumReservedRatioBp }
        return try await organizations.minimumBp(for: organization, in: db)
    }

    var minimumReservedRatioBp: Int64 { configuration.minimumReservedRatioBp }

    // MARK: Waivers

    /// Refuses (404 / 403) a caller who may not decide the organization's waiver, before the body.
    func checkWaiverDecider(_ organizationId: String, by actor: Identity) async throws {
        try await database.read { db in _ = try await waiverOrganization(organizationId, by: actor, in: db) }
    }

    /// The organization if `actor` is a finance officer of its region.
    private func waiverOrganization(_ id: String, by actor: Identity, in db: any SQLDatabase) async throws
        -> BuyerOrganization
    {
        let organization = try await organizations.visible(id, to: actor, in: db)
        guard actor.role == .finance, let scope = actor.regionCode, let region = organization.regionCode,
            RegionRules.covers(scope, region)
        else { throw DomainError(.forbidden, code: "forbidden", detail: "waivers are decided by finance officers of the region") }
        return organization
    }

    /// A finance officer of the organization's region approves or rejects a requested waiver;
    /// a rejected waiver returns the filing, with the note as its reason.
    func decideWaiver(_ organizationId: String, year: Int, approve: Bool, note: String?, by actor: Identity) async throws
        -> BuyerDTO.PlanOutput
    {
        let now = clock.now
        let (plan, minimum) = try await database.write { db in
            let organization = try await waiverOrganization(organizationId, by: actor, in: db)
            guard var plan = try await buyers.plan(organizationId: organization.id, year: year, lock: true, in: db) else {
                throw DomainError.notFound("filing")
            }
            guard plan.waiverStatus == .requested else {
                throw DomainError.invalidTransition(current: plan.waiverStatus?.rawValue ?? "none", action: "decide a waiver")
            }
            let from = plan.status
            plan.waiverStatus = approve ? .approved : .rejected
            plan.waiverNote = note
            if !approve {
                plan.status = .returned
                plan.returnReason = note ?? "the waiver of the minimum ratio was rejected"
            }
            plan.updatedAt = now
            try await buyers.save(plan, in: db)
            try await step.record(
                plan, action: approve ? "waiver_approve" : "waiver_reject", from: from, note: note, by: actor, at: now, in: db)
            if !approve {
                // The filing is returned by the rejection: its organization's systems hear `filing.returned`.
                try await audit.append(
                    AuditEvent(actor, "filing.return", .quotaPlan(plan.id), ["from": from.rawValue, "to": "returned", "note": note]),
                    in: db)
            }
            return (plan, try await organizations.minimumBp(for: organization, in: db))
        }
        return BuyerDTO.PlanOutput(plan, now: now, minimumBp: minimum)
    }

    // MARK: The review queue

    /// Organizations in the caller's scope with their filing of `year` or none: a finance
    /// officer's region, a manager's subtree, every organization for an admin.
    func queue(_ filter: FilingStore.QueueFilter, for actor: Identity, paging: Paging) async throws -> Page<FilingDTO.QueueItem> {
        let after = try paging.position.map(Paging.timeAndId)
        let now = clock.now
        let (rows, ratios) = try await database.read { db in
            var filter = filter
            switch actor.role {
            case .admin: break
            case .finance:
                guard let scope = actor.regionCode else { throw DomainError.forbidden }
                filter.regionCodes.append(scope)
            case .buyer:
                guard let membership = try await buyers.membership(userId: actor.userId, in: db), membership.role == .manager else {
                    throw DomainError(.forbidden, code: "forbidden", detail: "only managers review the filings below them")
                }
                filter.withinSubtreeOf = membership.organization.id
            default: throw DomainError.forbidden
            }
            return (try await store.queue(filter, after: after, limit: paging.fetchLimit, in: db), try await store.minimumRatios(in: db))
        }
        let overrides = Dictionary(ratios.map { ($0.regionCode, $0.minimumBp) }, uniquingKeysWith: { a, _ in a })
        let defaultBp = minimumReservedRatioBp
        return Page(
            rows, paging, tag: "filings", position: { Paging.timeAndId($0.organization.createdAt, $0.organization.id) },
            item: { row in
                FilingDTO.QueueItem(
                    organization: row.organization,
                    filing: row.filing.map {
                        BuyerDTO.PlanOutput(
                            $0, now: now,
                            minimumBp: FilingRules.minimumBp(
                                regionCode: row.organization.regionCode, overrides: overrides, defaultBp: defaultBp))
                    })
            })
    }

    // MARK: Minimum ratios

    func minimumRatios() async throws -> FilingDTO.MinimumRatios {
        let items = try await database.read { db in try await store.minimumRatios(in: db) }
        return FilingDTO.MinimumRatios(defaultBp: minimumReservedRatioBp, items: items)
    }

    /// Sets the minimum of a registered region (admin), audited.
    func setMinimumRatio(_ regionCode: String, minimumBp: Int64, by admin: Identity) async throws -> MinimumRatio {
        guard (0...QuotaRules.fullBp).contains(minimumBp) else {
            throw DomainError.invalid("minimumBp", "must be between 0 and \(QuotaRules.fullBp)")
        }
        let ratio = MinimumRatio(regionCode: regionCode, minimumBp: minimumBp, updatedAt: clock.now)
        try await database.write { db in
            guard try await services.regions.region(code: regionCode, in: db) != nil else { throw DomainError.notFound("region") }
            try await store.putMinimumRatio(ratio, in: db)
            try await audit.append(
                AuditEvent(admin, "minimum_ratio.set", .region(regionCode), ["minimumBp": minimumBp]), in: db)
        }
        return ratio
    }

    func removeMinimumRatio(_ regionCode: String, by admin: Identity) async throws {
        try await database.write { db in
            guard try await store.deleteMinimumRatio(regionCode: regionCode, in: db) else {
                throw DomainError.notFound("minimum ratio")
            }
            try await audit.append(AuditEvent(admin, "minimum_ratio.remove", .region(regionCode)), in: db)
        }
    }
}

/// What the filing routes answer.
enum FilingDTO {
    struct QueueItem: Encodable, Sendable {
        var organization: BuyerOrganization
        @NullEncoded var filing: BuyerDTO.PlanOutput?
    }

    struct MinimumRatios: Encodable, Sendable {
        /// The operator's national default (`--minimum-reserved-ratio-bp`).
        var defaultBp: Int64
        var items: [MinimumRatio]
    }

    struct ReturnInput: Decodable, Sendable {
        var reason: String
    }

    struct ConfirmInput: Decodable, Sendable {
        var note: String?
    }

    struct WaiverInput: Decodable, Sendable {
        var approve: Bool
        var note: String?
    }

    struct MinimumRatioInput: Decodable, Sendable {
        var minimumBp: Int64
    }
}
