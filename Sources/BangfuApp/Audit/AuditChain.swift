import Crypto
import Foundation

/// The pure rule of the audit log: each event's hash is SHA-256 over the previous event's hash and
/// the event's own fields, so editing or deleting any entry breaks every hash after it.
enum AuditChain {
    static let genesisHash = String(repeating: "0", count: 64)

    struct Entry: Sendable, Equatable, Decodable {
        var seq: Int64
        /// Milliseconds since the epoch, as hashed (never through a `Date`, so what is read back
        /// hashes as written).
        var at: Int64
        var actorId: String?
        var action: String
        var entityType: String
        var entityId: String
        /// The event's data as the exact JSON text that is stored.
        var data: String
        var prevHash: String
        var hash: String
    }

    /// Fields are joined with a unit separator (U+001F) that cannot occur in the JSON text or in
    /// IDs, so two different events never produce the same input.
    static func hash(
        seq: Int64, atMillis: Int64, actorId: String?, action: String, entityType: String, entityId: String,
        data: String, prevHash: String
    ) -> String {
        let fields = [
            prevHash, String(seq), String(atMillis), actorId ?? "", action, entityType, entityId, data,
        ]
        let digest = SHA256.hash(data: Data(fields.joined(separator: "\u{1F}").utf8))
        return digest.lowercaseHex
    }

    static func hash(of entry: Entry) -> String {
        hash(
            seq: entry.seq, atMillis: entry.at, actorId: entry.actorId, action: entry.action,
            entityType: entry.entityType, entityId: entry.entityId, data: entry.data, prevHash: entry.prevHash)
    }

    struct Verification: Sendable, Equatable, Encodable {
        var ok: Bool
        var events: Int64
        var headHash: String
        @NullEncoded var firstBrokenSeq: Int64?
    }

    /// Walks entries in `seq` order, continuing from `previous` (the last verified hash and seq).
    /// Returns the first entry that breaks the chain: a gap in `seq`, a `prevHash` that is not the
    /// previous hash, or a stored `hash` that is not the recomputed one.
    static func firstBroken(_ entries: [Entry], after previous: (seq: Int64, hash: String)) -> Int64? {
        var expectedSeq = previous.seq + 1
        var prevHash = previous.hash
        for entry in entries {
            if entry.seq != expectedSeq || entry.prevHash != prevHash || hash(of: entry) != entry.hash {
                return entry.seq
            }
            expectedSeq += 1
            prevHash = entry.hash
        }
        return nil
    }
}
