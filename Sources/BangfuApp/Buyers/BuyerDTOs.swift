import Foundation

/// What the buyer-organization and quota-plan routes read and write (API.md "Buyer organizations
/// and quota plans"); no logic beyond mapping.
enum BuyerDTO {

    struct OrganizationInput: Decodable, Sendable {
        var name, creditCode, department: String
        var countyCode: String?
        var canteenAddress, contactName, contactPhone: String
        var regionCode, parentId: String?
    }

    /// `PATCH /buyer-organizations/{id}`: absent fields stay; `"parentId": null` detaches the
    /// organization from its parent.
    struct OrganizationPatch: Decodable, Sendable {
        /// nil: absent; `.some(nil)`: sent as null.
        var parentId: String??
        var regionCode: String?
        var department: String?
        var canteenAddress: String?
        var contactName: String?
        var contactPhone: String?

        private enum CodingKeys: String, CodingKey {
            case parentId, regionCode, department, canteenAddress, contactName, contactPhone
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            parentId = c.contains(.parentId) ? .some(try c.decodeIfPresent(String.self, forKey: .parentId)) : nil
            regionCode = try c.decodeIfPresent(String.self, forKey: .regionCode)
            department = try c.decodeIfPresent(String.self, forKey: .department)
            canteenAddress = try c.decodeIfPresent(String.self, forKey: .canteenAddress)
            contactName = try c.decodeIfPresent(String.self, forKey: .contactName)
            contactPhone = try c.decodeIfPresent(String.self, forKey: .contactPhone)
        }
    }

    struct MemberInput: Decodable, Sendable {
        var username: String
        var password: String
        var displayName: String
        var memberRole: String
    }

    /// The filing (API.md `PUT .../quota-plans/{year}`): `canteenMode`, or the older `hasCanteen`
    /// (true = own, false = none); absent numbers read as 0.
    struct PlanInput: Decodable, Sendable {
        var hasCanteen: Bool?
        var canteenMode: String?
        var canteenBudgetFen: Int64?
        var reservedRatioBp: Int64?
        var sharedCanteenOrganizationId: String?
        var unionBudgetFen: Int64?
        var waiverReason: String?
    }

    /// What a plan's answer adds to its row: its progress (SPEC "Its progress"; the row's own
    /// committed, completed and refunded sums are shown as they are) and, in the admin list only,
    /// the organization's name and department.
    struct PlanExtra: Encodable, Sendable {
        /// The minimum ratio that applies to the organization's region now.
        var minimumBp: Int64
        var reservedFen, remainingBudgetFen: Int64
        /// How far the year's completion is, and how far it is expected to be by today.
        var completionBp, expectedBp: Int64
        var onTrack: Bool
        @NullEncoded var organizationName: String?
        @NullEncoded var department: String?
    }

    typealias PlanOutput = Merged<QuotaPlan, PlanExtra>
}

extension Merged where Base == QuotaPlan, Extra == BuyerDTO.PlanExtra {
    init(_ plan: QuotaPlan, now: Date, minimumBp: Int64, named: Bool = false) {
        let progress = plan.progress(expectedBp: QuotaRules.expectedBp(at: now, year: plan.year))
        self.init(
            plan,
            .init(
                minimumBp: minimumBp, reservedFen: progress.reservedFen, remainingBudgetFen: progress.remainingBudgetFen,
                completionBp: progress.completionBp, expectedBp: progress.expectedBp, onTrack: progress.onTrack,
                organizationName: named ? plan.organizationName : nil, department: named ? plan.department : nil))
    }

    /// The header of the CSV export of the admin list.
    static var csvHeader: [String] {
        [
            "单位 organization", "主管部门 department", "单位ID organizationId", "年度 year", "有食堂 hasCanteen",
            "食材采购总额 canteenBudgetFen", "预留比例 reservedRatioBp", "预留份额 reservedFen", "已完结 completedFen",
            "在途 committedFen", "已退款 refundedFen", "完成率 completionBp", "进度线 expectedBp", "正常 onTrack",
        ]
    }

    /// A row of the CSV export (built with `named: true`).
    var csvRow: [String] {
        let (plan, figures) = (base, extra)
        return [
            figures.organizationName ?? "", figures.department ?? "", plan.organizationId, String(plan.year),
            String(plan.hasCanteen), String(plan.canteenBudgetFen), String(plan.reservedRatioBp),
            String(figures.reservedFen), String(plan.completedFen), String(plan.committedFen), String(plan.refundedFen),
            String(figures.completionBp), String(figures.expectedBp), String(figures.onTrack),
        ]
    }
}
