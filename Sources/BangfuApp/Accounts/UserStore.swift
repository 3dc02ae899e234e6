import Foundation
import SQLKit

struct User: Sendable, Equatable {
    var id: String
    var username: String
    var role: Role
    var displayName: String
    var countyCode: String?
    var createdAt: Date
}

struct UserStore: Sendable {
    /// Inserts the user, or answers nil when the username (case-insensitively) is taken.
    func insert(_ user: User, passwordHash: String, in db: any SQLDatabase) async throws -> Bool {
        let rows = try await db.raw(
            """
            INSERT INTO users (id, username, username_key, password_hash, role, display_name, county_code, created_at)
            VALUES (\(bind: user.id), \(bind: user.username), \(bind: AccountRules.usernameKey(user.username)),
              \(bind: passwordHash), \(bind: user.role.rawValue), \(bind: user.displayName), \(bind: user.countyCode),
              \(bind: user.createdAt.millis))
            ON CONFLICT (username_key) DO NOTHING
            RETURNING id
            """
        ).all()
        return !rows.isEmpty
    }

    /// The user and password hash for a sign-in.
    func credentials(username: String, in db: any SQLDatabase) async throws -> (User, String)? {
        guard
            let row = try await db.raw(
                "SELECT * FROM users WHERE username_key = \(bind: AccountRules.usernameKey(username))"
            ).first()
        else { return nil }
        return (try Self.user(row), try row.decode(column: "password_hash", as: String.self))
    }

    func find(id: String, in db: any SQLDatabase) async throws -> User? {
        try await db.raw("SELECT * FROM users WHERE id = \(bind: id)").first().map(Self.user)
    }

    static func user(_ row: any SQLRow) throws -> User {
        let role = try row.decode(column: "role", as: String.self)
        return User(
            id: try row.decode(column: "id", as: String.self),
            username: try row.decode(column: "username", as: String.self),
            role: Role(rawValue: role) ?? .buyer,
            displayName: try row.decode(column: "display_name", as: String.self),
            countyCode: try row.decode(column: "county_code", as: String?.self),
            createdAt: Date(millis: try row.decode(column: "created_at", as: Int64.self)))
    }
}
