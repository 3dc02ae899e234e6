import Foundation
import SQLKit

/// Quota plans (SPEC "Buyer organizations and the yearly quota plan"): one per organization and
/// quota year, declared by its managers or an admin, its sums kept by the orders.
extension BuyerOrganizations {
    /// Declares or changes the plan of `year`; answers it and whether it is new. The budget may
    /// not fall below what orders already committed or completed that year; 「无食堂」
    /// (`hasCanteen: false`) has neither budget nor share.
    func declarePlan(_ id: String, year: Int, _ input: QuotaPlanInput, by user: Identity) async throws
        -> (plan: BuyerDTO.PlanOutput, created: Bool)
    {
        let now = clock.now
        let minimum = minimumReservedRatioBp
        let (plan, created) = try await database.write { db in
            let organization = try await managed(id, by: user, in: db)
            let existing = try await store.plan(organizationId: organization.id, year: year, lock: true, in: db)
            let used = (existing?.committedFen ?? 0) + (existing?.completedFen ?? 0)
            let problems = QuotaRules.problems(input, minimumRatioBp: minimum, alreadyUsedFen: used)
            if !problems.isEmpty { throw DomainError.validation(problems: problems) }
            var plan =
                existing
                ?? QuotaPlan(
                    organizationId: organization.id, year: year, hasCanteen: input.hasCanteen, canteenBudgetFen: 0,
                    reservedRatioBp: 0, committedFen: 0, completedFen: 0, refundedFen: 0, createdAt: now, updatedAt: now)
            plan.hasCanteen = input.hasCanteen
            plan.canteenBudgetFen = input.canteenBudgetFen
            plan.reservedRatioBp = input.reservedRatioBp
            plan.updatedAt = now
            try await store.save(plan, in: db)
            try await audit.append(
                AuditEvent(
                    user, "quota_plan.declare", .quotaPlan("\(organization.id)/\(year)"),
                    [
                        "hasCanteen": plan.hasCanteen, "canteenBudgetFen": plan.canteenBudgetFen,
                        "reservedRatioBp": plan.reservedRatioBp, "reservedFen": plan.reservedFen,
                        "previousBudgetFen": existing?.canteenBudgetFen,
                    ]), in: db)
            return (plan, existing == nil)
        }
        return (BuyerDTO.PlanOutput(plan, now: now), created)
    }

    /// The plan of `year` of an organization `user` may see.
    func plan(_ id: String, year: Int, for user: Identity) async throws -> BuyerDTO.PlanOutput {
        let plan = try await database.read { db in
            let organization = try await visible(id, to: user, in: db)
            guard let plan = try await store.plan(organizationId: organization.id, year: year, in: db) else {
                throw DomainError.notFound("quota plan")
            }
            return plan
        }
        return BuyerDTO.PlanOutput(plan, now: clock.now)
    }

    /// A page of every organization's plan of `year` (nil: the current quota year), by
    /// organization; `onlyBehind` keeps those behind their pro-rata schedule.
    func plans(year: Int?, onlyBehind: Bool, paging: Paging) async throws -> Page<BuyerDTO.PlanOutput> {
        let (rows, now, _) = try await plans(year: year, onlyBehind: onlyBehind, after: paging.position, limit: paging.fetchLimit)
        return Page(rows, paging, tag: "quota-plans", position: \.organizationId) {
            BuyerDTO.PlanOutput($0, now: now, named: true)
        }
    }

    /// All of those plans at once (the CSV export), and the year they are of.
    func allPlans(year: Int?, onlyBehind: Bool) async throws -> (year: Int, plans: [BuyerDTO.PlanOutput]) {
        let (rows, now, year) = try await plans(year: year, onlyBehind: onlyBehind, after: nil, limit: nil)
        return (year, rows.map { BuyerDTO.PlanOutput($0, now: now, named: true) })
    }

    private func plans(year: Int?, onlyBehind: Bool, after: String?, limit: Int?) async throws
        -> (plans: [QuotaPlan], now: Date, year: Int)
    {
        let now = clock.now
        let year = year ?? QuotaRules.quotaYear(of: now)
        let expected = QuotaRules.expectedBp(at: now, year: year)
        let rows = try await database.read { db in
            try await store.plans(
                year: year, behindExpectedBp: onlyBehind ? expected : nil, after: after, limit: limit, in: db)
        }
        return (rows, now, year)
    }
}
