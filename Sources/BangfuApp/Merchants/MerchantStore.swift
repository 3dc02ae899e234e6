import Foundation
import SQLKit

/// What the applicant fills in: the body of `POST`/`PUT /merchant-applications` and columns of
/// the application's own row.
struct ApplicationFields: Sendable, Equatable, Codable {
    var companyName, creditCode, legalRepresentative: String
    var contactName, contactPhone: String
    var countyCode, address: String
    @NullEncoded var foodLicenseNumber: String?
    var bankName, bankAccount: String
    var householdsDriven: Int64
}

struct MerchantApplication: TableRow, Encodable {
    var id, ownerId: String
    var status: ApplicationStatus
    var fields: ApplicationFields
    @NullEncoded var merchantId: String?
    @Millis var createdAt: Date
    @Millis var updatedAt: Date
}

extension MerchantApplication {
    static let columns = [
        "id", "owner_id", "status", "company_name", "credit_code", "legal_representative", "contact_name", "contact_phone",
        "county_code", "address", "food_license_number", "bank_name", "bank_account", "households_driven", "merchant_id",
        "created_at", "updated_at",
    ]

    /// The row's values in the order of `columns`.
    var row: SQLQueryString {
        let f = fields
        return """
            (\(bind: id), \(bind: ownerId), \(bind: status.rawValue), \(bind: f.companyName), \(bind: f.creditCode),
             \(bind: f.legalRepresentative), \(bind: f.contactName), \(bind: f.contactPhone), \(bind: f.countyCode),
             \(bind: f.address), \(bind: f.foodLicenseNumber), \(bind: f.bankName), \(bind: f.bankAccount),
             \(bind: f.householdsDriven), \(bind: merchantId), \(bind: createdAt.millis), \(bind: updatedAt.millis))
            """
    }

    /// Every property but `fields`, which are columns (and answer fields) of their own.
    private enum CodingKeys: String, CodingKey {
        case id, ownerId, status, merchantId, createdAt, updatedAt
    }

    /// The row is flat: `fields` decode from the same columns as the rest.
    init(from decoder: any Decoder) throws {
        let row = try decoder.container(keyedBy: CodingKeys.self)
        id = try row.decode(String.self, forKey: .id)
        ownerId = try row.decode(String.self, forKey: .ownerId)
        status = try row.decode(ApplicationStatus.self, forKey: .status)
        fields = try ApplicationFields(from: decoder)
        merchantId = try row.decode(String?.self, forKey: .merchantId)
        _createdAt = try row.decode(Millis.self, forKey: .createdAt)
        _updatedAt = try row.decode(Millis.self, forKey: .updatedAt)
    }
}

struct MerchantDocument: TableRow, Encodable {
    var id, applicationId: String
    /// What the document is (`business_license`, …).
    var kind: String
    /// Its file's type and content address.
    var contentType, sha256: String
    var size: Int64
    @NullEncoded var expiresOn: String?
    @Millis var createdAt: Date
}

extension MerchantDocument {
    static let columns = ["id", "application_id", "kind", "content_type", "sha256", "size", "expires_on", "created_at"]

    /// The row's values in the order of `columns`.
    var row: SQLQueryString {
        """
        (\(bind: id), \(bind: applicationId), \(bind: kind), \(bind: contentType), \(bind: sha256), \(bind: size),
         \(bind: expiresOn), \(bind: createdAt.millis))
        """
    }
}

/// A merchant's row, with its county's name (`county_name`, from the join every read makes; not
/// a column of `merchants`, so not in `columns` or `row`).
struct Merchant: TableRow {
    var id: String
    var applicationId: String
    var ownerId: String
    var companyName, creditCode: String
    var countyCode, countyName: String
    var householdsDriven: Int64
    var status: MerchantStatus
    var suspensionReason: String?
    @Millis var createdAt: Date
    @Millis var updatedAt: Date
}

extension Merchant {
    static let columns = [
        "id", "application_id", "owner_id", "company_name", "credit_code", "county_code", "households_driven", "status",
        "suspension_reason", "created_at", "updated_at",
    ]

    /// The row's values in the order of `columns`.
    var row: SQLQueryString {
        """
        (\(bind: id), \(bind: applicationId), \(bind: ownerId), \(bind: companyName), \(bind: creditCode), \(bind: countyCode),
         \(bind: householdsDriven), \(bind: status.rawValue), \(bind: suspensionReason), \(bind: createdAt.millis),
         \(bind: updatedAt.millis))
        """
    }
}

