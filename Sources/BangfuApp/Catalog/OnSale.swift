import Foundation
import SQLKit

/// The one definition of "on sale" (SPEC.md "Products"): buyers see and may order a product that
/// is listed, of an active merchant, and holds a certificate that has not expired. Validity is
/// read from the clock, so expiry takes effect at its instant. `obstacle` is the rule in Swift,
/// `sql` the same rule as a condition on a row of `products`; every list, count, detail, listing
/// and order asks one of them.
enum OnSale {
    /// What keeps a product off sale, in the order the rule looks.
    enum Obstacle: Sendable, Equatable {
        case notListed
        case merchantSuspended
        case noCertificate
        case certificateExpired
    }

    /// The first thing that keeps a product off sale at `now`, or nil when it is on sale. With
    /// `listed: true` it says whether the product may be listed (what listing itself requires).
    static func obstacle(listed: Bool, merchantActive: Bool, certificateExpiresAt: Date?, now: Date) -> Obstacle? {
        if !listed { return .notListed }
        if !merchantActive { return .merchantSuspended }
        guard let expiresAt = certificateExpiresAt else { return .noCertificate }
        if expiresAt <= now { return .certificateExpired }
        return nil
    }

    /// Whether buyers see and may order `product` at `now`.
    static func isOnSale(_ product: Product, now: Date) -> Bool {
        obstacle(
            listed: product.status == .listed, merchantActive: product.merchantActive,
            certificateExpiresAt: product.certificateExpiresAt, now: now) == nil
    }

    /// The rule as a condition on the `products` row named `table` (an alias such as `p`, or
    /// `products`; a name written in code, never request data).
    ///
    /// Nearly every product passes these tests, so no index should be chosen for them: written as
    /// expressions (`|| ''`, `+ 0`), they leave the planner the index that gives the requested
    /// order (or the one of the query's other conditions), on both engines. A NULL certificate
    /// expiry stays NULL, so a product without a certificate is never on sale.
    static func sql(_ table: String = "p", at now: Date) -> SQLQueryString {
        "\(unsafeRaw: table).status || '' = 'listed' AND " + listableSQL(table, at: now)
    }

    /// The rule without its status test: what listing requires of the row (the conditional
    /// update that lists a product).
    static func listableSQL(_ table: String = "p", at now: Date) -> SQLQueryString {
        "\(unsafeRaw: table).merchant_active + 0 = 1 AND \(unsafeRaw: table).certificate_expires_at + 0 > \(bind: now.millis)"
    }
}
