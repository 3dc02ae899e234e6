import Hummingbird

/// A route group's role requirement, declared where its routes are: 401 without a session, 403
/// for any other role, before the handler reads the path, the query or the body.
struct RequireRole: RouterMiddleware {
    typealias Context = AppRequestContext
    let roles: Set<Role>

    func handle(
        _ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        _ = try context.require(roles)
        return try await next(request, context)
    }
}

extension RouterMethods where Context == AppRequestContext {
    /// The routes only these roles may call (`router.only(.admin).post(...)`).
    func only(_ roles: Role...) -> RouterGroup<AppRequestContext> {
        only(Set(roles))
    }

    /// The routes of a state machine's step: the roles its table lets take it
    /// (`router.only(OrderRules.roles(for: .confirm))`), so the route follows the table.
    func only(_ roles: Set<Role>) -> RouterGroup<AppRequestContext> {
        group().add(middleware: RequireRole(roles: roles))
    }
}
