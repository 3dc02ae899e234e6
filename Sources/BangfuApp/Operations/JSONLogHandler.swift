import Foundation
import Logging
import NIOConcurrencyHelpers

/// `--log-format json`: one JSON object a line on standard error, for log shippers, with the same
/// fields as the text format: `time`, `level`, `label`, `message`, `source` and every metadata
/// key (the request's `request_id`, `user_id`, `client`, `route`, `status`, `ms`, …).
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let write: @Sendable (String) -> Void

    public init(label: String, write: @escaping @Sendable (String) -> Void = JSONLogHandler.standardError) {
        self.label = label
        self.write = write
    }

    private static let lock = NIOLock()

    /// Writes whole lines to standard error, one at a time.
    public static let standardError: @Sendable (String) -> Void = { line in
        lock.withLock { FileHandle.standardError.write(Data(line.utf8)) }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = metadata
        if let provided = metadataProvider?.get() { fields.merge(provided) { _, new in new } }
        if let extra = event.metadata { fields.merge(extra) { _, new in new } }
        var line = "{"
        line += Self.pair("time", Date().rfc3339) + "," + Self.pair("level", event.level.rawValue) + ","
        line += Self.pair("label", label) + "," + Self.pair("message", "\(event.message)") + ","
        line += Self.pair("source", event.source)
        for key in fields.keys.sorted() where !["time", "level", "label", "message", "source"].contains(key) {
            if let value = fields[key] { line += "," + Self.pair(key, Self.text(value)) }
        }
        write(line + "}\n")
    }

    static func text(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text): text
        case .stringConvertible(let value): value.description
        case .array(let values): "[" + values.map(text).joined(separator: ", ") + "]"
        case .dictionary(let values): "{" + values.sorted { $0.key < $1.key }.map { "\($0.key): \(text($0.value))" }.joined(separator: ", ") + "}"
        }
    }

    static func pair(_ key: String, _ value: String) -> String { quote(key) + ":" + quote(value) }

    /// A JSON string literal, escaped as canonical JSON escapes it.
    static func quote(_ text: String) -> String {
        var out: [UInt8] = []
        CanonicalJSON.writeString(text, into: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
