import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// The server's certificate: the operator's (`--tls-cert`/`--tls-key`), or a self-signed one for
/// `localhost` and `127.0.0.1` generated in the data directory on first start and reused after.
enum TLSMaterial {
    struct Paths {
        var certificate: String
        var key: String
        var generated: Bool
    }

    static func resolve(certificate: String?, key: String?, dataDirectory: String, now: Date) throws -> Paths {
        if let certificate, let key {
            return Paths(certificate: certificate, key: key, generated: false)
        }
        if certificate != nil || key != nil {
            throw ConfigurationError("--tls-cert and --tls-key go together")
        }
        let certPath = dataDirectory + "/tls/localhost.crt"
        let keyPath = dataDirectory + "/tls/localhost.key"
        if FileManager.default.fileExists(atPath: certPath) && FileManager.default.fileExists(atPath: keyPath) {
            return Paths(certificate: certPath, key: keyPath, generated: false)
        }
        try FileManager.default.createDirectory(atPath: dataDirectory + "/tls", withIntermediateDirectories: true)
        let (certPEM, keyPEM) = try selfSigned(now: now)
        try writeSecret(keyPEM, to: keyPath)
        try certPEM.write(toFile: certPath, atomically: true, encoding: .utf8)
        return Paths(certificate: certPath, key: keyPath, generated: true)
    }

    /// A P-256 certificate valid for a year, for `localhost` and `127.0.0.1`.
    static func selfSigned(now: Date) throws -> (certificate: String, key: String) {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("Bangfu development")
            CommonName("localhost")
        }
        let certificate = try X509.Certificate(
            version: .v3,
            serialNumber: X509.Certificate.SerialNumber(),
            publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(365 * 24 * 3600),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try X509.Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                KeyUsage(digitalSignature: true, keyEncipherment: true)
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames([.dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))])
            },
            issuerPrivateKey: .init(key))
        return (try certificate.serializeAsPEM().pemString, key.pemRepresentation)
    }

    static func serverConfiguration(_ paths: Paths) throws -> TLSConfiguration {
        let chain: [NIOSSLCertificateSource]
        let key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMFile(paths.certificate).map { NIOSSLCertificateSource.certificate($0) }
        } catch {
            throw OperatorError(
                "cannot read the TLS certificate \(paths.certificate) (\(error)): give --tls-cert a readable PEM certificate chain",
                exitCode: FileManager.default.fileExists(atPath: paths.certificate) ? ExitCodes.dataError : ExitCodes.noInput)
        }
        do {
            key = try NIOSSLPrivateKey(file: paths.key, format: .pem)
        } catch {
            throw OperatorError(
                "cannot read the TLS key \(paths.key) (\(error)): give --tls-key a readable PEM private key",
                exitCode: FileManager.default.fileExists(atPath: paths.key) ? ExitCodes.dataError : ExitCodes.noInput)
        }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        // TLS 1.0 and 1.1 are broken and deprecated (RFC 8996): 1.2 at the least.
        configuration.minimumTLSVersion = .tlsv12
        return configuration
    }
}

/// Writes a secret (a private key) readable by the owner only (mode 0600).
func writeSecret(_ text: String, to path: String) throws {
    let created = FileManager.default.createFile(
        atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
    if !created { throw ConfigurationError("cannot write \(path)") }
    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
}
