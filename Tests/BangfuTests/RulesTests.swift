import Foundation
import Testing

@testable import BangfuApp

@Suite struct AuditChainTests {
    func chain(_ count: Int) -> [AuditChain.Entry] {
        var entries: [AuditChain.Entry] = []
        var prev = AuditChain.genesisHash
        for seq in 1...Int64(count) {
            var entry = AuditChain.Entry(
                seq: seq, at: 1000 * seq, actorId: "u1", action: "user.create", entityType: "user",
                entityId: "e\(seq)", data: #"{"n":\#(seq)}"#, prevHash: prev, hash: "")
            entry.hash = AuditChain.hash(of: entry)
            prev = entry.hash
            entries.append(entry)
        }
        return entries
    }

    @Test func intactChainVerifies() {
        #expect(AuditChain.firstBroken(chain(5), after: (0, AuditChain.genesisHash)) == nil)
    }

    @Test func hashIsLowercaseHexSHA256AndCoversEveryField() {
        let base = chain(1)[0]
        #expect(base.hash.count == 64 && base.hash.allSatisfy { "0123456789abcdef".contains($0) })
        var variants: [AuditChain.Entry] = []
        var e = base; e.at += 1; variants.append(e)
        e = base; e.actorId = nil; variants.append(e)
        e = base; e.action = "user.delete"; variants.append(e)
        e = base; e.entityType = "county"; variants.append(e)
        e = base; e.entityId = "other"; variants.append(e)
        e = base; e.data = #"{"n":2}"#; variants.append(e)
        e = base; e.prevHash = String(repeating: "1", count: 64); variants.append(e)
        for variant in variants {
            #expect(AuditChain.hash(of: variant) != base.hash)
        }
    }

    @Test func editedEntryIsNamed() {
        var entries = chain(5)
        entries[2].data = #"{"n":999}"#
        #expect(AuditChain.firstBroken(entries, after: (0, AuditChain.genesisHash)) == 3)
    }

    @Test func rehashedEntryBreaksTheNextOne() {
        var entries = chain(5)
        entries[2].data = #"{"n":999}"#
        entries[2].hash = AuditChain.hash(of: entries[2])
        #expect(AuditChain.firstBroken(entries, after: (0, AuditChain.genesisHash)) == 4)
    }

    @Test func deletedEntryIsNamed() {
        var entries = chain(5)
        entries.remove(at: 1)
        #expect(AuditChain.firstBroken(entries, after: (0, AuditChain.genesisHash)) == 3)
    }
}

@Suite struct AccountRulesTests {
    @Test(arguments: ["abc", "user.name-1_x", String(repeating: "a", count: 32)])
    func validUsernames(_ name: String) {
        #expect(AccountRules.isValidUsername(name))
    }

    @Test(arguments: ["ab", String(repeating: "a", count: 33), "有中文", "a b c", "semi;colon", "tab\tx", ""])
    func invalidUsernames(_ name: String) {
        #expect(!AccountRules.isValidUsername(name))
    }

    @Test func passwords() {
        #expect(AccountRules.passwordProblem("short") != nil)
        #expect(AccountRules.passwordProblem("123456789") != nil)
        #expect(AccountRules.passwordProblem("1234567890") == nil)
        #expect(AccountRules.passwordProblem(String(repeating: "x", count: 73)) != nil)
        #expect(AccountRules.passwordProblem(String(repeating: "密", count: 25)) != nil)  // 75 bytes
    }

    @Test func throttleByUsernameFromOneAddress() {
        let throttle = SignInThrottle()
        let now: Int64 = 10_000_000
        let four = (1...4).map { now - Int64($0) * 1000 }
        #expect(throttle.retryAfter(.init(usernameAndAddress: four), now: now) == nil)
        let five = (1...5).map { now - Int64($0) * 1000 }
        // Locked until the fifth most recent failure (5 s ago) leaves the 15-minute window.
        #expect(throttle.retryAfter(.init(usernameAndAddress: five), now: now) == Int64(15 * 60 * 1000 - 5000))
        // Failures older than the window do not count.
        let old = (1...5).map { now - 15 * 60 * 1000 - Int64($0) }
        #expect(throttle.retryAfter(.init(usernameAndAddress: old), now: now) == nil)
    }

    @Test func throttleByAddress() {
        let throttle = SignInThrottle()
        let now: Int64 = 10_000_000
        let nineteen = (1...19).map { now - Int64($0) }
        #expect(throttle.retryAfter(.init(address: nineteen), now: now) == nil)
        let twenty = (1...20).map { now - Int64($0) }
        #expect(throttle.retryAfter(.init(address: twenty), now: now) == Int64(15 * 60 * 1000 - 20))
    }

