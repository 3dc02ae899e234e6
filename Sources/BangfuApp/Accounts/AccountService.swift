import Foundation

/// The account operations shared by the HTTP routes and the `bangfu user add` command: each is one
/// transaction with its audit event.
struct AccountService: Sendable {
    let database: any Database
    let users: UserStore
    let sessions: SessionStore
    let failures: SignInFailureStore
    let throttle: SignInThrottle
    let reference: ReferenceStore
    let audit: AuditStore
    let passwords: PasswordHasher
    let clock: AppClock
    let sessionLifetime: Duration

    func create(_ user: User, passwordHash: String, actorId: String?) async throws {
        try await database.write { db in
            if let county = user.countyCode, try await reference.county(code: county, in: db) == nil {
                throw APIError.invalid("countyCode", "is not a registered county")
            }
            guard try await users.insert(user, passwordHash: passwordHash, in: db) else {
                throw APIError.conflict("username is taken", field: "username")
            }
            try await audit.append(
                AuditEvent(
                    actorId: actorId ?? user.id, action: "user.create", entityType: "user", entityId: user.id,
                    data: [
                        "username": .string(user.username), "role": .string(user.role.rawValue),
                        "countyCode": AuditValue(user.countyCode),
                    ]), in: db)
        }
    }

    /// Checks the throttle first (a correct password is refused too while it holds), then the
    /// password. Unknown usernames and wrong passwords get the same 401.
    func signIn(username: String, password: String, address: String) async throws -> (User, String, Date) {
        let key = AccountRules.usernameKey(username)
        let (userFailures, addressFailures) = try await database.read { db in
            try await failures.recent(usernameKey: key, address: address, in: db)
        }
        if let wait = throttle.retryAfter(
            userFailures: userFailures, addressFailures: addressFailures, now: clock.now.millis)
        {
            throw APIError.rateLimited(retryAfterSeconds: (wait + 999) / 1000)
        }
        let found = try await database.read { db in try await users.credentials(username: username, in: db) }
        let ok = try await passwords.verify(password, hash: found?.1)
        guard ok, let user = found?.0 else {
            try await database.write { db in try await failures.record(usernameKey: key, address: address, in: db) }
            throw APIError(.unauthorized, code: "unauthenticated", detail: "wrong username or password")
        }
        let lifetime = sessionLifetime
        let session = try await database.write { db in
            try await failures.clear(usernameKey: key, in: db)
            let session = try await sessions.create(userId: user.id, lifetime: lifetime, in: db)
            try await audit.append(
                AuditEvent(actorId: user.id, action: "session.create", entityType: "user", entityId: user.id, data: [:]),
                in: db)
            return session
        }
        return (user, session.token, session.expiresAt)
    }

    func signOut(_ identity: Identity) async throws {
        try await database.write { db in
            try await sessions.delete(tokenHash: identity.tokenHash, in: db)
            try await audit.append(
                AuditEvent(
                    actorId: identity.userId, action: "session.delete", entityType: "user", entityId: identity.userId,
                    data: [:]), in: db)
        }
    }
}
