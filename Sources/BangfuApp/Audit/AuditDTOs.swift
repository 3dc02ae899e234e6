import Foundation

/// The bodies the audit routes write (API.md "Audit").
extension AuditController {
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

        init(_ entry: AuditChain.Entry) {
            seq = entry.seq
            at = Date(millis: entry.at).rfc3339
            actorId = entry.actorId
            action = entry.action
            entityType = entry.entityType
            entityId = entry.entityId
            data = JSONText(text: entry.data)
            prevHash = entry.prevHash
            hash = entry.hash
        }
    }

    /// Stored JSON text, emitted as-is so that clients can recompute the hash from `data`.
    struct JSONText: Encodable {
        var text: String
        func encode(to encoder: any Encoder) throws {
            let value = try JSONDecoder().decode(AnyJSON.self, from: Data(text.utf8))
            try value.encode(to: encoder)
        }
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
