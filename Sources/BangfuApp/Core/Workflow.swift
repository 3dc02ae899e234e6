import Foundation

/// A state machine as data: each row says which parties may take an action from a status and
/// where it leads. Orders, merchant applications and certification applications are tables of
/// this type; a new reviewed object (a filing, a waiver, an invoice) is one more table and a
/// `WorkflowStep`, not another controller.
struct Workflow<Status, Action, Party>: Sendable
where
    Status: Hashable & Sendable & RawRepresentable<String>,
    Action: Hashable & Sendable & RawRepresentable<String>,
    Party: Hashable & Sendable & RawRepresentable<String>
{
    struct Transition: Sendable {
        var from: Status
        var action: Action
        var by: Set<Party>
        var to: Status
    }

    /// What the machine moves, as a refusal names it ("an order").
    let subject: String
    let transitions: [Transition]

    init(subject: String, _ transitions: [Transition]) {
        self.subject = subject
        self.transitions = transitions
    }

    /// Every party that may take `action` from some status.
    func parties(for action: Action) -> Set<Party> {
        transitions.reduce(into: []) { parties, row in
            if row.action == action { parties.formUnion(row.by) }
        }
    }

    /// Where `action` leads from `status`, for whichever party may take it.
    func target(from status: Status, _ action: Action) -> Status? {
        transitions.first { $0.from == status && $0.action == action }?.to
    }

    /// Where `action` taken by `party` leads from `status`, or nil when it may not be taken.
    func next(from status: Status, _ action: Action, by party: Party) -> Status? {
        transitions.first { $0.from == status && $0.action == action && $0.by.contains(party) }?.to
    }

    /// The status a step leads to, or its refusal: `forbidden` when `party` never takes `action`
    /// (checked first, so the answer does not depend on the object's state), `invalid_transition`
    /// when the current status does not allow it.
    func check(_ action: Action, from status: Status, by party: Party) throws(DomainError) -> Status {
        guard parties(for: action).contains(party) else {
            throw DomainError(
                .forbidden, code: "forbidden", detail: "the \(party.rawValue) may not \(action.rawValue) \(subject)")
        }
        guard let next = next(from: status, action, by: party) else {
            throw DomainError.invalidTransition(current: status.rawValue, action: action.rawValue)
        }
        return next
    }
}
