import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOPosix
import Testing

@testable import BangfuApp

/// RFC 8785 canonicalisation, exactly as the RFC's own examples print.
@Suite struct CanonicalJSONTests {
    @Test func membersAreSortedByUTF16CodeUnits() throws {
        // RFC 8785 §3.2.3: U+1F600 (surrogates D83D DE00) sorts before U+FB33 in UTF-16 order,
        // though after it in code point order.
        let value = CanonicalJSON.object([
            "\u{20AC}": .string("Euro Sign"), "\r": .string("Carriage Return"),
            "\u{FB33}": .string("Hebrew Letter Dalet With Dagesh"), "1": .string("One"),
            "\u{1F600}": .string("Emoji: Grinning Face"), "\u{0080}": .string("Control"),
            "\u{00F6}": .string("Latin Small Letter O With Diaeresis"),
        ])
        let expected =
            "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{0080}\":\"Control\",\"\u{00F6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20AC}\":\"Euro Sign\",\"\u{1F600}\":\"Emoji: Grinning Face\",\"\u{FB33}\":\"Hebrew Letter Dalet With Dagesh\"}"
        #expect(try value.canonicalBytes() == Array(expected.utf8))
    }

    @Test func stringsAreEscapedAsECMAScriptDoes() throws {
        // RFC 8785 §3.2.2.2: "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/" prints as
        // "€$\u000f\nA'B\"\\\\\"/".
        let value = CanonicalJSON.string("\u{20AC}$\u{0F}\nA'B\"\\\\\"/")
        #expect(try value.canonicalBytes() == Array(#""€$\u000f\nA'B\"\\\\\"/""#.utf8))
        let controls = CanonicalJSON.string("\u{08}\u{09}\u{0C}\u{0D}\u{00}\u{1F}\u{7F}\u{2028}")
        #expect(try controls.canonicalBytes() == Array("\"\\b\\t\\f\\r\\u0000\\u001f\u{7F}\u{2028}\"".utf8))
    }

    @Test func literalsArraysAndNesting() throws {
        let value = CanonicalJSON.object([
            "b": .array([.integer(-12), .bool(true), .null, .object([:])]), "a": .object(["z": .integer(0), "y": .string("")]),
        ])
        #expect(try value.canonicalBytes() == Array(#"{"a":{"y":"","z":0},"b":[-12,true,null,{}]}"#.utf8))
        #expect(throws: CanonicalJSON.UnsupportedNumber.self) { try CanonicalJSON.integer(1 << 53).canonicalBytes() }
    }

    @Test func certificateRules() {
        #expect(CertificateNumber.format(year: 2026, sequence: 123) == "BF-2026-000123")
        #expect(CertificateNumber.format(year: 2027, sequence: 1_234_567) == "BF-2027-1234567")
        #expect(CertificateNumber.isWellFormed("BF-2026-000123"))
        for bad in ["BF-2026-00012", "bf-2026-000123", "BF-26-000123", "BF-2026-00012x", "BF-2026-000123-1", "../etc"] {
            #expect(!CertificateNumber.isWellFormed(bad), "\(bad)")
        }
        // The year is UTC+8's: 16:00 UTC on 31 December is already the next year in Beijing.
        #expect(CertificateNumber.year(of: Date(timeIntervalSince1970: 1_798_732_799)) == 2026)  // 2026-12-31T15:59:59Z
        #expect(CertificateNumber.year(of: Date(timeIntervalSince1970: 1_798_732_800)) == 2027)  // 2026-12-31T16:00:00Z
        let now = Date(timeIntervalSince1970: 1000)
        #expect(CertificateStatus.of(expiresAt: now.addingTimeInterval(1), revokedAt: nil, now: now) == .valid)
        #expect(CertificateStatus.of(expiresAt: now, revokedAt: nil, now: now) == .expired)
        #expect(CertificateStatus.of(expiresAt: now.addingTimeInterval(99), revokedAt: now, now: now) == .revoked)
        // The state machine: every (status, action, role) that is not listed is refused.
        let allowed: [String: CertificationStatus] = [
            "submitted county_approve county": .countyApproved, "submitted reject county": .rejected,
            "county_approved approve admin": .certified, "county_approved reject admin": .rejected,
        ]
        for status in CertificationStatus.allCases {
            for action in CertificationRules.Action.allCases {
                for role in Role.allCases {
                    let key = "\(status.rawValue) \(action.rawValue) \(role.rawValue)"
                    #expect(CertificationRules.next(from: status, action, by: role) == allowed[key], "\(key)")
                }
            }
        }
    }

