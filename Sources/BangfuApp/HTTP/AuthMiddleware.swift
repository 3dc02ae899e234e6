import Foundation
import Hummingbird

/// Resolves the caller's identity from `Authorization: Bearer TOKEN` or the session cookie.
/// A missing or unknown token leaves the request anonymous; routes that need a user answer 401.
/// A state-changing request authenticated by cookie must come from our own origin (CSRF).
struct AuthMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let sessions: SessionStore
    let database: any Database

    static let cookieName = "bangfu_session"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var context = context
        if let (token, viaCookie) = Self.token(from: request), Self.cookieCounts(request, viaCookie: viaCookie) {
            let tokenHash = SessionStore.hash(token: token)
            if var identity = try await database.read({ db in try await sessions.identity(tokenHash: tokenHash, in: db) }) {
                identity.viaCookie = viaCookie
                if viaCookie && !Self.isSafe(request.method) && !Self.sameOrigin(request) {
                    throw DomainError(
                        .forbidden, code: "forbidden",
                        detail: "a cookie-authenticated change must come from this site's own pages")
                }
                context.identity = identity
                context.logger[metadataKey: "user_id"] = .string(identity.userId)
            }
        }
        return try await next(request, context)
    }

    static func token(from request: Request) -> (String, Bool)? {
        if let authorization = request.headers[.authorization] {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                return (String(parts[1]).trimmingCharacters(in: .whitespaces), false)
            }
            return nil
        }
        for cookieHeader in request.headers[values: .cookie] {
            for pair in cookieHeader.split(separator: ";") {
                let kv = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if kv.count == 2, kv[0] == cookieName, !kv[1].isEmpty { return (kv[1], true) }
            }
        }
        return nil
    }

    /// API.md: a state-changing request that carries the cookie but no `Origin` header does not
    /// come from a browser page (browsers send `Origin` on every such request), so the cookie is
    /// ignored and the request is anonymous: a script with a cookie jar that signs in twice is
    /// not refused. With an `Origin` of another site it is refused (403) below.
    static func cookieCounts(_ request: Request, viaCookie: Bool) -> Bool {
        !viaCookie || isSafe(request.method) || request.headers[.origin] != nil
    }

    static func isSafe(_ method: HTTPRequest.Method) -> Bool {
        method == .get || method == .head || method == .options
    }

    /// The `Origin` header must name the host the request was sent to.
    static func sameOrigin(_ request: Request) -> Bool {
        guard let origin = request.headers[.origin], let host = request.head.authority
        else { return false }
        return origin == "https://\(host)" || origin == "http://\(host)"
    }
}
