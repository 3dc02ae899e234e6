import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import BangfuApp

@Suite struct AccountsTests {
    @Test func signUpSignInMeSignOut() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let created = try await client.call(
                .post, "/api/v1/users",
                json: #"{"username":"coop1","password":"correct horse 1","role":"merchant","displayName":" 延寿合作社 "}"#)
            #expect(created.status == .created)
            #expect(created.object["role"] as? String == "merchant")
            #expect(created.object["displayName"] as? String == "延寿合作社")
            #expect(created.object["countyCode"] is NSNull)
            #expect(created.object["createdAt"] as? String == test.clock.now.rfc3339)
            #expect(created.object["password"] == nil && created.object["passwordHash"] == nil)

            let session = try await client.call(
                .post, "/api/v1/sessions", json: #"{"username":"COOP1","password":"correct horse 1"}"#)
            #expect(session.status == .created)
            let token = try #require(session.object["token"] as? String)
            #expect((session.object["user"] as? [String: Any])?["username"] as? String == "coop1")
            #expect(session.object["expiresAt"] as? String == test.clock.now.addingTimeInterval(12 * 3600).rfc3339)
            let cookie = try #require(session.headers[.setCookie])
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))

            let me = try await client.call(.get, "/api/v1/me", token: token)
            #expect(me.status == .ok)
            #expect((me.object["user"] as? [String: Any])?["role"] as? String == "merchant")
            #expect(me.object["merchant"] is NSNull)
            #expect(me.object["buyerOrganization"] is NSNull)

