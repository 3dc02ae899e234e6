import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import BangfuApp

/// Issue 16's sweep, against a live server over sockets (so a dropped connection shows): every
/// number of every route's body, every numeric query parameter and the year in paths at the edges
/// of Int64 and beyond, and every header the server reads empty and malformed. No answer may be
/// a 5xx, no connection may drop, and the server answers `/healthz` at the end.
@Suite struct SweepTests {
    /// The caller that may use `access`'s route on tenant A's objects (so the body is judged).
    static func caller(for access: AuthorizationMatrixTests.Access) -> AuthorizationMatrixTests.Caller {
        let preferred: [AuthorizationMatrixTests.Caller] = [.merchantA, .buyerA, .countyA, .admin, .anonymous]
        return preferred.first { access.allowed.contains($0) } ?? .admin
    }

    @Test func numbersAtTheEdgesOfInt64NeverGetA5xx() async throws {
        let test = try await TestApp.make()
        try await test.run(.live) { client in
            let world = try await AuthorizationMatrixTests.World.make(test, client)
            var failures: [String] = []
            var sent = 0
            func send(_ method: HTTPRequest.Method, _ path: String, _ caller: AuthorizationMatrixTests.Caller, _ body: String?)
                async throws
            {
                sent += 1
                let response = try await client.call(
                    method, path, token: world.tokens[caller], json: body, headers: [.idempotencyKey: "sweep-\(sent)"])
                if response.status.code >= 500 {
                    failures.append("\(method) \(path) \(body ?? ""): \(response.status.code)")
                }
            }
            for access in AuthorizationMatrixTests.table where access.route != "DELETE /api/v1/sessions/current" {
                let caller = Self.caller(for: access)
                let path = world.path(access.pathTemplate)
                if let sample = SampleBodies.byRoute[access.route] {
                    for number in SampleBodies.edgeNumbers {
                        for body in SampleBodies.variants(of: world.path(sample), replacingNumbersWith: number) {
                            try await send(access.method, path, caller, body)
                        }
                    }
                }
                // Numeric query parameters, on every route (unknown ones are a 400 where refused).
                for name in ["limit", "minPriceFen", "maxPriceFen", "year", "validDays", "expiresOn"] {
                    for number in SampleBodies.edgeNumbers {
                        let separator = path.contains("?") ? "&" : "?"
                        let body: String? = [.get, .delete].contains(access.method) ? nil : "{}"
                        try await send(access.method, path + separator + name + "=" + number, caller, body)
                    }
                }
                // The year in the path.
                if access.pathTemplate.contains("{year}") {
                    for number in SampleBodies.edgeNumbers {
                        let yearPath = access.pathTemplate.replacingOccurrences(of: "{year}", with: number)
                        try await send(access.method, world.path(yearPath), caller, SampleBodies.byRoute[access.route])
                    }
                }
            }
            #expect(failures.isEmpty, "\(failures.count) of \(sent) answered 5xx:\n\(failures.prefix(40).joined(separator: "\n"))")
            #expect(sent > 1000)
            #expect(try await client.call(.get, "/healthz").status == .ok)
        }
    }

    /// Each header the server reads, empty and malformed.
    static let headerVariants: [(HTTPField.Name, [String])] = [
        (.authorization, ["", "Bearer", "Bearer ", "Bearer  ", "Basic dXNlcjpwYXNz", "bearer x y z", String(repeating: "B", count: 8000)]),
        (.cookie, ["", ";", "=", "bangfu_session", "bangfu_session=", "bangfu_session=;bangfu_session=x", "a=b; ; =c"]),
        (.contentType, ["", ";", " ; charset=utf-8", "/", "application/json;", "application/json; charset=latin-1", "text/plain"]),
        (.origin, ["", "null", "https://", "://", "https://evil.example"]),
        (.accept, ["", "text/csv;q=x", "*/*;;;", ","]),
        (HTTPField.Name("Idempotency-Key")!, ["", " ", String(repeating: "k", count: 4000), "键"]),
        (HTTPField.Name("X-Request-ID")!, ["", " ", String(repeating: "r", count: 4000), "\u{7f}"]),
        (.range, ["", "bytes=", "bytes=-", "bytes=5-1", "bytes=99999999999999999999-", "bytes=-0", "bytes=0-0,1-1,2-2"]),
        (.ifNoneMatch, ["", "\"", "*", "W/"]),
        (.ifModifiedSince, ["", "yesterday", "Mon, 99 Foo 99999 99:99:99 GMT"]),
        (.ifRange, ["", "\"x\"", "Mon, 99 Foo 99999 99:99:99 GMT"]),
    ]

    @Test func emptyAndMalformedHeadersNeverGetA5xx() async throws {
        let test = try await TestApp.make()
        try await test.run(.live) { client in
            let world = try await AuthorizationMatrixTests.World.make(test, client)
            var failures: [String] = []
            var sent = 0
            let staticRoutes = [
                AuthorizationMatrixTests.Access(route: "GET /", allowed: AuthorizationMatrixTests.everyone),
                AuthorizationMatrixTests.Access(route: "GET /index.html", allowed: AuthorizationMatrixTests.everyone),
            ]
            for access in AuthorizationMatrixTests.table + staticRoutes
            where access.route != "DELETE /api/v1/sessions/current" {
                let caller = Self.caller(for: access)
                let path = world.path(access.pathTemplate)
                let body = SampleBodies.byRoute[access.route].map(world.path)
                for (name, values) in Self.headerVariants {
                    for value in values {
                        var headers = HTTPFields()
                        // Cookie and Origin are read only without a bearer token: those variants
                        // go without one (Origin beside the caller's session cookie).
                        let bearer = name != .authorization && name != .cookie && name != .origin
                        if let token = world.tokens[caller] {
                            if bearer { headers[.authorization] = "Bearer \(token)" }
                            if name == .origin { headers[.cookie] = "bangfu_session=\(token)" }
                        }
                        if body != nil, name != .contentType { headers[.contentType] = "application/json" }
                        headers[name] = value
                        sent += 1
                        let response = try await client.execute(
                            uri: path, method: access.method, headers: headers,
                            body: body.map { ByteBuffer(string: $0) })
                        if response.status.code >= 500 {
                            failures.append("\(access.route) with \(name): \"\(value.prefix(40))\": \(response.status.code)")
                        }
                    }
                }
            }
            #expect(failures.isEmpty, "\(failures.count) of \(sent) answered 5xx:\n\(failures.prefix(40).joined(separator: "\n"))")
            #expect(try await client.call(.get, "/healthz").status == .ok)
        }
    }
}
