import Foundation
import Hummingbird

/// The order steps and refunds: the role is the route group's, the order's visibility is checked
/// before the body is read (404 before 422), then `OrderWorkflow` takes the step.
extension OrdersController {
    @Sendable func confirm(_ request: Request, context: AppRequestContext) async throws -> Response {
        try .json(try await workflow.take(.confirm, on: try context.parameters.require("id"), by: try context.requireIdentity(), note: nil))
    }

    @Sendable func accept(_ request: Request, context: AppRequestContext) async throws -> Response {
        try .json(try await workflow.take(.accept, on: try context.parameters.require("id"), by: try context.requireIdentity(), note: nil))
    }

    @Sendable func reject(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (user, id) = try await authorize(context)
        let input = try await request.decodeJSON(OrderDTO.ReasonInput.self, context: context)
        var v = Validator()
        let reason = v.text(input.reason, "reason", max: 500, multiline: true)
        try v.check()
        return try .json(try await workflow.take(.reject, on: id, by: user, note: reason))
    }

    @Sendable func cancel(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (user, id) = try await authorize(context)
        let input = try await request.decodeJSON(OrderDTO.ReasonInput.self, context: context)
        var v = Validator()
        let reason = v.text(input.reason, "reason", max: 500, required: false, multiline: true)
        try v.check()
        return try .json(try await workflow.take(.cancel, on: id, by: user, note: reason))
    }

    @Sendable func ship(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (user, id) = try await authorize(context)
        let input = try await request.decodeJSON(OrderDTO.ShipmentInput.self, context: context)
        var v = Validator()
        let carrier = v.text(input.carrier, "carrier", max: 50)
        let tracking = v.text(input.trackingNumber, "trackingNumber", max: 64)
        try v.check()
        guard let carrier, let tracking else { throw DomainError.validation(v.errors) }
        return try .json(
            try await workflow.take(.ship, on: id, by: user, note: "\(carrier) \(tracking)") { order in
                order.carrier = carrier
                order.trackingNumber = tracking
            })
    }

    @Sendable func pay(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (user, id) = try await authorize(context)
        let input = try await request.decodeJSON(OrderDTO.PaymentInput.self, context: context)
        var v = Validator()
        let reference = v.text(input.reference, "reference", max: 100)
        try v.check()
        return try .json(
            try await workflow.take(.pay, on: id, by: user, note: reference) { order in
                if let problem = OrderRules.paymentProblem(
                    amountFen: input.amountFen, total: order.totalFen, approvedRefunds: order.refundedFen)
                {
                    throw DomainError.invalid(problem.field, problem.message)
                }
                order.paymentReference = reference
            })
    }

    /// The caller and the order, once the order is known to be the caller's to see: checked before
    /// the body is read or judged, so a stranger learns nothing from 422s.
    private func authorize(_ context: AppRequestContext) async throws -> (Identity, String) {
        let user = try context.requireIdentity()
        let id = try context.parameters.require("id")
        try await reading.checkVisible(id, to: user)
        return (user, id)
    }

    // MARK: Refunds

    @Sendable func requestRefund(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (user, id) = try await authorize(context)
        let input = try await request.decodeJSON(OrderDTO.RefundInput.self, context: context)
        var v = Validator()
        let text = v.text(input.reason, "reason", max: 500, multiline: true)
        if input.amountFen < 1 { v.fail("amountFen", "must be at least 1 fen") }
        try v.check()
        guard let reason = text else { throw DomainError.validation(v.errors) }
        let refund = try await workflow.requestRefund(on: id, by: user, amountFen: input.amountFen, reason: reason)
        return try .json(refund, status: .created)
    }

    @Sendable func approveRefund(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await decide(request, context, .approve)
    }

    @Sendable func rejectRefund(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await decide(request, context, .reject)
    }

    private func decide(_ request: Request, _ context: AppRequestContext, _ action: RefundAction) async throws -> Response {
        let user = try context.requireIdentity()
        let id = try context.parameters.require("id")
        try await reading.checkRefundVisible(id, to: user)
        let input = try await request.decodeJSON(OrderDTO.DecisionInput.self, context: context)
        var v = Validator()
        let note = v.text(input.note, "note", max: 500, required: false, multiline: true)
        try v.check()
        return try .json(try await workflow.decideRefund(id, action, by: user, note: note))
    }
}
