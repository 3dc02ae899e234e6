import Foundation
import Hummingbird

/// Rating routes (API.md "Orders"): decode, authorize, call `Ratings`, encode.
struct RatingsController {
    let ratings: Ratings

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.only(.buyer).post("/api/v1/orders/:id/rating", use: rate)
        router.only(.merchant).post("/api/v1/orders/:id/rating/reply", use: reply)
        router.get("/api/v1/merchants/:id/ratings", use: list)
    }

    @Sendable func rate(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let id = try context.parameters.require("id")
        try await ratings.checkParty(id, for: .rate, by: user)
        let input = try await request.decodeJSON(Ratings.Input.self, context: context)
        return try .json(try await ratings.rate(id, input, by: user), status: .created)
    }

    @Sendable func reply(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let id = try context.parameters.require("id")
        try await ratings.checkParty(id, for: .reply, by: user)
        let input = try await request.decodeJSON(Ratings.ReplyInput.self, context: context)
        return try .json(try await ratings.reply(id, input, by: user))
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let paging = try Paging.parse(request, tag: "ratings")
        return try .json(
            try await ratings.ratings(of: try context.parameters.require("id"), viewer: context.identity, paging: paging))
    }
}
