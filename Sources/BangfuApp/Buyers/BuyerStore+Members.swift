import Foundation
import SQLKit

/// A member's part in its organization (SPEC "Accounts").
enum MemberRole: String, Codable, Sendable, CaseIterable {
    /// 单位管理账号: files the plan, manages members, sees everything of its unit and below.
    case manager
    /// 交易账号: orders, accepts, pays.
    case purchaser
    /// The outsourced canteen operator's purchaser: orders and accepts, never pays, files nor manages.
    case contractor
}

/// The organization a buyer user belongs to and in which part.
struct Membership: Sendable {
    var organization: BuyerOrganization
    var role: MemberRole
}

/// A member as `GET /buyer-organizations/{id}/members` shows it.
struct Member: RowModel, Encodable, Equatable {
    var userId: String
    var username: String
    var displayName: String
    var memberRole: MemberRole
    @OptionalMillis var lastSignInAt: Date?
}

extension BuyerStore {
    /// The organization `userId` buys for and its part there, if any.
    func membership(userId: String, in db: any SQLDatabase) async throws -> Membership? {
        guard
            let row = try await db.raw(
                """
                SELECT o.*, m.member_role FROM buyer_members m JOIN buyer_organizations o ON o.id = m.organization_id
                WHERE m.user_id = \(bind: userId)
                """
            ).first()
        else { return nil }
        return Membership(
            organization: try row.model(BuyerOrganization.self), role: try row.decode(column: "member_role", as: MemberRole.self))
    }

    /// The organization's members, managers first, then by username.
    func members(organizationId: String, in db: any SQLDatabase) async throws -> [Member] {
        try await db.raw(
            """
            SELECT m.user_id, u.username, u.display_name, m.member_role, u.last_sign_in_at
            FROM buyer_members m JOIN users u ON u.id = m.user_id
            WHERE m.organization_id = \(bind: organizationId)
            ORDER BY CASE m.member_role WHEN 'manager' THEN 0 ELSE 1 END, u.username_key
            """
        ).all().map { try $0.model(Member.self) }
    }

    func addMember(userId: String, organizationId: String, role: MemberRole, at: Date, in db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO buyer_members (user_id, organization_id, created_at, member_role)
            VALUES (\(bind: userId), \(bind: organizationId), \(bind: at.millis), \(bind: role.rawValue))
            """
        ).run()
    }

    /// Removes the membership; false when `userId` was not a member of the organization.
    func removeMember(userId: String, organizationId: String, in db: any SQLDatabase) async throws -> Bool {
        try await db.raw(
            """
            DELETE FROM buyer_members WHERE user_id = \(bind: userId) AND organization_id = \(bind: organizationId)
            RETURNING user_id
            """
        ).first() != nil
    }

    /// Locks the organization's row on PostgreSQL, so that member changes of one organization
    /// (two managers removing each other) run one after the other.
    func lock(organizationId: String, in db: any SQLDatabase) async throws {
        guard engine == .postgres else { return }
        try await db.raw("SELECT id FROM buyer_organizations WHERE id = \(bind: organizationId) FOR UPDATE").run()
    }
}
