import Foundation
import SQLKit

struct CertificationApplication: TableRow, Encodable {
    var id, productId, merchantId: String
    /// The product's origin county, whose officer reviews it.
    var countyCode: String
    var status: CertificationStatus
    var householdsDriven: Int64
    var description: String
    @NullEncoded var certificateNumber: String?
    @Millis var createdAt: Date
    @Millis var updatedAt: Date
    /// The product's title as submitted (what the certificate signs; the product's title now for
    /// applications from before it was kept), and the merchant's name now.
    var productTitle = ""
    var merchantName = ""
}

extension CertificationApplication {
    /// `submitted_title` is written from `productTitle`; reads take `product_title` (the submitted
    /// title or the product's) and `merchant_name` from the join of `CertificationStore.select`.
    static let columns = [
        "id", "product_id", "merchant_id", "county_code", "status", "households_driven", "description",
        "certificate_number", "created_at", "updated_at", "submitted_title",
    ]

    /// The row's values in the order of `columns`.
    var row: SQLQueryString {
        """
        (\(bind: id), \(bind: productId), \(bind: merchantId), \(bind: countyCode), \(bind: status.rawValue),
         \(bind: householdsDriven), \(bind: description), \(bind: certificateNumber), \(bind: createdAt.millis),
         \(bind: updatedAt.millis), \(bind: productTitle))
        """
    }
}

/// An issued certificate: its signed payload, its signature and what happened to it since.
struct Certificate: TableRow {
    var payload: CertificatePayload
    var applicationId: String?
    var issuedAt: Date
    var expiresAt: Date
    var signature: String
    var revokedAt: Date?
    var revocationReason: String?
    var surrenderedAt: Date? = nil

    var number: String { payload.number }

    func status(now: Date) -> CertificateStatus {
        CertificateStatus.of(expiresAt: expiresAt, revokedAt: revokedAt, surrenderedAt: surrenderedAt, now: now)
    }
}

extension Certificate {
    /// Every column but `revoked_by`, which only a revocation writes. `created_at` is the issue time.
    static let columns = [
        "number", "application_id", "product_id", "product_title", "merchant_id", "merchant_name", "county_code",
        "issued_at", "expires_at", "key_id", "signature", "revoked_at", "revocation_reason", "surrendered_at", "created_at",
    ]

    /// The row's values in the order of `columns`.
    var row: SQLQueryString {
        let p = payload
        return """
            (\(bind: p.number), \(bind: applicationId), \(bind: p.productId), \(bind: p.productTitle), \(bind: p.merchantId),
             \(bind: p.merchantName), \(bind: p.countyCode), \(bind: issuedAt.millis), \(bind: expiresAt.millis),
             \(bind: p.keyId), \(bind: signature), \(bind: revokedAt?.millis), \(bind: revocationReason),
             \(bind: surrenderedAt?.millis), \(bind: issuedAt.millis))
            """
    }

    private enum CodingKeys: String, CodingKey {
        case number, applicationId, productId, productTitle, merchantId, merchantName, countyCode, issuedAt, expiresAt, keyId
        case signature, revokedAt, revocationReason, surrenderedAt
    }

    /// The row is flat; the payload shows its times as RFC 3339, as they were signed.
    init(from decoder: any Decoder) throws {
        let row = try decoder.container(keyedBy: CodingKeys.self)
        let issuedAt = try row.decode(Millis.self, forKey: .issuedAt).wrappedValue
        let expiresAt = try row.decode(Millis.self, forKey: .expiresAt).wrappedValue
        self.init(
            payload: CertificatePayload(
                number: try row.decode(String.self, forKey: .number),
                productId: try row.decode(String.self, forKey: .productId),
                productTitle: try row.decode(String.self, forKey: .productTitle),
                merchantId: try row.decode(String.self, forKey: .merchantId),
                merchantName: try row.decode(String.self, forKey: .merchantName),
                countyCode: try row.decode(String.self, forKey: .countyCode),
                issuedAt: issuedAt.rfc3339, expiresAt: expiresAt.rfc3339,
                keyId: try row.decode(String.self, forKey: .keyId)),
            applicationId: try row.decode(String?.self, forKey: .applicationId),
            issuedAt: issuedAt, expiresAt: expiresAt,
            signature: try row.decode(String.self, forKey: .signature),
            revokedAt: try row.decode(OptionalMillis.self, forKey: .revokedAt).wrappedValue,
            revocationReason: try row.decode(String?.self, forKey: .revocationReason),
            surrenderedAt: try row.decode(OptionalMillis.self, forKey: .surrenderedAt).wrappedValue)
    }
}

