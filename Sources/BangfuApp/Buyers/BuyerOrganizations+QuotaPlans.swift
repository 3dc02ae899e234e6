import Foundation
import SQLKit

/// Quota plans (SPEC "Buyer organizations and the yearly quota plan"): one per organization and
/// quota year, declared by its managers or an admin, its sums kept by the orders.
extension BuyerOrganizations {
    /// Files or edits the plan of `year` (SPEC "The yearly filing"); answers it and whether it
    /// is new. Every filing (again) waits for review as `submitted`; a ratio below the region's
    /// minimum needs a `waiverReason` and waits for finance. The budget may not fall below what
    /// orders already committed or completed that year.
    func declarePlan(_ id: String, year: Int, _ body: BuyerDTO.PlanInput, by user: Identity) async throws
        -> (plan: BuyerDTO.PlanOutput, created: Bool)
    {
        let (mode, modeProblem) = FilingRules.mode(canteenMode: body.canteenMode, hasCanteen: body.hasCanteen)
        if let modeProblem { throw DomainError.validation(problems: [modeProblem]) }
        var waiverReason: String?
        if let raw = body.waiverReason {
            var v = Validator()
            waiverReason = v.text(raw, "waiverReason", max: 500, multiline: true)
            try v.check()
        }
        guard let mode else { throw DomainError.invalid("canteenMode", "is required") }
        let input = FilingInput(
            canteenMode: mode, canteenBudgetFen: body.canteenBudgetFen ?? 0, reservedRatioBp: body.reservedRatioBp ?? 0,
            sharedCanteenOrganizationId: body.sharedCanteenOrganizationId, unionBudgetFen: body.unionBudgetFen ?? 0,
            waiverReason: waiverReason)
        let now = clock.now
        let (plan, minimum, created) = try await database.write { db in
            let organization = try await managed(id, by: user, in: db)
            // Two first filings at once: the organization's row orders them (no plan row to lock yet).
            try await store.lock(organizationId: organization.id, in: db)
            guard organization.regionCode != nil else {
                throw DomainError.conflict(
                    "set the organization's region first: its minimum ratio and reviewer depend on it", field: "regionCode")
            }
            let minimum = try await minimumBp(for: organization, in: db)
            let existing = try await store.plan(organizationId: organization.id, year: year, lock: true, in: db)
            let used = (existing?.committedFen ?? 0) + (existing?.completedFen ?? 0)
            let unionUsed = (existing?.unionCommittedFen ?? 0) + (existing?.unionCompletedFen ?? 0)
            let problems = FilingRules.problems(input, minimumBp: minimum, alreadyUsedFen: used, unionUsedFen: unionUsed)
            if !problems.isEmpty { throw DomainError.validation(problems: problems) }
            if let shared = input.sharedCanteenOrganizationId {
                guard shared != organization.id, let other = try await store.organization(id: shared, in: db),
                    other.status == .active, let region = organization.regionCode, let otherRegion = other.regionCode,
                    RegionRules.province(of: region) == RegionRules.province(of: otherRegion)
                else {
                    throw DomainError.invalid("sharedCanteenOrganizationId", "must be another active organization of the province")
                }
                guard try await store.plan(organizationId: shared, year: year, in: db)?.canteenMode.hasCanteen == true else {
                    throw DomainError.invalid(
                        "sharedCanteenOrganizationId", "must have filed this year's plan with a canteen of its own")
                }
            }
            var plan =
                existing
                ?? QuotaPlan(
                    organizationId: organization.id, year: year, hasCanteen: mode.hasCanteen, canteenBudgetFen: 0,
                    reservedRatioBp: 0, committedFen: 0, completedFen: 0, refundedFen: 0, createdAt: now, updatedAt: now)
            let previous = existing
            plan.hasCanteen = mode.hasCanteen
            plan.canteenMode = mode
            plan.canteenBudgetFen = input.canteenBudgetFen
            plan.reservedRatioBp = input.reservedRatioBp
            plan.sharedCanteenOrganizationId = input.sharedCanteenOrganizationId
            plan.unionBudgetFen = input.unionBudgetFen
            plan.status = .submitted
            plan.returnReason = nil
            plan.updatedAt = now
            if let reason = input.waiverReason {
                // An approved waiver stands while the ratio and the reason it allowed stay; any other
                // change asks again.
                let keeps =
                    previous?.waiverStatus == .approved && previous?.reservedRatioBp == input.reservedRatioBp
                    && previous?.waiverReason == reason
                plan.waiverReason = reason
                if !keeps { (plan.waiverStatus, plan.waiverNote) = (.requested, nil) }
            } else {
                (plan.waiverReason, plan.waiverStatus, plan.waiverNote) = (nil, nil, nil)
            }
            try await store.save(plan, in: db)
            try await HistoryStore.filings.add(
                HistoryRecord(
                    action: "submit", actorId: user.userId, actorRole: user.role.rawValue, fromStatus: previous?.status.rawValue,
                    toStatus: plan.status.rawValue, note: nil, at: now),
                ownerId: plan.id, id: ids.next(), in: db)
            try await audit.append(
                AuditEvent(
                    user, "quota_plan.declare", .quotaPlan(plan.id),
                    [
                        "canteenMode": mode.rawValue, "canteenBudgetFen": plan.canteenBudgetFen,
                        "reservedRatioBp": plan.reservedRatioBp, "reservedFen": plan.reservedFen,
                        "previousBudgetFen": previous?.canteenBudgetFen, "unionBudgetFen": plan.unionBudgetFen,
                        "sharedCanteenOrganizationId": plan.sharedCanteenOrganizationId, "waiverReason": plan.waiverReason,
                        "waiverStatus": plan.waiverStatus?.rawValue, "minimumBp": minimum,
                    ]), in: db)
            // A waiver asked for (again) is finance's to decide: its own event, so its officers hear of it.
            let askedBefore =
                previous?.waiverStatus == .requested && previous?.reservedRatioBp == plan.reservedRatioBp
                && previous?.waiverReason == plan.waiverReason
            if plan.waiverStatus == .requested && !askedBefore {
                try await audit.append(
                    AuditEvent(
                        user, "filing.waiver_request", .quotaPlan(plan.id),
                        ["reservedRatioBp": plan.reservedRatioBp, "minimumBp": minimum, "reason": plan.waiverReason]),
                    in: db)
            }
            return (plan, minimum, previous == nil)
        }
        return (BuyerDTO.PlanOutput(plan, now: now, minimumBp: minimum), created)
    }

