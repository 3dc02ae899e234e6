import Crypto
import Foundation
import SQLKit

/// Sessions are opaque random tokens; only their SHA-256 is stored, so a copy of the database does
/// not let anyone sign in.
struct SessionStore: Sendable {
    let clock: AppClock

    static func hash(token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).lowercaseHex
    }

    /// Creates a session and answers its token (shown once, never stored) and expiry.
    func create(userId: String, lifetime: Duration, in db: any SQLDatabase) async throws -> (token: String, expiresAt: Date) {
        let token = randomBase32(bytes: 32)
        let now = clock.now
        let expiresAt = now.addingTimeInterval(Double(lifetime.components.seconds))
        try await db.raw(
            """
            INSERT INTO sessions (token_hash, user_id, created_at, expires_at)
            VALUES (\(bind: Self.hash(token: token)), \(bind: userId), \(bind: now.millis), \(bind: expiresAt.millis))
            """
        ).run()
        // Expired sessions are swept here rather than by a background job.
        try await db.raw("DELETE FROM sessions WHERE expires_at <= \(bind: now.millis)").run()
        return (token, expiresAt)
    }

    func identity(tokenHash: String, in db: any SQLDatabase) async throws -> Identity? {
        guard
            let row = try await db.raw(
                """
                SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id
                WHERE s.token_hash = \(bind: tokenHash) AND s.expires_at > \(bind: clock.now.millis)
                """
            ).first()
        else { return nil }
        let user = try UserStore.user(row)
        return Identity(
            userId: user.id, username: user.username, role: user.role, displayName: user.displayName,
            countyCode: user.countyCode, tokenHash: tokenHash, viaCookie: false)
    }

    func delete(tokenHash: String, in db: any SQLDatabase) async throws {
        try await db.raw("DELETE FROM sessions WHERE token_hash = \(bind: tokenHash)").run()
    }
}

/// Failed sign-ins, kept in the database so that every server process sees the same counts.
struct SignInFailureStore: Sendable {
    let clock: AppClock
    let ids: IDGenerator
    let throttle: SignInThrottle

    /// Failure times (ms, most recent first) within the window, for the username and the address.
    func recent(usernameKey: String, address: String, in db: any SQLDatabase) async throws -> (user: [Int64], address: [Int64]) {
        let since = clock.now.millis - throttle.window
        let user = try await db.raw(
            """
            SELECT at FROM signin_failures WHERE username_key = \(bind: usernameKey) AND at > \(bind: since)
            ORDER BY at DESC LIMIT \(literal: throttle.perUsername)
            """
        ).all().map { try $0.decode(column: "at", as: Int64.self) }
        let address = try await db.raw(
            """
            SELECT at FROM signin_failures WHERE address = \(bind: address) AND at > \(bind: since)
            ORDER BY at DESC LIMIT \(literal: throttle.perAddress)
            """
        ).all().map { try $0.decode(column: "at", as: Int64.self) }
        return (user, address)
    }

    func record(usernameKey: String, address: String, in db: any SQLDatabase) async throws {
        let now = clock.now.millis
        try await db.raw(
            """
            INSERT INTO signin_failures (id, username_key, address, at)
            VALUES (\(bind: ids.next()), \(bind: usernameKey), \(bind: address), \(bind: now))
            """
        ).run()
        try await db.raw("DELETE FROM signin_failures WHERE at <= \(bind: now - throttle.window)").run()
    }

    func clear(usernameKey: String, in db: any SQLDatabase) async throws {
        try await db.raw("DELETE FROM signin_failures WHERE username_key = \(bind: usernameKey)").run()
    }
}
