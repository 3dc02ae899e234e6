import Testing
@testable import BangfuApp

struct Transition: Hashable {
    let from: OrderStatus
    let action: OrderAction
    let party: OrderParty
}

/// The only allowed transitions (SPEC "Orders" diagram and API.md "who" column), written out by hand.
let allowedOrderTransitions: [Transition: OrderStatus] = [
    Transition(from: .placed, action: .confirm, party: .merchant): .confirmed,
    Transition(from: .placed, action: .reject, party: .merchant): .rejected,
    Transition(from: .placed, action: .cancel, party: .buyer): .cancelled,
    Transition(from: .placed, action: .cancel, party: .contractor): .cancelled,
    Transition(from: .confirmed, action: .ship, party: .merchant): .shipped,
    Transition(from: .shipped, action: .accept, party: .buyer): .accepted,
    Transition(from: .shipped, action: .accept, party: .contractor): .accepted,
    Transition(from: .accepted, action: .pay, party: .buyer): .settled,
    Transition(from: .accepted, action: .pay, party: .admin): .settled,
]

@Suite("Order state machine")
struct OrderStateMachineTests {
    @Test func everyCombinationMatchesTheTable() {
        var checked = 0
        for status in OrderStatus.allCases {
            for action in OrderAction.allCases {
                for party in OrderParty.allCases {
                    let key = Transition(from: status, action: action, party: party)
                    #expect(OrderRules.next(from: status, action, by: party) == allowedOrderTransitions[key], "\(key)")
                    checked += 1
                }
            }
        }
        #expect(checked == 7 * 6 * 4)
        #expect(allowedOrderTransitions.count == 9)
    }

    @Test func targetIgnoresTheParty() {
        for status in OrderStatus.allCases {
            for action in OrderAction.allCases {
                let any = OrderParty.allCases.compactMap { allowedOrderTransitions[Transition(from: status, action: action, party: $0)] }
                #expect(OrderRules.target(from: status, action) == any.first, "\(status) \(action)")
            }
        }
    }

    @Test func parties() {
        #expect(OrderRules.parties(for: .confirm) == [.merchant])
        #expect(OrderRules.parties(for: .reject) == [.merchant])
        #expect(OrderRules.parties(for: .ship) == [.merchant])
        #expect(OrderRules.parties(for: .cancel) == [.buyer, .contractor])
        #expect(OrderRules.parties(for: .accept) == [.buyer, .contractor])
        #expect(OrderRules.parties(for: .pay) == [.buyer, .admin])
    }

    @Test func happyPath() {
        var status = OrderStatus.placed
        for (action, party) in [(OrderAction.confirm, OrderParty.merchant), (.ship, .merchant), (.accept, .buyer), (.pay, .admin)] {
            status = try! #require(OrderRules.next(from: status, action, by: party))
        }
        #expect(status == .settled)
    }

    @Test func finalStates() {
        #expect(OrderStatus.allCases.filter(OrderRules.isFinal) == [.settled, .rejected, .cancelled])
    }

    @Test func holdsAreReleasedOnlyByRejectionAndCancellation() {
        #expect(OrderStatus.allCases.filter(OrderRules.releasesHold) == [.rejected, .cancelled])
    }

    @Test func rawValuesAreTheWireNames() {
        #expect(OrderStatus.allCases.map(\.rawValue) == ["placed", "confirmed", "shipped", "accepted", "settled", "rejected", "cancelled"])
        #expect(RefundStatus.allCases.map(\.rawValue) == ["requested", "approved", "rejected"])
    }
}

@Suite("Payment")
struct PaymentTests {
    @Test func owed() {
        #expect(OrderRules.owedFen(total: 10_000, approvedRefunds: 0) == 10_000)
        #expect(OrderRules.owedFen(total: 10_000, approvedRefunds: 2_500) == 7_500)
        #expect(OrderRules.owedFen(total: 10_000, approvedRefunds: 10_000) == 0)
    }

    @Test func amountMustEqualOwed() {
        #expect(OrderRules.paymentProblem(amountFen: 7_500, total: 10_000, approvedRefunds: 2_500) == nil)
        #expect(OrderRules.paymentProblem(amountFen: 10_000, total: 10_000, approvedRefunds: 2_500)?.field == "amountFen")
        #expect(OrderRules.paymentProblem(amountFen: 7_499, total: 10_000, approvedRefunds: 2_500)?.field == "amountFen")
        #expect(OrderRules.paymentProblem(amountFen: 7_501, total: 10_000, approvedRefunds: 2_500)?.field == "amountFen")
        #expect(OrderRules.paymentProblem(amountFen: 0, total: 10_000, approvedRefunds: 10_000) == nil)
        #expect(OrderRules.paymentProblem(amountFen: -1, total: 10_000, approvedRefunds: 0) != nil)
    }
}

@Suite("Refunds")
struct RefundTests {
    @Test func requestOnlyOnAcceptedOrSettled() {
        #expect(OrderStatus.allCases.filter(RefundRules.canRequest) == [.accepted, .settled])
        #expect(RefundRules.requester == .buyer)
    }

    static let refundCases: [(total: Int64, existing: Int64, amount: Int64, problem: RefundProblem?)] = [
        // (total, requested + approved, amount, problem)
        (1_000, 0, 1_000, nil),
        (1_000, 0, 1, nil),
        (1_000, 0, 1_001, .exceedsOrderTotal(availableFen: 1_000)),
        (1_000, 0, 0, .amountNotPositive),
        (1_000, 0, -5, .amountNotPositive),
        (1_000, 600, 400, nil),
        (1_000, 600, 401, .exceedsOrderTotal(availableFen: 400)),
        (1_000, 1_000, 1, .exceedsOrderTotal(availableFen: 0)),
        (1_000, 1_000, 0, .amountNotPositive),
        (Int64.max, Int64.max - 1, 1, nil),
        (Int64.max, 0, Int64.max, nil),
    ]

    @Test(arguments: refundCases)
    func refundSums(total: Int64, existing: Int64, amount: Int64, problem: RefundProblem?) {
        #expect(RefundRules.refundProblem(orderTotal: total, requestedAndApprovedFen: existing, amount: amount) == problem)
    }

    @Test func successiveRefundsNeverExceedTheTotal() {
        var random = SplitMix64(seed: 7)
        for _ in 0..<200 {
            let total = Int64.random(in: 1...1_000_000, using: &random)
            var held: Int64 = 0
            for _ in 0..<20 {
                let amount = Int64.random(in: -10...total, using: &random)
                if RefundRules.refundProblem(orderTotal: total, requestedAndApprovedFen: held, amount: amount) == nil {
                    held += amount
                }
                #expect(held <= total)
            }
        }
    }

    @Test func decisions() {
        let allowed: [RefundStatus: [RefundAction: RefundStatus]] = [.requested: [.approve: .approved, .reject: .rejected]]
        for status in RefundStatus.allCases {
            for action in RefundAction.allCases {
                for party in OrderParty.allCases {
                    let expected = party == .buyer || party == .contractor ? nil : allowed[status]?[action]
                    #expect(RefundRules.next(from: status, action, by: party) == expected, "\(status) \(action) \(party)")
                }
            }
        }
        #expect(RefundRules.deciders == [.merchant, .admin])
    }
}
