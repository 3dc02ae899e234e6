import Foundation

/// Bulletins (通报, SPEC "Bulletins"): for a year and a region, per sub-region, department or
/// organization, how many units filed and ordered and how far they completed, ranked. Finance
/// officers read their region (or a division inside it), admins any.
struct Bulletins: UseCase {
    let services: AppServices
    var store: FilingStore { services.filings }

    init(_ services: AppServices) {
        self.services = services
    }

    struct Bulletin: Encodable, Sendable {
        var year: Int
        @NullEncoded var regionCode: String?
        var groupBy: String
        var rows: [BulletinRow]
    }

    func bulletin(year: Int?, regionCode: String?, by grouping: BulletinGrouping, for actor: Identity) async throws -> Bulletin {
        let year = year ?? QuotaRules.quotaYear(of: clock.now)
        let scope: String?
        if actor.role == .finance {
            guard let own = actor.regionCode else { throw DomainError.forbidden }
            if let asked = regionCode, !RegionRules.covers(own, asked) {
                throw DomainError(
                    .forbidden, code: "forbidden", detail: "the region lies outside yours",
                    errors: [FieldError("regionCode", "outside \(own)")])
            }
            scope = regionCode ?? own
        } else {
            scope = regionCode
        }
        let rows = try await database.read { db in
            if let scope, try await services.regions.region(code: scope, in: db) == nil { throw DomainError.notFound("region") }
            let groups = try await store.bulletinGroups(
                year: year, scope: scope, key: BulletinRules.key(by: grouping, scope: scope), in: db)
            let labels = grouping == .region ? try await store.regionNames(groups.map(\.key), in: db) : [:]
            return BulletinRules.rows(groups, by: grouping, labels: labels)
        }
        return Bulletin(
            year: year, regionCode: scope, groupBy: grouping.rawValue,
            rows: rows)
    }
}
