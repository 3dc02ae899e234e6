import Crypto
import Foundation
import SQLKit

/// A row of `sessions`: the token's hash (never the token), whose it is, and until when.
struct Session: TableRow {
    var tokenHash: String
    var userId: String
    @Millis var createdAt: Date
    @Millis var expiresAt: Date

    static let columns = ["token_hash", "user_id", "created_at", "expires_at"]

    /// The row's values in the order of `columns`.
    var row: SQLQueryString {
        "(\(bind: tokenHash), \(bind: userId), \(bind: createdAt.millis), \(bind: expiresAt.millis))"
    }
}

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
        let session = Session(tokenHash: Self.hash(token: token), userId: userId, createdAt: now, expiresAt: expiresAt)
        try await db.raw("INSERT INTO sessions (\(Session.columnList)) VALUES \(session.row)").run()
        // Expired sessions are swept here rather than by a background job.
        try await db.raw("DELETE FROM sessions WHERE expires_at <= \(bind: now.millis)").run()
        return (token, expiresAt)
    }

    func identity(tokenHash: String, in db: any SQLDatabase) async throws -> Identity? {
        guard
            let row = try await db.raw(
                """
                SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id
                WHERE s.token_hash = \(bind: tokenHash) AND s.expires_at > \(bind: clock.now.millis) AND u.disabled_at IS NULL
                """
            ).first()
        else { return nil }
        let user = try row.model(User.self)
        return Identity(
            userId: user.id, username: user.username, role: user.role, displayName: user.displayName,
            countyCode: user.countyCode, regionCode: user.regionCode, tokenHash: tokenHash, viaCookie: false)
    }

    /// Ends every session of the user (a removed member).
    func deleteAll(userId: String, in db: any SQLDatabase) async throws {
        try await db.raw("DELETE FROM sessions WHERE user_id = \(bind: userId)").run()
    }

    func delete(tokenHash: String, in db: any SQLDatabase) async throws {
        try await db.raw("DELETE FROM sessions WHERE token_hash = \(bind: tokenHash)").run()
    }
}

/// A row of `signin_failures`. `at` stays in integer milliseconds: the throttle counts in them.
struct SignInFailure: TableRow {
    var id: String
    var usernameKey: String
    var address: String
    var at: Int64

    static let columns = ["id", "username_key", "address", "at"]

    /// The row's values in the order of `columns`.
    var row: SQLQueryString {
        "(\(bind: id), \(bind: usernameKey), \(bind: address), \(bind: at))"
    }
}

/// Failed sign-ins, kept in the database so that every server process sees the same counts.
/// An attempt is recorded as a failure before its password is checked (`reserve`) and the record
/// is taken back when the password was right, so concurrent guesses count as they arrive.
struct SignInFailureStore: Sendable {
    let clock: AppClock
    let ids: IDGenerator
    let throttle: SignInThrottle
    let engine: DatabaseEngine

    /// Counts the recent failures of `usernameKey` and `address`; when the throttle allows the
    /// attempt, records it as a failure and answers its id, otherwise answers the wait (ms).
    /// Runs in the caller's write transaction; on PostgreSQL an advisory lock makes processes
    /// take turns, so no two attempts are both counted below the limit.
    func reserve(usernameKey: String, address: String, in db: any SQLDatabase) async throws
        -> Result<String, Wait>
    {
        if engine == .postgres { try await db.raw("SELECT pg_advisory_xact_lock(80834)").run() }
        let now = clock.now.millis
        let since = now - throttle.window
        func times(_ condition: SQLQueryString, limit: Int) async throws -> [Int64] {
            try await db.raw(
                "SELECT at FROM signin_failures WHERE \(condition) AND at > \(bind: since) ORDER BY at DESC LIMIT \(literal: limit)"
            ).all().map { try $0.decode(column: "at", as: Int64.self) }
        }
        let failures = SignInThrottle.Failures(
            usernameAndAddress: try await times(
                "username_key = \(bind: usernameKey) AND address = \(bind: address)", limit: throttle.perUsernameAndAddress),
            address: try await times("address = \(bind: address)", limit: throttle.perAddress),
            username: try await times("username_key = \(bind: usernameKey)", limit: throttle.perUsername))
        if let wait = throttle.retryAfter(failures, now: now) { return .failure(Wait(milliseconds: wait)) }
        let id = ids.next()
        let failure = SignInFailure(id: id, usernameKey: usernameKey, address: address, at: now)
        try await db.raw("INSERT INTO signin_failures (\(SignInFailure.columnList)) VALUES \(failure.row)").run()
        try await db.raw("DELETE FROM signin_failures WHERE at <= \(bind: since)").run()
        return .success(id)
    }

    struct Wait: Error, Sendable {
        var milliseconds: Int64
    }

    /// After a right password: the reserved attempt was no failure, and the earlier failures of
    /// this username from this address are forgiven.
    func succeeded(attempt: String, usernameKey: String, address: String, in db: any SQLDatabase) async throws {
        try await db.raw(
            """
            DELETE FROM signin_failures WHERE id = \(bind: attempt)
              OR (username_key = \(bind: usernameKey) AND address = \(bind: address))
            """
        ).run()
    }
}
