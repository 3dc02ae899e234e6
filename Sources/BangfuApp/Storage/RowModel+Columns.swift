import Foundation

/// A yes/no stored as BIGINT 0 or 1 (SQLite has no boolean and the schema keeps both engines
/// alike), so a row model decodes it by name (`@IntBool var merchantActive: Bool`). Any value but
/// 0 reads as true. It encodes as a JSON boolean, as an answer shows it; stores bind `.bit`.
@propertyWrapper
struct IntBool: Codable, Sendable, Hashable {
    var wrappedValue: Bool

    init(wrappedValue: Bool) { self.wrappedValue = wrappedValue }

    init(from decoder: any Decoder) throws {
        wrappedValue = try decoder.singleValueContainer().decode(Int64.self) != 0
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(wrappedValue)
    }
}

/// A list of short words stored as one comma-separated TEXT (`@CommaList var labels: [String]`);
/// the empty text is the empty list. It encodes as an answer shows it, a JSON array; stores bind
/// the joined text themselves.
@propertyWrapper
struct CommaList: Codable, Sendable, Hashable {
    var wrappedValue: [String]

    init(wrappedValue: [String]) { self.wrappedValue = wrappedValue }

    init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        wrappedValue = text.isEmpty ? [] : text.split(separator: ",").map(String.init)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(wrappedValue)
    }
}

extension Bool {
    /// The BIGINT a flag column stores: 1 or 0.
    var bit: Int64 { self ? 1 : 0 }
}
