import Foundation
import Hummingbird

/// Invoice routes (API.md "Orders"): decode, authorize, call `Invoices`, encode.
struct InvoicesController {
    let services: AppServices
    let invoices: Invoices

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.group().add(middleware: services.rateLimited()).only(.merchant).put("/api/v1/orders/:id/invoice", use: record)
        router.group().add(middleware: services.rateLimited()).only(.merchant).post("/api/v1/orders/:id/invoice/file", use: upload)
        router.only(.buyer, .merchant, .admin).get("/api/v1/orders/:id/invoice/file", use: download)
    }

    @Sendable func record(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let id = try context.parameters.require("id")
        try await invoices.checkMerchant(of: id, by: user)
        let input = try await request.decodeJSON(Invoices.Input.self, context: context)
        return try .json(try await invoices.record(id, input, by: user))
    }

    @Sendable func upload(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let id = try context.parameters.require("id")
        // The merchant and the invoice to attach to are checked before the body is read.
        try await invoices.checkAttachable(id, by: user)
        let stored = try await services.uploads.store(request, limit: InvoiceRules.fileLimit, allowed: [.pdf])
        return try .json(try await invoices.attach(stored, to: id, by: user))
    }

    @Sendable func download(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let (invoice, body) = try await invoices.file(of: try context.parameters.require("id"), for: user)
        return Response(
            status: .ok,
            headers: [
                .contentType: "application/pdf",
                .contentDisposition: "attachment; filename=\"invoice-\(invoice.number).pdf\"",
            ],
            body: .init(byteBuffer: body))
    }
}
