import Foundation
import Hummingbird

/// Reports and alerts (API.md "Reports and alerts", 动态跟踪): JSON or CSV; county officers see
/// their own county, merchants their own alerts.
struct ReportsController {
    let services: AppServices
    let reporting: SalesReporting
    let alerting: AlertReporting

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        let limited = router.group().add(middleware: services.rateLimited())
        limited.only(.admin, .county).get("/api/v1/reports/sales", use: sales)
        limited.only(.admin).get("/api/v1/reports/quota", use: quota)
        limited.only(.admin, .county, .merchant, .finance, .buyer).get("/api/v1/reports/alerts", use: alerts)
    }


    @Sendable func sales(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let csv = try CSV.isRequested(request)
        let year = try YearParameter.query(request)
        let raw = request.uri.queryParameters["groupBy"].map(String.init) ?? "county"
        guard let dimension = SalesRules.Dimension(rawValue: raw) else {
            throw DomainError.badRequest("groupBy must be county, category, merchant or month", field: "groupBy")
        }
        let report = try await reporting.sales(year: year, by: dimension, for: user)
        if csv {
            return CSV.response(
                header: ["key", "名称 label", "订单数 orders", "金额(分) amountFen"],
                rows: report.rows.map { [$0.key, $0.label, String($0.orders), String($0.amountFen)] },
                filename: "sales-\(report.year)-\(dimension.rawValue).csv")
        }
        return try .json(SalesOutput(report))
    }

    @Sendable func quota(_ request: Request, context: AppRequestContext) async throws -> Response {
        let csv = try CSV.isRequested(request)
        let year = try YearParameter.query(request)
        let raw = request.uri.queryParameters["groupBy"].map(String.init) ?? "organization"
        guard raw == "organization" || raw == "department" else {
            throw DomainError.badRequest("groupBy must be organization or department", field: "groupBy")
        }
        let report = try await reporting.quota(year: year, byDepartment: raw == "department")
        if csv {
            return CSV.response(
                header: [
                    "key", "名称 label", "预留份额 reservedFen", "已完结 completedFen", "完成率 completionBp",
                    "工会采购预算 unionBudgetFen", "工会采购已完结 unionCompletedFen",
                ],
                rows: report.rows.map {
                    [
                        $0.key, $0.label, String($0.reservedFen), String($0.completedFen), String($0.completionBp),
                        String($0.unionBudgetFen), String($0.unionCompletedFen),
                    ]
                },
                filename: "quota-\(report.year)-\(raw).csv")
        }
        let rows = report.rows.map { QuotaOutput.Row($0, .init(completionBp: $0.completionBp)) }
        return try .json(QuotaOutput(year: report.year, groupBy: raw, rows: rows))
    }

    /// `?kind=` (one kind) and `?limit=` (default 100, at most 1000), oldest first by `since`.
    @Sendable func alerts(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let csv = try CSV.isRequested(request)
        let kinds = try Paging.choice(request, "kind", AlertKind.self).map { Set([$0]) } ?? Set(AlertKind.allCases)
        var limit = 100
        if let raw = request.uri.queryParameters["limit"] {
            guard let value = Int(String(raw)), (1...1000).contains(value) else {
                throw DomainError.badRequest("limit must be a whole number from 1 to 1000", field: "limit")
            }
            limit = value
        }
        let alerts = try await alerting.alerts(kinds, limit: limit, for: user)
        if csv {
            return CSV.response(
                header: ["类型 kind", "对象 subjectType", "对象ID subjectId", "说明 detail", "起始 since"],
                rows: alerts.map { [$0.kind.rawValue, $0.subjectType, $0.subjectId, $0.detail, $0.since.rfc3339] },
                filename: "alerts.csv")
        }
        return try .json(AlertsOutput(items: alerts))
    }
}
