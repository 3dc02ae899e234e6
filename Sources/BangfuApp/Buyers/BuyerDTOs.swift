import Foundation

/// What the buyer-organization and quota-plan routes read and write (API.md "Buyer organizations
/// and quota plans"); no logic beyond mapping.
enum BuyerDTO {

    struct OrganizationInput: Decodable, Sendable {
        var name: String
        var creditCode: String
        var department: String
        var countyCode: String?
        var canteenAddress: String
        var contactName: String
        var contactPhone: String
    }

    struct PlanInput: Decodable, Sendable {
        var hasCanteen: Bool
        var canteenBudgetFen: Int64?
        var reservedRatioBp: Int64?

        /// The declaration, absent numbers read as 0.
        var declaration: QuotaPlanInput {
            QuotaPlanInput(
                hasCanteen: hasCanteen, canteenBudgetFen: canteenBudgetFen ?? 0, reservedRatioBp: reservedRatioBp ?? 0)
        }
    }

    struct PlanOutput: Encodable, Sendable {
        var organizationId: String
        var year: Int
        var hasCanteen: Bool
        var canteenBudgetFen: Int64
        var reservedRatioBp: Int64
        var reservedFen: Int64
        var committedFen: Int64
        var completedFen: Int64
        var refundedFen: Int64
        var remainingBudgetFen: Int64
        var completionBp: Int64
        var expectedBp: Int64
        var onTrack: Bool
        /// In the admin list only.
        @NullEncoded var organizationName: String?
        @NullEncoded var department: String?
        var createdAt: String
        var updatedAt: String

        init(_ plan: QuotaPlan, now: Date, named: Bool = false) {
            let progress = plan.progress(expectedBp: QuotaRules.expectedBp(at: now, year: plan.year))
            organizationId = plan.organizationId
            year = plan.year
            hasCanteen = plan.hasCanteen
            canteenBudgetFen = plan.canteenBudgetFen
            reservedRatioBp = plan.reservedRatioBp
            reservedFen = progress.reservedFen
            committedFen = progress.committedFen
            completedFen = progress.completedFen
            refundedFen = progress.refundedFen
            remainingBudgetFen = progress.remainingBudgetFen
            completionBp = progress.completionBp
            expectedBp = progress.expectedBp
            onTrack = progress.onTrack
            organizationName = named ? plan.organizationName : nil
            department = named ? plan.department : nil
            createdAt = plan.createdAt.rfc3339
            updatedAt = plan.updatedAt.rfc3339
        }

        /// The header of the CSV export of the admin list.
        static let csvHeader = [
            "单位 organization", "主管部门 department", "单位ID organizationId", "年度 year", "有食堂 hasCanteen",
            "食材采购总额 canteenBudgetFen", "预留比例 reservedRatioBp", "预留份额 reservedFen", "已完结 completedFen",
            "在途 committedFen", "已退款 refundedFen", "完成率 completionBp", "进度线 expectedBp", "正常 onTrack",
        ]

        /// A row of the CSV export (built with `named: true`).
        var csvRow: [String] {
            [
                organizationName ?? "", department ?? "", organizationId, String(year), String(hasCanteen),
                String(canteenBudgetFen), String(reservedRatioBp), String(reservedFen), String(completedFen),
                String(committedFen), String(refundedFen), String(completionBp), String(expectedBp), String(onTrack),
            ]
        }
    }
}
