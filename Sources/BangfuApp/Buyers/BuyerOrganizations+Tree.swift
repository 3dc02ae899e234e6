import Foundation
import SQLKit

/// The organization tree (SPEC "Hierarchy"): where an organization sits, checked in the
/// transaction of the change that puts it there.
extension BuyerOrganizations {
    /// Refuses a region that is not registered, and a parent that is unknown, not active, in
    /// another province, or that would make a cycle or a tree deeper than six levels. `moving`:
    /// the organization exists and may have organizations below it.
    func checkPlacement(_ organization: BuyerOrganization, moving: Bool, in db: any SQLDatabase) async throws {
        guard let regionCode = organization.regionCode else { return }
        guard try await services.regions.region(code: regionCode, in: db) != nil else {
            throw DomainError.invalid("regionCode", "is not a registered region")
        }
        guard let parentId = organization.parentId else { return }
        try await store.lockTree(in: db)
        guard let parent = try await store.organization(id: parentId, in: db), parent.status == .active else {
            throw DomainError.invalid("parentId", "is not an active organization")
        }
        if let problem = BuyerTreeRules.regionProblem(regionCode: regionCode, parentRegion: parent.regionCode) {
            throw DomainError.invalid("parentId", problem)
        }
        let parentAncestors = try await store.ancestors(of: parentId, in: db)
        let height = moving ? (try await store.subtree(of: organization.id, in: db).map(\.distance).max() ?? 0) : 0
        if let problem = BuyerTreeRules.moveProblem(
            id: organization.id, parentId: parentId, parentAncestors: parentAncestors, subtreeHeight: height)
        {
            throw DomainError.invalid("parentId", problem)
        }
    }

    /// Changes the fields sent (API.md `PATCH /buyer-organizations/{id}`), by its manager or an
    /// admin; a new parent or region is checked like a registration's.
    func update(_ id: String, _ patch: BuyerDTO.OrganizationPatch, by user: Identity) async throws -> BuyerOrganization {
        var v = Validator()
        let department = v.text(patch.department, "department", max: 100, required: patch.department != nil)
        let address = v.text(patch.canteenAddress, "canteenAddress", max: 200, required: patch.canteenAddress != nil)
        let contactName = v.text(patch.contactName, "contactName", max: 50, required: patch.contactName != nil)
        let phone = v.text(patch.contactPhone, "contactPhone", max: 20, required: patch.contactPhone != nil)
        if let phone, !PhoneNumber.isValid(phone) {
            v.fail("contactPhone", "must be a mobile number (1[3-9] and 9 digits) or a fixed line with its area code")
        }
        if let region = patch.regionCode, !RegionRules.isWellFormed(region) {
            v.fail("regionCode", "must be a 6-digit GB/T 2260 code")
        }
        if case .some(.some(let parent)) = patch.parentId, parent.isEmpty || parent.count > 64 {
            v.fail("parentId", "must be an organization id")
        }
        try v.check()
        let now = clock.now
        let year = QuotaRules.quotaYear(of: now)
        return try await database.write { db in
            // A move is checked against the tree as it stands: tree changes one at a time, and
            // the organization's row locked before it is read, so no stale copy is written back.
            if patch.parentId != nil || patch.regionCode != nil { try await store.lockTree(in: db) }
            try await store.lock(organizationId: id, in: db)
            var organization = try await managed(id, by: user, in: db)
            let before = organization
            // Its region decides its minimum ratio and its finance officers: once verified, only an
            // admin moves it (a manager could otherwise choose its own reviewer).
            if let region = patch.regionCode, region != before.regionCode, before.status == .active, before.regionCode != nil,
                user.role != .admin
            {
                throw DomainError(
                    .forbidden, code: "forbidden", detail: "a verified organization's region is changed by an admin",
                    errors: [FieldError("regionCode", "ask the platform to move the organization")])
            }
            organization.department = department ?? organization.department
            organization.canteenAddress = address ?? organization.canteenAddress
            organization.contactName = contactName ?? organization.contactName
            organization.contactPhone = phone ?? organization.contactPhone
            organization.regionCode = patch.regionCode ?? organization.regionCode
            if let parent = patch.parentId { organization.parentId = parent }
            if organization.parentId != nil && organization.regionCode == nil {
                throw DomainError.invalid("regionCode", "is required before the organization has a parent")
            }
            organization.updatedAt = now
            var resubmitted: String?
            if organization.regionCode != before.regionCode || organization.parentId != before.parentId {
                try await checkPlacement(organization, moving: true, in: db)
                if let region = organization.regionCode, region != before.regionCode,
                    try await store.hasChild(of: id, outsideProvinceOf: region, in: db)
                {
                    throw DomainError.invalid("regionCode", "organizations below it lie in another province")
                }
                // Its reviewer or minimum may have changed: a confirmed filing of the year waits again.
                if var plan = try await store.plan(organizationId: id, year: year, lock: true, in: db), plan.status == .confirmed {
                    plan.status = .submitted
                    plan.updatedAt = now
                    try await store.save(plan, in: db)
                    try await HistoryStore.filings.add(
                        HistoryRecord(
                            action: "resubmit", actorId: user.userId, actorRole: user.role.rawValue, fromStatus: "confirmed",
                            toStatus: "submitted", note: "the organization moved", at: now),
                        ownerId: plan.id, id: ids.next(), in: db)
                    resubmitted = plan.id
                }
            }
            try await store.update(organization, in: db)
            try await audit.append(
                AuditEvent(
                    user, "buyer_organization.update", .buyerOrganization(id),
                    [
                        "parentId": organization.parentId, "regionCode": organization.regionCode,
                        "department": organization.department, "canteenAddress": organization.canteenAddress,
                        "contactName": organization.contactName, "contactPhone": organization.contactPhone,
                    ]),
                in: db)
            // After the move is written, so its new reviewers are the ones told.
            if let resubmitted {
                try await audit.append(
                    AuditEvent(user, "filing.resubmit", .quotaPlan(resubmitted), ["note": "the organization moved"]), in: db)
            }
            return organization
        }
    }
}