/// Applications, their reviews and documents, and merchants.
struct MerchantStore: Sendable {
    let engine: DatabaseEngine

    // MARK: Applications

    func insert(_ application: MerchantApplication, in db: any SQLDatabase) async throws {
        try await db.raw("INSERT INTO merchant_applications (\(MerchantApplication.columnList)) VALUES \(application.row)").run()
    }

    func update(_ application: MerchantApplication, in db: any SQLDatabase) async throws {
        let f = application.fields
        try await db.raw(
            """
            UPDATE merchant_applications SET status = \(bind: application.status.rawValue),
              company_name = \(bind: f.companyName), credit_code = \(bind: f.creditCode),
              legal_representative = \(bind: f.legalRepresentative), contact_name = \(bind: f.contactName),
              contact_phone = \(bind: f.contactPhone), county_code = \(bind: f.countyCode), address = \(bind: f.address),
              food_license_number = \(bind: f.foodLicenseNumber), bank_name = \(bind: f.bankName),
              bank_account = \(bind: f.bankAccount), households_driven = \(bind: f.householdsDriven),
              merchant_id = \(bind: application.merchantId), updated_at = \(bind: application.updatedAt.millis)
            WHERE id = \(bind: application.id)
            """
        ).run()
    }

    /// With `lock`, the row stays locked until the transaction ends on PostgreSQL (SQLite's single
    /// writer already serializes), so a review step and an upload take turns.
    func application(id: String, lock: Bool = false, in db: any SQLDatabase) async throws -> MerchantApplication? {
        let suffix = lock && engine == .postgres ? " FOR UPDATE" : ""
        return try await db.raw("SELECT * FROM merchant_applications WHERE id = \(bind: id)\(unsafeRaw: suffix)").first()
            .map(Self.application)
    }

    struct ApplicationFilter: Sendable {
        var ownerId: String?
        var countyCode: String?
        var status: ApplicationStatus?
    }

    /// Newest first; `after` is the (createdAt, id) of the last item of the previous page.
    func applications(_ filter: ApplicationFilter, after: (Int64, String)?, limit: Int, in db: any SQLDatabase)
        async throws -> [MerchantApplication]
    {
        var query: SQLQueryString = "SELECT * FROM merchant_applications WHERE 1 = 1"
        if let owner = filter.ownerId { query += " AND owner_id = \(bind: owner)" }
        if let county = filter.countyCode { query += " AND county_code = \(bind: county)" }
        if let status = filter.status { query += " AND status = \(bind: status.rawValue)" }
        query += .newestFirst(after: after, time: "created_at", id: "id", limit: limit)
        return try await db.raw(query).all().map(Self.application)
    }

    /// True when a merchant holds the credit code, or another application in progress does.
    func creditCodeInUse(_ code: String, excluding applicationId: String?, in db: any SQLDatabase) async throws -> Bool {
        let merchant = try await db.raw("SELECT id FROM merchants WHERE credit_code = \(bind: code)").first()
        if merchant != nil { return true }
        let open = try await db.raw(
            """
            SELECT id FROM merchant_applications WHERE credit_code = \(bind: code)
              AND status IN ('submitted', 'recommended') AND id <> \(bind: applicationId ?? "")
            """
        ).first()
        return open != nil
    }

    /// True when the user already is a merchant or has an application in progress.
    func ownerIsBusy(_ ownerId: String, in db: any SQLDatabase) async throws -> Bool {
        let row = try await db.raw(
            """
            SELECT id FROM merchant_applications WHERE owner_id = \(bind: ownerId)
              AND status IN ('submitted', 'recommended', 'approved')
            """
        ).first()
        return row != nil
    }

    // MARK: Documents

    func addDocument(_ document: MerchantDocument, in db: any SQLDatabase) async throws {
        try await db.raw("INSERT INTO merchant_documents (\(MerchantDocument.columnList)) VALUES \(document.row)").run()
    }

    func documentCount(applicationId: String, in db: any SQLDatabase) async throws -> Int {
        let row = try await db.raw(
            "SELECT COUNT(*) AS n FROM merchant_documents WHERE application_id = \(bind: applicationId)"
        ).first()
        return Int(try row?.decode(column: "n", as: Int64.self) ?? 0)
    }

