import Foundation

/// Administrative divisions (API.md "Reference data", `/api/v1/regions`): anyone reads them by
/// parent; an admin adds one (a municipality's district, a new county), audited.
struct Regions: UseCase {
    let services: AppServices
    var store: RegionStore { services.regions }

    init(_ services: AppServices) {
        self.services = services
    }

    struct Input: Decodable, Sendable {
        var code: String
        var name: String
        var parentCode: String?
    }

    /// The provinces, or the divisions directly under `parent` (404 for an unknown parent).
    func regions(parent: String?) async throws -> [Region] {
        try await database.read { db in
            if let parent, try await store.region(code: parent, in: db) == nil { throw DomainError.notFound("region") }
            return try await store.regions(parent: parent, in: db)
        }
    }

    /// Adds a division under its registered parent; its code must be new.
    func add(_ input: Input, by admin: Identity) async throws -> Region {
        var v = Validator()
        if !RegionRules.isWellFormed(input.code) { v.fail("code", "must be a 6-digit GB/T 2260 code") }
        let name = v.text(input.name, "name", max: 64)
        if v.errors.isEmpty, let problem = RegionRules.placementProblem(code: input.code, parentCode: input.parentCode) {
            v.fail("parentCode", problem)
        }
        try v.check()
        guard let name else { throw DomainError.validation(v.errors) }
        let region = Region(
            code: input.code, name: name, level: RegionRules.level(of: input.code), parentCode: input.parentCode)
        let now = clock.now
        try await database.write { db in
            if let parent = input.parentCode, try await store.region(code: parent, in: db) == nil {
                throw DomainError.invalid("parentCode", "is not a registered region")
            }
            guard try await store.insert(region, at: now, in: db) else {
                throw DomainError.conflict("a region with this code exists", field: "code")
            }
            try await audit.append(
                AuditEvent(admin, "region.create", .region(region.code), ["name": region.name, "parentCode": region.parentCode]),
                in: db)
        }
        return region
    }
}
