import Foundation
import Hummingbird

/// Counties and categories (API.md "Reference data").
struct ReferenceController {
    let services: AppServices

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("/api/v1/counties", use: listCounties)
        router.post("/api/v1/counties", use: createCounty)
        router.patch("/api/v1/counties/:code", use: updateCounty)
        router.get("/api/v1/categories", use: listCategories)
    }

    struct CountyOutput: Encodable {
        var id: String
        var code: String
        var name: String
        var prefecture: String
        var province: String
        var level: CountyLevel
        var createdAt: String

        init(_ county: County, createdAt: Date) {
            id = county.code
            code = county.code
            name = county.name
            prefecture = county.prefecture
            province = county.province
            level = county.level
            self.createdAt = createdAt.rfc3339
        }
    }

    @Sendable func listCounties(_ request: Request, context: AppRequestContext) async throws -> Response {
        let counties = try await services.database.read { db in try await services.reference.counties(in: db) }
        return try .json(counties.map { CountyOutput($0.0, createdAt: $0.1) })
    }

    struct CountyInput: Decodable {
        var code: String?
        var name: String?
        var prefecture: String?
        var province: String?
        var level: String?
    }

    /// Validates a new county (`base` nil: every field required) or a correction of `base` (only
    /// the fields present change).
    static func validate(_ input: CountyInput, base: County?) throws -> County {
        var validator = Validator()
        let code = base?.code ?? input.code ?? ""
        if base == nil && !(code.count == 6 && code.allSatisfy { $0.isASCII && $0.isNumber }) {
            validator.fail("code", "must be a 6-digit GB/T 2260 code")
        }
        let required = base == nil
        let name = validator.text(input.name, "name", max: 64, required: required || input.name != nil) ?? base?.name
        let prefecture = validator.text(input.prefecture, "prefecture", max: 64, required: required || input.prefecture != nil) ?? base?.prefecture
        let province = validator.text(input.province, "province", max: 64, required: required || input.province != nil) ?? base?.province
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

    @Sendable func createCounty(_ request: Request, context: AppRequestContext) async throws -> Response {
        let admin = try context.require(.admin)
        let county = try Self.validate(try await request.decodeJSON(CountyInput.self, context: context), base: nil)
        let createdAt = try await services.database.write { db in
            guard try await services.reference.insert(county, in: db) else {
                throw DomainError.conflict("a county with this code exists", field: "code")
            }
            try await services.audit.append(
                AuditEvent(
                    actorId: admin.userId, action: "county.create", entityType: "county", entityId: county.code,
                    data: Self.auditData(county)), in: db)
            return try await services.reference.countyCreatedAt(code: county.code, in: db) ?? services.clock.now
        }
        return try .json(CountyOutput(county, createdAt: createdAt), status: .created)
    }

    @Sendable func updateCounty(_ request: Request, context: AppRequestContext) async throws -> Response {
        let admin = try context.require(.admin)
        let code = try context.parameters.require("code")
        let input = try await request.decodeJSON(CountyInput.self, context: context)
        if let newCode = input.code, newCode != code {
            throw DomainError.invalid("code", "cannot be changed")
        }
        let (county, createdAt) = try await services.database.write { db in
            guard let existing = try await services.reference.county(code: code, in: db),
                let createdAt = try await services.reference.countyCreatedAt(code: code, in: db)
            else { throw DomainError.notFound("county") }
            let county = try Self.validate(input, base: existing)
            try await services.reference.update(county, in: db)
            try await services.audit.append(
                AuditEvent(
                    actorId: admin.userId, action: "county.update", entityType: "county", entityId: code,
                    data: Self.auditData(county)), in: db)
            return (county, createdAt)
        }
        return try .json(CountyOutput(county, createdAt: createdAt))
    }

    static func auditData(_ county: County) -> [String: AuditValue] {
        [
            "name": .string(county.name), "prefecture": .string(county.prefecture),
            "province": .string(county.province), "level": .string(county.level.rawValue),
        ]
    }

    struct CategoryOutput: Encodable {
        var id: String
        var name: String
        @NullEncoded var parentId: String?
        var createdAt: String
    }

    @Sendable func listCategories(_ request: Request, context: AppRequestContext) async throws -> Response {
        let categories = try await services.database.read { db in try await services.reference.categories(in: db) }
        return try .json(
            categories.map { CategoryOutput(id: $0.0.id, name: $0.0.name, parentId: $0.0.parentId, createdAt: $0.1.rfc3339) })
    }
}
