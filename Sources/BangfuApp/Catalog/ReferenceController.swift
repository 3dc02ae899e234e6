import Foundation
import Hummingbird

/// Counties and categories (API.md "Reference data"), through `ReferenceRecords`.
struct ReferenceController {
    let records: ReferenceRecords

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("/api/v1/counties", use: listCounties)
        router.only(.admin).post("/api/v1/counties", use: createCounty)
        router.only(.admin).patch("/api/v1/counties/:code", use: updateCounty)
        router.get("/api/v1/categories", use: listCategories)
    }

    @Sendable func listCounties(_ request: Request, context: AppRequestContext) async throws -> Response {
        try .json(try await records.counties())
    }

    @Sendable func createCounty(_ request: Request, context: AppRequestContext) async throws -> Response {
        let admin = try context.requireIdentity()
        let input = try await request.decodeJSON(CatalogDTO.CountyInput.self, context: context)
        return try .json(try await records.createCounty(input, by: admin), status: .created)
    }

    @Sendable func updateCounty(_ request: Request, context: AppRequestContext) async throws -> Response {
        let admin = try context.requireIdentity()
        let code = try context.parameters.require("code")
        let input = try await request.decodeJSON(CatalogDTO.CountyInput.self, context: context)
        return try .json(try await records.updateCounty(code, input, by: admin))
    }

    @Sendable func listCategories(_ request: Request, context: AppRequestContext) async throws -> Response {
        try .json(try await records.categories())
    }
}
