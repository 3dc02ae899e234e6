import Foundation
import Hummingbird

/// Certificates (API.md "Certification"): the routes of `CertificateRegistry`; public to read
/// and verify, revoked by admins, surrendered by their merchants.
struct CertificatesController {
    let services: AppServices
    let registry: CertificateRegistry

    typealias Output = CertificationDTO.CertificateOutput

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.group().add(middleware: services.rateLimited(.exporting)).get("/api/v1/certificates", use: list)
        router.get("/api/v1/certificates/:number", use: show)
        router.only(.admin).post("/api/v1/certificates/:number/revocation", use: revoke)
        router.only(.merchant).post("/api/v1/certificates/:number/surrender", use: surrender)
        router.get("/api/v1/certificate-keys", use: keys)
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let number = try context.parameters.require("number")
        let (certificate, now) = try await registry.certificate(number)
        return try .json(Output(certificate, now: now))
    }

    /// The public 帮扶产品目录: `?status=valid|expired|revoked|surrendered`, `countyCode`, `merchantId`; JSON
    /// pages newest first, or the whole selection as CSV.
    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let csv = try CSV.isRequested(request)
        let paging = try Paging.parse(request, tag: "certificates")
        let query = request.uri.queryParameters
        let status = try Paging.choice(request, "status", CertificateStatus.self)
        let countyCode = query["countyCode"].map(String.init)
        let merchantId = query["merchantId"].map(String.init)
        try await services.checkFilters(countyCode: countyCode, merchantId: merchantId)
        let (rows, now) = try await registry.certificates(
            status: status, countyCode: countyCode, merchantId: merchantId, paging: paging, whole: csv)
        if csv {
            return CSV.response(
                header: ["证书编号 number", "产品 productTitle", "产品ID productId", "供应商 merchantName", "供应商ID merchantId",
                    "县 countyCode", "发证 issuedAt", "有效期至 expiresAt", "状态 status", "撤销原因 revocationReason"],
                rows: rows.map { c in
                    let p = c.payload
                    return [p.number, p.productTitle, p.productId, p.merchantName, p.merchantId, p.countyCode, p.issuedAt,
                        p.expiresAt, c.status(now: now).rawValue, c.revocationReason ?? ""]
                },
                filename: "certificates.csv")
        }
        return try .json(
            Page(rows, paging, tag: "certificates", position: { Paging.timeAndId($0.issuedAt, $0.number) }) {
                Output($0, now: now)
            })
    }

    @Sendable func revoke(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let number = try context.parameters.require("number")
        let input = try await request.decodeJSON(CertificationDTO.RevocationInput.self, context: context)
        let (certificate, now) = try await registry.revoke(number, reason: input.reason, by: user)
        return try .json(Output(certificate, now: now))
    }

    @Sendable func surrender(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let number = try context.parameters.require("number")
        let (certificate, now) = try await registry.surrender(number, by: user)
        return try .json(Output(certificate, now: now))
    }

    @Sendable func keys(_ request: Request, context: AppRequestContext) async throws -> Response {
        try .json(CertificationDTO.KeysOutput(keys: try await registry.keys()))
    }
}
