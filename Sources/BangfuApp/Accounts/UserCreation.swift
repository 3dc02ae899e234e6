import Foundation

/// Creating users: by sign-up or an admin on `POST /api/v1/users`, and by `bangfu user add` on the
/// command line. Both end in `AccountService.create` (one transaction with its audit event); they
/// differ in how they validate, as they always have.
struct UserCreation: UseCase {
    let services: AppServices

    init(_ services: AppServices) {
        self.services = services
    }

    /// The route: every field problem at once (422), then only an admin creates county officers
    /// and admins (401 without a session, 403 for another role); merchants and buyers sign up.
    func register(
        username: String, password: String, role rawRole: String, displayName rawDisplayName: String,
        countyCode: String?, regionCode: String? = nil, by caller: Identity?
    ) async throws -> User {
        var validator = Validator()
        if !AccountRules.isValidUsername(username) {
            validator.fail("username", "must be 3 to 32 characters of A-Z a-z 0-9 _ . -")
        }
        if let problem = AccountRules.passwordProblem(password) { validator.fail("password", problem) }
        let displayName = validator.text(rawDisplayName, "displayName", max: 64)
        let role = Role(rawValue: rawRole)
        if role == nil { validator.fail("role", "must be one of merchant, buyer, county, admin, finance") }
        if role == .county {
            if countyCode == nil { validator.fail("countyCode", "is required for a county officer") }
        } else if countyCode != nil {
            validator.fail("countyCode", "is only for county officers")
        }
        if let problem = Self.regionProblem(role: role, regionCode: regionCode) { validator.fail("regionCode", problem) }
        try validator.check()
        guard let role, let displayName else { throw DomainError.validation(validator.errors) }
        if !role.isSelfService {
            // Only an admin creates county officers, finance officers and admins.
            guard let caller else { throw DomainError.unauthenticated }
            guard caller.role == .admin else { throw DomainError.forbidden }
        }
        let user = User(
            id: ids.next(), username: username, role: role, displayName: displayName, countyCode: countyCode,
            createdAt: clock.now, regionCode: regionCode)
        let passwordHash = try await passwords.hash(password)
        try await accounts.create(user, passwordHash: passwordHash, by: caller)
        return user
    }

    /// The `bangfu user add` path: the same rules and audit as the route, the first problem
    /// refused. Returns the new user's id.
    func add(
        username: String, password: String, role: Role, displayName: String, countyCode: String?, regionCode: String? = nil
    ) async throws -> String {
        guard AccountRules.isValidUsername(username) else {
            throw DomainError.invalid("username", "must be 3 to 32 characters of A-Z a-z 0-9 _ . -")
        }
        if let problem = AccountRules.passwordProblem(password) { throw DomainError.invalid("password", problem) }
        if (role == .county) != (countyCode != nil) {
            throw DomainError.invalid("countyCode", "is required for county officers and only for them")
        }
        if let problem = Self.regionProblem(role: role, regionCode: regionCode) { throw DomainError.invalid("regionCode", problem) }
        let user = User(
            id: ids.next(), username: username, role: role, displayName: displayName, countyCode: countyCode,
            createdAt: clock.now, regionCode: regionCode)
        try await accounts.create(user, passwordHash: try await passwords.hash(password), by: nil)
        return user.id
    }

    /// A finance officer needs a well-formed region code; nobody else has one.
    static func regionProblem(role: Role?, regionCode: String?) -> String? {
        switch (role == .finance, regionCode) {
        case (true, nil): "is required for a finance officer"
        case (true, let code?): RegionRules.isWellFormed(code) ? nil : "must be a 6-digit GB/T 2260 code"
        case (false, _?): "is only for finance officers"
        case (false, nil): nil
        }
    }
}
