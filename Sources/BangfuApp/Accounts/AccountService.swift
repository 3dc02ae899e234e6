import Foundation
import SQLKit

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

    /// Creates `user` for `caller` (nil on sign-up and on the command line, where the new user is
    /// the actor of its own creation).
    func create(_ user: User, passwordHash: String, by caller: Identity?) async throws {
        try await database.write { db in try await create(user, passwordHash: passwordHash, by: caller, in: db) }
    }

    /// The same inside the caller's transaction (a member account and its membership together).
    func create(_ user: User, passwordHash: String, by caller: Identity?, in db: any SQLDatabase) async throws {
        if let county = user.countyCode, try await reference.county(code: county, in: db) == nil {
            throw DomainError.invalid("countyCode", "is not a registered county")
        }
        if let region = user.regionCode, try await RegionStore().region(code: region, in: db) == nil {
            throw DomainError.invalid("regionCode", "is not a registered region")
        }
        guard try await users.insert(user, passwordHash: passwordHash, in: db) else {
            throw DomainError.conflict("username is taken", field: "username")
        }
        let event = AuditEvent(
            actorId: caller?.userId ?? user.id, "user.create", .user(user.id),
            [
                "username": user.username, "role": user.role.rawValue, "countyCode": user.countyCode,
                "regionCode": user.regionCode,
            ])
        try await audit.append(event, in: db)
    }

    /// Reserves the attempt first (a correct password is refused too while the throttle holds),
    /// then checks the password off the event loop. Unknown usernames and wrong passwords get
    /// the same 401. The reservation is a write of its own, so forty guesses sent at once are
    /// counted one after another and at most the throttle's limit of them reach bcrypt.
    func signIn(username: String, password: String, address: String) async throws -> (User, String, Date) {
        let key = AccountRules.usernameKey(username)
        let reservation = try await database.write { db in
            try await failures.reserve(usernameKey: key, address: address, in: db)
        }
        let attempt: String
        switch reservation {
        case .success(let id): attempt = id
        case .failure(let wait): throw DomainError.rateLimited(retryAfterSeconds: (wait.milliseconds + 999) / 1000)
        }
        let found = try await database.read { db in try await users.credentials(username: username, in: db) }
        let ok = try await passwords.verify(password, hash: found?.1)
        guard ok, let user = found?.0 else {
            throw DomainError(.unauthorized, code: "unauthenticated", detail: "wrong username or password")
        }
        let lifetime = sessionLifetime
        let session = try await database.write { db in
            try await failures.succeeded(attempt: attempt, usernameKey: key, address: address, in: db)
            let session = try await sessions.create(userId: user.id, lifetime: lifetime, in: db)
            try await users.signedIn(id: user.id, at: clock.now, in: db)
            // The user signing in is the actor, before any session identifies them.
            try await audit.append(AuditEvent(actorId: user.id, "session.create", .user(user.id)), in: db)
            return session
        }
        return (user, session.token, session.expiresAt)
    }

    func signOut(_ identity: Identity) async throws {
        try await database.write { db in
            try await sessions.delete(tokenHash: identity.tokenHash, in: db)
            try await audit.append(AuditEvent(identity, "session.delete", .user(identity.userId)), in: db)
        }
    }
}
