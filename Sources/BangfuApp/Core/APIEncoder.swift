import Foundation

extension JSONEncoder {
    /// How the API encodes what it sends (answers, webhook events): sorted keys, `/` unescaped.
    /// A new encoder each time: `JSONEncoder` is not `Sendable`.
    static var api: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
