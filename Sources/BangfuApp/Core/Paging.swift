import Foundation

/// A page request (API.md "Lists"): at most `limit` items after an opaque position. The HTTP edge
/// parses it from `?limit=` and `?cursor=` (`Paging.parse`); use cases and stores read it.
struct Paging: Sendable {
    var limit: Int
    var position: String?

    /// How many rows a store reads: one more than a page, to learn whether another follows.
    var fetchLimit: Int { limit + 1 }

    /// The `createdAt|id` position of newest-first lists.
    static func timeAndId(_ position: String) throws -> (Int64, String) {
        let parts = position.split(separator: "|", maxSplits: 1)
        // An id is printable text: a NUL or other control byte would reach the database as text
        // (PostgreSQL refuses a NUL in a text parameter).
        guard parts.count == 2, let at = Int64(parts[0]), parts[1].unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F })
        else {
            throw DomainError.badRequest("cursor was not issued by this list", field: "cursor")
        }
        return (at, String(parts[1]))
    }

    /// The position of `after` in a newest-first list.
    static func timeAndId(_ at: Date, _ id: String) -> String { "\(at.millis)|\(id)" }

    static func cursor(tag: String, position: String) -> String {
        Base64URL.encode("\(tag):\(position)".utf8)
    }

    /// The tagged position a cursor holds; nil for text that is not base64url of UTF-8.
    static func decode(_ cursor: String) -> String? {
        Base64URL.decode(cursor).flatMap { String(validating: $0, as: UTF8.self) }
    }
}

/// One page of a list and the cursor of the next, if any.
struct Page<Item: Encodable>: Encodable {
    var items: [Item]
    @NullEncoded var nextCursor: String?
}

extension Page {
    /// The page of `rows` (read with `paging.fetchLimit`): its first `paging.limit` rows as
    /// items, and a cursor at the last of them when a further row was read.
    init<Row>(
        _ rows: [Row], _ paging: Paging, tag: String, position: (Row) -> String,
        item: (Row) throws -> Item
    ) rethrows {
        let shown = rows.prefix(paging.limit)
        self.init(
            items: try shown.map(item),
            nextCursor: rows.count > paging.limit ? shown.last.map { Paging.cursor(tag: tag, position: position($0)) } : nil)
    }
}
