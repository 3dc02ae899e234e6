import Foundation

/// Who hears of an audited change (SPEC.md "Notifications"): each group is resolved from the
/// event's object by one query of `NotificationStore.recipients`.
enum Audience: String, Sendable, CaseIterable {
    /// The merchant of an order (its owner's account).
    case orderMerchant
    /// The members of an order's buying organization.
    case orderBuyers
    /// The merchant of each order of a checkout, told of its own order.
    case checkoutMerchants
    case refundMerchant
    case refundBuyers
    /// The county officers of a merchant application's county.
    case applicationCounty
    case applicationOwner
    /// The county officers of a certification application's origin county.
    case certificationCounty
    case certificationMerchant
    case certificateMerchant
    /// The merchant whose application holds a document.
    case documentMerchant
    case merchantOwner
    case organizationMembers
    /// The managers of an organization (its filing is theirs).
    case organizationManagers
    /// Who confirms or returns a filing: its parent's managers; for a top-level organization, the
    /// finance officers whose region covers it.
    case filingReviewers
    /// The finance officers whose region covers the filing's organization (they decide waivers).
    case filingFinance
    /// The organization's managers and its parent's (a decided waiver: the unit learns the answer,
    /// its reviewer may now confirm).
    case filingParties
    case admins
}

/// The notification table: which audited action tells whom, under which kind and title. A new
/// event (a filing, an invoice, a rating) notifies by a row here; an action without a row tells
/// nobody. The actor is never told of their own action.
enum NotificationRules {
    struct Rule: Sendable, Equatable {
        /// The inbox kind; where API.md names a webhook event type, the same name.
        var kind: String
        var audience: Audience
        var title: String
    }

    static let table: [String: Rule] = [
        "checkout.place": Rule(kind: "order.placed", audience: .checkoutMerchants, title: "新订单"),
        "order.confirm": Rule(kind: "order.confirmed", audience: .orderBuyers, title: "订单已确认"),
        "order.reject": Rule(kind: "order.rejected", audience: .orderBuyers, title: "订单被拒绝"),
        "order.cancel": Rule(kind: "order.cancelled", audience: .orderMerchant, title: "订单已取消"),
        "order.ship": Rule(kind: "order.shipped", audience: .orderBuyers, title: "订单已发货"),
        "order.accept": Rule(kind: "order.accepted", audience: .orderMerchant, title: "订单已验收"),
        "order.invoice": Rule(kind: "order.invoiced", audience: .orderBuyers, title: "商家已开具发票"),
        "order.rate": Rule(kind: "order.rated", audience: .orderMerchant, title: "收到新的评价"),
        "order.rating_reply": Rule(kind: "order.rating_replied", audience: .orderBuyers, title: "商家回复了您的评价"),
        "order.pay": Rule(kind: "order.settled", audience: .orderMerchant, title: "订单已付款"),
        "refund.request": Rule(kind: "refund.requested", audience: .refundMerchant, title: "退款申请"),
        "refund.approve": Rule(kind: "refund.decided", audience: .refundBuyers, title: "退款已同意"),
        "refund.reject": Rule(kind: "refund.decided", audience: .refundBuyers, title: "退款被拒绝"),
        "merchant_application.submit": Rule(
            kind: "merchant_application.submitted", audience: .applicationCounty, title: "待审核的商户入驻申请"),
        "merchant_application.resubmit": Rule(
            kind: "merchant_application.submitted", audience: .applicationCounty, title: "重新提交的商户入驻申请"),
        "merchant_application.recommend": Rule(
            kind: "merchant_application.recommended", audience: .admins, title: "县级已推荐的商户入驻申请"),
        "merchant_application.approve": Rule(
            kind: "merchant_application.approved", audience: .applicationOwner, title: "商户入驻申请已通过"),
        "merchant_application.reject": Rule(
            kind: "merchant_application.rejected", audience: .applicationOwner, title: "商户入驻申请被退回"),
        "certification.submit": Rule(
            kind: "certification.submitted", audience: .certificationCounty, title: "待审核的帮扶产品认定申请"),
        "certification.county_approve": Rule(
            kind: "certification.county_approved", audience: .admins, title: "县级已审核的帮扶产品认定申请"),
        "certification.approve": Rule(
            kind: "certificate.issued", audience: .certificationMerchant, title: "帮扶产品认定已通过"),
        "certification.reject": Rule(
            kind: "certification.rejected", audience: .certificationMerchant, title: "帮扶产品认定被驳回"),
        "certificate.revoke": Rule(kind: "certificate.revoked", audience: .certificateMerchant, title: "帮扶产品证书被撤销"),
        "merchant.suspend": Rule(kind: "merchant.suspended", audience: .merchantOwner, title: "店铺已被暂停"),
        "merchant.reinstate": Rule(kind: "merchant.reinstated", audience: .merchantOwner, title: "店铺已恢复"),
        "buyer_organization.verify": Rule(
            kind: "buyer_organization.verified", audience: .organizationMembers, title: "采购单位已核验"),
        "quota_plan.declare": Rule(kind: "filing.submitted", audience: .filingReviewers, title: "待审核的预留份额填报"),
        "filing.resubmit": Rule(kind: "filing.submitted", audience: .filingReviewers, title: "单位调整隶属关系，预留份额填报待重新审核"),
        "filing.waiver_request": Rule(kind: "filing.waiver_requested", audience: .filingFinance, title: "待决定的最低比例豁免申请"),
        "filing.confirm": Rule(kind: "filing.confirmed", audience: .organizationManagers, title: "预留份额填报已确认"),
        "filing.return": Rule(kind: "filing.returned", audience: .organizationManagers, title: "预留份额填报被退回"),
        "filing.waiver_approve": Rule(kind: "filing.waiver_decided", audience: .filingParties, title: "最低比例豁免已同意"),
        "filing.waiver_reject": Rule(
            kind: "filing.waiver_decided", audience: .organizationManagers, title: "最低比例豁免被驳回，填报已退回"),
    ]

    /// Every kind a notification may have: the table's and the reminders' (`ReminderRules`).
    static let kinds: Set<String> = Set(table.values.map(\.kind)).union(ReminderRules.reminderKinds)

    /// What a subject is called in a notification's text.
    static func subjectName(_ type: String) -> String {
        switch type {
        case "order": "订单"
        case "refund": "退款"
        case "merchant_application": "入驻申请"
        case "certification_application": "认定申请"
        case "certificate": "证书"
        case "merchant": "店铺"
        case "buyer_organization": "采购单位"
        default: type
        }
    }

    /// The body: the subject, and the note or reason the actor gave, if any.
    static func body(subjectType: String, subjectId: String, data: [String: AuditValue]) -> String {
        var text = "\(subjectName(subjectType)) \(subjectId)"
        // An order's amount is what is owed after refunds when the event says so.
        if case .int(let fen)? = data["netFen"] ?? data["totalFen"] { text += "，金额 \(yuan(fen)) 元" }
        if case .int(let fen)? = data["amountFen"] { text += "，金额 \(yuan(fen)) 元" }
        for key in ["reason", "note"] {
            if case .string(let said)? = data[key], !said.isEmpty { text += "。说明：\(said)" }
        }
        return text
    }

    /// Fen as yuan with two decimals, exactly (no floating point).
    static func yuan(_ fen: Int64) -> String {
        let sign = fen < 0 ? "-" : ""
        let magnitude = fen.magnitude
        let cents = magnitude % 100
        return "\(sign)\(magnitude / 100).\(cents < 10 ? "0" : "")\(cents)"
    }
}
