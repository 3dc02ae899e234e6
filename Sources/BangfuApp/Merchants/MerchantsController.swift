import Foundation
import Hummingbird

/// Public merchant profiles and suspension (API.md "Merchant onboarding", last rows): the routes
/// of `MerchantDirectory`.
struct MerchantsController {
    typealias Output = MerchantDTO.MerchantOutput

    let services: AppServices
    let directory: MerchantDirectory

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("/api/v1/merchants", use: list)
        router.get("/api/v1/merchants/:id", use: show)
        router.only(.admin).post("/api/v1/merchants/:id/suspension", use: suspend)
        router.only(.admin).delete("/api/v1/merchants/:id/suspension", use: reinstate)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let paging = try Paging.parse(request, tag: "merchants")
        let county = request.uri.queryParameters["countyCode"].map(String.init)
        try await services.checkFilters(countyCode: county)
        let viewer = context.identity
        let rows = try await directory.merchants(countyCode: county, paging: paging, viewer: viewer)
        return try .json(
            Page(rows, paging, tag: "merchants", position: { Paging.timeAndId($0.merchant.createdAt, $0.merchant.id) }) {
                Output($0, viewer: viewer)
            })
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        return try .json(Output(try await directory.profile(id, viewer: context.identity), viewer: context.identity))
    }

    @Sendable func suspend(_ request: Request, context: AppRequestContext) async throws -> Response {
        let admin = try context.requireIdentity()
        let input = try await request.decodeJSON(MerchantDTO.ReasonInput.self, context: context)
        let id = try context.parameters.require("id")
        return try .json(Output(try await directory.suspend(id, reason: input.reason, by: admin), viewer: admin))
    }

    @Sendable func reinstate(_ request: Request, context: AppRequestContext) async throws -> Response {
        let admin = try context.requireIdentity()
        let id = try context.parameters.require("id")
        return try .json(Output(try await directory.reinstate(id, by: admin), viewer: admin))
    }
}
