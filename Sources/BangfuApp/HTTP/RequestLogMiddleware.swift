import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Prometheus

/// Outermost middleware: gives each request an ID (echoing a sane `X-Request-ID` from the client,
/// else a fresh one) that appears on the response and every log line, writes the access log,
/// records metrics and adds the security headers.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let metrics: HTTPMetrics
    let tls: Bool
    let ids: IDGenerator

    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
        + "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var context = context
        let incoming = request.headers[.requestID]
        let requestID = incoming.flatMap(Self.isSane) == true ? incoming! : ids.next()
        context.requestID = requestID
        context.logger[metadataKey: "request_id"] = .string(requestID)
        let start = ContinuousClock.now
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            // ProblemMiddleware sits inside and answers every error; this is a last resort.
            response = ProblemMiddleware.response(
                DomainError(.internalServerError, code: "internal_error", detail: "an internal error occurred"))
        }
        let elapsed = ContinuousClock.now - start
        response.headers[.requestID] = requestID
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        response.headers[.referrerPolicy] = "no-referrer"
        response.headers[.xFrameOptions] = "DENY"
        if tls {
            response.headers[.strictTransportSecurity] = "max-age=31536000"
        }
        let route = context.endpointPath ?? "unmatched"
        metrics.record(method: request.method.rawValue, route: route, status: response.status.code, elapsed: elapsed)
        context.logger.info(
            "request",
            metadata: [
                "method": .string(request.method.rawValue),
                "path": .string(request.uri.path),
                "route": .string(route),
                "status": .stringConvertible(response.status.code),
                "ms": .stringConvertible(Self.milliseconds(elapsed)),
            ])
        return response
    }

    /// Milliseconds with three decimals, for the access log.
    static func milliseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return ((Double(seconds) * 1000 + Double(attoseconds) / 1e15) * 1000).rounded() / 1000
    }

    static func isSane(_ id: String) -> Bool {
        (1...64).contains(id.count)
            && id.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || "-_.".unicodeScalars.contains($0) }
    }
}

/// Request counts and latencies, exported by `/metrics` in Prometheus text format.
public struct HTTPMetrics: Sendable {
    let registry: PrometheusCollectorRegistry

    /// `bangfu_<subsystem>_<name>_<unit>`.
    private static func named(_ subsystem: String, _ name: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "bangfu", subsystem: subsystem, metricName: name, unitName: unit, helpText: help)
    }

    static var requests: MetricNameDescriptor { named("http", "requests", "total", "HTTP requests by method, route and status") }
    static var duration: MetricNameDescriptor { named("http", "request_duration", "seconds", "HTTP request latency by route") }
    static var ordersPlaced: MetricNameDescriptor {
        named("orders", "placed", "total", "Orders placed (one per merchant of a checkout)")
    }
    static var catalogApply: MetricNameDescriptor {
        named("catalog", "apply_duration", "seconds", "How long each batch of catalog changes held the catalog index while it was applied")
    }
    static var catalogSwept: MetricNameDescriptor {
        named("catalog", "swept", "total", "Products whose certificate lapsed, swept out of the catalog index's candidates")
    }

    /// A batch of catalog changes applied to the index (`CatalogFeed`), with the time it held the index.
    func recordCatalogApply(_ elapsed: Duration) {
        registry.makeDurationHistogram(
            descriptor: Self.catalogApply,
            buckets: [
                .milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(250),
                .seconds(1), .seconds(5),
            ]
        ).record(elapsed)
    }

    func recordCatalogSwept(_ count: Int) {
        registry.makeCounter(descriptor: Self.catalogSwept).increment(by: Int64(count))
    }

    func recordOrdersPlaced(_ count: Int) {
        registry.makeCounter(descriptor: Self.ordersPlaced).increment(by: Int64(count))
    }

    func record(method: String, route: String, status: Int, elapsed: Duration) {
        registry.makeCounter(
            descriptor: Self.requests,
            labels: [("method", method), ("route", route), ("status", String(status))]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: Self.duration,
            labels: [("route", route)],
            buckets: [
                .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
                .seconds(5),
            ]
        ).record(elapsed)
    }
}

extension HTTPField.Name {
    static let requestID = Self("X-Request-ID")!
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
    static let xFrameOptions = Self("X-Frame-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
    static let strictTransportSecurity = Self("Strict-Transport-Security")!
    static let idempotencyKey = Self("Idempotency-Key")!
}
