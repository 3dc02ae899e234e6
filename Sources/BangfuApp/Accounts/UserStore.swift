import Foundation
import SQLKit

struct User: TableRow, Encodable, Equatable {
    var id: String
    var username: String
    var role: Role
    var displayName: String
    @NullEncoded var countyCode: String?
    @Millis var createdAt: Date
    /// A finance officer's region.
    @NullEncoded var regionCode: String? = nil
}

extension User {
    /// The columns of `users`: a user's own, then the sign-in key and password hash, which a `User`
    /// does not carry (the key is derived from the username; the hash is read only at sign-in).
    static let columns = [
        "id", "username", "role", "display_name", "county_code", "created_at", "username_key", "password_hash",
        "region_code",
    ]

    /// The row's values in the order of `columns`.
    func row(passwordHash: String) -> SQLQueryString {
        """
        (\(bind: id), \(bind: username), \(bind: role.rawValue), \(bind: displayName), \(bind: countyCode),
         \(bind: createdAt.millis), \(bind: AccountRules.usernameKey(username)), \(bind: passwordHash), \(bind: regionCode))
        """
    }
}

struct UserStore: Sendable {
    /// Inserts the user, or answers nil when the username (case-insensitively) is taken.
    func insert(_ user: User, passwordHash: String, in db: any SQLDatabase) async throws -> Bool {
        let rows = try await db.raw(
            """
            INSERT INTO users (\(User.columnList)) VALUES \(user.row(passwordHash: passwordHash))
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
                """
                SELECT * FROM users WHERE username_key = \(bind: AccountRules.usernameKey(username)) AND disabled_at IS NULL
                """
            ).first()
        else { return nil }
        return (try row.model(User.self), try row.decode(column: "password_hash", as: String.self))
    }

    /// A removed member's account: it stays (its orders name it) but never signs in again.
    func disable(id: String, at: Date, in db: any SQLDatabase) async throws {
        try await db.raw("UPDATE users SET disabled_at = \(bind: at.millis) WHERE id = \(bind: id)").run()
    }

    func signedIn(id: String, at: Date, in db: any SQLDatabase) async throws {
        try await db.raw("UPDATE users SET last_sign_in_at = \(bind: at.millis) WHERE id = \(bind: id)").run()
    }

    func find(id: String, in db: any SQLDatabase) async throws -> User? {
        try await db.raw("SELECT * FROM users WHERE id = \(bind: id)").first().map { try $0.model(User.self) }
    }
}
