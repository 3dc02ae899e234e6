import Foundation

/// What the order routes read and write (API.md "Orders"); no logic beyond mapping.
enum OrderDTO {

    struct PlaceInput: Codable {
        struct Line: Codable {
            var productId: String
            var quantity: Int64
        }
        var items: [Line]
        /// `canteen` (absent) or `union`.
        var purpose: String?
        var shipWithinDays: Int?
        var deliveryAddress: String?
        var note: String?
    }

    struct Output: Encodable {
        var id: String
        var checkoutId: String
        var buyerOrganizationId: String
        var buyerOrganizationName: String
        var merchantId: String
        /// The member who placed it.
        var placedBy: String
        var purpose: OrderPurpose
        var status: OrderStatus
        /// The total, the approved refunds, and what the buyer still has to pay: the total less
        /// approved refunds.
        var totalFen, refundedFen, owedFen: Int64
        var shipWithinDays: Int
        var shipBy: String
        @NullEncoded var deliveryAddress: String?
        @NullEncoded var note: String?
        @NullEncoded var carrier: String?
        @NullEncoded var trackingNumber: String?
        @NullEncoded var paymentReference: String?
        @NullEncoded var shippedAt: String?
        @NullEncoded var acceptedAt: String?
        @NullEncoded var settledAt: String?
        var items: [OrderItem]
        /// In an order's detail; null in lists and in the placement's answer.
        @NullEncoded var events: [HistoryRecord]?
        @NullEncoded var refunds: [Refund]?
        /// The current invoice, else the latest (superseded) one; null before the first.
        @NullEncoded var invoice: InvoiceDTO.Output?
        /// Its rating and the merchant's reply; null until it is rated.
        @NullEncoded var rating: RatingDTO.Output?
        var createdAt: String
        var updatedAt: String

        init(
            _ o: Order, organizationName: String, items: [OrderItem], events: [HistoryRecord]? = nil, refunds: [Refund]? = nil,
            invoice: Invoice? = nil, rating: Rating? = nil
        ) {
            self.invoice = invoice.map(InvoiceDTO.Output.init)
            self.rating = rating.map(RatingDTO.Output.init)
            id = o.id
            checkoutId = o.checkoutId
            buyerOrganizationId = o.organizationId
            buyerOrganizationName = organizationName
            merchantId = o.merchantId
            placedBy = o.buyerId
            purpose = o.purpose
            status = o.status
            totalFen = o.totalFen
            refundedFen = o.refundedFen
            owedFen = OrderRules.owedFen(total: o.totalFen, approvedRefunds: o.refundedFen)
            shipWithinDays = o.shipWithinDays
            shipBy = o.shipBy.rfc3339
            deliveryAddress = o.deliveryAddress
            note = o.note
            carrier = o.carrier
            trackingNumber = o.trackingNumber
            paymentReference = o.paymentReference
            shippedAt = o.shippedAt?.rfc3339
            acceptedAt = o.acceptedAt?.rfc3339
            settledAt = o.settledAt?.rfc3339
            self.items = items
            self.events = events
            self.refunds = refunds
            createdAt = o.createdAt.rfc3339
            updatedAt = o.updatedAt.rfc3339
        }
    }

    struct CheckoutOutput: Encodable {
        var checkoutId: String
        var totalFen: Int64
        var orders: [Output]
    }

    /// A refund in a list, with the order it belongs to summed up.
    struct QueuedRefundOutput: Encodable {
        struct OrderSummary: Encodable {
            var id: String
            var status: OrderStatus
            var merchantId: String
            var buyerOrganizationId: String
            var totalFen, refundedFen: Int64
            var items: [OrderItem]
        }
        var refund: Refund
        var order: OrderSummary

        init(_ queued: OrderStore.QueuedRefund, items: [OrderItem]) {
            refund = queued.refund
            let o = queued.order
            order = OrderSummary(
                id: o.id, status: o.status, merchantId: o.merchantId, buyerOrganizationId: o.organizationId,
                totalFen: o.totalFen, refundedFen: o.refundedFen, items: items)
        }
    }

    struct ReasonInput: Decodable {
        var reason: String?
    }

    struct ShipmentInput: Decodable {
        var carrier: String
        var trackingNumber: String
    }

    struct PaymentInput: Decodable {
        var reference: String
        var amountFen: Int64
    }

    struct RefundInput: Decodable {
        var amountFen: Int64
        var reason: String
    }

    struct DecisionInput: Decodable {
        var note: String?
    }
}
