import Foundation
import SQLKit

/// A time stored as integer milliseconds since the epoch (BIGINT on both engines), so a row model
/// decodes with SQLKit's `decode(model:)` (`@Millis var createdAt: Date`). It encodes as an API
/// answer shows a time, RFC 3339 in UTC, so a row model can be its own answer; stores bind
/// `date.millis` themselves and never encode a model.
@propertyWrapper
struct Millis: Codable, Sendable, Hashable {
    var wrappedValue: Date

    init(wrappedValue: Date) { self.wrappedValue = wrappedValue }

    init(from decoder: any Decoder) throws {
        wrappedValue = Date(millis: try decoder.singleValueContainer().decode(Int64.self))
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(wrappedValue.rfc3339)
    }
}

/// A nullable time in integer milliseconds (`@OptionalMillis var shippedAt: Date?`); encodes as
/// RFC 3339 or `null`.
@propertyWrapper
struct OptionalMillis: Codable, Sendable, Hashable {
    var wrappedValue: Date?

    init(wrappedValue: Date?) { self.wrappedValue = wrappedValue }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        wrappedValue = container.decodeNil() ? nil : Date(millis: try container.decode(Int64.self))
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue.rfc3339) } else { try container.encodeNil() }
    }
}

/// A row as a Swift value: decoded by name from snake_case columns (an unknown enum value fails
/// loudly instead of falling back). A query's own result (a report's sums, a check's pairs) is
/// just this; a table's row is a `TableRow`.
protocol RowModel: Decodable, Sendable {}

/// A table's row, with its column list written once: inserts (and selects of the whole row) name
/// `columnList`, and an insert binds the row's values in the same order.
protocol TableRow: RowModel {
    /// The table's columns in the order inserts bind them.
    static var columns: [String] { get }
}

extension SQLRow {
    /// The row as `T`, its snake_case columns matched to `T`'s camelCase properties.
    func model<T: RowModel>(_ type: T.Type) throws -> T {
        try decode(model: type, keyDecodingStrategy: SnakeCase.strategy)
    }
}

/// SQLKit's `convertFromSnakeCase` key conversion, cheaper: the same words (a capital starts
/// one; a run of capitals before a lower-case letter is one), but ASCII letters are classified
/// by their byte instead of Unicode property lookups. Measured: with SQLKit's own conversion,
/// decoding 5,000 rows of ten columns spent a quarter of a bulletin request in `isUppercase`.
enum SnakeCase {
    static let strategy = SQLRowDecoder.KeyDecodingStrategy.custom { keys in
        SomeCodingKey(column(for: keys.last?.stringValue ?? ""))
    }

    struct SomeCodingKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// `organizationId` → `organization_id`, `reservedBp` → `reserved_bp`, as SQLKit splits them:
    /// a word starts at a capital; a run of capitals followed by a lower-case letter is a word up
    /// to the capital before that letter. ASCII keys (every column) are converted byte by byte in
    /// one buffer; others by Unicode scalar.
    static func column(for key: String) -> String {
        let utf8 = Array(key.utf8)
        guard utf8.allSatisfy({ $0 < 0x80 }) else { return words(of: Array(key.unicodeScalars)) }
        guard !utf8.isEmpty else { return key }
        let isUpper = { (b: UInt8) in (65...90).contains(b) }
        let isLower = { (b: UInt8) in (97...122).contains(b) }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count + 4)
        var wordStart = 0
        var search = 1
        func emit(_ range: Range<Int>) {
            if !out.isEmpty || range.lowerBound > 0 { out.append(95) }  // "_" between words
            for (offset, byte) in utf8[range].enumerated() { out.append(offset == 0 && isUpper(byte) ? byte + 32 : byte) }
        }
        while let upper = utf8[search...].firstIndex(where: isUpper) {
            emit(wordStart..<upper)
            wordStart = upper
            guard let lower = utf8[upper...].firstIndex(where: isLower) else { break }
            search = lower
            if lower != upper + 1 {
                emit(upper..<(lower - 1))
                wordStart = lower - 1
            }
        }
        emit(wordStart..<utf8.count)
        return String(decoding: out, as: UTF8.self)
    }

    /// The same words for a key with non-ASCII letters, by Unicode scalar.
    private static func words(of scalars: [Unicode.Scalar]) -> String {
        let isUpper = { (s: Unicode.Scalar) in s.properties.isUppercase }
        let isLower = { (s: Unicode.Scalar) in s.properties.isLowercase }
        var words: [Range<Int>] = []
        var wordStart = 0
        var search = 1
        while search <= scalars.count, let upper = scalars[search...].firstIndex(where: isUpper) {
            words.append(wordStart..<upper)
            wordStart = upper
            guard let lower = scalars[upper...].firstIndex(where: isLower) else { break }
            search = lower
            if lower != upper + 1 {
                words.append(upper..<(lower - 1))
                wordStart = lower - 1
            }
        }
        words.append(wordStart..<scalars.count)
        return words.map { range -> String in
            let word = String(String.UnicodeScalarView(scalars[range]))
            return (word.first.map { $0.lowercased() } ?? "") + word.dropFirst()
        }.joined(separator: "_")
    }
}

extension TableRow {
    /// The column list for an INSERT or a SELECT (`id, checkout_id, …`).
    static var columnList: SQLQueryString {
        "\(idents: columns, joinedBy: ", ")"
    }
}
