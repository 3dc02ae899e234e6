import Configuration
import Foundation
import NIOConcurrencyHelpers

/// Reads `AppConfiguration` once, through one swift-configuration `ConfigReader` whose providers
/// are, in precedence: the options given on the command line, the `BANGFU_*` environment
/// variables, the `--config` file (`ConfigurationFile`), and last the defaults (the initial values
/// of `AppConfiguration`).
///
/// Every source gives text, and one parser per setting checks it (`ConfigurationSettings`), so a
/// malformed value is refused with the same one-line error (exit 78) whichever source gave it,
/// naming that source: `--port abc`, `BANGFU_PORT=abc` or `port = abc in FILE`, then
/// `: expected a port number 1-65535`.
public enum ConfigurationReader {
    /// - Parameters:
    ///   - commandLine: the options given explicitly, by long name without `--`
    ///     (`["port": ["8443"]]`; a repeated option has several values, a flag that was given
    ///     `["true"]`); `config` names the config file.
    ///   - environment: the process environment; an empty variable counts as unset.
    public static func read(commandLine: [String: [String]], environment: [String: String]) async throws -> AppConfiguration {
        let values = try await SettingValues(commandLine: commandLine, environment: environment.filter { !$0.value.isEmpty })
        return try ConfigurationSettings.configuration(from: values)
    }
}

/// Where a setting's value came from.
enum SettingSource: Sendable, Equatable {
    case commandLine
    case environment
    case file(String)

    var name: String {
        switch self {
        case .commandLine: "the command line"
        case .environment: "the environment"
        case .file(let path): "the config file \(path)"
        }
    }
}

/// A setting's value as its source gave it.
struct SettingValue {
    let setting: Setting
    let text: String
    let source: SettingSource

    /// How the operator wrote it: `--port abc`, `BANGFU_PORT=abc`, `port = abc in FILE`.
    var origin: String {
        let shown = setting.secret ? "(hidden)" : text
        switch source {
        case .commandLine where setting.flag:
            return "--\(setting.key)"
        case .commandLine where setting.list:
            return text.split(separator: ",").map { "--\(setting.key) \($0)" }.joined(separator: " ")
        case .commandLine:
            return "--\(setting.key) \(shown)"
        case .environment:
            return "\(setting.environment)=\(shown)"
        case .file(let path):
            return "\(setting.key) = \(shown) in \(path)"
        }
    }

    /// The one-line refusal: `BANGFU_PORT=abc: expected a port number 1-65535`.
    func refused(_ problem: String) -> OperatorError {
        OperatorError("\(origin): \(problem)", exitCode: ExitCodes.configuration)
    }
}

/// The settings' values through one `ConfigReader`, each with the source that gave it.
struct SettingValues {
    private let reader: ConfigReader
    private let sources: [SettingSource]
    private let lastAccess = LastAccess()

    init(commandLine: [String: [String]], environment: [String: String]) async throws {
        var given: [AbsoluteConfigKey: ConfigValue] = [:]
        for (key, values) in commandLine where key != "config" && !values.isEmpty {
            guard ConfigurationSettings.named[key] != nil else {
                throw OperatorError("the option --\(key) is no setting; please report it", exitCode: ExitCodes.software)
            }
            given[AbsoluteConfigKey([key])] = ConfigValue(.string(values.joined(separator: ",")), isSecret: false)
        }
        // Each key is looked up under its own variable's name (a single component, which the
        // provider's key encoder leaves as it is).
        let variables = EnvironmentVariablesProvider(environmentVariables: environment).mapKeys { key in
            ConfigurationSettings.named[key.components.joined(separator: ".")].map { AbsoluteConfigKey([$0.environment]) } ?? key
        }
        var providers: [any ConfigProvider] = [InMemoryProvider(name: "command line", values: given), variables]
        var sources: [SettingSource] = [.commandLine, .environment]
        if let path = commandLine["config"]?.last ?? environment["BANGFU_CONFIG"] {
            providers.append(try await Self.file(path))
            sources.append(.file(path))
        }
        self.sources = sources
        reader = ConfigReader(providers: providers, accessReporter: lastAccess)
    }

    /// The value of `key` and its source, or nil when no source sets it.
    func value(_ key: String) throws -> SettingValue? {
        guard let setting = ConfigurationSettings.named[key] else {
            throw OperatorError("no setting is named \(key); please report it", exitCode: ExitCodes.software)
        }
        let text = reader.string(forKey: ConfigKey([key]), isSecret: setting.secret)
        var source: SettingSource?
        for (index, provided) in (lastAccess.take()?.providerResults ?? []).enumerated() where index < sources.count {
            switch provided.result {
            case .failure(let error):
                throw OperatorError("cannot read \(key) from \(sources[index].name): \(error)", exitCode: ExitCodes.configuration)
            case .success(let lookup) where lookup.value != nil:
                source = source ?? sources[index]
            case .success:
                continue
            }
        }
        guard let text else { return nil }
        guard let source else {
            throw OperatorError("the source of \(key) is unknown; please report it", exitCode: ExitCodes.software)
        }
        return SettingValue(setting: setting, text: text, source: source)
    }

    /// The text of `key` as given.
    func text(_ key: String) throws -> String? {
        try value(key)?.text
    }

    /// `key` parsed by `parse`; a value it refuses fails with `expected <expected>`.
    func parse<T>(_ key: String, expected: String, _ parse: (String) -> T?) throws -> T? {
        guard let value = try value(key) else { return nil }
        guard let parsed = parse(value.text) else { throw value.refused("expected \(expected)") }
        return parsed
    }

    /// `key` as a comma-separated list, each item parsed by `parse`.
    func list<T>(_ key: String, expected: String, nonEmpty: Bool = false, _ parse: (String) -> T?) throws -> [T]? {
        guard let value = try value(key) else { return nil }
        var parsed: [T] = []
        for item in value.text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let one = parse(item) else {
                throw value.refused("expected \(expected), not \(item.isEmpty ? "an empty item" : item)")
            }
            parsed.append(one)
        }
        guard !(nonEmpty && parsed.isEmpty) else { throw value.refused("expected \(expected)") }
        return parsed
    }

    /// The provider of the config file at `path`, or the one-line reason it cannot be used.
    private static func file(_ path: String) async throws -> FileProvider<ConfigurationFile> {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw OperatorError(
                "the config file \(path) does not exist: check --config (BANGFU_CONFIG)", exitCode: ExitCodes.noInput)
        }
        guard !isDirectory.boolValue else {
            throw OperatorError(
                "the config file \(path) is a directory: give --config a JSON file", exitCode: ExitCodes.configuration)
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw OperatorError(
                "permission denied on the config file \(path): make it readable by this user", exitCode: ExitCodes.permission)
        }
        do {
            let location = ConfigReader(provider: InMemoryProvider(values: ["filePath": ConfigValue(.string(path), isSecret: false)]))
            return try await FileProvider<ConfigurationFile>(config: location)
        } catch let problem as ConfigurationFileProblem {
            throw OperatorError("the config file \(path) \(problem)", exitCode: ExitCodes.configuration)
        } catch {
            throw OperatorError("cannot read the config file \(path) (\(error))", exitCode: ExitCodes.ioError)
        }
    }
}

/// Keeps the last access event of the reader: which provider gave the value just read.
private final class LastAccess: AccessReporter {
    private let event = NIOLockedValueBox<AccessEvent?>(nil)

    func report(_ event: AccessEvent) {
        self.event.withLockedValue { $0 = event }
    }

    func take() -> AccessEvent? {
        event.withLockedValue { last in
            defer { last = nil }
            return last
        }
    }
}
