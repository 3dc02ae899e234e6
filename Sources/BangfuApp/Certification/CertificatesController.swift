import Foundation
import Hummingbird
import SQLKit

/// Certificates (API.md "Certification"): public to read and verify; revoked by admins.
struct CertificatesController {
    let services: AppServices
    var store: CertificationStore { services.certification }

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.group().add(middleware: services.rateLimited(.exporting)).get("/api/v1/certificates", use: list)
        router.get("/api/v1/certificates/:number", use: show)
        router.post("/api/v1/certificates/:number/revocation", use: revoke)
        router.post("/api/v1/certificates/:number/surrender", use: surrender)
        router.get("/api/v1/certificate-keys", use: keys)
    }

    /// The signed fields, the signature, and what the platform says now (`status`, revocation).
    struct Output: Encodable {
        var number: String
        var productId: String
        var productTitle: String
        var merchantId: String
        var merchantName: String
        var countyCode: String
        var issuedAt: String
        var expiresAt: String
        var keyId: String
        var signature: String
        var status: CertificateStatus
        @NullEncoded var revocationReason: String?
        @NullEncoded var revokedAt: String?
        var createdAt: String

        init(_ c: Certificate, now: Date) {
            let p = c.payload
            number = p.number
            productId = p.productId
            productTitle = p.productTitle
            merchantId = p.merchantId
            merchantName = p.merchantName
            countyCode = p.countyCode
            issuedAt = p.issuedAt
            expiresAt = p.expiresAt
            keyId = p.keyId
            signature = c.signature
            status = c.status(now: now)
            revocationReason = c.revocationReason
            revokedAt = c.revokedAt?.rfc3339
            createdAt = p.issuedAt
        }
    }

    struct KeysOutput: Encodable {
        var keys: [JWK]
    }

    struct RevocationInput: Decodable {
        var reason: String?
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let number = try context.parameters.require("number")
        guard CertificateNumber.isWellFormed(number),
            let certificate = try await services.database.read({ db in try await store.certificate(number: number, in: db) })
        else { throw DomainError.notFound("certificate") }
        return try .json(Output(certificate, now: services.clock.now))
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
        let after = try paging.position.map(Paging.timeAndId)
        let now = services.clock.now
        let wanted = status
        let rows = try await services.database.read { db in
            try await store.certificates(
                status: wanted, countyCode: countyCode, merchantId: merchantId, now: now, after: csv ? nil : after,
                limit: csv ? nil : paging.limit + 1, in: db)
        }
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
        let next = rows.count > paging.limit ? rows[paging.limit - 1] : nil
        return try .json(
            Page(
                items: rows.prefix(paging.limit).map { Output($0, now: now) },
                nextCursor: next.map { Paging.cursor(tag: "certificates", position: "\($0.issuedAt.millis)|\($0.number)") }))
    }

    /// Revokes the certificate; when it is its product's current certificate, the product loses
    /// it and is delisted in the same transaction (it can be listed again only with a new one).
    @Sendable func revoke(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.require(.admin)
        let number = try context.parameters.require("number")
        let input = try await request.decodeJSON(RevocationInput.self, context: context)
        var v = Validator()
        let reason = v.text(input.reason, "reason", max: 500, multiline: true)
        try v.check()
        let now = services.clock.now
        let certificate = try await services.database.write { db in
            guard let certificate = try await store.certificate(number: number, in: db) else {
                throw DomainError.notFound("certificate")
            }
            guard let reason else { throw DomainError.invalid("reason", "is required") }
            guard try await store.revoke(number: number, reason: reason, by: user.userId, at: now, in: db) else {
                throw DomainError.invalidTransition(current: certificate.status(now: now).rawValue, action: "revoke")
            }
            let wasListed = try await services.products.product(id: certificate.payload.productId, in: db)?.product.status == .listed
            let current = try await services.products.revokeCertificate(
                productId: certificate.payload.productId, number: number, at: now, in: db)
            let delisted = current && wasListed
            try await services.audit.append(
                AuditEvent(
                    actorId: user.userId, action: "certificate.revoke", entityType: "certificate", entityId: number,
                    data: [
                        "reason": .string(reason), "productId": .string(certificate.payload.productId),
                        "productDelisted": .bool(delisted),
                    ]), in: db)
            guard let revoked = try await store.certificate(number: number, in: db) else { throw DomainError.notFound("certificate") }
            return revoked
        }
        return try .json(Output(certificate, now: now))
    }

    /// `POST /api/v1/certificates/{number}/surrender`: its merchant gives up a valid certificate
    /// (SPEC.md "Certification"): it becomes `surrendered`, the product loses it and is delisted
    /// in the same transaction, and the product's identifying fields may change again.
    @Sendable func surrender(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.require(.merchant)
        let number = try context.parameters.require("number")
        let now = services.clock.now
        let certificate = try await services.database.write { db in
            let merchant = try await services.merchants.merchant(ownerId: user.userId, in: db)
            guard let certificate = try await store.certificate(number: number, in: db),
                let merchant, certificate.payload.merchantId == merchant.id
            else { throw DomainError.notFound("certificate") }
            guard try await store.surrender(number: number, at: now, in: db) else {
                throw DomainError.invalidTransition(current: certificate.status(now: now).rawValue, action: "surrender")
            }
            let delisted = try await services.products.revokeCertificate(
                productId: certificate.payload.productId, number: number, at: now, in: db)
            try await services.audit.append(
                AuditEvent(
                    actorId: user.userId, action: "certificate.surrender", entityType: "certificate", entityId: number,
                    data: ["productId": .string(certificate.payload.productId), "productDelisted": .bool(delisted)]),
                in: db)
            guard let surrendered = try await store.certificate(number: number, in: db) else {
                throw DomainError.notFound("certificate")
            }
            return surrendered
        }
        return try .json(Output(certificate, now: now))
    }

    @Sendable func keys(_ request: Request, context: AppRequestContext) async throws -> Response {
        try .json(KeysOutput(keys: try await services.signingKeys.published()))
    }
}
