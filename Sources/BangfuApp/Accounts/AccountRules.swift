import Foundation

/// Pure account rules: username and password shape, and sign-in throttling.
enum AccountRules {
    static let minPasswordLength = 10
    /// bcrypt reads only the first 72 bytes; a longer password would silently lose its tail.
    static let maxPasswordBytes = 72

    /// 3 to 32 characters of `A-Z a-z 0-9 _ . -` (API.md).
    static func isValidUsername(_ name: String) -> Bool {
        (3...32).contains(name.count)
            && name.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
                    || $0 == "_" || $0 == "." || $0 == "-"
            }
    }

    /// Usernames are unique regardless of case.
    static func usernameKey(_ name: String) -> String { name.lowercased() }

    static func passwordProblem(_ password: String) -> String? {
        if password.count < minPasswordLength { return "must be at least \(minPasswordLength) characters" }
        if password.utf8.count > maxPasswordBytes { return "must be at most \(maxPasswordBytes) bytes" }
        return nil
    }
}

/// Throttling of failed sign-ins (API.md "Accounts and sessions"), within `window`:
/// - after `perUsernameAndAddress` failures for one username from one address, that address gets
///   429 for that username;
/// - after `perAddress` failures from one address (any usernames), that address gets 429;
/// - after `perUsername` failures for one username from any addresses, that username gets 429
///   everywhere. It is much higher than the first, so nobody can lock an admin out from one
///   address, while a guessing botnet is still stopped.
/// Refused until enough of those failures have aged out of the window; with failures in quick
/// succession that is the full 15 minutes.
struct SignInThrottle: Sendable {
    var window: Int64 = 15 * 60 * 1000
    var perUsernameAndAddress = 5
    var perAddress = 20
    var perUsername = 50

    /// Recent failure times (ms) of one attempt's three counters, any order.
    struct Failures: Sendable, Equatable {
        var usernameAndAddress: [Int64] = []
        var address: [Int64] = []
        var username: [Int64] = []
    }

    /// Milliseconds until the next attempt is allowed, or nil when it is allowed now.
    func retryAfter(_ failures: Failures, now: Int64) -> Int64? {
        [
            wait(failures.usernameAndAddress, limit: perUsernameAndAddress, now: now),
            wait(failures.address, limit: perAddress, now: now),
            wait(failures.username, limit: perUsername, now: now),
        ].compactMap { $0 }.max()
    }

    private func wait(_ failures: [Int64], limit: Int, now: Int64) -> Int64? {
        guard limit > 0 else { return nil }
        let recent = failures.filter { $0 > now - window }.sorted(by: >)
        guard recent.count >= limit else { return nil }
        // Allowed again once the limit-th most recent failure leaves the window.
        let until = recent[limit - 1] + window
        return until > now ? until - now : nil
    }
}
