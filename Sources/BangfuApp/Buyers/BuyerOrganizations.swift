import Foundation
import SQLKit

/// The steps of a buyer organization: registered `pending` by one of its buyers, made `active`
/// by an admin's verification.
enum BuyerOrganizationAction: String, Sendable, CaseIterable {
    case verify
}

/// Buyer organizations (预算单位) and their yearly quota plans (API.md "Buyer organizations and
/// quota plans"): a buyer registers the organization it buys for, an admin verifies it, its
/// managers (or an admin) file a plan per quota year, and admins follow every plan's progress.
/// An organization is visible to its members, the managers of organizations above it, finance
/// officers of its region and admins; to anyone else it does not exist.
struct BuyerOrganizations: UseCase {
    let services: AppServices
    var store: BuyerStore { services.buyers }
    var minimumReservedRatioBp: Int64 { services.configuration.minimumReservedRatioBp }

    /// The quota years a plan may be declared for.
    static let years: ClosedRange<Int> = 2000...2100

    static let workflow = Workflow<BuyerOrganizationStatus, BuyerOrganizationAction, Role>(
        subject: "a buyer organization", [.init(from: .pending, action: .verify, by: [.admin], to: .active)])

    init(_ services: AppServices) {
        self.services = services
    }

    // MARK: Organizations

    /// Registers the organization the buyer buys for (one per buyer), pending verification.
    func register(_ input: BuyerDTO.OrganizationInput, by user: Identity) async throws -> BuyerOrganization {
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
        let regionCode = v.text(input.regionCode, "regionCode", max: 6)
        if let regionCode, !RegionRules.isWellFormed(regionCode) { v.fail("regionCode", "must be a 6-digit GB/T 2260 code") }
        let parentId = v.text(input.parentId, "parentId", max: 64, required: false)
        let address = v.text(input.canteenAddress, "canteenAddress", max: 200)
        let contactName = v.text(input.contactName, "contactName", max: 50)
        let phone = v.text(input.contactPhone, "contactPhone", max: 20)
        if let phone, !PhoneNumber.isValid(phone) {
            v.fail("contactPhone", "must be a mobile number (1[3-9] and 9 digits) or a fixed line with its area code")
        }
        try v.check()
        guard let name, let code, let department, let address, let contactName, let phone, let regionCode else {
            throw DomainError.validation(v.errors)
        }
        let now = clock.now
        let organization = BuyerOrganization(
            id: ids.next(), name: name, creditCode: code, department: department, countyCode: countyCode,
            canteenAddress: address, contactName: contactName, contactPhone: phone, status: .pending,
            createdBy: user.userId, verifiedAt: nil, createdAt: now, updatedAt: now, regionCode: regionCode, parentId: parentId)
        try await database.write { db in
            if let countyCode, try await reference.county(code: countyCode, in: db) == nil {
                throw DomainError.invalid("countyCode", "is not a registered county")
            }
            try await checkPlacement(organization, moving: false, in: db)
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
            try await audit.append(
                AuditEvent(
                    user, "buyer_organization.register", .buyerOrganization(organization.id),
                    [
                        "name": organization.name, "creditCode": organization.creditCode, "regionCode": regionCode,
                        "parentId": parentId,
                    ]),
                in: db)
        }
        return organization
    }

    /// The organizations `user` may list, newest first: every one for an admin, a finance
    /// officer's region, a manager's own and those below it (API.md `GET /buyer-organizations`); other buyers are refused.
    func organizations(_ filter: BuyerStore.OrganizationFilter, for user: Identity, paging: Paging) async throws
        -> Page<BuyerOrganization>
    {
        let after = try paging.position.map(Paging.timeAndId)
        let rows = try await database.read { db in
            var filter = filter
            if user.role == .finance {
                guard let scope = user.regionCode else { throw DomainError.forbidden }
                filter.scopeRegionCode = scope
            } else if user.role != .admin {
                guard let membership = try await store.membership(userId: user.userId, in: db), membership.role == .manager
                else { throw DomainError(.forbidden, code: "forbidden", detail: "only a unit's managers list its organizations") }
                filter.withinSubtreeOf = membership.organization.id
            }
            return try await store.organizations(filter, after: after, limit: paging.fetchLimit, in: db)
        }
        return Page(
            rows, paging, tag: "buyer-organizations", position: { Paging.timeAndId($0.createdAt, $0.id) },
            item: { $0 })
    }

