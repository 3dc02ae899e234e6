import Foundation
import Hummingbird

/// Merchant onboarding (API.md "Merchant onboarding"): the routes of `MerchantOnboarding`.
struct MerchantApplicationsController {
    let services: AppServices
    let onboarding: MerchantOnboarding

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.only(.merchant).post("/api/v1/merchant-applications", use: create)
        router.only(.merchant, .county, .admin).get("/api/v1/merchant-applications", use: list)
        router.only(.merchant, .county, .admin).get("/api/v1/merchant-applications/:id", use: show)
        router.only(OnboardingRules.workflow.parties(for: .resubmit)).put("/api/v1/merchant-applications/:id", use: resubmit)
        router.group().add(middleware: services.rateLimited()).only(.merchant)
            .post("/api/v1/merchant-applications/:id/documents", use: upload)
        router.only(.merchant, .county, .admin).get("/api/v1/merchant-applications/:id/documents/:documentId", use: download)
        // The review steps' roles are those the table lets take them.
        router.only(OnboardingRules.workflow.parties(for: .recommend)).post("/api/v1/merchant-applications/:id/recommend", use: recommend)
        router.only(OnboardingRules.workflow.parties(for: .approve)).post("/api/v1/merchant-applications/:id/approve", use: approve)
        router.only(OnboardingRules.workflow.parties(for: .reject)).post("/api/v1/merchant-applications/:id/reject", use: reject)
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let input = try await request.decodeJSON(ApplicationFields.self, context: context)
        let application = try await onboarding.submit(input, by: user)
        return try .json(MerchantDTO.ApplicationOutput(application, viewer: user, documents: [], reviews: []), status: .created)
    }

    @Sendable func resubmit(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let id = try context.parameters.require("id")
        // Who may touch the application is settled before its body is read or judged (404 for
        // another's), so a stranger learns nothing from validation errors.
        try await onboarding.checkVisible(id, to: user)
        let input = try await request.decodeJSON(ApplicationFields.self, context: context)
        return try .json(MerchantDTO.ApplicationOutput(try await onboarding.resubmit(id, input, by: user), viewer: user))
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let paging = try Paging.parse(request, tag: "applications")
        let status = try Paging.choice(request, "status", ApplicationStatus.self)
        let countyCode = request.uri.queryParameters["countyCode"].map(String.init)
        try await services.checkFilters(countyCode: countyCode)
        let rows = try await onboarding.applications(status: status, countyCode: countyCode, paging: paging, for: user)
        return try .json(
            Page(rows, paging, tag: "applications", position: { Paging.timeAndId($0.createdAt, $0.id) }) {
                MerchantDTO.ApplicationOutput($0, viewer: user)
            })
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let id = try context.parameters.require("id")
        return try .json(MerchantDTO.ApplicationOutput(try await onboarding.detail(id, for: user), viewer: user))
    }

    @Sendable func upload(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let id = try context.parameters.require("id")
        // The owner check comes before the query is judged or the body read.
        try await onboarding.checkUpload(to: id, by: user)
        let query = request.uri.queryParameters
        let details = try MerchantOnboarding.documentDetails(
            kind: query["kind"].map(String.init), expiresOn: query["expiresOn"].map(String.init))
        let stored = try await services.uploads.store(
            request, limit: MerchantOnboarding.documentLimit, allowed: [.pdf, .jpeg, .png])
        let document = try await onboarding.addDocument(
            stored, to: id, kind: details.kind, expiresOn: details.expiresOn, by: user)
        return try .json(document, status: .created)
    }

    @Sendable func download(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let id = try context.parameters.require("id")
        let documentId = try context.parameters.require("documentId")
        let (document, body) = try await onboarding.document(documentId, of: id, for: user)
        return Response(
            status: .ok,
            headers: [
                .contentType: document.contentType,
                .contentDisposition: "attachment; filename=\"\(document.kind)-\(document.id)\"",
            ],
            body: .init(byteBuffer: body))
    }

    @Sendable func recommend(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let input = try await request.decodeJSON(MerchantDTO.NoteInput.self, context: context)
        let id = try context.parameters.require("id")
        return try .json(MerchantDTO.ApplicationOutput(try await onboarding.recommend(id, note: input.note, by: user), viewer: user))
    }

    @Sendable func approve(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let input = try await request.decodeJSON(MerchantDTO.NoteInput.self, context: context)
        let id = try context.parameters.require("id")
        return try .json(MerchantDTO.ApplicationOutput(try await onboarding.approve(id, note: input.note, by: user), viewer: user))
    }

    @Sendable func reject(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let id = try context.parameters.require("id")
        try await onboarding.checkVisible(id, to: user)
        let input = try await request.decodeJSON(MerchantDTO.ReasonInput.self, context: context)
        return try .json(MerchantDTO.ApplicationOutput(try await onboarding.reject(id, reason: input.reason, by: user), viewer: user))
    }
}
