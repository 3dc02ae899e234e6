import Foundation
import SQLKit

/// What a state-changing action records, in the same transaction as the change.
struct AuditEvent: Sendable {
    var actorId: String?
    var action: String
    var entityType: String
    var entityId: String
    var data: [String: AuditValue]
}

/// A value in an audit event's data; encoded with sorted keys so the stored JSON is stable.
enum AuditValue: Sendable, Encodable, Equatable {
    case string(String)
    case int(Int64)
    case bool(Bool)
    case null

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .null: try container.encodeNil()
        }
    }
}

extension AuditValue: ExpressibleByStringLiteral {
    init(stringLiteral value: String) { self = .string(value) }
}

extension AuditValue {
    init(_ value: String?) { self = value.map { .string($0) } ?? .null }
    init(_ value: Int64?) { self = value.map { .int($0) } ?? .null }
}

struct AuditStore: Sendable {
    let clock: AppClock
    /// Told of every append, in its transaction (the inbox: `Notifier`); nil where nobody listens.
    var notifier: Notifier? = nil

    /// Appends one event. The `UPDATE ... RETURNING` on the single `audit_head` row both reserves
    /// the next `seq` and, on PostgreSQL, locks the head until commit, so concurrent transactions
    /// (also from other processes) append one after another and the chain never forks.
    func append(_ event: AuditEvent, in db: any SQLDatabase) async throws {
        try await append([event], in: db)
    }

    /// Appends events in order with three statements, whatever their number: reserve the
    /// sequence numbers, insert the chained rows, move the head.
    func append(_ events: [AuditEvent], in db: any SQLDatabase) async throws {
        guard !events.isEmpty else { return }
        let count = Int64(events.count)
        guard
            let head = try await db.raw("UPDATE audit_head SET seq = seq + \(bind: count) WHERE id = 1 RETURNING seq, hash")
                .first().map({ try $0.model(AuditHead.self) })
        else { throw AuditError.missingHead }
        var seq = head.seq - count
        var prevHash = head.hash
        let at = clock.now.millis
        for chunk in stride(from: 0, to: events.count, by: 500).map({ events[$0..<min($0 + 500, events.count)] }) {
            var rows: [SQLQueryString] = []
            for event in chunk {
                seq += 1
                let data = try Self.encode(event.data)
                let hash = AuditChain.hash(
                    seq: seq, atMillis: at, actorId: event.actorId, action: event.action, entityType: event.entityType,
                    entityId: event.entityId, data: data, prevHash: prevHash)
                rows.append(
                    AuditChain.Entry(
                        seq: seq, at: at, actorId: event.actorId, action: event.action, entityType: event.entityType,
                        entityId: event.entityId, data: data, prevHash: prevHash, hash: hash
                    ).row)
                prevHash = hash
            }
            try await db.raw("INSERT INTO audit_events (\(AuditChain.Entry.columnList)) VALUES" + .values(rows)).run()
        }
        try await db.raw("UPDATE audit_head SET hash = \(bind: prevHash) WHERE id = 1").run()
        try await notifier?.notify(events, at: Date(millis: at), in: db)
    }

    static func encode(_ data: [String: AuditValue]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(data), as: UTF8.self)
    }

    func list(entityType: String?, entityId: String?, afterSeq: Int64, limit: Int, in db: any SQLDatabase) async throws
        -> [AuditChain.Entry]
    {
        var query = SQLQueryString("SELECT * FROM audit_events WHERE seq > \(bind: afterSeq)")
        if let entityType { query += " AND entity_type = \(bind: entityType)" }
        if let entityId { query += " AND entity_id = \(bind: entityId)" }
        query += " ORDER BY seq LIMIT \(literal: limit)"
        return try await db.raw(query).all().map { try $0.model(AuditChain.Entry.self) }
    }

    /// Recomputes the whole chain in pages of 1,000 and checks that the head row names the last
    /// event, so a deleted tail is detected too.
    func verify(in db: any SQLDatabase) async throws -> AuditChain.Verification {
        var previous: (seq: Int64, hash: String) = (0, AuditChain.genesisHash)
        var count: Int64 = 0
        while true {
            let page = try await db.raw(
                "SELECT * FROM audit_events WHERE seq > \(bind: previous.seq) ORDER BY seq LIMIT 1000"
            ).all().map { try $0.model(AuditChain.Entry.self) }
            if let broken = AuditChain.firstBroken(page, after: previous) {
                return .init(ok: false, events: count, headHash: previous.hash, firstBrokenSeq: broken)
            }
            guard let last = page.last else { break }
            count += Int64(page.count)
            previous = (last.seq, last.hash)
        }
        let head = try await db.raw("SELECT seq, hash FROM audit_head WHERE id = 1").first().map { try $0.model(AuditHead.self) }
        if head?.seq != previous.seq || head?.hash != previous.hash {
            // The head names events that are gone: the first missing one is the broken entry.
            return .init(ok: false, events: count, headHash: previous.hash, firstBrokenSeq: previous.seq + 1)
        }
        return .init(ok: true, events: count, headHash: previous.hash, firstBrokenSeq: nil)
    }
}

/// `audit_events` holds `AuditChain.Entry` as it is: exactly the fields the chain hashes.
extension AuditChain.Entry: TableRow {
    static let columns = ["seq", "at", "actor_id", "action", "entity_type", "entity_id", "data", "prev_hash", "hash"]

    /// The row's values in the order of `columns`.
    var row: SQLQueryString {
        """
        (\(bind: seq), \(bind: at), \(bind: actorId), \(bind: action), \(bind: entityType),
         \(bind: entityId), \(bind: data), \(bind: prevHash), \(bind: hash))
        """
    }
}

/// The single `audit_head` row (id 1): the last event's seq and hash.
struct AuditHead: RowModel {
    var seq: Int64
    var hash: String
}

enum AuditError: Error {
    case missingHead
}
