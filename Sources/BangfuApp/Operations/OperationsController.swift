import Foundation
import Hummingbird
import Prometheus

/// `/healthz`, `/readyz`, `/metrics` and `/openapi.yaml` (API.md "Operations").
struct OperationsController {
    let services: AppServices

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
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
        let state = await Readiness(services).check()
        return try .json(Status(status: state.rawValue), status: state == .ready ? .ok : .serviceUnavailable)
    }

    @Sendable func metrics(_ request: Request, context: AppRequestContext) async throws -> Response {
        if !context.isLoopback {
            // Relayed by the proxy, metrics are for signed-in admins only: anyone else is refused
            // outright (403), so the world behind the proxy learns nothing.
            if context.viaProxy, context.identity?.role != .admin { throw DomainError.forbidden }
            _ = try context.require(.admin)
        }
        return services.metricsResponse()
    }

    @Sendable func openAPI(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let data = try? FileSource.publicFiles(services.configuration).data("openapi.yaml") else {
            throw DomainError.notFound("OpenAPI document")
        }
        return Response(
            status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension AppServices {
    /// The Prometheus text of every metric.
    func metricsResponse() -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: metrics.registry.emitToBuffer())))
    }
}
