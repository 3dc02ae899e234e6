import Foundation

/// Times are stored as integer milliseconds since the epoch (BIGINT on both engines) and shown as
/// RFC 3339 in UTC.
extension Date {
    /// Saturates at the ends of Int64 (a Double near them rounds past it) instead of trapping.
    /// Rounded to the nearest millisecond, so a time read back from the database
    /// (`Date(millis:)`) gives exactly the stored value again: rounding down gave one less for
    /// about one stored time in twenty, so rewriting an unchanged row moved its times and a
    /// list's cursor could fall between two rows of the same millisecond.
    var millis: Int64 {
        let value = (timeIntervalSince1970 * 1000).rounded()
        guard value.isFinite else { return value > 0 ? .max : .min }
        return Int64(exactly: value) ?? (value > 0 ? .max : .min)
    }

    init(millis: Int64) {
        self.init(timeIntervalSince1970: Double(millis) / 1000)
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`, computed with integer arithmetic (Foundation's Calendar is slow on
    /// Linux, and lists render two times per item).
    var rfc3339: String {
        // Years beyond ±9999 are not RFC 3339; clamp (no stored time comes near them).
        let seconds = Int64(max(-62_135_596_800, min(253_402_300_799, timeIntervalSince1970.isNaN ? 0 : timeIntervalSince1970.rounded(.down))))
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let secondOfDay = seconds - days * 86400
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let hour = secondOfDay / 3600, minute = secondOfDay / 60 % 60, second = secondOfDay % 60
        let y = String(year)
        return String(repeating: "0", count: max(0, 4 - y.count)) + y + "-\(two(month))-\(two(day))T\(two(hour)):\(two(minute)):\(two(second))Z"
    }
}

/// The injectable clock: production reads the system time, tests set it.
public struct AppClock: Sendable {
    private let read: @Sendable () -> Date
    public init(_ read: @escaping @Sendable () -> Date) { self.read = read }
    /// The system time cut to the millisecond, as the database keeps it: a time held in memory
    /// (an answer encoded before the row is read back, an expiry compared in Swift) is then the
    /// very time stored.
    public static let system = AppClock { Date(millis: Date().millis) }
    public var now: Date { read() }
}

/// The injectable source of row IDs. No secret is drawn here: session tokens and webhook secrets
/// take `randomBase32` directly, because an ID tells when it was made.
public struct IDGenerator: Sendable {
    private let make: @Sendable () -> String
    public init(_ make: @escaping @Sendable () -> String) { self.make = make }
    /// Time-ordered IDs on the system clock.
    public static let standard = timeOrdered(.system)

    /// 26 characters: the time in milliseconds as 10 characters of an alphabet that sorts as its
    /// bytes do (`2`–`7` before `a`–`z`), then 80 random bits in base32. IDs made later sort
    /// after earlier ones (within a millisecond, at random), so a new row's key lands at the
    /// right-hand end of its primary key and of every index ending in an ID, instead of on a
    /// random page: an order wrote a third fewer bytes (Benchmarks/RESULTS.md). The 80 bits keep
    /// IDs unguessable. Times before 1970 or past about the year 37,600 are clamped. `standard`
    /// reads the system clock, not the configured one: ids order by when rows were really made.
    public static func timeOrdered(_ clock: AppClock) -> IDGenerator {
        IDGenerator { sortableTime(clock.now.millis) + randomBase32(bytes: 10) }
    }

    public func next() -> String { make() }

    /// `millis` as 10 characters of 5 bits each, most significant first.
    static func sortableTime(_ millis: Int64) -> String {
        let value = UInt64(clamping: max(0, min(millis, (1 << 50) - 1)))
        return String(unsafeUninitializedCapacity: 10) { buffer in
            for place in 0..<10 { buffer[place] = sortableAlphabet[Int((value >> UInt64(45 - 5 * place)) & 31)] }
            return 10
        }
    }

    /// Base32's digits in the order of their bytes (`2`–`7`, then `a`–`z`).
    private static let sortableAlphabet: [UInt8] = base32Alphabet.sorted()
}

/// RFC 4648's base32 alphabet, lowercase.
private let base32Alphabet: [UInt8] = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)

/// `count` random bytes in base32. The bytes are drawn eight at a time: one `UInt8.random` each
/// was a `getrandom` call per byte (4.6 % of the server's CPU under the order benchmark, an id
/// being drawn for every row an order writes).
func randomBase32(bytes count: Int) -> String {
    var generator = SystemRandomNumberGenerator()
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count + 7)
    while bytes.count < count {
        let word = generator.next()
        withUnsafeBytes(of: word) { bytes.append(contentsOf: $0) }
    }
    bytes.removeLast(bytes.count - count)
    return base32(bytes)
}

/// RFC 4648 base32 in lowercase, without padding, written into the string's own storage: ids and
/// tokens are drawn for every row an order writes, and an output array and a copy of the
/// alphabet per call took 1 % of the server under the order load.
func base32(_ bytes: [UInt8]) -> String {
    String(unsafeUninitializedCapacity: (bytes.count * 8 + 4) / 5) { output in
        var written = 0
        var buffer = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8 | Int(byte)) & 0xFFF  // at most 12 bits are pending
            bits += 8
            while bits >= 5 {
                output[written] = base32Alphabet[(buffer >> (bits - 5)) & 31]
                written += 1
                bits -= 5
            }
        }
        if bits > 0 {
            output[written] = base32Alphabet[(buffer << (5 - bits)) & 31]
            written += 1
        }
        return written
    }
}
