import Foundation

/// What an audit event is about: one case per kind of object, so a new event cannot misspell its
/// entity type.
enum AuditEntity: Sendable {
    case buyerOrganization(String), catalog(String), certificate(String), certificationApplication(String)
    case checkout(String), county(String), merchant(String), merchantApplication(String), order(String)
    case product(String), quotaPlan(String), refund(String), region(String), user(String), webhook(String)

    var type: String {
        switch self {
        case .buyerOrganization: "buyer_organization"
        case .catalog: "catalog"
        case .certificate: "certificate"
        case .certificationApplication: "certification_application"
        case .checkout: "checkout"
        case .county: "county"
        case .merchant: "merchant"
        case .merchantApplication: "merchant_application"
        case .order: "order"
        case .product: "product"
        case .quotaPlan: "quota_plan"
        case .refund: "refund"
        case .region: "region"
        case .user: "user"
        case .webhook: "webhook"
        }
    }

    var id: String {
        switch self {
        case .buyerOrganization(let id), .catalog(let id), .certificate(let id), .certificationApplication(let id),
            .checkout(let id), .county(let id), .merchant(let id), .merchantApplication(let id), .order(let id),
            .product(let id), .quotaPlan(let id), .refund(let id), .region(let id), .user(let id), .webhook(let id):
            id
        }
    }
}

/// A value an audit event may record: text, a whole number, a flag, or nothing.
protocol AuditRecordable: Sendable {
    var auditValue: AuditValue { get }
}

extension String: AuditRecordable { var auditValue: AuditValue { .string(self) } }
extension Int64: AuditRecordable { var auditValue: AuditValue { .int(self) } }
extension Int: AuditRecordable { var auditValue: AuditValue { .int(Int64(self)) } }
extension Bool: AuditRecordable { var auditValue: AuditValue { .bool(self) } }
extension AuditValue: AuditRecordable { var auditValue: AuditValue { self } }
extension Optional: AuditRecordable where Wrapped: AuditRecordable {
    var auditValue: AuditValue { self?.auditValue ?? .null }
}

extension AuditEvent {
    /// The one way to build an audit event: who (nil for the system), what (`order.confirm`), on
    /// which object, and plain Swift values for its data.
    init(_ actor: Identity?, _ action: String, _ entity: AuditEntity, _ data: [String: any AuditRecordable] = [:]) {
        self.init(actorId: actor?.userId, action, entity, data)
    }

    /// The same for an actor known only by id: a user signing up or in before any session
    /// identifies them, the admin a command-line load acts for, or nil for the system.
    init(actorId: String?, _ action: String, _ entity: AuditEntity, _ data: [String: any AuditRecordable] = [:]) {
        self.init(
            actorId: actorId, action: action, entityType: entity.type, entityId: entity.id,
            data: data.mapValues(\.auditValue))
    }
}
