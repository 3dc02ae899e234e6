import Foundation
import Hummingbird

/// 帮扶产品认定 (API.md "Certification"): the routes of `Certifying`.
struct CertificationController {
    let services: AppServices
    let certifying: Certifying

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.only(.merchant).post("/api/v1/certification-applications", use: create)
        router.only(.merchant, .county, .admin).get("/api/v1/certification-applications", use: list)
        router.only(.merchant, .county, .admin).get("/api/v1/certification-applications/:id", use: show)
        // Not read from the table: the county rejects through its review, so `reject` is the admin's route.
        router.only(.county).post("/api/v1/certification-applications/:id/county-review", use: countyReview)
        router.only(.admin).post("/api/v1/certification-applications/:id/approve", use: approve)
        router.only(.admin).post("/api/v1/certification-applications/:id/reject", use: reject)
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let input = try await request.decodeJSON(CertificationDTO.ApplicationInput.self, context: context)
        let application = try await certifying.submit(input, by: user)
        return try .json(CertificationDTO.ApplicationOutput(application, reviews: []), status: .created)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let paging = try Paging.parse(request, tag: "certification-applications")
        let status = try Paging.choice(request, "status", CertificationStatus.self)
        let rows = try await certifying.applications(status: status, paging: paging, for: user)
        return try .json(
            Page(rows, paging, tag: "certification-applications", position: { Paging.timeAndId($0.createdAt, $0.id) }) {
                CertificationDTO.ApplicationOutput($0)
            })
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let id = try context.parameters.require("id")
        return try .json(CertificationDTO.ApplicationOutput(try await certifying.detail(id, for: user)))
    }

    @Sendable func countyReview(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let id = try context.parameters.require("id")
        // Another county's officer is told the application does not exist before the body is judged.
        try await certifying.checkVisible(id, to: user)
        let input = try await request.decodeJSON(CertificationDTO.CountyReviewInput.self, context: context)
        let detail = try await certifying.countyReview(id, approve: input.approve, note: input.note, by: user)
        return try .json(CertificationDTO.ApplicationOutput(detail))
    }

    @Sendable func approve(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let input = try await request.decodeJSON(CertificationDTO.ApproveInput.self, context: context)
        let id = try context.parameters.require("id")
        return try .json(CertificationDTO.ApplicationOutput(try await certifying.approve(id, validDays: input.validDays, by: user)))
    }

    @Sendable func reject(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let input = try await request.decodeJSON(CertificationDTO.ReasonInput.self, context: context)
        let id = try context.parameters.require("id")
        return try .json(CertificationDTO.ApplicationOutput(try await certifying.reject(id, reason: input.reason, by: user)))
    }
}