    /// The organization, if `user` may see it.
    func organization(_ id: String, for user: Identity) async throws -> BuyerOrganization {
        try await database.read { db in try await visible(id, to: user, in: db) }
    }

    /// pending → active, by an admin.
    func verify(_ id: String, by user: Identity) async throws -> BuyerOrganization {
        let now = clock.now
        return try await database.write { db in
            guard let organization = try await store.organization(id: id, in: db) else {
                throw DomainError.notFound("buyer organization")
            }
            let next = try Self.workflow.check(.verify, from: organization.status, by: user.role)
            // Conditional, so that of two verifications at once only one succeeds.
            guard try await store.activate(id: id, at: now, in: db) else {
                throw DomainError.invalidTransition(current: organization.status.rawValue, action: "verify")
            }
            try await audit.append(
                AuditEvent(
                    user, "buyer_organization.verify", .buyerOrganization(id),
                    ["from": organization.status.rawValue, "to": next.rawValue]),
                in: db)
            guard let verified = try await store.organization(id: id, in: db) else { throw DomainError.notFound("organization") }
            return verified
        }
    }

    /// The organization if `user` may see it: a member, a manager of an organization above it
    /// (read-only), a finance officer of its region (read-only), or an admin; 404 for anyone else.
    func visible(_ id: String, to user: Identity, in db: any SQLDatabase) async throws -> BuyerOrganization {
        try await access(id, for: user, in: db).organization
    }

    /// The organization and the caller's part in it.
    func access(_ id: String, for user: Identity, in db: any SQLDatabase) async throws
        -> (organization: BuyerOrganization, access: OrganizationAccess)
    {
        switch user.role {
        case .admin:
            if let organization = try await store.organization(id: id, in: db) { return (organization, .admin) }
        case .buyer:
            if let membership = try await store.membership(userId: user.userId, in: db) {
                if membership.organization.id == id { return (membership.organization, .member(membership.role)) }
                if membership.role == .manager, try await store.ancestors(of: id, in: db).contains(membership.organization.id),
                    let organization = try await store.organization(id: id, in: db)
                {
                    return (organization, .supervisor)
                }
            }
        case .finance:
            if let scope = user.regionCode, let organization = try await store.organization(id: id, in: db),
                let region = organization.regionCode, RegionRules.covers(scope, region)
            {
                return (organization, .finance)
            }
        default: break
        }
        throw DomainError.notFound("buyer organization")
    }

    /// Refuses (404, then 403) a caller who does not manage organization `id`, before its body is
    /// judged: strangers learn nothing from a 422, a purchaser is told it may not.
    func checkManaged(_ id: String, by user: Identity, admin: Bool = true) async throws {
        _ = try await database.read { db in try await managed(id, by: user, admin: admin, in: db) }
    }

    /// The organization if `user` manages it (an admin too when `admin`): 404 when it may not see
    /// it, 403 when it sees it but only as a purchaser, contractor or supervisor.
    func managed(_ id: String, by user: Identity, admin: Bool = true, in db: any SQLDatabase) async throws
        -> BuyerOrganization
    {
        let (organization, access) = try await access(id, for: user, in: db)
        switch access {
        case .member(.manager): return organization
        case .admin where admin: return organization
        default: throw DomainError(.forbidden, code: "forbidden", detail: "only the organization's managers may do this")
        }
    }
}

/// What a caller is to an organization it may see.
enum OrganizationAccess: Equatable, Sendable {
    case admin
    case member(MemberRole)
    /// A manager of an organization above it: reads, never changes.
    case supervisor
    /// A finance officer of its region: reads; reviews top-level filings and waivers.
    case finance
}