    func documents(applicationId: String, in db: any SQLDatabase) async throws -> [MerchantDocument] {
        try await db.raw(
            "SELECT * FROM merchant_documents WHERE application_id = \(bind: applicationId) ORDER BY created_at, id"
        ).all().map(Self.document)
    }

    func document(id: String, applicationId: String, in db: any SQLDatabase) async throws -> MerchantDocument? {
        try await db.raw(
            "SELECT * FROM merchant_documents WHERE id = \(bind: id) AND application_id = \(bind: applicationId)"
        ).first().map(Self.document)
    }

    // MARK: Merchants

    /// The active merchant an approved application becomes.
    func insertMerchant(
        id: String, from application: MerchantApplication, at: Date, in db: any SQLDatabase
    ) async throws {
        let f = application.fields
        let merchant = Merchant(
            id: id, applicationId: application.id, ownerId: application.ownerId, companyName: f.companyName,
            creditCode: f.creditCode, countyCode: f.countyCode, countyName: "", householdsDriven: f.householdsDriven,
            status: .active, suspensionReason: nil, createdAt: at, updatedAt: at)
        try await db.raw("INSERT INTO merchants (\(Merchant.columnList)) VALUES \(merchant.row)").run()
    }

    private static let merchantSelect =
        "SELECT m.*, c.name AS county_name FROM merchants m JOIN counties c ON c.code = m.county_code"

    func merchant(id: String, in db: any SQLDatabase) async throws -> Merchant? {
        try await db.raw("\(unsafeRaw: Self.merchantSelect) WHERE m.id = \(bind: id)").first().map(Self.merchant)
    }

    func merchant(ownerId: String, in db: any SQLDatabase) async throws -> Merchant? {
        try await db.raw("\(unsafeRaw: Self.merchantSelect) WHERE m.owner_id = \(bind: ownerId)").first().map(Self.merchant)
    }

    /// The owner's merchant, if it is active: what merchants need to change their products or
    /// apply for certification (403 otherwise).
    func activeMerchant(ownerId: String, in db: any SQLDatabase) async throws -> Merchant {
        guard let merchant = try await merchant(ownerId: ownerId, in: db) else {
            throw DomainError(.forbidden, code: "forbidden", detail: "only an approved merchant may do this")
        }
        guard merchant.status == .active else {
            throw DomainError(.forbidden, code: "forbidden", detail: "the merchant is suspended")
        }
        return merchant
    }

    /// Newest first; `activeOnly` for the public directory.
    func merchants(countyCode: String?, activeOnly: Bool, after: (Int64, String)?, limit: Int, in db: any SQLDatabase)
        async throws -> [Merchant]
    {
        var query: SQLQueryString = "\(unsafeRaw: Self.merchantSelect) WHERE 1 = 1"
        if let countyCode { query += " AND m.county_code = \(bind: countyCode)" }
        if activeOnly { query += " AND m.status = 'active'" }
        query += .newestFirst(after: after, time: "m.created_at", id: "m.id", limit: limit)
        return try await db.raw(query).all().map(Self.merchant)
    }

    func setStatus(merchantId: String, _ status: MerchantStatus, reason: String?, at: Date, in db: any SQLDatabase)
        async throws
    {
        try await db.raw(
            """
            UPDATE merchants SET status = \(bind: status.rawValue), suspension_reason = \(bind: reason),
              updated_at = \(bind: at.millis) WHERE id = \(bind: merchantId)
            """
        ).run()
    }

    /// True when the database holds no users at all: the only database demo data may go into.
    func isEmpty(in db: any SQLDatabase) async throws -> Bool {
        try await db.raw("SELECT COUNT(*) AS n FROM users").first()?.decode(column: "n", as: Int64.self) == 0
    }

    // MARK: Rows

    private static func application(_ row: any SQLRow) throws -> MerchantApplication {
        try row.model(MerchantApplication.self)
    }

    private static func document(_ row: any SQLRow) throws -> MerchantDocument {
        try row.model(MerchantDocument.self)
    }

    private static func merchant(_ row: any SQLRow) throws -> Merchant {
        try row.model(Merchant.self)
    }
}