    /// The minimum ratio that applies to the organization's region now (SPEC "Minimum ratio by
    /// region": the most specific override, else the operator's national default).
    func minimumBp(for organization: BuyerOrganization, in db: any SQLDatabase) async throws -> Int64 {
        FilingRules.minimumBp(
            regionCode: organization.regionCode, overrides: try await services.filings.overrides(for: organization.regionCode, in: db),
            defaultBp: minimumReservedRatioBp)
    }

    /// The plan of `year` of an organization `user` may see.
    func plan(_ id: String, year: Int, for user: Identity) async throws -> BuyerDTO.PlanOutput {
        let (plan, minimum) = try await database.read { db in
            let organization = try await visible(id, to: user, in: db)
            guard let plan = try await store.plan(organizationId: organization.id, year: year, in: db) else {
                throw DomainError.notFound("quota plan")
            }
            return (plan, try await minimumBp(for: organization, in: db))
        }
        return BuyerDTO.PlanOutput(plan, now: clock.now, minimumBp: minimum)
    }

    /// A page of every organization's plan of `year` (nil: the current quota year), by
    /// organization; `onlyBehind` keeps those behind their pro-rata schedule.
    func plans(year: Int?, onlyBehind: Bool, paging: Paging) async throws -> Page<BuyerDTO.PlanOutput> {
        let (rows, now, _, minimum) = try await plans(
            year: year, onlyBehind: onlyBehind, after: paging.position, limit: paging.fetchLimit)
        return Page(rows, paging, tag: "quota-plans", position: \.organizationId) {
            BuyerDTO.PlanOutput($0, now: now, minimumBp: minimum($0), named: true)
        }
    }

    /// All of those plans at once (the CSV export), and the year they are of.
    func allPlans(year: Int?, onlyBehind: Bool) async throws -> (year: Int, plans: [BuyerDTO.PlanOutput]) {
        let (rows, now, year, minimum) = try await plans(year: year, onlyBehind: onlyBehind, after: nil, limit: nil)
        return (year, rows.map { BuyerDTO.PlanOutput($0, now: now, minimumBp: minimum($0), named: true) })
    }

    private func plans(year: Int?, onlyBehind: Bool, after: String?, limit: Int?) async throws
        -> (plans: [QuotaPlan], now: Date, year: Int, minimumBp: @Sendable (QuotaPlan) -> Int64)
    {
        let now = clock.now
        let year = year ?? QuotaRules.quotaYear(of: now)
        let expected = QuotaRules.expectedBp(at: now, year: year)
        let (rows, ratios) = try await database.read { db in
            (
                try await store.plans(
                    year: year, behindExpectedBp: onlyBehind ? expected : nil, after: after, limit: limit, in: db),
                try await services.filings.minimumRatios(in: db)
            )
        }
        let overrides = Dictionary(ratios.map { ($0.regionCode, $0.minimumBp) }, uniquingKeysWith: { a, _ in a })
        let defaultBp = minimumReservedRatioBp
        return (rows, now, year, { FilingRules.minimumBp(regionCode: $0.regionCode, overrides: overrides, defaultBp: defaultBp) })
    }
}
