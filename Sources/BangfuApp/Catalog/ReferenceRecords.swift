import Foundation
import SQLKit

/// Counties (脱贫县) and categories (API.md "Reference data"): everyone reads them; admins
/// register counties and correct them, each change audited.
struct ReferenceRecords: UseCase {
    let services: AppServices
    var store: ReferenceStore { services.reference }

    init(_ services: AppServices) {
        self.services = services
    }

    func counties() async throws -> [CatalogDTO.CountyOutput] {
        let counties = try await database.read { db in try await store.counties(in: db) }
        return counties.map { CatalogDTO.CountyOutput($0.0, createdAt: $0.1) }
    }

    func categories() async throws -> [CatalogDTO.CategoryOutput] {
        let categories = try await database.read { db in try await store.categories(in: db) }
        return categories.map { CatalogDTO.CategoryOutput($0.0, createdAt: $0.1) }
    }

    /// Registers a county; its code must be new.
    func createCounty(_ input: CatalogDTO.CountyInput, by admin: Identity) async throws -> CatalogDTO.CountyOutput {
        let county = try Self.validate(input, base: nil)
        let createdAt = try await database.write { db in
            guard try await store.insert(county, in: db) else {
                throw DomainError.conflict("a county with this code exists", field: "code")
            }
            try await audit.append(AuditEvent(admin, "county.create", .county(county.code), Self.auditData(county)), in: db)
            return try await store.countyCreatedAt(code: county.code, in: db) ?? clock.now
        }
        return CatalogDTO.CountyOutput(county, createdAt: createdAt)
    }

    /// Corrects the fields sent of county `code` (its code never changes).
    func updateCounty(_ code: String, _ input: CatalogDTO.CountyInput, by admin: Identity) async throws
        -> CatalogDTO.CountyOutput
    {
        if let newCode = input.code, newCode != code {
            throw DomainError.invalid("code", "cannot be changed")
        }
        let (county, createdAt) = try await database.write { db in
            guard let existing = try await store.county(code: code, in: db),
                let createdAt = try await store.countyCreatedAt(code: code, in: db)
            else { throw DomainError.notFound("county") }
            let county = try Self.validate(input, base: existing)
            try await store.update(county, in: db)
            try await audit.append(AuditEvent(admin, "county.update", .county(code), Self.auditData(county)), in: db)
            return (county, createdAt)
        }
        return CatalogDTO.CountyOutput(county, createdAt: createdAt)
    }

    /// Validates a new county (`base` nil: every field required) or a correction of `base` (only
    /// the fields present change).
    static func validate(_ input: CatalogDTO.CountyInput, base: County?) throws -> County {
        var validator = Validator()
        let code = base?.code ?? input.code ?? ""
        if base == nil && !(code.count == 6 && code.allSatisfy { $0.isASCII && $0.isNumber }) {
            validator.fail("code", "must be a 6-digit GB/T 2260 code")
        }
        let required = base == nil
        let name = validator.text(input.name, "name", max: 64, required: required || input.name != nil) ?? base?.name
        let prefecture =
            validator.text(input.prefecture, "prefecture", max: 64, required: required || input.prefecture != nil)
            ?? base?.prefecture
        let province =
            validator.text(input.province, "province", max: 64, required: required || input.province != nil)
            ?? base?.province
        var level = base?.level
        if let raw = input.level {
            level = CountyLevel(rawValue: raw)
            if level == nil { validator.fail("level", "must be national or provincial") }
        } else if required {
            validator.fail("level", "is required")
        }
        try validator.check()
        guard let name, let prefecture, let province, let level else { throw DomainError.validation(validator.errors) }
        return County(code: code, name: name, prefecture: prefecture, province: province, level: level)
    }

    private static func auditData(_ county: County) -> [String: any AuditRecordable] {
        ["name": county.name, "prefecture": county.prefecture, "province": county.province, "level": county.level.rawValue]
    }
}
