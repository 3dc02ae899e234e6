import Foundation
import SQLKit

/// `bangfu seed --buyers N`: a province's budget units as the scheme runs them (SPEC "Budget units
/// as the scheme really runs them"): a finance officer of 黑龙江 (`seed-finance`), one department
/// (主管预算单位, `seed-d1`…) for every fifty units, and N verified units below them spread over
/// Heilongjiang's county-level divisions, each with a filed plan for the current quota year, its
/// manager (`seed-b1` … `seed-bN`, the accounts the benchmarks sign in with) and a purchaser
/// (`seed-bN-p`); every account with one password.
struct BuyerSeeder {
    let services: AppServices

    static let departments = ["省教育厅", "省卫生健康委", "省公安厅", "省财政厅", "省农业农村厅", "省交通运输厅", "省民政厅", "省司法厅"]

    func seed(count: Int, password: String, budgetFen: Int64 = 100_000_000_000, progress: Progress = .silent) async throws {
        guard count > 0 else { return }
        progress.report("buyers", 0, count)
        let services = self.services
        let hash = try await services.passwords.hash(password)
        let now = services.clock.now
        let year = QuotaRules.quotaYear(of: now)
        let counties = try await services.database.read { db in
            try await db.raw("SELECT code FROM regions WHERE level = 'county' AND code LIKE '23%' ORDER BY code").all()
                .map { try $0.decode(column: "code", as: String.self) }
        }
        let departmentCount = max(1, (count + 49) / 50)
        let departmentIds: [String] = try await services.database.write { db in
            var ids: [String] = []
            let finance = User(
                id: services.ids.next(), username: "seed-finance", role: .finance, displayName: "黑龙江省财政厅", countyCode: nil,
                createdAt: now, regionCode: "230000")
            _ = try await services.accounts.users.insert(finance, passwordHash: hash, in: db)
            for index in 0..<departmentCount {
                let name = Self.departments[index % Self.departments.count]
                let organization = try await unit(
                    "seed-d\(index + 1)", "\(name)（第\(index + 1)组）", department: name, code: "MD", number: index + 1,
                    region: "230000", parent: nil, hash: hash, now: now, in: db)
                ids.append(organization.id)
            }
            return ids
        }
        for start in stride(from: 0, to: count, by: 500) {
            try await services.database.write { db in
                for index in start..<min(start + 500, count) {
                    let parent = departmentIds[index % departmentIds.count]
                    let region = counties.isEmpty ? "230102" : counties[index % counties.count]
                    let organization = try await unit(
                        "seed-b\(index + 1)", "黑龙江省第\(index + 1)机关食堂",
                        department: Self.departments[index % departmentIds.count % Self.departments.count], code: "MB",
                        number: index + 1, region: region, parent: parent, hash: hash, now: now, in: db)
                    let purchaser = User(
                        id: services.ids.next(), username: "seed-b\(index + 1)-p", role: .buyer,
                        displayName: "采购员\(index + 1)", countyCode: nil, createdAt: now)
                    _ = try await services.accounts.users.insert(purchaser, passwordHash: hash, in: db)
                    try await services.buyers.addMember(
                        userId: purchaser.id, organizationId: organization.id, role: .purchaser, at: now, in: db)
                    try await services.buyers.save(
                        QuotaPlan(
                            organizationId: organization.id, year: year, hasCanteen: true, canteenBudgetFen: budgetFen,
                            reservedRatioBp: 1500, committedFen: 0, completedFen: 0, refundedFen: 0, createdAt: now,
                            updatedAt: now), in: db)
                }
            }
            progress.report("buyers", min(start + 500, count), count)
        }
        try await services.database.write { db in
            try await services.audit.append(
                AuditEvent(
                    actorId: nil, "seed.buyers", .catalog("seed"), ["organizations": count, "departments": departmentCount]),
                in: db)
        }
    }

    /// A verified organization with its manager account.
    private func unit(
        _ username: String, _ name: String, department: String, code: String, number: Int, region: String, parent: String?,
        hash: String, now: Date, in db: any SQLDatabase
    ) async throws -> BuyerOrganization {
        let manager = User(
            id: services.ids.next(), username: username, role: .buyer, displayName: "\(name)管理员", countyCode: nil,
            createdAt: now)
        _ = try await services.accounts.users.insert(manager, passwordHash: hash, in: db)
        let body = "12230100" + code + String(format: "%07d", number)
        guard let check = CreditCode.checkCharacter(Array(body)) else { throw DomainError.invalid("creditCode", body) }
        let organization = BuyerOrganization(
            id: services.ids.next(), name: name, creditCode: body + String(check), department: department, countyCode: nil,
            canteenAddress: "哈尔滨市", contactName: "刘明", contactPhone: "13912345678", status: .active, createdBy: manager.id,
            verifiedAt: now, createdAt: now, updatedAt: now, regionCode: region, parentId: parent)
        try await services.buyers.insert(organization, in: db)
        return organization
    }
}
