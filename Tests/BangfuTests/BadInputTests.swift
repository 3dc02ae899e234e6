import Foundation
import Hummingbird
import HummingbirdTesting
import SQLKit
import Testing

@testable import BangfuApp

@Suite struct BadInputTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var body: [UInt8]
        var contentType: String = "application/json"
        var status: HTTPResponse.Status
        var code: String
        var field: String?
        var description: String { name }
    }

    static let valid = #"{"username":"someone","password":"correct horse 1","role":"buyer","displayName":"x"}"#

    static func json(_ text: String) -> [UInt8] { Array(text.utf8) }

    static let cases: [Case] = [
        Case(name: "malformed JSON", body: json(#"{"username":"#), status: .badRequest, code: "bad_request"),
        Case(name: "not an object", body: json(#"["a"]"#), status: .badRequest, code: "bad_request"),
        Case(name: "a bare string", body: json(#""text""#), status: .badRequest, code: "bad_request"),
        Case(name: "invalid UTF-8", body: [0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x3A, 0x31, 0x7D], status: .badRequest, code: "bad_request"),
        Case(
            name: "missing field", body: json(#"{"username":"someone","password":"correct horse 1","role":"buyer"}"#),
            status: .unprocessableContent, code: "validation_failed", field: "displayName"),
        Case(
            name: "wrong type", body: json(#"{"username":42,"password":"correct horse 1","role":"buyer","displayName":"x"}"#),
            status: .unprocessableContent, code: "validation_failed", field: "username"),
        Case(
            name: "number beyond Int64 where a string belongs",
            body: json(#"{"username":"someone","password":123456789012345678901234567890,"role":"buyer","displayName":"x"}"#),
            status: .unprocessableContent, code: "validation_failed", field: "password"),
        Case(
            name: "null for a required field",
            body: json(#"{"username":null,"password":"correct horse 1","role":"buyer","displayName":"x"}"#),
            status: .unprocessableContent, code: "validation_failed", field: "username"),
        Case(
            name: "unknown enum value",
            body: json(#"{"username":"someone","password":"correct horse 1","role":"emperor","displayName":"x"}"#),
            status: .unprocessableContent, code: "validation_failed", field: "role"),
        Case(
            name: "overlong field",
            body: json(#"{"username":"someone","password":"correct horse 1","role":"buyer","displayName":"\#(String(repeating: "长", count: 65))"}"#),
            status: .unprocessableContent, code: "validation_failed", field: "displayName"),
        Case(
            name: "blank field",
            body: json(#"{"username":"someone","password":"correct horse 1","role":"buyer","displayName":"   "}"#),
            status: .unprocessableContent, code: "validation_failed", field: "displayName"),
        Case(
            name: "control characters",
            body: json(#"{"username":"someone","password":"correct horse 1","role":"buyer","displayName":"a\u0007b"}"#),
            status: .unprocessableContent, code: "validation_failed", field: "displayName"),
        Case(
            name: "username with spaces",
            body: json(#"{"username":"some one","password":"correct horse 1","role":"buyer","displayName":"x"}"#),
            status: .unprocessableContent, code: "validation_failed", field: "username"),
        Case(
            name: "short password",
            body: json(#"{"username":"someone","password":"short","role":"buyer","displayName":"x"}"#),
            status: .unprocessableContent, code: "validation_failed", field: "password"),
        Case(name: "wrong content type", body: json(valid), contentType: "text/plain", status: .unsupportedMediaType, code: "unsupported_media_type"),
        Case(
            name: "body over 1 MiB",
            body: json(#"{"username":"someone","password":"correct horse 1","role":"buyer","displayName":"\#(String(repeating: "x", count: 1 << 20))"}"#),
            status: .contentTooLarge, code: "payload_too_large"),
    ]

    @Test(arguments: cases)
    func refusedWithAProblemNamingTheField(_ badCase: Case) async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let response = try await client.execute(
                uri: "/api/v1/users", method: .post, headers: [.contentType: badCase.contentType],
                body: ByteBuffer(bytes: badCase.body))
            #expect(response.status == badCase.status)
            #expect(response.headers[.contentType] == "application/problem+json")
            #expect(response.code == badCase.code)
            #expect(response.object["status"] as? Int == badCase.status.code)
            #expect(response.object["title"] is String && response.object["detail"] is String)
            if let field = badCase.field {
                #expect(response.fields.contains(field), "fields were \(response.fields)")
            }
            // Nothing was written: no user, no audit event.
            let counts = try await test.services.database.read { db in
                (
                    try await db.raw("SELECT COUNT(*) AS n FROM users").first()!.decode(column: "n", as: Int64.self),
                    try await db.raw("SELECT COUNT(*) AS n FROM audit_events").first()!.decode(column: "n", as: Int64.self)
                )
            }
            #expect(counts.0 == 0 && counts.1 == 0)
        }
    }

    @Test func unknownRoutesAndMethodsAreProblems() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let missing = try await client.call(.get, "/api/v1/nothing-here")
            #expect(missing.status == .notFound)
            #expect(missing.headers[.contentType] == "application/problem+json")
            #expect(missing.code == "not_found")
        }
    }

    @Test func badPagingIsA400() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let admin = try await test.adminToken(client)
            for query in ["limit=0", "limit=101", "limit=abc", "cursor=bogus", "cursor=\(Paging.cursor(tag: "other", position: "1"))"] {
                let response = try await client.call(.get, "/api/v1/audit-events?\(query)", token: admin)
                #expect(response.status == .badRequest, "\(query)")
            }
        }
    }
}

@Suite struct EnumeratedParameterTests {
    /// Every enumerated query parameter refuses a value it does not know with a 400 that names it
    /// and lists the values it takes (`Paging.choice`).
    @Test func unknownValuesAreRefusedNamingTheParameter() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let admin = try await test.adminToken(client)
            let merchant = try await client.signUp("merchant1")
            let cases: [(String, String, String)] = [
                ("/api/v1/merchant-applications?status=lost", admin, "status"),
                ("/api/v1/certification-applications?status=lost", admin, "status"),
                ("/api/v1/buyer-organizations?status=lost", admin, "status"),
                ("/api/v1/orders?status=lost", admin, "status"),
                ("/api/v1/refunds?status=lost", admin, "status"),
                ("/api/v1/reports/alerts?kind=lost", admin, "kind"),
                ("/api/v1/products?sort=lost", admin, "sort"),
                ("/api/v1/merchants/me/products?status=lost", merchant, "status"),
            ]
            for (path, token, field) in cases {
                let response = try await client.call(.get, path, token: token)
                #expect(response.status == .badRequest, "\(path)")
                #expect(response.fields == [field], "\(path)")
                #expect((response.object["detail"] as? String)?.contains("must be one of") == true, "\(path)")
            }
            #expect(try await client.call(.get, "/api/v1/orders?status=settled", token: admin).status == .ok)
        }
    }
}
