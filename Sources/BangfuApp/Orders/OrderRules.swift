import Foundation

/// An order's state (SPEC "Orders").
enum OrderStatus: String, Sendable, Codable, CaseIterable {
    case placed, confirmed, shipped, accepted, settled, rejected, cancelled
}

/// What an order buys for (SPEC "Union purchasing"): the canteen's share (the default) or the
/// union's, each against its own budget of the filing.
enum OrderPurpose: String, Sendable, Codable, CaseIterable {
    case canteen, union
}

/// What a party asks of an order; each maps to one route of API.md "Orders".
enum OrderAction: String, Sendable, CaseIterable {
    /// `POST /orders/{id}/confirm`
    case confirm
    /// `POST /orders/{id}/rejection`
    case reject
    /// `POST /orders/{id}/cancellation`
    case cancel
    /// `POST /orders/{id}/shipment`
    case ship
    /// `POST /orders/{id}/acceptance` (验收)
    case accept
    /// `POST /orders/{id}/payment`
    case pay
}

/// Who acts on an order: its buyer organization, its merchant, or an admin.
enum OrderParty: String, Sendable, CaseIterable {
    case buyer, merchant, admin
    /// A member of the buying organization working for its outsourced canteen operator: orders,
    /// cancels and accepts, never pays (SPEC "Accounts").
    case contractor

    /// The role of the users who act as this party.
    var role: Role {
        switch self {
        case .buyer, .contractor: .buyer
        case .merchant: .merchant
        case .admin: .admin
        }
    }
}

/// The order state machine of SPEC "Orders":
/// ```
/// placed ──confirm──▶ confirmed ──ship──▶ shipped ──accept──▶ accepted ──pay──▶ settled
///   │  └──reject (merchant)──▶ rejected
///   └──cancel (buyer)──▶ cancelled
/// ```
enum OrderRules {
    /// The table (API.md "Orders" column "who"): confirm, reject, ship by the merchant; cancel,
    /// accept by the buyer (a contractor too); pay by the buyer or an admin, never a contractor.
    static let workflow = Workflow<OrderStatus, OrderAction, OrderParty>(
        subject: "an order",
        [
            .init(from: .placed, action: .confirm, by: [.merchant], to: .confirmed),
            .init(from: .placed, action: .reject, by: [.merchant], to: .rejected),
            .init(from: .placed, action: .cancel, by: [.buyer, .contractor], to: .cancelled),
            .init(from: .confirmed, action: .ship, by: [.merchant], to: .shipped),
            .init(from: .shipped, action: .accept, by: [.buyer, .contractor], to: .accepted),
            .init(from: .accepted, action: .pay, by: [.buyer, .admin], to: .settled),
        ])

    /// Who may ask for an action.
    static func parties(for action: OrderAction) -> Set<OrderParty> {
        workflow.parties(for: action)
    }

    /// The roles whose users may ask for an action: the route's requirement, read from the table.
    static func roles(for action: OrderAction) -> Set<Role> {
        Set(parties(for: action).map(\.role))
    }

    /// The state an action leads to from `status`, whoever asks; nil when the state does not allow
    /// it (409 `invalid_transition`, naming the current state).
    static func target(from status: OrderStatus, _ action: OrderAction) -> OrderStatus? {
        workflow.target(from: status, action)
    }

    /// The state an action by `party` leads to, or nil if either the party may not ask for it or
    /// the current state does not allow it. Exactly the SPEC state machine with its actors.
    static func next(from status: OrderStatus, _ action: OrderAction, by party: OrderParty) -> OrderStatus? {
        workflow.next(from: status, action, by: party)
    }

    /// `rejected` and `cancelled` return the stock and release the committed budget (SPEC "Orders").
    static func releasesHold(_ status: OrderStatus) -> Bool {
        status == .rejected || status == .cancelled
    }

    /// States that no action leaves.
    static func isFinal(_ status: OrderStatus) -> Bool {
        OrderAction.allCases.allSatisfy { target(from: status, $0) == nil }
    }

