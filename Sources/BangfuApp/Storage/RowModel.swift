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
        try decode(model: type, keyDecodingStrategy: .convertFromSnakeCase)
    }
}

extension TableRow {
    /// The column list for an INSERT or a SELECT (`id, checkout_id, …`).
    static var columnList: SQLQueryString {
        "\(idents: columns, joinedBy: ", ")"
    }
}
