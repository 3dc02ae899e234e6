import Foundation
import Hummingbird

/// Users, sessions and `/me` (API.md "Accounts and sessions").
struct AccountsController {
    let services: AppServices

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.group().add(middleware: services.rateLimited()).post("/api/v1/users", use: createUser)
        // Sign-in has its own throttle of failures (API.md); the route limit also bounds the
        // bcrypt work that right passwords cost.
        router.group().add(middleware: services.rateLimited()).post("/api/v1/sessions", use: signIn)
        router.delete("/api/v1/sessions/current", use: signOut)
        router.get("/api/v1/me", use: me)
    }

    struct CreateUserInput: Decodable {
        var username: String
        var password: String
        var role: String
        var displayName: String
        var countyCode: String?
    }

    struct UserOutput: Encodable {
        var id: String
        var username: String
        var role: Role
        var displayName: String
        @NullEncoded var countyCode: String?
        var createdAt: String

        init(_ user: User) {
            id = user.id
            username = user.username
            role = user.role
            displayName = user.displayName
            countyCode = user.countyCode
            createdAt = user.createdAt.rfc3339
        }
    }

    @Sendable func createUser(_ request: Request, context: AppRequestContext) async throws -> Response {
        let input = try await request.decodeJSON(CreateUserInput.self, context: context)
        var validator = Validator()
        if !AccountRules.isValidUsername(input.username) {
            validator.fail("username", "must be 3 to 32 characters of A-Z a-z 0-9 _ . -")
        }
        if let problem = AccountRules.passwordProblem(input.password) { validator.fail("password", problem) }
        let displayName = validator.text(input.displayName, "displayName", max: 64)
        let role = Role(rawValue: input.role)
        if role == nil { validator.fail("role", "must be one of merchant, buyer, county, admin") }
        if role == .county {
            if input.countyCode == nil { validator.fail("countyCode", "is required for a county officer") }
        } else if input.countyCode != nil {
            validator.fail("countyCode", "is only for county officers")
        }
        try validator.check()
        guard let role, let displayName else { throw DomainError.validation(validator.errors) }
        if !role.isSelfService {
            // Only an admin creates county officers and admins.
            let caller = try context.requireIdentity()
            guard caller.role == .admin else { throw DomainError.forbidden }
        }
        let user = User(
            id: services.ids.next(), username: input.username, role: role, displayName: displayName,
            countyCode: input.countyCode, createdAt: services.clock.now)
        let passwordHash = try await services.passwords.hash(input.password)
        try await services.accounts.create(user, passwordHash: passwordHash, actorId: context.identity?.userId)
        return try .json(UserOutput(user), status: .created)
    }

    struct SignInInput: Decodable {
        var username: String
        var password: String
    }

    struct SessionOutput: Encodable {
        var token: String
        var expiresAt: String
        var user: UserOutput
    }

    @Sendable func signIn(_ request: Request, context: AppRequestContext) async throws -> Response {
        let input = try await request.decodeJSON(SignInInput.self, context: context)
        let (user, token, expiresAt) = try await services.accounts.signIn(
            username: input.username, password: input.password, address: context.clientAddress)
        var response = try Response.json(
            SessionOutput(token: token, expiresAt: expiresAt.rfc3339, user: UserOutput(user)), status: .created)
        response.headers[.setCookie] = sessionCookie(token, maxAge: Int(expiresAt.timeIntervalSince(services.clock.now)))
        return response
    }

    @Sendable func signOut(_ request: Request, context: AppRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try await services.accounts.signOut(identity)
        var response = Response(status: .noContent)
        response.headers[.setCookie] = sessionCookie("", maxAge: 0)
        return response
    }

    private func sessionCookie(_ value: String, maxAge: Int) -> String {
        let secure = services.configuration.tls ? "; Secure" : ""
        return "\(AuthMiddleware.cookieName)=\(value); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Strict\(secure)"
    }

    struct MeOutput: Encodable {
        struct MeUser: Encodable {
            var id: String
            var username: String
            var role: Role
            var displayName: String
        }
        var user: MeUser
        /// The user's merchant once approved; a buyer's organization once registered.
        @NullEncoded var merchant: MerchantsController.Output?
        @NullEncoded var buyerOrganization: BuyerOrganizationsController.Output?
        @NullEncoded var countyCode: String?
    }

    @Sendable func me(_ request: Request, context: AppRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let merchant =
            identity.role == .merchant
            ? try await services.database.read { db in try await services.merchants.merchant(ownerId: identity.userId, in: db) }
            : nil
        let organization =
            identity.role == .buyer
            ? try await services.database.read { db in
                try await services.buyers.organization(memberId: identity.userId, in: db)
            }
            : nil
        return try .json(
            MeOutput(
                user: .init(
                    id: identity.userId, username: identity.username, role: identity.role,
                    displayName: identity.displayName),
                merchant: merchant.map { MerchantsController.Output($0, productCount: 0, viewer: identity) },
                buyerOrganization: organization.map(BuyerOrganizationsController.Output.init), countyCode: identity.countyCode))
    }
}