    /// Five failures of one username from other addresses do not lock it; fifty do, everywhere.
    @Test func throttleByUsernameFromAnywhere() {
        let throttle = SignInThrottle()
        let now: Int64 = 10_000_000
        let many = (1...49).map { now - Int64($0) }
        #expect(throttle.retryAfter(.init(username: many), now: now) == nil)
        #expect(throttle.retryAfter(.init(username: many + [now - 100]), now: now) == Int64(15 * 60 * 1000 - 100))
    }
}

@Suite struct EncodingTests {
    @Test func base32OfKnownBytes() {
        // RFC 4648 test vector "foobar" → MZXW6YTBOI (lowercased, unpadded).
        #expect(base32(Array("foobar".utf8)) == "mzxw6ytboi")
        #expect(IDGenerator.standard.next().count == 26)
        #expect(IDGenerator.standard.next() != IDGenerator.standard.next())
        for (text, encoded) in [("", ""), ("f", "my"), ("fo", "mzxq"), ("foo", "mzxw6"), ("foob", "mzxw6yq"), ("fooba", "mzxw6ytb")] {
            #expect(base32(Array(text.utf8)) == encoded)
        }
        // Against the definition, bit by bit, for every length up to 40 bytes.
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        var random = SystemRandomNumberGenerator()
        for count in 0...40 {
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
            var bits = bytes.flatMap { byte in (0..<8).map { Int(byte >> (7 - $0) & 1) } }
            while bits.count % 5 != 0 { bits.append(0) }
            let expected = String(stride(from: 0, to: bits.count, by: 5).map { at in alphabet[bits[at..<at + 5].reduce(0) { $0 * 2 + $1 }] })
            #expect(base32(bytes) == expected, "\(bytes)")
        }
    }

    /// IDs sort by the time they were made, as bytes (and in any collation that puts digits
    /// before letters), keep the 26 characters and alphabet of before, and differ within one
    /// millisecond.
    @Test func idsSortByTheirTime() {
        let times: [Int64] = [0, 1, 31, 32, 999, 1_000, 1_795_000_000_123, 1_795_000_000_124, 4_102_444_799_999, (1 << 50) - 1]
        let ids = times.map { millis in IDGenerator.timeOrdered(AppClock { Date(millis: millis) }).next() }
        for (earlier, later) in zip(ids, ids.dropFirst()) {
            #expect(Array(earlier.utf8).lexicographicallyPrecedes(Array(later.utf8)), "\(earlier) < \(later)")
        }
        #expect(ids.allSatisfy { $0.count == 26 && $0.allSatisfy { "abcdefghijklmnopqrstuvwxyz234567".contains($0) } })
        #expect(IDGenerator.sortableTime(0) == "2222222222")
        #expect(IDGenerator.sortableTime(33) == "2222222233")
        #expect(IDGenerator.sortableTime(-5) == "2222222222")
        #expect(IDGenerator.sortableTime(.max) == "zzzzzzzzzz")
        let same = IDGenerator.timeOrdered(AppClock { Date(millis: 1_795_000_000_123) })
        let drawn = (0..<200).map { _ in same.next() }
        #expect(Set(drawn).count == 200)
        #expect(Set(drawn.map { $0.prefix(10) }).count == 1)
    }

    /// Random strings have the length of their bytes and use the whole alphabet (bytes drawn a
    /// word at a time, the last word cut to the count asked for).
    @Test func randomBase32CoversItsBytes() {
        for count in [1, 3, 8, 9, 16, 32] {
            let drawn = (0..<400).map { _ in randomBase32(bytes: count) }
            #expect(drawn.allSatisfy { $0.count == (count * 8 + 4) / 5 }, "\(count) bytes")
            // 400 draws of 64 bits or more repeat with a chance below 1e-14.
            if count >= 8 { #expect(Set(drawn).count == 400) }
            let used = Set(drawn.joined())
            #expect(used == Set("abcdefghijklmnopqrstuvwxyz234567") || count < 3, "\(count) bytes: \(used.count) characters")
        }
    }

    /// A stored time read back (`Date(millis:)`) and written again is the same number; with
    /// rounding down, about one in twenty came back one millisecond less.
    @Test func millisRoundTripExactly() {
        var random = SystemRandomNumberGenerator()
        let samples: [Int64] = [0, 1, 999, 96_199_789_833, 1_795_000_000_123, 2_147_483_647_999, 4_102_444_799_999]
            + (0..<20_000).map { _ in Int64.random(in: 0...4_102_444_799_999, using: &random) }
        for millis in samples {
            #expect(Date(millis: millis).millis == millis, "\(millis)")
        }
    }

    @Test func rfc3339() {
        #expect(Date(millis: 1_795_000_000_123).rfc3339 == "2026-11-18T11:06:40Z")
        // Against Foundation's formatter over leap years, month ends and the epoch.
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        var random = SystemRandomNumberGenerator()
        let samples: [Double] = [0, 951_782_400, 951_868_799, 1_709_164_800, 4_102_444_799]
            + (0..<500).map { _ in Double(Int64.random(in: 0...4_102_444_799, using: &random)) }
        for seconds in samples {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(date.rfc3339 == formatter.string(from: date), "\(seconds)")
        }
    }

    @Test func cursorsRoundTripAndRejectForeignOnes() throws {
        let cursor = Paging.cursor(tag: "audit", position: "42")
        #expect(!cursor.contains("="))
        #expect(Paging.cursor(tag: "audit", position: "42") == cursor)
        #expect(Paging.decode(cursor) == "audit:42")
        #expect(Paging.decode(Paging.cursor(tag: "products", position: "5|1700000000000|商品-42")) == "products:5|1700000000000|商品-42")
        // Not base64url, a lone character over, or bytes that are not UTF-8: no position.
        for foreign in ["bogus!", "YWJj=", "Y", "YWJjZ", "_w"] { #expect(Paging.decode(foreign) == nil, "\(foreign)") }
    }

}
