import Foundation
import Hummingbird
import SQLKit

/// Buyer organizations (预算单位) and their yearly quota plans (API.md "Buyer organizations and
/// quota plans").
struct BuyerOrganizationsController {
    let services: AppServices
    var store: BuyerStore { services.buyers }

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.post("/api/v1/buyer-organizations", use: create)
        router.get("/api/v1/buyer-organizations", use: list)
        router.get("/api/v1/buyer-organizations/:id", use: show)
        router.post("/api/v1/buyer-organizations/:id/verification", use: verify)
        router.put("/api/v1/buyer-organizations/:id/quota-plans/:year", use: putPlan)
        router.get("/api/v1/buyer-organizations/:id/quota-plans/:year", use: getPlan)
        router.group().add(middleware: services.rateLimited(.exporting)).get("/api/v1/quota-plans", use: plans)
    }

    // MARK: DTOs

    struct Input: Decodable {
        var name: String
        var creditCode: String
        var department: String
        var countyCode: String?
        var canteenAddress: String
        var contactName: String
        var contactPhone: String
    }

    struct Output: Encodable {
        var id: String
        var name: String
        var creditCode: String
        var department: String
        @NullEncoded var countyCode: String?
        var canteenAddress: String
        var contactName: String
        var contactPhone: String
        var status: BuyerOrganizationStatus
        @NullEncoded var verifiedAt: String?
        var createdAt: String
        var updatedAt: String

        init(_ o: BuyerOrganization) {
            id = o.id
            name = o.name
            creditCode = o.creditCode
            department = o.department
            countyCode = o.countyCode
            canteenAddress = o.canteenAddress
            contactName = o.contactName
            contactPhone = o.contactPhone
            status = o.status
            verifiedAt = o.verifiedAt?.rfc3339
            createdAt = o.createdAt.rfc3339
            updatedAt = o.updatedAt.rfc3339
        }
    }

    struct PlanInput: Decodable {
        var hasCanteen: Bool
        var canteenBudgetFen: Int64?
        var reservedRatioBp: Int64?
    }

    struct PlanOutput: Encodable {
        var organizationId: String
        var year: Int
        var hasCanteen: Bool
        var canteenBudgetFen: Int64
        var reservedRatioBp: Int64
        var reservedFen: Int64
        var committedFen: Int64
        var completedFen: Int64
        var refundedFen: Int64
        var remainingBudgetFen: Int64
        var completionBp: Int64
        var expectedBp: Int64
        var onTrack: Bool
        /// In the admin list only.
        @NullEncoded var organizationName: String?
        @NullEncoded var department: String?
        var createdAt: String
        var updatedAt: String

        init(_ plan: QuotaPlan, now: Date, named: Bool = false) {
            let progress = plan.progress(expectedBp: QuotaRules.expectedBp(at: now, year: plan.year))
            organizationId = plan.organizationId
            year = plan.year
            hasCanteen = plan.hasCanteen
            canteenBudgetFen = plan.canteenBudgetFen
            reservedRatioBp = plan.reservedRatioBp
            reservedFen = progress.reservedFen
            committedFen = progress.committedFen
            completedFen = progress.completedFen
            refundedFen = progress.refundedFen
            remainingBudgetFen = progress.remainingBudgetFen
            completionBp = progress.completionBp
            expectedBp = progress.expectedBp
            onTrack = progress.onTrack
            organizationName = named ? plan.organizationName : nil
            department = named ? plan.department : nil
            createdAt = plan.createdAt.rfc3339
            updatedAt = plan.updatedAt.rfc3339
        }
    }

    // MARK: Organizations

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.require(.buyer)
        let input = try await request.decodeJSON(Input.self, context: context)
        var v = Validator()
        let name = v.text(input.name, "name", max: 100)
        let code = v.text(input.creditCode, "creditCode", max: 18)?.uppercased()
        if let code {
            if let problem = CreditCode.problem(code) {
                v.fail("creditCode", problem.message)
            } else if !code.hasPrefix("1") {
                v.fail("creditCode", "must be the code of a 机关 or 事业单位 (registered by 机构编制, starting with 1)")
            }
        }
        let department = v.text(input.department, "department", max: 100)
        let countyCode = v.text(input.countyCode, "countyCode", max: 6, required: false)
        let address = v.text(input.canteenAddress, "canteenAddress", max: 200)
        let contactName = v.text(input.contactName, "contactName", max: 50)
        let phone = v.text(input.contactPhone, "contactPhone", max: 20)
        if let phone, !PhoneNumber.isValid(phone) {
            v.fail("contactPhone", "must be a mobile number (1[3-9] and 9 digits) or a fixed line with its area code")
        }
        try v.check()
        guard let name, let code, let department, let address, let contactName, let phone else {
            throw DomainError.validation(v.errors)
        }
        let now = services.clock.now
        let organization = BuyerOrganization(
            id: services.ids.next(), name: name, creditCode: code, department: department, countyCode: countyCode,
            canteenAddress: address, contactName: contactName, contactPhone: phone, status: .pending,
            createdBy: user.userId, verifiedAt: nil, createdAt: now, updatedAt: now)
        try await services.database.write { db in
            if let countyCode, try await services.reference.county(code: countyCode, in: db) == nil {
                throw DomainError.invalid("countyCode", "is not a registered county")
            }
            if try await store.organization(memberId: user.userId, in: db) != nil {
                throw DomainError.conflict("you already buy for an organization")
            }
            if try await store.creditCodeInUse(organization.creditCode, in: db) {
                throw DomainError.conflict("an organization with this credit code is registered", field: "creditCode")
            }
            do {
                try await store.insert(organization, in: db)
            } catch where isUniqueViolation(error, on: "credit_code") {
                throw DomainError.conflict("an organization with this credit code is registered", field: "creditCode")
            } catch where isUniqueViolation(error) {
                // The buyer's membership: a concurrent registration by the same buyer.
                throw DomainError.conflict("you already buy for an organization")
            }
            try await services.audit.append(
                AuditEvent(
                    actorId: user.userId, action: "buyer_organization.register", entityType: "buyer_organization",
                    entityId: organization.id,
                    data: ["name": .string(organization.name), "creditCode": .string(organization.creditCode)]),
                in: db)
        }
        return try .json(Output(organization), status: .created)
    }

    /// The admins' queue: `?status=pending|active`, newest first.
    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        let paging = try Paging.parse(request, tag: "buyer-organizations")
        let wanted = try Paging.choice(request, "status", BuyerOrganizationStatus.self)
        let after = try paging.position.map(Paging.timeAndId)
        let rows = try await services.database.read { db in
            try await store.organizations(status: wanted, after: after, limit: paging.limit + 1, in: db)
        }
        let next = rows.count > paging.limit ? rows[paging.limit - 1] : nil
        return try .json(
            Page(
                items: rows.prefix(paging.limit).map(Output.init),
                nextCursor: next.map { Paging.cursor(tag: "buyer-organizations", position: "\($0.createdAt.millis)|\($0.id)") }))
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.require(.buyer, .admin)
        let id = try context.parameters.require("id")
        let organization = try await services.database.read { db in try await visible(id, to: user, in: db) }
        return try .json(Output(organization))
    }

    @Sendable func verify(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.require(.admin)
        let id = try context.parameters.require("id")
        let now = services.clock.now
        let organization = try await services.database.write { db in
            guard let organization = try await store.organization(id: id, in: db) else {
                throw DomainError.notFound("buyer organization")
            }
            guard try await store.activate(id: id, at: now, in: db) else {
                throw DomainError.invalidTransition(current: organization.status.rawValue, action: "verify")
            }
            try await services.audit.append(
                AuditEvent(
                    actorId: user.userId, action: "buyer_organization.verify", entityType: "buyer_organization",
                    entityId: id, data: ["from": .string("pending"), "to": .string("active")]), in: db)
            guard let verified = try await store.organization(id: id, in: db) else { throw DomainError.notFound("organization") }
            return verified
        }
        return try .json(Output(organization))
    }

    /// The organization if `user` may see it: one of its buyers, or an admin (404 for others).
    func visible(_ id: String, to user: Identity, in db: any SQLDatabase) async throws -> BuyerOrganization {
        if user.role == .admin, let organization = try await store.organization(id: id, in: db) { return organization }
        if user.role == .buyer, let organization = try await store.organization(memberId: user.userId, in: db),
            organization.id == id
        {
            return organization
        }
        throw DomainError.notFound("buyer organization")
    }

    // MARK: Quota plans

    static let years: ClosedRange<Int> = 2000...2100

    private func year(_ context: AppRequestContext) throws -> Int {
        guard let year = Int(try context.parameters.require("year")), Self.years.contains(year) else {
            throw DomainError.badRequest("year must be a year from 2000 to 2100", field: "year")
        }
        return year
    }

    /// Declares or changes the plan. The budget may not fall below what orders already committed
    /// or completed that year; 「无食堂」 (`hasCanteen: false`) has neither budget nor share.
    @Sendable func putPlan(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.require(.buyer, .admin)
        let id = try context.parameters.require("id")
        let year = try year(context)
        // Another organization's buyer gets 404 before the body is judged.
        _ = try await services.database.read { db in try await visible(id, to: user, in: db) }
        let body = try await request.decodeJSON(PlanInput.self, context: context)
        let input = QuotaPlanInput(
            hasCanteen: body.hasCanteen, canteenBudgetFen: body.canteenBudgetFen ?? 0,
            reservedRatioBp: body.reservedRatioBp ?? 0)
        let now = services.clock.now
        let minimum = services.configuration.minimumReservedRatioBp
        let (plan, created) = try await services.database.write { db in
            let organization = try await visible(id, to: user, in: db)
            let existing = try await store.plan(organizationId: organization.id, year: year, lock: true, in: db)
            let used = (existing?.committedFen ?? 0) + (existing?.completedFen ?? 0)
            let problems = QuotaRules.problems(input, minimumRatioBp: minimum, alreadyUsedFen: used)
            if !problems.isEmpty { throw DomainError.validation(problems.map { FieldError($0.field, $0.message) }) }
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
            try await services.audit.append(
                AuditEvent(
                    actorId: user.userId, action: "quota_plan.declare", entityType: "quota_plan",
                    entityId: "\(organization.id)/\(year)",
                    data: [
                        "hasCanteen": .bool(plan.hasCanteen), "canteenBudgetFen": .int(plan.canteenBudgetFen),
                        "reservedRatioBp": .int(plan.reservedRatioBp), "reservedFen": .int(plan.reservedFen),
                        "previousBudgetFen": AuditValue(existing?.canteenBudgetFen),
                    ]), in: db)
            return (plan, existing == nil)
        }
        return try .json(PlanOutput(plan, now: now), status: created ? .created : .ok)
    }

    @Sendable func getPlan(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.require(.buyer, .admin)
        let id = try context.parameters.require("id")
        let year = try year(context)
        let plan = try await services.database.read { db in
            let organization = try await visible(id, to: user, in: db)
            guard let plan = try await store.plan(organizationId: organization.id, year: year, in: db) else {
                throw DomainError.notFound("quota plan")
            }
            return plan
        }
        return try .json(PlanOutput(plan, now: services.clock.now))
    }

    /// Every organization's plan of `year` (default: the current quota year), `behind=true` for
    /// those behind their pro-rata schedule; JSON pages by organization, or all of it as CSV.
    @Sendable func plans(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        let csv = try CSV.isRequested(request)
        let paging = try Paging.parse(request, tag: "quota-plans")
        let now = services.clock.now
        let query = request.uri.queryParameters
        var year = QuotaRules.quotaYear(of: now)
        if let raw = query["year"] {
            guard let parsed = Int(String(raw)), Self.years.contains(parsed) else {
                throw DomainError.badRequest("year must be a year from 2000 to 2100", field: "year")
            }
            year = parsed
        }
        var behind = false
        if let raw = query["behind"] {
            guard raw == "true" || raw == "false" else { throw DomainError.badRequest("behind must be true or false", field: "behind") }
            behind = raw == "true"
        }
        let expected = QuotaRules.expectedBp(at: now, year: year)
        let (selected, onlyBehind) = (year, behind)
        let rows = try await services.database.read { db in
            try await store.plans(
                year: selected, behindExpectedBp: onlyBehind ? expected : nil, after: csv ? nil : paging.position,
                limit: csv ? nil : paging.limit + 1, in: db)
        }
        if csv {
            return CSV.response(
                header: ["单位 organization", "主管部门 department", "单位ID organizationId", "年度 year", "有食堂 hasCanteen",
                    "食材采购总额 canteenBudgetFen", "预留比例 reservedRatioBp", "预留份额 reservedFen", "已完结 completedFen",
                    "在途 committedFen", "已退款 refundedFen", "完成率 completionBp", "进度线 expectedBp", "正常 onTrack"],
                rows: rows.map { plan in
                    let p = PlanOutput(plan, now: now, named: true)
                    return [plan.organizationName, plan.department, p.organizationId, String(p.year), String(p.hasCanteen),
                        String(p.canteenBudgetFen), String(p.reservedRatioBp), String(p.reservedFen), String(p.completedFen),
                        String(p.committedFen), String(p.refundedFen), String(p.completionBp), String(p.expectedBp),
                        String(p.onTrack)]
                },
                filename: "quota-plans-\(year).csv")
        }
        let next = rows.count > paging.limit ? rows[paging.limit - 1] : nil
        return try .json(
            Page(
                items: rows.prefix(paging.limit).map { PlanOutput($0, now: now, named: true) },
                nextCursor: next.map { Paging.cursor(tag: "quota-plans", position: $0.organizationId) }))
    }
}
