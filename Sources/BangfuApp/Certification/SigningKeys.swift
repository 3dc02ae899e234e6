import Crypto
import Foundation

/// An Ed25519 public key as a JSON Web Key (RFC 8037): what `/api/v1/certificate-keys` publishes.
struct JWK: Codable, Sendable, Equatable {
    var kty = "OKP"
    var crv = "Ed25519"
    var x: String
    var kid: String
    var use = "sig"
    var alg = "EdDSA"

    init(x: String, kid: String) {
        self.x = x
        self.kid = kid
    }

    init(_ key: Curve25519.Signing.PublicKey) {
        self.init(x: Base64URL.encode(key.rawRepresentation), kid: Self.thumbprint(key))
    }

    /// The RFC 7638 thumbprint: SHA-256 of the canonical required members, base64url. It names a
    /// key by its content, so a kid can never be reused for another key.
    static func thumbprint(_ key: Curve25519.Signing.PublicKey) -> String {
        let members = CanonicalJSON.object([
            "crv": .string("Ed25519"), "kty": .string("OKP"), "x": .string(Base64URL.encode(key.rawRepresentation)),
        ])
        return Base64URL.encode(Data(SHA256.hash(data: try! members.canonicalBytes())))
    }

    var publicKey: Curve25519.Signing.PublicKey? {
        guard kty == "OKP", crv == "Ed25519", let raw = Base64URL.decode(x) else { return nil }
        return try? Curve25519.Signing.PublicKey(rawRepresentation: raw)
    }
}

/// The platform's signing keys, in `<keys directory>/signing-keys.json` (mode 0600, directory
/// 0700). The newest key signs; older keys stay published so that every certificate they signed
/// still verifies. `bangfu keys rotate` appends a key to the file; a running server notices the
/// changed file at its next use (a `stat`, on this actor, never on an event loop).
actor SigningKeys {
    struct StoredKey: Codable, Sendable {
        var kid: String
        var createdAt: String
        /// The private key's 32 raw bytes, base64url.
        var d: String
    }

    private struct File: Codable {
        var keys: [StoredKey]
    }

    struct Key: Sendable {
        var kid: String
        var privateKey: Curve25519.Signing.PrivateKey
    }

    let directory: String
    private var keys: [Key] = []
    private var loadedStamp: [FileAttributeKey: AnyHashable] = [:]

    init(directory: String) {
        self.directory = directory
    }

    var path: String { directory + "/signing-keys.json" }

    /// Loads the key file, creating it with a first key when there is none. Returns the kid of a
    /// key created now, if any.
    @discardableResult
    func prepare(now: Date) throws -> String? {
        if FileManager.default.fileExists(atPath: path) {
            try reloadIfChanged()
            return nil
        }
        let kid = try Self.append(to: directory, now: now)
        try reloadIfChanged()
        return keys.last?.kid == kid ? kid : nil
    }

    /// The key that signs new certificates.
    func current() throws -> Key {
        try reloadIfChanged()
        guard let key = keys.last else { throw ConfigurationError("no signing key in \(path)") }
        return key
    }

    /// Every key, oldest first, as JWK.
    func published() throws -> [JWK] {
        try reloadIfChanged()
        return keys.map { JWK($0.privateKey.publicKey) }
    }

    private func reloadIfChanged() throws {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        let stamp: [FileAttributeKey: AnyHashable] = [
            .modificationDate: attributes[.modificationDate] as? Date, .size: attributes[.size] as? Int,
            .systemFileNumber: attributes[.systemFileNumber] as? Int,
        ]
        if stamp == loadedStamp, !keys.isEmpty { return }
        keys = try Self.read(path).map { stored in
            guard let raw = Base64URL.decode(stored.d) else { throw ConfigurationError("a key in \(path) is not base64url") }
            return Key(kid: stored.kid, privateKey: try Curve25519.Signing.PrivateKey(rawRepresentation: raw))
        }
        loadedStamp = stamp
    }

    private static func read(_ path: String) throws -> [StoredKey] {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw OperatorError(
                exists
                    ? "cannot read the signing keys \(path): permission denied; run bangfu as the user that owns them"
                    : "the signing keys \(path) are missing; restore them from a backup (or point --keys-dir at them)",
                exitCode: exists ? ExitCodes.permission : ExitCodes.noInput)
        }
        do {
            return try JSONDecoder().decode(File.self, from: data).keys
        } catch {
            throw OperatorError(
                "the signing keys \(path) are not a key file Bangfu wrote (\(OperatorError.describing(error).message)); restore them from a backup",
                exitCode: ExitCodes.dataError)
        }
    }

    /// `bangfu keys rotate` (and the first start): adds a new key, which signs from now on. The
    /// file is replaced atomically (written beside it with mode 0600, then renamed).
    @discardableResult
    static func append(to directory: String, now: Date) throws -> String {
        let manager = FileManager.default
        try manager.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let path = directory + "/signing-keys.json"
        let first = !manager.fileExists(atPath: path)
        var keys = first ? [] : try read(path)
        let key = Curve25519.Signing.PrivateKey()
        let kid = JWK.thumbprint(key.publicKey)
        keys.append(StoredKey(kid: kid, createdAt: now.rfc3339, d: Base64URL.encode(key.rawRepresentation)))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let temporary = path + ".new"
        try? manager.removeItem(atPath: temporary)
        guard manager.createFile(atPath: temporary, contents: try encoder.encode(File(keys: keys)), attributes: [.posixPermissions: 0o600]) else {
            throw ConfigurationError("cannot write \(temporary)")
        }
        if first {
            // The first key: `link` fails if another process (sharing the directory) created the
            // file meanwhile, and then its key is the one everybody uses.
            defer { unlink(temporary) }
            if link(temporary, path) != 0 {
                guard errno == EEXIST, let existing = try read(path).last else { throw ConfigurationError("cannot create \(path)") }
                return existing.kid
            }
            return kid
        }
        guard rename(temporary, path) == 0 else { throw ConfigurationError("cannot replace \(path)") }
        return kid
    }
}

/// The key file operations of `bangfu keys`.
public enum SigningKeyFiles {
    static func directory(_ configuration: AppConfiguration) -> String {
        configuration.keysDirectory ?? configuration.dataDirectory + "/keys"
    }

    /// Adds a new signing key and returns its kid.
    public static func rotate(configuration: AppConfiguration) throws -> String {
        try SigningKeys.append(to: directory(configuration), now: configuration.clock.now)
    }

    public static func publishedJSON(configuration: AppConfiguration) async throws -> String {
        let keys = SigningKeys(directory: directory(configuration))
        try await keys.prepare(now: configuration.clock.now)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(CertificationDTO.KeysOutput(keys: try await keys.published())), as: UTF8.self)
    }
}
