import Foundation
import SQLKit

/// Member accounts (SPEC "Accounts"): a manager creates and removes its organization's
/// purchasers, contractors and fellow managers; a removed member's sessions end at once.
extension BuyerOrganizations {
    /// The members, for the organization's own members and admins (403 for a supervisor).
    func members(_ id: String, for user: Identity) async throws -> [Member] {
        try await database.read { db in
            let (organization, access) = try await access(id, for: user, in: db)
            switch access {
            case .member, .admin: break
            case .supervisor, .finance:
                throw DomainError(.forbidden, code: "forbidden", detail: "only the organization's members see its accounts")
            }
            return try await store.members(organizationId: organization.id, in: db)
        }
    }

    /// Creates a buyer account as a member of organization `id`, by one of its managers. A
    /// contractor needs an outsourced canteen to work for: this quota year's filing says so.
    func addMember(_ id: String, _ input: BuyerDTO.MemberInput, by user: Identity) async throws -> Member {
        var v = Validator()
        if !AccountRules.isValidUsername(input.username) {
            v.fail("username", "must be 3 to 32 characters of A-Z a-z 0-9 _ . -")
        }
        if let problem = AccountRules.passwordProblem(input.password) { v.fail("password", problem) }
        let displayName = v.text(input.displayName, "displayName", max: 64)
        let role = MemberRole(rawValue: input.memberRole)
        if role == nil { v.fail("memberRole", "must be one of manager, purchaser, contractor") }
        try v.check()
        guard let displayName, let role else { throw DomainError.validation(v.errors) }
        let now = clock.now
        let account = User(
            id: ids.next(), username: input.username, role: .buyer, displayName: displayName, countyCode: nil, createdAt: now)
        let hash = try await passwords.hash(input.password)
        let year = QuotaRules.quotaYear(of: now)
        return try await database.write { db in
            let organization = try await managed(id, by: user, admin: false, in: db)
            if role == .contractor, try await store.plan(organizationId: organization.id, year: year, in: db)?.canteenMode != .outsourced {
                throw DomainError.invalid(
                    "memberRole", "contractors work for an outsourced canteen: file this year's plan with canteenMode outsourced first")
            }
            try await services.accounts.create(account, passwordHash: hash, by: user, in: db)
            try await store.addMember(userId: account.id, organizationId: organization.id, role: role, at: now, in: db)
            try await audit.append(
                AuditEvent(
                    user, "buyer_member.create", .buyerOrganization(organization.id),
                    ["userId": account.id, "username": account.username, "memberRole": role.rawValue]),
                in: db)
            return Member(
                userId: account.id, username: account.username, displayName: displayName, memberRole: role, lastSignInAt: nil)
        }
    }

    /// Removes member `userId`: the account is disabled and its sessions end in the same
    /// transaction. The last manager stays (409).
    func removeMember(_ id: String, userId: String, by user: Identity) async throws {
        let now = clock.now
        try await database.write { db in
            let organization = try await managed(id, by: user, admin: false, in: db)
            try await store.lock(organizationId: organization.id, in: db)
            let members = try await store.members(organizationId: organization.id, in: db)
            guard let member = members.first(where: { $0.userId == userId }) else { throw DomainError.notFound("member") }
            if member.memberRole == .manager, members.filter({ $0.memberRole == .manager }).count <= 1 {
                throw DomainError.conflict("the last manager cannot be removed; make another member a manager first")
            }
            guard try await store.removeMember(userId: userId, organizationId: organization.id, in: db) else {
                throw DomainError.notFound("member")
            }
            try await services.accounts.users.disable(id: userId, at: now, in: db)
            try await services.accounts.sessions.deleteAll(userId: userId, in: db)
            try await audit.append(
                AuditEvent(
                    user, "buyer_member.remove", .buyerOrganization(organization.id),
                    ["userId": userId, "username": member.username, "memberRole": member.memberRole.rawValue]),
                in: db)
        }
    }
}