/// Certification applications, their reviews, and certificates with their numbering.
struct CertificationStore: Sendable {
    let engine: DatabaseEngine
    struct ApplicationFilter: Sendable {
        var status: CertificationStatus?
        var merchantId: String?
        var countyCode: String?
    }

    func insert(_ application: CertificationApplication, in db: any SQLDatabase) async throws {
        try await db.raw(
            "INSERT INTO certification_applications (\(CertificationApplication.columnList)) VALUES \(application.row)"
        ).run()
    }

    func update(_ application: CertificationApplication, in db: any SQLDatabase) async throws {
        try await db.raw(
            """
            UPDATE certification_applications SET status = \(bind: application.status.rawValue),
              certificate_number = \(bind: application.certificateNumber), updated_at = \(bind: application.updatedAt.millis)
            WHERE id = \(bind: application.id)
            """
        ).run()
    }

    /// With `lock`, the row stays locked until the transaction ends on PostgreSQL (`FOR UPDATE
    /// OF a`), so two reviewers of one application take turns; SQLite's single writer already does.
    func application(id: String, lock: Bool = false, in db: any SQLDatabase) async throws -> CertificationApplication? {
        let suffix = lock && engine == .postgres ? " FOR UPDATE OF a" : ""
        return try await db.raw("\(unsafeRaw: Self.select) WHERE a.id = \(bind: id)\(unsafeRaw: suffix)").first().map(Self.application)
    }

    /// Whether any certificate of the product is valid at `now` (not only the product's current
    /// one: an older certificate still vouches for the product until it expires).
    func hasValidCertificate(productId: String, now: Date, in db: any SQLDatabase) async throws -> Bool {
        try await db.raw(
            """
            SELECT 1 AS found FROM certificates WHERE product_id = \(bind: productId) AND revoked_at IS NULL
              AND surrendered_at IS NULL AND expires_at > \(bind: now.millis) LIMIT 1
            """
        ).first() != nil
    }

    func hasOpenApplication(productId: String, in db: any SQLDatabase) async throws -> Bool {
        try await db.raw(
            """
            SELECT 1 AS found FROM certification_applications
            WHERE product_id = \(bind: productId) AND status IN ('submitted', 'county_approved')
            """
        ).first() != nil
    }

    /// Newest first, after the keyset position `(createdAt millis, id)`.
    func applications(_ filter: ApplicationFilter, after: (Int64, String)?, limit: Int, in db: any SQLDatabase)
        async throws -> [CertificationApplication]
    {
        var sql = SQLQueryString("\(unsafeRaw: Self.select) WHERE 1 = 1")
        if let status = filter.status { sql += " AND a.status = \(bind: status.rawValue)" }
        if let merchantId = filter.merchantId { sql += " AND a.merchant_id = \(bind: merchantId)" }
        if let county = filter.countyCode { sql += " AND a.county_code = \(bind: county)" }
        sql += .newestFirst(after: after, time: "a.created_at", id: "a.id", limit: limit)
        return try await db.raw(sql).all().map(Self.application)
    }

    // MARK: Certificates

    /// The next sequence number of `year`, taken inside the caller's transaction (the counter
    /// row's lock orders concurrent issues on PostgreSQL; SQLite has one writer).
    func nextSequence(year: Int, count: Int64 = 1, in db: any SQLDatabase) async throws -> Int64 {
        try await db.raw(
            "INSERT INTO certificate_sequences (year, last) VALUES (\(bind: Int64(year)), 0) ON CONFLICT (year) DO NOTHING"
        ).run()
        let row = try await db.raw(
            """
            UPDATE certificate_sequences SET last = last + \(bind: count) WHERE year = \(bind: Int64(year))
            RETURNING CAST(last AS BIGINT) AS last
            """
        ).first()
        guard let row else {
            throw DomainError(.internalServerError, code: "internal_error", detail: "the certificate sequence was not advanced")
        }
        return try row.decode(column: "last", as: Int64.self) - count + 1
    }

