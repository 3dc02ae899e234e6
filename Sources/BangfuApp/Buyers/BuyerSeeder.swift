import Foundation

/// `bangfu seed --buyers N`: verified buyer organizations with a plan for the current quota year
/// and one buyer user each (`seed-b1` … `seed-bN`, all with one password), for the order benchmark.
struct BuyerSeeder {
    let services: AppServices

    func seed(count: Int, password: String, budgetFen: Int64 = 100_000_000_000, progress: Progress = .silent) async throws {
        guard count > 0 else { return }
        progress.report("buyers", 0, count)
        let services = self.services
        let hash = try await services.passwords.hash(password)
        let now = services.clock.now
        let year = QuotaRules.quotaYear(of: now)
        for start in stride(from: 0, to: count, by: 500) {
            try await services.database.write { db in
                for index in start..<min(start + 500, count) {
                    let user = User(
                        id: services.ids.next(), username: "seed-b\(index + 1)", role: .buyer,
                        displayName: "食堂采购员\(index + 1)", countyCode: nil, createdAt: now)
                    _ = try await services.accounts.users.insert(user, passwordHash: hash, in: db)
                    let body = "12230100" + String(format: "MB%07d", index + 1)
                    let organization = BuyerOrganization(
                        id: services.ids.next(), name: "黑龙江省第\(index + 1)机关食堂", creditCode: body + String(CreditCode.checkCharacter(Array(body))!),
                        department: "机关事务管理局", countyCode: nil, canteenAddress: "哈尔滨市", contactName: "刘明",
                        contactPhone: "13912345678", status: .active, createdBy: user.id, verifiedAt: now, createdAt: now,
                        updatedAt: now, regionCode: "230102", parentId: nil)
                    try await services.buyers.insert(organization, in: db)
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
                AuditEvent(actorId: nil, "seed.buyers", .catalog("seed"), ["organizations": count]), in: db)
        }
    }
}