    /// What an order owes: its total less its approved refunds (SPEC: "an unpaid order then owes
    /// only its net amount"; API.md payment "total less approved refunds").
    static func owedFen(total: Int64, approvedRefunds: Int64) -> Int64 {
        total - approvedRefunds
    }

    /// A payment must be exactly what is owed, else 422 on field `amountFen` (API.md payment).
    /// An order whose refunds were all approved owes 0, and is paid with `amountFen: 0`.
    static func paymentProblem(amountFen: Int64, total: Int64, approvedRefunds: Int64) -> FieldProblem? {
        let owed = owedFen(total: total, approvedRefunds: approvedRefunds)
        guard amountFen != owed else { return nil }
        return FieldProblem(field: "amountFen", message: "must equal the amount owed, \(owed) fen")
    }
}

/// A refund's state (API.md "Orders": refunds).
enum RefundStatus: String, Sendable, Codable, CaseIterable {
    case requested, approved, rejected
}

/// A decision on a requested refund: `POST /refunds/{id}/approval` or `/rejection`.
enum RefundAction: String, Sendable, CaseIterable {
    case approve, reject
}

/// Why a refund request is refused.
enum RefundProblem: Sendable, Hashable {
    /// The amount is below 1 fen: 422 `validation_failed` on field `amountFen`.
    case amountNotPositive
    /// Requested plus approved refunds, with this one, would exceed the order total: 409 `conflict`.
    /// `availableFen` is what may still be asked for.
    case exceedsOrderTotal(availableFen: Int64)
}

/// Refund rules of SPEC "Orders" ("A buyer may ask for a refund on an `accepted` or `settled`
/// order (refunds together never exceed the order total); when the merchant or an admin approves it,
/// the amount leaves the order's net amount").
enum RefundRules {
    /// Only the order's buyer asks for refunds (API.md `POST /orders/{id}/refunds`).
    static let requester: OrderParty = .buyer

    /// A refund may be asked for on an `accepted` or `settled` order only; otherwise 409
    /// `invalid_transition` naming the order's state.
    static func canRequest(on status: OrderStatus) -> Bool {
        status == .accepted || status == .settled
    }

    /// A new refund of `amount` on an order of `orderTotal` whose requested and approved refunds
    /// already sum to `requestedAndApprovedFen` (rejected refunds do not count): amount ≥ 1, and
    /// requested + approved + amount ≤ total.
    static func refundProblem(orderTotal: Int64, requestedAndApprovedFen: Int64, amount: Int64) -> RefundProblem? {
        if amount < 1 { return .amountNotPositive }
        let available = orderTotal - requestedAndApprovedFen
        return amount > available ? .exceedsOrderTotal(availableFen: max(available, 0)) : nil
    }

    /// Who decides a refund: the order's merchant or an admin.
    static let deciders: Set<OrderParty> = [.merchant, .admin]

    /// requested → approved | rejected, by the merchant or an admin; nil otherwise (a decided refund
    /// answers 409 `invalid_transition`).
    static func next(from status: RefundStatus, _ action: RefundAction, by party: OrderParty) -> RefundStatus? {
        guard deciders.contains(party), status == .requested else { return nil }
        switch action {
        case .approve: return .approved
        case .reject: return .rejected
        }
    }
}

/// One priced line of a checkout, as read from the product at ordering.
struct PricedLine: Sendable, Hashable {
    var productId, merchantId: String
    var unitPriceFen, quantity: Int64
}

/// A priced line with its amount, unit × quantity.
struct AmountLine: Sendable, Hashable {
    var line: PricedLine
    var amountFen: Int64
}

/// The lines of one merchant: one order.
struct MerchantGroup: Sendable, Hashable {
    var merchantId: String
    var lines: [AmountLine]
    var totalFen: Int64
}