            #expect(try await client.call(.delete, "/api/v1/sessions/current", token: token).status == .noContent)
            let after = try await client.call(.get, "/api/v1/me", token: token)
            #expect(after.status == .unauthorized)
            #expect(after.code == "unauthenticated")
        }
    }

    @Test func sessionsExpire() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let token = try await client.signUp("buyer1", role: "buyer")
            #expect(try await client.call(.get, "/api/v1/me", token: token).status == .ok)
            test.clock.advance(seconds: 12 * 3600 + 1)
            #expect(try await client.call(.get, "/api/v1/me", token: token).status == .unauthorized)
        }
    }

    @Test func duplicateUsernameIsAConflictWhateverTheCase() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            _ = try await client.signUp("Farm.One")
            let again = try await client.call(
                .post, "/api/v1/users",
                json: #"{"username":"farm.one","password":"correct horse 1","role":"buyer","displayName":"x"}"#)
            #expect(again.status == .conflict)
            #expect(again.fields == ["username"])
        }
    }

    @Test func wrongPasswordAndUnknownUserLookTheSame() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            _ = try await client.signUp("known1")
            let wrong = try await client.call(
                .post, "/api/v1/sessions", json: #"{"username":"known1","password":"wrong password"}"#)
            let unknown = try await client.call(
                .post, "/api/v1/sessions", json: #"{"username":"nobody","password":"wrong password"}"#)
            #expect(wrong.status == .unauthorized && unknown.status == .unauthorized)
            #expect(wrong.text == unknown.text)
        }
    }

    @Test func onlyAdminsCreateCountyOfficersAndAdmins() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let county = #"{"username":"officer1","password":"correct horse 1","role":"county","displayName":"延寿县乡村振兴局","countyCode":"230129"}"#
            let admin = #"{"username":"admin2","password":"correct horse 1","role":"admin","displayName":"x"}"#
            #expect(try await client.call(.post, "/api/v1/users", json: county).status == .unauthorized)
            #expect(try await client.call(.post, "/api/v1/users", json: admin).status == .unauthorized)
            let merchant = try await client.signUp("merchant1")
            let refused = try await client.call(.post, "/api/v1/users", token: merchant, json: county)
            #expect(refused.status == .forbidden)
            #expect(refused.code == "forbidden")
            #expect(try await client.call(.post, "/api/v1/users", token: merchant, json: admin).status == .forbidden)

            let adminToken = try await test.adminToken(client)
            let created = try await client.call(.post, "/api/v1/users", token: adminToken, json: county)
            #expect(created.status == .created)
            #expect(created.object["countyCode"] as? String == "230129")
            #expect(try await client.call(.post, "/api/v1/users", token: adminToken, json: admin).status == .created)
            let officer = try await client.signIn("officer1")
            let me = try await client.call(.get, "/api/v1/me", token: officer)
            #expect(me.object["countyCode"] as? String == "230129")

            // A county officer needs a registered county; other roles take none.
            let unknownCounty = try await client.call(
                .post, "/api/v1/users", token: adminToken,
                json: #"{"username":"officer2","password":"correct horse 1","role":"county","displayName":"x","countyCode":"110101"}"#)
            #expect(unknownCounty.status == .unprocessableContent)
            #expect(unknownCounty.fields == ["countyCode"])
            let missingCounty = try await client.call(
                .post, "/api/v1/users", token: adminToken,
                json: #"{"username":"officer3","password":"correct horse 1","role":"county","displayName":"x"}"#)
            #expect(missingCounty.fields == ["countyCode"])
            let buyerWithCounty = try await client.call(
                .post, "/api/v1/users",
                json: #"{"username":"buyer9","password":"correct horse 1","role":"buyer","displayName":"x","countyCode":"230129"}"#)
            #expect(buyerWithCounty.fields == ["countyCode"])
        }
    }

    @Test func fiveFailuresLockTheUsernameForFifteenMinutes() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            _ = try await client.signUp("target1")
            for _ in 1...5 {
                let failed = try await client.call(
                    .post, "/api/v1/sessions", json: #"{"username":"target1","password":"guess guess 1"}"#)
                #expect(failed.status == .unauthorized)
            }
            // Locked: even the right password is refused.
            let locked = try await client.call(
                .post, "/api/v1/sessions", json: #"{"username":"target1","password":"correct horse 1"}"#)
            #expect(locked.status == .tooManyRequests)
            #expect(locked.code == "rate_limited")
            #expect(locked.headers[.retryAfter] == "900")
            // Another username from the same address is not locked by these five.
            _ = try await client.signUp("bystander")
            test.clock.advance(seconds: 14 * 60)
            #expect(
                try await client.call(
                    .post, "/api/v1/sessions", json: #"{"username":"target1","password":"correct horse 1"}"#
                ).status == .tooManyRequests)
            test.clock.advance(seconds: 61)
            #expect(try await client.call(
                .post, "/api/v1/sessions", json: #"{"username":"target1","password":"correct horse 1"}"#
            ).status == .created)
        }
    }

    @Test func twentyFailuresLockTheAddress() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            _ = try await client.signUp("victim1")
            for index in 1...20 {
                let failed = try await client.call(
                    .post, "/api/v1/sessions", json: #"{"username":"probe\#(index % 4)","password":"guess guess 1"}"#)
                #expect(failed.status == .unauthorized)
            }
            let locked = try await client.call(
                .post, "/api/v1/sessions", json: #"{"username":"victim1","password":"correct horse 1"}"#)
            #expect(locked.status == .tooManyRequests)
            #expect(Int(locked.headers[.retryAfter] ?? "") ?? 0 > 0)
        }
    }

    @Test func signOutNeedsASession() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let signOut = try await client.call(.delete, "/api/v1/sessions/current")
            let unknownToken = try await client.call(.get, "/api/v1/me", token: "not-a-token")
            let basic = try await client.call(.get, "/api/v1/me", headers: [.authorization: "Basic abc"])
            #expect(signOut.status == .unauthorized)
            #expect(unknownToken.status == .unauthorized)
            #expect(basic.status == .unauthorized)
        }
    }

    @Test func cookieSessionsNeedOurOriginToChangeState() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let token = try await client.signUp("cookie1")
            let cookie: HTTPFields = [.cookie: "other=1; bangfu_session=\(token)"]
            #expect(try await client.call(.get, "/api/v1/me", headers: cookie).status == .ok)
            var foreign = cookie
            foreign[.origin] = "https://evil.example"
            #expect(try await client.call(.delete, "/api/v1/sessions/current", headers: foreign).status == .forbidden)
            // Without Origin the cookie is ignored (API.md): the request is anonymous.
            #expect(try await client.call(.delete, "/api/v1/sessions/current", headers: cookie).status == .unauthorized)
            var own = cookie
            own[.origin] = "http://localhost"
            #expect(try await client.call(.delete, "/api/v1/sessions/current", headers: own).status == .noContent)
            #expect(try await client.call(.get, "/api/v1/me", headers: cookie).status == .unauthorized)
        }
    }

    @Test func commandLineUserAddValidatesLikeTheRoute() async throws {
        let test = try await TestApp.make()
        try await test.run { _ in
            await #expect(throws: DomainError.self) {
                try await test.services.addUser(
                    username: "x", password: "correct horse 1", role: .admin, displayName: "x", countyCode: nil)
            }
            await #expect(throws: DomainError.self) {
                try await test.services.addUser(
                    username: "admin9", password: "short", role: .admin, displayName: "x", countyCode: nil)
            }
            await #expect(throws: DomainError.self) {
                try await test.services.addUser(
                    username: "county9", password: "correct horse 1", role: .county, displayName: "x", countyCode: nil)
            }
            let id = try await test.services.addUser(
                username: "admin9", password: "correct horse 1", role: .admin, displayName: "x", countyCode: nil)
            #expect(!id.isEmpty)
        }
    }
}
