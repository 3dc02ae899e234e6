import Foundation
import Hummingbird
import Prometheus

/// `/healthz`, `/readyz`, `/metrics` and `/openapi.yaml` (API.md "Operations").
struct OperationsController {
    let services: AppServices

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/healthz", use: health)
        router.get("/readyz", use: ready)
        router.get("/metrics", use: metrics)
        router.get("/openapi.yaml", use: openAPI)
    }

    struct Status: Encodable {
        var status: String
    }

    @Sendable func health(_ request: Request, context: AppRequestContext) async throws -> Response {
        try .json(Status(status: "ok"))
    }

    @Sendable func ready(_ request: Request, context: AppRequestContext) async throws -> Response {
        let ok = await services.database.ping()
        let current = ok ? await Migrations.isCurrent(services.database) : false
        if ok && current { return try .json(Status(status: "ready")) }
        return try .json(Status(status: ok ? "migrations pending" : "database unavailable"), status: .serviceUnavailable)
    }

    @Sendable func metrics(_ request: Request, context: AppRequestContext) async throws -> Response {
        if !context.isLoopback {
            _ = try context.require(.admin)
        }
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: services.metrics.registry.emitToBuffer())))
    }

    @Sendable func openAPI(_ request: Request, context: AppRequestContext) async throws -> Response {
        let path = services.configuration.publicDirectory + "/openapi.yaml"
        guard let data = FileManager.default.contents(atPath: path) else { throw APIError.notFound("OpenAPI document") }
        return Response(
            status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
