import Foundation

/// 发票的种类 (SPEC "Invoices").
enum InvoiceKind: String, Codable, Sendable, CaseIterable {
    case vatSpecial = "vat_special"
    case vatNormal = "vat_normal"
    case electronic
}

enum InvoiceStatus: String, Codable, Sendable {
    /// The invoice the buyer pays against.
    case current
    /// Replaced by a later invoice, or made wrong by a refund approved after it.
    case superseded
}

/// The invoice rules, pure (SPEC "Completing an order as the policy counts it").
enum InvoiceRules {
    /// The order states an invoice is recorded in: the goods have left the merchant.
    static let invoicedStatuses: Set<OrderStatus> = [.shipped, .accepted, .settled]
    /// The largest invoice PDF.
    static let fileLimit = 5 << 20

    /// Problems of an invoice for an order whose net amount is `netFen`, placed on `orderedOn`,
    /// recorded on `today` (both days in UTC+8): a number of 6 to 32 letters and digits (8-digit
    /// paper numbers, 20-digit 全电发票), a known kind, an issue date between the order's day and
    /// today, and exactly the net amount.
    static func problems(
        number: String?, kind: String?, issuedOn: String?, amountFen: Int64?, netFen: Int64, orderedOn: CalendarDate,
        today: CalendarDate
    ) -> [FieldProblem] {
        var problems: [FieldProblem] = []
        if !isNumber(number) {
            problems.append(.init(field: "number", message: "must be the invoice number: 6 to 32 letters and digits"))
        }
        if kind.flatMap(InvoiceKind.init(rawValue:)) == nil {
            problems.append(
                .init(field: "kind", message: "must be one of " + InvoiceKind.allCases.map(\.rawValue).joined(separator: ", ")))
        }
        if let day = issuedOn.flatMap(CalendarDate.init) {
            if day > today { problems.append(.init(field: "issuedOn", message: "cannot be after today")) }
            if day < orderedOn { problems.append(.init(field: "issuedOn", message: "cannot be before the order was placed")) }
        } else {
            problems.append(.init(field: "issuedOn", message: "must be a date YYYY-MM-DD"))
        }
        if let amountFen {
            if amountFen != netFen {
                problems.append(.init(field: "amountFen", message: "must equal the order's net amount, \(netFen) fen"))
            }
        } else {
            problems.append(.init(field: "amountFen", message: "is required"))
        }
        return problems
    }

    static func isNumber(_ text: String?) -> Bool {
        guard let text, (6...32).contains(text.utf8.count) else { return false }
        return text.utf8.allSatisfy { (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) }
    }

    /// The calendar day in China Standard Time of an instant.
    static func day(of date: Date) -> CalendarDate { CalendarDate(utc8: date) }
}

extension CalendarDate {
    init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

}
