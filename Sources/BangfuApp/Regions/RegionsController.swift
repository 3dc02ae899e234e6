import Foundation
import Hummingbird

/// `GET /api/v1/regions?parent=` for anyone, `POST /api/v1/regions` for admins.
struct RegionsController {
    let regions: Regions

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("/api/v1/regions", use: list)
        router.only(.admin).post("/api/v1/regions", use: create)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let parent = request.uri.queryParameters["parent"].map(String.init)
        if let parent, !RegionRules.isWellFormed(parent) {
            throw DomainError.badRequest("parent must be a 6-digit GB/T 2260 code", field: "parent")
        }
        return try .json(try await regions.regions(parent: parent))
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let admin = try context.requireIdentity()
        let input = try await request.decodeJSON(Regions.Input.self, context: context)
        return try .json(try await regions.add(input, by: admin), status: .created)
    }
}