/// A checkout split per merchant (SPEC: "it becomes one order per merchant").
struct CheckoutSplit: Sendable, Hashable {
    var groups: [MerchantGroup]
    var totalFen: Int64
}

/// A checkout amount does not fit in Int64.
enum CheckoutSplitError: Error, Sendable, Hashable {
    case amountOverflow(productId: String)
}

/// Checkout rules of API.md `POST /orders`.
enum CheckoutRules {
    static let maximumLines = 100
    static let quantityRange: ClosedRange<Int64> = 1...100_000
    static let allowedShipWithinDays: [Int] = [7, 15, 30]
    static let defaultShipWithinDays = 7

    /// 422 problems of a checkout body: items non-empty and at most 100 lines; each productId
    /// non-empty and not repeated (a repeated product is refused on the later line, not merged);
    /// each quantity a whole number 1...100000; `shipWithinDays` absent or 7, 15, 30.
    /// Over 100 lines, only `items` is reported. Field names: `items`, `items[2].quantity`,
    /// `items[3].productId`, `shipWithinDays`.
    static func problems(items: [(productId: String, quantity: Int64)], shipWithinDays: Int?) -> [FieldProblem] {
        var problems: [FieldProblem] = []
        if items.isEmpty {
            problems.append(.init(field: "items", message: "must hold at least one line"))
        } else if items.count > maximumLines {
            problems.append(.init(field: "items", message: "must hold at most \(maximumLines) lines"))
        } else {
            var firstIndex: [String: Int] = [:]
            for (index, item) in items.enumerated() {
                if item.productId.isEmpty {
                    problems.append(.init(field: "items[\(index)].productId", message: "must not be empty"))
                } else if let first = firstIndex[item.productId] {
                    problems.append(.init(
                        field: "items[\(index)].productId",
                        message: "repeats items[\(first)]; order each product on one line"))
                } else {
                    firstIndex[item.productId] = index
                }
                if !quantityRange.contains(item.quantity) {
                    problems.append(.init(
                        field: "items[\(index)].quantity",
                        message: "must be a whole number from \(quantityRange.lowerBound) to \(quantityRange.upperBound)"))
                }
            }
        }
        if let days = shipWithinDays, !allowedShipWithinDays.contains(days) {
            problems.append(.init(field: "shipWithinDays", message: "must be 7, 15 or 30"))
        }
        return problems
    }

    /// `shipWithinDays` with its default, 7.
    static func shipWithinDays(_ requested: Int?) -> Int {
        requested ?? defaultShipWithinDays
    }

    /// Splits priced lines into one group per merchant, groups in order of the merchant's first line
    /// and lines in checkout order; amount = unit × quantity, all sums overflow-checked.
    static func split(_ lines: [PricedLine]) throws(CheckoutSplitError) -> CheckoutSplit {
        var order: [String] = []
        var groups: [String: MerchantGroup] = [:]
        var total: Int64 = 0
        for line in lines {
            let (amount, overflow) = line.unitPriceFen.multipliedReportingOverflow(by: line.quantity)
            if overflow { throw .amountOverflow(productId: line.productId) }
            if groups[line.merchantId] == nil {
                order.append(line.merchantId)
                groups[line.merchantId] = MerchantGroup(merchantId: line.merchantId, lines: [], totalFen: 0)
            }
            var group = groups[line.merchantId, default: MerchantGroup(merchantId: line.merchantId, lines: [], totalFen: 0)]
            let (groupTotal, groupOverflow) = group.totalFen.addingReportingOverflow(amount)
            let (checkoutTotal, totalOverflow) = total.addingReportingOverflow(amount)
            if groupOverflow || totalOverflow { throw .amountOverflow(productId: line.productId) }
            group.lines.append(AmountLine(line: line, amountFen: amount))
            group.totalFen = groupTotal
            groups[line.merchantId] = group
            total = checkoutTotal
        }
        return CheckoutSplit(groups: order.compactMap { groups[$0] }, totalFen: total)
    }
}
