import Foundation
import NIOCore
import SQLKit

extension MerchantOnboarding {
    // MARK: Validation

    /// The fields as submitted (the request body decodes straight into `ApplicationFields`),
    /// trimmed and bounded; the credit code checked (GB 32100-2015); the county registered and of
    /// an eligible level; the phone a mobile or fixed line.
    func validate(_ input: ApplicationFields) async throws -> ApplicationFields {
        let countyCode = input.countyCode.trimmingCharacters(in: .whitespaces)
        let county = try await database.read { db in try await reference.county(code: countyCode, in: db) }
        var v = Validator()
        let companyName = v.text(input.companyName, "companyName", max: 100)
        let creditCode = v.text(input.creditCode, "creditCode", max: 18)?.uppercased()
        if let creditCode, let problem = CreditCode.problem(creditCode) { v.fail("creditCode", problem.message) }
        let legal = v.text(input.legalRepresentative, "legalRepresentative", max: 50)
        let contactName = v.text(input.contactName, "contactName", max: 50)
        let phone = v.text(input.contactPhone, "contactPhone", max: 20)
        if let phone, !PhoneNumber.isValid(phone) {
            v.fail("contactPhone", "must be a mobile number (1[3-9] and 9 digits) or a fixed line with its area code")
        }
        if let county {
            if !eligibleCountyLevels.contains(county.level) {
                v.fail("countyCode", "is a \(county.level.rawValue) county, which this platform does not admit")
            }
        } else {
            v.fail("countyCode", "is not a registered 脱贫县")
        }
        let address = v.text(input.address, "address", max: 200)
        let food = v.text(input.foodLicenseNumber, "foodLicenseNumber", max: 50, required: false)
        let bankName = v.text(input.bankName, "bankName", max: 100)
        let account = input.bankAccount.filter { $0 != " " }
        if !(8...32).contains(account.count) || !account.allSatisfy(\.isASCIIDigit) {
            v.fail("bankAccount", "must be 8 to 32 digits")
        }
        if !(0...10_000_000).contains(input.householdsDriven) {
            v.fail("householdsDriven", "must be a whole number from 0 to 10000000")
        }
        try v.check()
        guard let companyName, let creditCode, let legal, let contactName, let phone, let address, let bankName else {
            throw DomainError.validation(v.errors)
        }
        return ApplicationFields(
            companyName: companyName, creditCode: creditCode, legalRepresentative: legal, contactName: contactName,
            contactPhone: phone, countyCode: countyCode, address: address, foodLicenseNumber: food,
            bankName: bankName, bankAccount: account, householdsDriven: input.householdsDriven)
    }

    // MARK: Documents

    /// Whether `user` may add a document to application `id` now: the owner check comes before
    /// the query is judged or the body read, so nobody streams into another's application or
    /// learns from its validation errors that it exists.
    func checkUpload(to id: String, by user: Identity) async throws {
        let (application, count) = try await database.read { db in
            let application = try await Self.visible(id, to: user, store: store, in: db)
            return (application, try await store.documentCount(applicationId: id, in: db))
        }
        try OnboardingRules.checkDocumentUpload(status: application.status, documents: count)
    }

    /// A document's `kind` (one of `documentKinds`) and optional `expiresOn` (YYYY-MM-DD; empty is none).
    static func documentDetails(kind: String?, expiresOn: String?) throws -> (kind: String, expiresOn: String?) {
        var v = Validator()
        if kind == nil || !documentKinds.contains(kind ?? "") {
            v.fail("kind", "must be one of " + documentKinds.joined(separator: ", "))
        }
        let expiresOn = expiresOn.flatMap { $0.isEmpty ? nil : $0 }
        if let expiresOn, CalendarDate(expiresOn) == nil { v.fail("expiresOn", "must be a date YYYY-MM-DD") }
        try v.check()
        guard let kind else { throw DomainError.invalid("kind", "is required") }
        return (kind, expiresOn)
    }

    /// Records the just-stored upload as a document of application `id`.
    func addDocument(
        _ stored: UploadStore.Stored, to id: String, kind: String, expiresOn: String?, by user: Identity
    ) async throws -> MerchantDocument {
        let document = MerchantDocument(
            id: ids.next(), applicationId: id, kind: kind, contentType: stored.type.rawValue,
            sha256: stored.sha256, size: stored.size, expiresOn: expiresOn, createdAt: clock.now)
        try await uploads.recording(stored, database: database) { db in
            // Again inside the transaction: the application may have moved on, or other uploads
            // filled it, while this body streamed.
            guard let current = try await store.application(id: id, lock: true, in: db) else {
                throw DomainError.notFound("application")
            }
            try OnboardingRules.checkDocumentUpload(
                status: current.status, documents: try await store.documentCount(applicationId: id, in: db))
            try await store.addDocument(document, in: db)
            try await audit.append(
                AuditEvent(
                    user, "merchant_application.document", .merchantApplication(id),
                    [
                        "documentId": document.id, "kind": document.kind, "sha256": document.sha256,
                        "size": document.size, "expiresOn": document.expiresOn,
                    ]), in: db)
        }
        return document
    }

    /// Document `documentId` of application `id`, if `user` may see the application, and its bytes.
    func document(_ documentId: String, of id: String, for user: Identity) async throws
        -> (document: MerchantDocument, body: ByteBuffer)
    {
        let document = try await database.read { db in
            _ = try await Self.visible(id, to: user, store: store, in: db)
            guard let document = try await store.document(id: documentId, applicationId: id, in: db) else {
                throw DomainError.notFound("document")
            }
            return document
        }
        return (document, try await uploads.read(sha256: document.sha256))
    }
}
