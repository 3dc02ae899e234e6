import Foundation
import Hummingbird
import SQLKit

/// Reports and alerts (API.md "Reports and alerts", 动态跟踪): JSON or CSV; county officers see
/// their own county, merchants their own alerts.
struct ReportsController {
    let services: AppServices

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.group().add(middleware: services.rateLimited())
            .get("/api/v1/reports/sales", use: sales)
            .get("/api/v1/reports/quota", use: quota)
            .get("/api/v1/reports/alerts", use: alerts)
    }

    struct SalesOutput: Encodable {
        struct Row: Encodable {
            var key: String
            var label: String
            var orders: Int64
            var amountFen: Int64
        }
        var year: Int
        var groupBy: String
        @NullEncoded var countyCode: String?
        var rows: [Row]
    }

    struct QuotaOutput: Encodable {
        struct Row: Encodable {
            var key: String
            var label: String
            var reservedFen: Int64
            var completedFen: Int64
            var completionBp: Int64
        }
        var year: Int
        var groupBy: String
        var rows: [Row]
    }

    struct AlertsOutput: Encodable {
        struct Item: Encodable {
            var kind: AlertKind
            var subjectType: String
            var subjectId: String
            var detail: String
            var since: String
        }
        var items: [Item]
    }

    private func year(_ request: Request) throws -> Int {
        guard let raw = request.uri.queryParameters["year"] else { return QuotaRules.quotaYear(of: services.clock.now) }
        guard let year = Int(String(raw)), BuyerOrganizationsController.years.contains(year) else {
            throw DomainError.badRequest("year must be a year from 2000 to 2100", field: "year")
        }
        return year
    }

    @Sendable func sales(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.require(.admin, .county)
        let csv = try CSV.isRequested(request)
        let year = try year(request)
        let raw = request.uri.queryParameters["groupBy"].map(String.init) ?? "county"
        guard let dimension = SalesRules.Dimension(rawValue: raw) else {
            throw DomainError.badRequest("groupBy must be county, category, merchant or month", field: "groupBy")
        }
        // A county officer's figures are those of products from their own county.
        let scope = user.role == .county ? (user.countyCode ?? "-") : SalesRules.allScope
        let rows = try await services.database.read { db in
            try await services.reports.sales(year: year, dimension: dimension, scope: scope, in: db)
        }
        if csv {
            return CSV.response(
                header: ["key", "名称 label", "订单数 orders", "金额(分) amountFen"],
                rows: rows.map { [$0.key, $0.label, String($0.orders), String($0.amountFen)] },
                filename: "sales-\(year)-\(dimension.rawValue).csv")
        }
        return try .json(
            SalesOutput(
                year: year, groupBy: dimension.rawValue, countyCode: user.role == .county ? scope : nil,
                rows: rows.map { .init(key: $0.key, label: $0.label, orders: $0.orders, amountFen: $0.amountFen) }))
    }

    @Sendable func quota(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        let csv = try CSV.isRequested(request)
        let year = try year(request)
        let raw = request.uri.queryParameters["groupBy"].map(String.init) ?? "organization"
        guard raw == "organization" || raw == "department" else {
            throw DomainError.badRequest("groupBy must be organization or department", field: "groupBy")
        }
        let rows = try await services.database.read { db in
            try await services.reports.quota(year: year, byDepartment: raw == "department", in: db)
        }
        let output = rows.map { row in
            QuotaOutput.Row(
                key: row.key, label: row.label, reservedFen: row.reservedFen, completedFen: row.completedFen,
                completionBp: row.reservedFen > 0
                    ? QuotaRules.mulDiv(row.completedFen, QuotaRules.fullBp, row.reservedFen, roundingUp: false) : 0)
        }
        if csv {
            return CSV.response(
                header: ["key", "名称 label", "预留份额 reservedFen", "已完结 completedFen", "完成率 completionBp"],
                rows: output.map { [$0.key, $0.label, String($0.reservedFen), String($0.completedFen), String($0.completionBp)] },
                filename: "quota-\(year)-\(raw).csv")
        }
        return try .json(QuotaOutput(year: year, groupBy: raw, rows: output))
    }

    /// `?kind=` (one kind) and `?limit=` (default 100, at most 1000), oldest first by `since`.
    @Sendable func alerts(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.require(.admin, .county, .merchant)
        let csv = try CSV.isRequested(request)
        let kinds = try Paging.choice(request, "kind", AlertKind.self).map { Set([$0]) } ?? Set(AlertKind.allCases)
        var limit = 100
        if let raw = request.uri.queryParameters["limit"] {
            guard let value = Int(String(raw)), (1...1000).contains(value) else {
                throw DomainError.badRequest("limit must be a whole number from 1 to 1000", field: "limit")
            }
            limit = value
        }
        let now = services.clock.now
        let settings = services.configuration.alerts
        let (wanted, count) = (kinds, limit)
        let alerts = try await services.database.read { db -> [Alert] in
            let scope: AlertScope
            switch user.role {
            case .county: scope = .county(user.countyCode ?? "-")
            case .merchant:
                guard let merchant = try await services.merchants.merchant(ownerId: user.userId, in: db) else { return [] }
                scope = .merchant(merchant.id)
            default: scope = .all
            }
            return try await services.alerts.alerts(wanted, scope: scope, settings: settings, now: now, limit: count, in: db)
        }
        if csv {
            return CSV.response(
                header: ["类型 kind", "对象 subjectType", "对象ID subjectId", "说明 detail", "起始 since"],
                rows: alerts.map { [$0.kind.rawValue, $0.subjectType, $0.subjectId, $0.detail, $0.since.rfc3339] },
                filename: "alerts.csv")
        }
        return try .json(
            AlertsOutput(
                items: alerts.map {
                    .init(kind: $0.kind, subjectType: $0.subjectType, subjectId: $0.subjectId, detail: $0.detail, since: $0.since.rfc3339)
                }))
    }
}