    @Test func base64URLRoundTripsAndRefusesOtherAlphabets() {
        for length in 0..<40 {
            let bytes = Data((0..<length).map { UInt8(($0 * 37 + 11) % 256) })
            let text = Base64URL.encode(bytes)
            #expect(!text.contains("=") && !text.contains("+") && !text.contains("/"))
            #expect(Base64URL.decode(text) == Array(bytes))
        }
        // RFC 4648 §10's vectors, and Foundation's base64 with the URL alphabet.
        let vectors = ["": "", "f": "Zg", "fo": "Zm8", "foo": "Zm9v", "foob": "Zm9vYg", "fooba": "Zm9vYmE", "foobar": "Zm9vYmFy"]
        for (plain, encoded) in vectors { #expect(Base64URL.encode(Data(plain.utf8)) == encoded) }
        let all = Data((0..<256).map { UInt8($0) })
        #expect(
            Base64URL.encode(all)
                == all.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: ""))
        #expect(Base64URL.decode("ab+c") == nil)
        #expect(Base64URL.decode("abcde") == nil)
        for (plain, encoded) in vectors { #expect(Base64URL.decode(encoded) == Array(plain.utf8)) }
        // Every ASCII byte outside the alphabet is refused, padding included, and so is any
        // character beyond ASCII.
        let alphabet = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        for byte in UInt8.min...0x7F where !alphabet.contains(byte) {
            #expect(Base64URL.decode("AA" + String(UnicodeScalar(byte)) + "A") == nil, "byte \(byte)")
        }
        for other in ["é", "米", "\u{FFFD}", "𝟘", "Ａ"] { #expect(Base64URL.decode("AA" + other + "A") == nil, "\(other)") }
    }
}

/// A product taken through certification over HTTP.
struct Certified {
    let productId: String
    let applicationId: String
    let certificate: [String: Any]
    var number: String { certificate["number"] as! String }
}

extension Seller {
    /// Creates a product, applies, has the county approve and the admin certify it.
    func certified(
        _ client: any TestClientProtocol, cast: Cast, title: String = "延寿富硒大米", validDays: Int? = nil
    ) async throws -> Certified {
        let productId = try await product(client, title: title)
        let applied = try await client.call(
            .post, "/api/v1/certification-applications", token: token,
            json: #"{"productId":"\#(productId)","householdsDriven":36,"description":"带动36户脱贫户种植"}"#)
        #expect(applied.status == .created, "apply answered \(applied.status): \(applied.text)")
        let id = try #require(applied.object["id"] as? String)
        let reviewed = try await client.call(
            .post, "/api/v1/certification-applications/\(id)/county-review", token: cast.yanshouOfficer,
            json: #"{"approve":true,"note":"实地核查属实"}"#)
        #expect(reviewed.object["status"] as? String == "county_approved", "\(reviewed.text)")
        let body = validDays.map { #"{"validDays":\#($0)}"# } ?? "{}"
        let approved = try await client.call(
            .post, "/api/v1/certification-applications/\(id)/approve", token: cast.admin, json: body)
        #expect(approved.object["status"] as? String == "certified", "\(approved.text)")
        return Certified(
            productId: productId, applicationId: id, certificate: try #require(approved.object["certificate"] as? [String: Any]))
    }
}

/// The test's own canonical form of the nine signed fields (keys in ASCII order, strings escaped
/// by hand), so that a signature is checked without the server's canonicalisation code.
func independentlyCanonical(_ c: [String: Any]) -> Data {
    func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
    let names = ["countyCode", "expiresAt", "issuedAt", "keyId", "merchantId", "merchantName", "number", "productId", "productTitle"]
    return Data(("{" + names.map { "\"\($0)\":" + quoted(c[$0] as! String) }.joined(separator: ",") + "}").utf8)
}

func base64URLDecoded(_ text: String) -> Data? {
    var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    while base64.count % 4 != 0 { base64 += "=" }
    return Data(base64Encoded: base64)
}

@Suite struct CertificationTests {
    @Test func certificationIssuesASignatureAnyoneCanCheck() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let seller = try await Seller.make(test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller1")
            // A title with quotes, a backslash and a newline exercises the escaping.
            let done = try await seller.certified(client, cast: cast, title: "延寿\"富硒\"大米\\特级", validDays: 30)
            let c = done.certificate
            #expect(done.number == "BF-2026-000001")
            #expect(c["status"] as? String == "valid")
            #expect(c["productId"] as? String == done.productId)
            #expect(c["merchantId"] as? String == seller.merchantId)
            #expect(c["countyCode"] as? String == "230129")
            #expect(c["revocationReason"] is NSNull)
            let issued = try #require(ISO8601DateFormatter().date(from: c["issuedAt"] as! String))
            let expires = try #require(ISO8601DateFormatter().date(from: c["expiresAt"] as! String))
            #expect(expires.timeIntervalSince(issued) == 30 * 86400)

            // Independently of the server's code: rebuild the bytes, take the JWK, verify.
            let keys = try await client.call(.get, "/api/v1/certificate-keys")
            let jwks = try #require(keys.object["keys"] as? [[String: Any]])
            let jwk = try #require(jwks.first { $0["kid"] as? String == c["keyId"] as? String })
            #expect(jwk["kty"] as? String == "OKP" && jwk["crv"] as? String == "Ed25519")
            let publicKey = try Curve25519.Signing.PublicKey(rawRepresentation: try #require(base64URLDecoded(jwk["x"] as! String)))
            let signature = try #require(base64URLDecoded(c["signature"] as! String))
            #expect(!(c["signature"] as! String).contains("="))
            #expect(publicKey.isValidSignature(signature, for: independentlyCanonical(c)))
            var forged = c
            forged["productTitle"] = "延寿富硒大米"
            #expect(!publicKey.isValidSignature(signature, for: independentlyCanonical(forged)))

            // The public certificate route answers the same certificate; the second is numbered next.
            let shown = try await client.call(.get, "/api/v1/certificates/\(done.number)")
            #expect(shown.object["signature"] as? String == c["signature"] as? String)
            let second = try await seller.certified(client, cast: cast, title: "延寿黑木耳")
            #expect(second.number == "BF-2026-000002")

            // The application shows its full history and its certificate.
            let application = try await client.call(.get, "/api/v1/certification-applications/\(done.applicationId)", token: seller.token)
            let reviews = try #require(application.object["reviews"] as? [[String: Any]])
            #expect(reviews.map { $0["action"] as? String } == ["submit", "county_approve", "approve"])
            #expect(reviews.map { $0["toStatus"] as? String } == ["submitted", "county_approved", "certified"])
            #expect(reviews[1]["note"] as? String == "实地核查属实")
            #expect((application.object["certificate"] as? [String: Any])?["number"] as? String == done.number)

            // The product may now be listed, and it shows its certificate.
            let listed = try await client.call(.put, "/api/v1/products/\(done.productId)/listing", token: seller.token)
            #expect(listed.object["onSale"] as? Bool == true, "\(listed.text)")
            #expect((listed.object["certificate"] as? [String: Any])?["number"] as? String == done.number)

            // The server's own verifier (the CLI's) agrees, and refuses a tampered copy.
            let outcome = try CertificateVerification.verify(
                certificateJSON: Data(buffer: shown.body), keysJSON: Data(buffer: keys.body), now: test.clock.now)
            #expect(outcome.signatureValid && !outcome.expired)
            let tampered = shown.text.replacingOccurrences(of: "230129", with: "230221")
            let bad = try CertificateVerification.verify(
                certificateJSON: Data(tampered.utf8), keysJSON: Data(buffer: keys.body), now: test.clock.now)
            #expect(!bad.signatureValid)
        }
        // The key file is private to the server.
        let attributes = try FileManager.default.attributesOfItem(atPath: test.dataDirectory + "/keys/signing-keys.json")
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
    }

    @Test func everyRefusal() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let seller = try await Seller.make(test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller1")
            let other = try await Seller.make(
                test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller2", creditCode: Codes.yanshou2,
                company: "延寿县富民合作社")
            let productId = try await seller.product(client, title: "延寿大米")
            let body = #"{"productId":"\#(productId)","householdsDriven":3,"description":"带贫"}"#
            // Wrong role, nobody, another merchant's product, bad fields.
            #expect(try await client.call(.post, "/api/v1/certification-applications", token: cast.buyer, json: body).status == .forbidden)
            #expect(try await client.call(.post, "/api/v1/certification-applications", json: body).status == .unauthorized)
            let foreign = try await client.call(.post, "/api/v1/certification-applications", token: other.token, json: body)
            #expect(foreign.status == .unprocessableContent && foreign.fields == ["productId"])
            let badFields = try await client.call(
                .post, "/api/v1/certification-applications", token: seller.token,
                json: #"{"productId":"\#(productId)","householdsDriven":-1,"description":"  "}"#)
            #expect(badFields.status == .unprocessableContent)
            #expect(Set(badFields.fields) == ["householdsDriven", "description"])
            let applied = try await client.call(.post, "/api/v1/certification-applications", token: seller.token, json: body)
            #expect(applied.status == .created)
            let id = try #require(applied.object["id"] as? String)
            // While the county reviews it, the product's origin county is fixed.
            let moved = try await client.call(.patch, "/api/v1/products/\(productId)", token: seller.token, json: #"{"originCountyCode":"230221"}"#)
            #expect(moved.status == .conflict && moved.code == "certified_field_locked" && moved.fields == ["originCountyCode"])
            // One application in progress per product.
            let twice = try await client.call(.post, "/api/v1/certification-applications", token: seller.token, json: body)
            #expect(twice.status == .conflict && twice.fields == ["productId"])

            // Another county's officer and another merchant do not know it exists.
            let path = "/api/v1/certification-applications/\(id)"
            #expect(try await client.call(.get, path, token: cast.longjiangOfficer).status == .notFound)
            #expect(try await client.call(.get, path, token: other.token).status == .notFound)
            #expect(try await client.call(.get, path, token: cast.buyer).status == .forbidden)
            let foreignReview = try await client.call(
                .post, path + "/county-review", token: cast.longjiangOfficer, json: #"{"approve":true}"#)
            #expect(foreignReview.status == .notFound)
            // Wrong roles for each step; wrong order of steps.
            #expect(try await client.call(.post, path + "/county-review", token: cast.admin, json: #"{"approve":true}"#).status == .forbidden)
            #expect(try await client.call(.post, path + "/county-review", token: seller.token, json: #"{"approve":true}"#).status == .forbidden)
            #expect(try await client.call(.post, path + "/approve", token: cast.yanshouOfficer, json: "{}").status == .forbidden)
            #expect(try await client.call(.post, path + "/reject", token: seller.token, json: #"{"reason":"x"}"#).status == .forbidden)
            let early = try await client.call(.post, path + "/approve", token: cast.admin, json: "{}")
            #expect(early.status == .conflict && early.code == "invalid_transition")
            #expect(early.text.contains("submitted"))
            // A county rejection needs its reason.
            let noReason = try await client.call(.post, path + "/county-review", token: cast.yanshouOfficer, json: #"{"approve":false}"#)
            #expect(noReason.status == .unprocessableContent && noReason.fields == ["note"])
            #expect(try await client.call(.post, path + "/county-review", token: cast.yanshouOfficer, json: #"{"approve":true}"#).status == .ok)
            let again = try await client.call(.post, path + "/county-review", token: cast.yanshouOfficer, json: #"{"approve":true}"#)
            #expect(again.code == "invalid_transition")
            for days in ["0", "3651", "\"30\"", "1.5"] {
                let bad = try await client.call(.post, path + "/approve", token: cast.admin, json: #"{"validDays":\#(days)}"#)
                #expect(bad.status == .unprocessableContent && bad.fields == ["validDays"], "\(days): \(bad.text)")
            }
            let rejected = try await client.call(.post, path + "/reject", token: cast.admin, json: #"{"reason":"带贫人数与台账不符"}"#)
            #expect(rejected.object["status"] as? String == "rejected")
            #expect(try await client.call(.post, path + "/approve", token: cast.admin, json: "{}").code == "invalid_transition")
            // A rejected application frees the product for a new one.
            #expect(try await client.call(.post, "/api/v1/certification-applications", token: seller.token, json: body).status == .created)

            // Queues are scoped: the officer of another county sees none; merchants their own.
            let queue = "/api/v1/certification-applications"
            #expect(try await client.call(.get, queue, token: cast.longjiangOfficer).items.isEmpty)
            #expect(try await client.call(.get, queue, token: cast.yanshouOfficer).items.count == 2)
            #expect(try await client.call(.get, queue, token: other.token).items.isEmpty)
            #expect(try await client.call(.get, queue + "?status=submitted", token: seller.token).items.count == 1)
            #expect(try await client.call(.get, queue + "?status=bogus", token: cast.admin).status == .badRequest)
            #expect(try await client.call(.get, queue, token: cast.buyer).status == .forbidden)
            // Revocation is the admin's, with a reason, and only once.
            let done = try await other.certified(client, cast: cast, title: "富民木耳")
            let revocation = "/api/v1/certificates/\(done.number)/revocation"
            #expect(try await client.call(.post, revocation, token: cast.yanshouOfficer, json: #"{"reason":"x"}"#).status == .forbidden)
            #expect(try await client.call(.post, revocation, token: other.token, json: #"{"reason":"x"}"#).status == .forbidden)
            #expect(try await client.call(.post, revocation, token: cast.admin, json: "{}").fields == ["reason"])
            #expect(try await client.call(.post, revocation, token: cast.admin, json: #"{"reason":"抽检不合格"}"#).status == .ok)
            let revokedTwice = try await client.call(.post, revocation, token: cast.admin, json: #"{"reason":"again"}"#)
            #expect(revokedTwice.code == "invalid_transition")
            #expect(try await client.call(.get, "/api/v1/certificates/BF-2026-999999").status == .notFound)
            #expect(try await client.call(.get, "/api/v1/certificates/nonsense").status == .notFound)
        }
    }

    @Test func expiryHidesTheProductAtItsInstantAndANewCertificateRestoresIt() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let seller = try await Seller.make(test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller1")
            let done = try await seller.certified(client, cast: cast, title: "延寿小米", validDays: 1)
            #expect(try await client.call(.put, "/api/v1/products/\(done.productId)/listing", token: seller.token).status == .ok)
            #expect(try await client.call(.get, "/api/v1/products?q=小米").titles == ["延寿小米"])
            test.clock.advance(seconds: 86400 + 1)
            // Sessions last 12 hours: sign in again.
            let sellerToken = try await client.signIn("seller1")
            let officer = try await client.signIn("yanshou")
            let admin = try await client.signIn("admin")
            // No job ran: the clock alone makes it expired.
            let certificate = try await client.call(.get, "/api/v1/certificates/\(done.number)")
            #expect(certificate.object["status"] as? String == "expired")
            #expect(try await client.call(.get, "/api/v1/products?q=小米").titles.isEmpty)
            #expect(try await client.call(.get, "/api/v1/products/\(done.productId)").status == .notFound)
            let mine = try await client.call(.get, "/api/v1/products/\(done.productId)", token: sellerToken)
            #expect(mine.object["onSale"] as? Bool == false)
            #expect((mine.object["certificate"] as? [String: Any])?["status"] as? String == "expired")
            #expect(try await client.call(.get, "/api/v1/certificates?status=valid").items.isEmpty)
            #expect(try await client.call(.get, "/api/v1/certificates?status=expired").items.count == 1)
            // The signature outlives the validity: verification still says who issued what.
            let keys = try await client.call(.get, "/api/v1/certificate-keys")
            let outcome = try CertificateVerification.verify(
                certificateJSON: Data(buffer: certificate.body), keysJSON: Data(buffer: keys.body), now: test.clock.now)
            #expect(outcome.signatureValid && outcome.expired)
            // Certifying again issues a new certificate, and the product is on sale again.
            let applied = try await client.call(
                .post, "/api/v1/certification-applications", token: sellerToken,
                json: #"{"productId":"\#(done.productId)","householdsDriven":40,"description":"续期"}"#)
            let id = try #require(applied.object["id"] as? String)
            _ = try await client.call(
                .post, "/api/v1/certification-applications/\(id)/county-review", token: officer, json: #"{"approve":true}"#)
            let renewed = try await client.call(.post, "/api/v1/certification-applications/\(id)/approve", token: admin, json: "{}")
            let number = try #require((renewed.object["certificate"] as? [String: Any])?["number"] as? String)
            #expect(number != done.number)
            #expect(try await client.call(.get, "/api/v1/products?q=小米").titles == ["延寿小米"])
            #expect(try await client.call(.get, "/api/v1/certificates/\(done.number)").object["status"] as? String == "expired")
        }
    }

    @Test func revocationDelistsAtOnce() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let seller = try await Seller.make(test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller1")
            let done = try await seller.certified(client, cast: cast, title: "延寿蜂蜜")
            _ = try await client.call(.put, "/api/v1/products/\(done.productId)/listing", token: seller.token)
            #expect(try await client.call(.get, "/api/v1/products?q=蜂蜜").titles == ["延寿蜂蜜"])
            let revoked = try await client.call(
                .post, "/api/v1/certificates/\(done.number)/revocation", token: cast.admin, json: #"{"reason":"抽检不合格"}"#)
            #expect(revoked.object["status"] as? String == "revoked")
            #expect(revoked.object["revocationReason"] as? String == "抽检不合格")
            #expect(try await client.call(.get, "/api/v1/products?q=蜂蜜").titles.isEmpty)
            let product = try await client.call(.get, "/api/v1/products/\(done.productId)", token: seller.token)
            #expect(product.object["status"] as? String == "delisted")
            #expect(product.object["certificate"] is NSNull)
            let relist = try await client.call(.put, "/api/v1/products/\(done.productId)/listing", token: seller.token)
            #expect(relist.status == .conflict && relist.code == "product_unavailable")
            let shown = try await client.call(.get, "/api/v1/certificates/\(done.number)")
            #expect(shown.object["status"] as? String == "revoked")
            #expect(try await client.call(.get, "/api/v1/certificates?status=revoked").items.count == 1)
            // The audit log holds the revocation and still verifies.
            let result = try await test.services.verifyAudit()
            #expect(result.ok)
        }
    }

    @Test func rotatedKeysSignNewCertificatesAndOldOnesStillVerify() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let seller = try await Seller.make(test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller1")
            let first = try await seller.certified(client, cast: cast, title: "延寿大米")
            var configuration = test.services.configuration
            configuration.dataDirectory = test.dataDirectory
            let kid = try SigningKeyFiles.rotate(configuration: configuration)
            let second = try await seller.certified(client, cast: cast, title: "延寿木耳")
            #expect(second.certificate["keyId"] as? String == kid)
            #expect(first.certificate["keyId"] as? String != kid)
            let keys = try await client.call(.get, "/api/v1/certificate-keys")
            #expect((keys.object["keys"] as? [[String: Any]])?.count == 2)
            for number in [first.number, second.number] {
                let shown = try await client.call(.get, "/api/v1/certificates/\(number)")
                let outcome = try CertificateVerification.verify(
                    certificateJSON: Data(buffer: shown.body), keysJSON: Data(buffer: keys.body), now: test.clock.now)
                #expect(outcome.signatureValid, "\(number)")
            }
            // A verifier given only the new key cannot vouch for the old certificate.
            let newKey = try #require((keys.object["keys"] as? [[String: Any]])?.last)
            let shown = try await client.call(.get, "/api/v1/certificates/\(first.number)")
            #expect(throws: CertificateVerification.Problem.self) {
                try CertificateVerification.verify(
                    certificateJSON: Data(buffer: shown.body), keysJSON: try JSONSerialization.data(withJSONObject: newKey),
                    now: test.clock.now)
            }
        }
    }

    @Test func publicDirectoryAsJSONPagesAndCSV() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            let seller = try await Seller.make(test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller1")
            var numbers: [String] = []
            for title in ["大米", "小米", "木耳"] {
                numbers.append(try await seller.certified(client, cast: cast, title: "延寿" + title).number)
                test.clock.advance(seconds: 1)
            }
            let page1 = try await client.call(.get, "/api/v1/certificates?status=valid&limit=2")
            #expect(page1.items.compactMap { $0["number"] as? String } == [numbers[2], numbers[1]])
            let cursor = try #require(page1.object["nextCursor"] as? String)
            let page2 = try await client.call(.get, "/api/v1/certificates?status=valid&limit=2&cursor=\(cursor)")
            #expect(page2.items.compactMap { $0["number"] as? String } == [numbers[0]])
            #expect(page2.object["nextCursor"] is NSNull)
            #expect(try await client.call(.get, "/api/v1/certificates?status=bogus").status == .badRequest)
            #expect(try await client.call(.get, "/api/v1/certificates?format=xml").status == .badRequest)
            let csv = try await client.call(.get, "/api/v1/certificates?status=valid&format=csv")
            #expect(csv.headers[.contentType] == "text/csv; charset=utf-8")
            let bytes = Array(Data(buffer: csv.body))
            #expect(bytes.starts(with: [0xEF, 0xBB, 0xBF]))
            let lines = csv.text.dropFirst().split(separator: "\r\n")
            #expect(lines.count == 4)
            #expect(lines[1].hasPrefix(numbers[2] + ",延寿木耳,"))
            let accepted = try await client.call(.get, "/api/v1/certificates", headers: [.accept: "text/csv"])
            #expect(accepted.headers[.contentType] == "text/csv; charset=utf-8")
            #expect(CSV.cell("=HYPERLINK(\"x\")") == "\"'=HYPERLINK(\"\"x\"\")\"")
            #expect(CSV.cell("-5") == "-5" && CSV.cell("-x") == "'-x")
        }
    }

    /// `bangfu certificate verify --server`: fetched over real HTTPS, trusting the server's
    /// self-signed certificate, and checked offline.
    ///
    /// HummingbirdTesting's HTTPS client gives each request a fixed 15 s deadline. On the bcrypt
    /// pool the whole test process shares, this test's sign-ups queued behind every other test's
    /// hashes and ran past it in full suites (in CI too): its server hashes on a pool of its own.
    @Test func certificatesAreFetchedOverHTTPSAndVerified() async throws {
        let pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
        defer { pool.shutdownGracefully { _ in } }
        let test = try await TestApp.make(tls: true) { $0.passwordPool = pool }
        try await test.run(.ahc(.https)) { client in
            let cast = try await Cast.make(test, client)
            let seller = try await Seller.make(test, client, admin: cast.admin, officer: cast.yanshouOfficer, username: "seller1")
            let number = try await seller.certified(client, cast: cast).number
            let port = try #require(client.port)
            let base = "https://localhost:\(port)"
            let ca = test.dataDirectory + "/tls/localhost.crt"
            let certificate = try await CertificateFetcher.get("\(base)/api/v1/certificates/\(number)", trustCertificate: ca)
            let keys = try await CertificateFetcher.get("\(base)/api/v1/certificate-keys", trustCertificate: ca)
            #expect(certificate.status == 200 && keys.status == 200)
            let outcome = try CertificateVerification.verify(certificateJSON: certificate.body, keysJSON: keys.body, now: test.clock.now)
            #expect(outcome.signatureValid && outcome.claimedStatus == "valid")
            // Without trusting the self-signed certificate, or pinning another one, it is refused.
            await #expect(throws: (any Error).self) {
                _ = try await CertificateFetcher.get("\(base)/api/v1/certificate-keys")
            }
            let otherPEM = try TLSMaterial.selfSigned(now: test.clock.now).certificate
            let otherPath = test.dataDirectory + "/other.crt"
            try otherPEM.write(toFile: otherPath, atomically: true, encoding: .utf8)
            await #expect(throws: (any Error).self) {
                _ = try await CertificateFetcher.get("\(base)/api/v1/certificate-keys", trustCertificate: otherPath)
            }
        }
    }
}

