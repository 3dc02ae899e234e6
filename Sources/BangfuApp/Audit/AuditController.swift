import Foundation
import Hummingbird

/// The audit log and its verification (API.md "Audit"); admins only.
struct AuditController {
    let services: AppServices

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("/api/v1/audit-events", use: list)
        router.group().add(middleware: services.rateLimited()).get("/api/v1/audit-events/verification", use: verify)
    }

    struct EventOutput: Encodable {
        var seq: Int64
        var at: String
        @NullEncoded var actorId: String?
        var action: String
        var entityType: String
        var entityId: String
        var data: JSONText
        var prevHash: String
        var hash: String
    }

    /// Stored JSON text, emitted as-is so that clients can recompute the hash from `data`.
    struct JSONText: Encodable {
        var text: String
        func encode(to encoder: any Encoder) throws {
            let value = try JSONDecoder().decode(AnyJSON.self, from: Data(text.utf8))
            try value.encode(to: encoder)
        }
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        let paging = try Paging.parse(request, tag: "audit")
        let after: Int64 = try paging.position.map {
            guard let seq = Int64($0) else { throw DomainError.badRequest("cursor was not issued by this list", field: "cursor") }
            return seq
        } ?? 0
        let entityType = request.uri.queryParameters["entityType"].map(String.init)
        let entityId = request.uri.queryParameters["entityId"].map(String.init)
        let entries = try await services.database.read { db in
            try await services.audit.list(
                entityType: entityType, entityId: entityId, afterSeq: after, limit: paging.limit + 1, in: db)
        }
        let items = entries.prefix(paging.limit).map {
            EventOutput(
                seq: $0.seq, at: Date(millis: $0.atMillis).rfc3339, actorId: $0.actorId, action: $0.action,
                entityType: $0.entityType, entityId: $0.entityId, data: JSONText(text: $0.data),
                prevHash: $0.prevHash, hash: $0.hash)
        }
        let next = entries.count > paging.limit ? items.last.map { Paging.cursor(tag: "audit", position: String($0.seq)) } : nil
        return try .json(Page(items: Array(items), nextCursor: next))
    }

    struct VerificationOutput: Encodable {
        var ok: Bool
        var events: Int64
        var headHash: String
        @NullEncoded var firstBrokenSeq: Int64?
    }

    @Sendable func verify(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        let result = try await services.database.read { db in try await services.audit.verify(in: db) }
        return try .json(
            VerificationOutput(
                ok: result.ok, events: result.events, headHash: result.headHash, firstBrokenSeq: result.firstBrokenSeq))
    }
}

/// Any JSON value, for re-emitting stored JSON text inside a response.
indirect enum AnyJSON: Codable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([AnyJSON])
    case object([String: AnyJSON])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([AnyJSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: AnyJSON].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}
