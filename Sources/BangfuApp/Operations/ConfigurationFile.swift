import Configuration
import Foundation

/// The `--config` file, read by swift-configuration's `FileProvider`: one JSON object whose keys
/// are the long option names without `--` (`{"port": 8080, "data-dir": "/var/lib/bangfu",
/// "no-tls": true, "trusted-proxy": ["127.0.0.1"]}`).
///
/// Each value is kept as the text the option would carry (a number as written, `true`/`false`, a
/// list joined with commas), so that one parser checks a setting whichever source gave it
/// (`ConfigurationSettings`). A key that names no option and a value that is an object are
/// refused when the file is read; `null` counts as not set.
struct ConfigurationFile: FileConfigSnapshot {
    struct ParsingOptions: FileParsingOptions {
        /// The keys the file may hold.
        var keys: Set<String>

        static var `default`: Self { Self(keys: Set(ConfigurationSettings.all.map(\.key))) }
    }

    let providerName: String
    let values: [String: String]

    init(data: RawSpan, providerName: String, parsingOptions: ParsingOptions) throws {
        self.providerName = providerName
        let bytes = data.withUnsafeBytes { Data($0) }
        let object: [String: FileValue]
        do {
            object = try JSONDecoder().decode([String: FileValue].self, from: bytes)
        } catch DecodingError.typeMismatch(_, let context) {
            guard let key = context.codingPath.first?.stringValue else {
                throw ConfigurationFileProblem("is not a JSON object of settings ({\"port\": 8443, …})")
            }
            throw ConfigurationFileProblem("gives \"\(key)\" an object: give a string, a number, true or false, or a list of them")
        } catch {
            throw ConfigurationFileProblem("is not valid JSON (\(Self.reason(bytes, error)))")
        }
        if let unknown = object.keys.sorted().first(where: { !parsingOptions.keys.contains($0) }) {
            throw ConfigurationFileProblem(
                "has the unknown key \"\(unknown)\": its keys are the long option names without -- (README \"Configuration\")")
        }
        values = object.compactMapValues(\.text)
    }

    func value(forKey key: AbsoluteConfigKey, type: ConfigType) throws -> LookupResult {
        let name = key.components.joined(separator: ".")
        guard let text = values[name] else { return LookupResult(encodedKey: name, value: nil) }
        guard type == .string else {
            throw ConfigurationFileProblem("holds \(name) as text, not as \(type.rawValue)")
        }
        return LookupResult(encodedKey: name, value: ConfigValue(.string(text), isSecret: false))
    }

    /// The keys only: values may be secret (`database`, `demo-password`).
    var description: String { "\(providerName)[\(values.keys.sorted().joined(separator: ", "))]" }
    var debugDescription: String { description }

    /// What JSONSerialization says is wrong ("Unexpected end of file during JSON parse."):
    /// JSONDecoder only says that the data is not valid JSON.
    private static func reason(_ bytes: Data, _ error: any Error) -> String {
        do {
            _ = try JSONSerialization.jsonObject(with: bytes)
        } catch {
            if let reason = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String { return reason }
        }
        return "\(error)"
    }
}

/// Why the `--config` file cannot be used; `ConfigurationReader` names the file.
struct ConfigurationFileProblem: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One value of the file: a scalar or a list of scalars as text; `null` as nil.
private struct FileValue: Decodable {
    let text: String?

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            text = nil
        } else if let scalar = try? container.decode(Scalar.self) {
            text = scalar.text
        } else {
            text = try container.decode([Scalar].self).map(\.text).joined(separator: ",")
        }
    }
}

private struct Scalar: Decodable {
    let text: String

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Bool.self) {
            text = String(value)
        } else if let value = try? container.decode(Int64.self) {
            text = String(value)
        } else if let value = try? container.decode(Double.self) {
            text = String(value)
        } else {
            text = try container.decode(String.self)
        }
    }
}
