import Foundation
import Hummingbird

/// Users, sessions and `/me` (API.md "Accounts and sessions").
struct AccountsController {
    let services: AppServices
    let creation: UserCreation
    let profiles: AccountProfile

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.group().add(middleware: services.rateLimited()).post("/api/v1/users", use: createUser)
        // Sign-in has its own throttle of failures (API.md); the route limit also bounds the
        // bcrypt work that right passwords cost.
        router.group().add(middleware: services.rateLimited()).post("/api/v1/sessions", use: signIn)
        router.delete("/api/v1/sessions/current", use: signOut)
        router.get("/api/v1/me", use: me)
    }

    /// Anyone may sign up as a merchant or buyer; the role asked for decides whether a session is
    /// needed, so the check is the use case's, after the body is read.
    @Sendable func createUser(_ request: Request, context: AppRequestContext) async throws -> Response {
        let input = try await request.decodeJSON(CreateUserInput.self, context: context)
        let user = try await creation.register(
            username: input.username, password: input.password, role: input.role, displayName: input.displayName,
            countyCode: input.countyCode, regionCode: input.regionCode, by: context.identity)
        return try .json(user, status: .created)
    }

    @Sendable func signIn(_ request: Request, context: AppRequestContext) async throws -> Response {
        let input = try await request.decodeJSON(SignInInput.self, context: context)
        let (user, token, expiresAt) = try await services.accounts.signIn(
            username: input.username, password: input.password, address: context.clientAddress)
        var response = try Response.json(
            SessionOutput(token: token, expiresAt: expiresAt.rfc3339, user: user), status: .created)
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

    @Sendable func me(_ request: Request, context: AppRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let profile = try await profiles.profile(of: identity)
        return try .json(MeOutput(identity, profile))
    }
}
