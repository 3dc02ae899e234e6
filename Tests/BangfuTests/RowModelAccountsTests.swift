import Foundation
import SQLKit
import Testing

@testable import BangfuApp

/// Users, sessions and sign-in failures are row models: decoded by name, times kept to the
/// millisecond, and an unknown role refused (it used to fall back to `buyer`, so a damaged row
/// signed someone in as a buyer).
@Suite struct RowModelAccountsTests {
    @Test func accountRowsRoundTripAndAnUnknownRoleFailsLoudly() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            test.clock.advance(seconds: 0.123)
            let createdAt = test.clock.now
            let token = try await client.signUp("Seller1")
            let wrong = try await client.call(
                .post, "/api/v1/sessions", json: #"{"username":"seller1","password":"not the password"}"#)
            #expect(wrong.status == .unauthorized)

            let accounts = test.services.accounts
            let database = test.services.database
            let tokenHash = SessionStore.hash(token: token)
            let (credentials, sessions, failures, identity) = try await database.read { db in
                (
                    try await accounts.users.credentials(username: "SELLER1", in: db),
                    try await db.raw("SELECT * FROM sessions").all().map { try $0.model(Session.self) },
                    try await db.raw("SELECT * FROM signin_failures").all().map { try $0.model(SignInFailure.self) },
                    try await accounts.sessions.identity(tokenHash: tokenHash, in: db)
                )
            }
            let (user, passwordHash) = try #require(credentials)
            #expect(user.username == "Seller1")
            #expect(user.role == .merchant)
            #expect(user.displayName == "Seller1")
            #expect(user.countyCode == nil)
            #expect(user.createdAt.millis == createdAt.millis)
            #expect(passwordHash.hasPrefix("$2"))
            #expect(User.columns.count == 9)

            let session = try #require(sessions.first)
            #expect(sessions.count == 1)
            #expect(session.tokenHash == tokenHash)
            #expect(session.userId == user.id)
            #expect(session.createdAt.millis == createdAt.millis)
            #expect(session.expiresAt.millis - session.createdAt.millis == 12 * 3_600_000)
            #expect(identity?.userId == user.id && identity?.role == .merchant)

            let failure = try #require(failures.first)
            #expect(failures.count == 1)
            #expect(failure.usernameKey == "seller1")
            #expect(failure.at == createdAt.millis)

            try await database.write { db in
                try await db.raw("UPDATE users SET role = 'overlord' WHERE id = \(bind: user.id)").run()
            }
            // (a DecodingError on SQLite; PostgreSQL's driver wraps it)
            await #expect(throws: (any Error).self) {
                _ = try await database.read { db in try await accounts.users.find(id: user.id, in: db) }
            }
            await #expect(throws: (any Error).self) {
                _ = try await database.read { db in try await accounts.sessions.identity(tokenHash: tokenHash, in: db) }
            }
        }
    }
}