    func insert(_ certificate: Certificate, in db: any SQLDatabase) async throws {
        try await insertBatch([certificate], in: db)
    }

    func insertBatch(_ certificates: [Certificate], in db: any SQLDatabase) async throws {
        for chunk in stride(from: 0, to: certificates.count, by: 500).map({ certificates[$0..<min($0 + 500, certificates.count)] }) {
            try await db.raw("INSERT INTO certificates (\(Certificate.columnList)) VALUES" + .values(chunk.map(\.row))).run()
        }
    }

    func certificate(number: String, in db: any SQLDatabase) async throws -> Certificate? {
        try await db.raw("SELECT * FROM certificates WHERE number = \(bind: number)").first().map(Self.certificate)
    }

    /// Marks the certificate revoked; false when it already was (a concurrent revocation).
    func revoke(number: String, reason: String, by actorId: String, at: Date, in db: any SQLDatabase) async throws -> Bool {
        try await db.raw(
            """
            UPDATE certificates SET revoked_at = \(bind: at.millis), revocation_reason = \(bind: reason),
              revoked_by = \(bind: actorId)
            WHERE number = \(bind: number) AND revoked_at IS NULL AND surrendered_at IS NULL RETURNING number
            """
        ).first() != nil
    }

    /// Marks a valid certificate surrendered; false when it is no longer valid (revoked,
    /// surrendered or expired, perhaps by a concurrent request).
    func surrender(number: String, at: Date, in db: any SQLDatabase) async throws -> Bool {
        try await db.raw(
            """
            UPDATE certificates SET surrendered_at = \(bind: at.millis)
            WHERE number = \(bind: number) AND revoked_at IS NULL AND surrendered_at IS NULL
              AND expires_at > \(bind: at.millis) RETURNING number
            """
        ).first() != nil
    }

    /// The public directory, newest first, after the keyset position `(issuedAt millis, number)`.
    func certificates(
        status: CertificateStatus?, countyCode: String?, merchantId: String?, now: Date, after: (Int64, String)?,
        limit: Int?, in db: any SQLDatabase
    ) async throws -> [Certificate] {
        var sql = SQLQueryString("SELECT * FROM certificates WHERE 1 = 1")
        switch status {
        case .valid?:
            sql.appendInterpolation(unsafeRaw: " AND revoked_at IS NULL AND surrendered_at IS NULL AND expires_at > ")
            sql.appendInterpolation(bind: now.millis)
        case .expired?:
            sql.appendInterpolation(unsafeRaw: " AND revoked_at IS NULL AND surrendered_at IS NULL AND expires_at <= ")
            sql.appendInterpolation(bind: now.millis)
        case .revoked?: sql.appendInterpolation(unsafeRaw: " AND revoked_at IS NOT NULL")
        case .surrendered?: sql.appendInterpolation(unsafeRaw: " AND revoked_at IS NULL AND surrendered_at IS NOT NULL")
        case nil: break
        }
        if let countyCode { sql += " AND county_code = \(bind: countyCode)" }
        if let merchantId { sql += " AND merchant_id = \(bind: merchantId)" }
        sql += .newestFirst(after: after, time: "issued_at", id: "number", limit: limit)
        return try await db.raw(sql).all().map(Self.certificate)
    }

    private static let select = """
        SELECT a.*, COALESCE(a.submitted_title, p.title) AS product_title, m.company_name AS merchant_name
        FROM certification_applications a
        JOIN products p ON p.id = a.product_id JOIN merchants m ON m.id = a.merchant_id
        """

    private static func application(_ row: any SQLRow) throws -> CertificationApplication {
        try row.model(CertificationApplication.self)
    }

    private static func certificate(_ row: any SQLRow) throws -> Certificate {
        try row.model(Certificate.self)
    }
}
