import Foundation

/// Times are stored as integer milliseconds since the epoch (BIGINT on both engines) and shown as
/// RFC 3339 in UTC.
extension Date {
    var millis: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }

    init(millis: Int64) {
        self.init(timeIntervalSince1970: Double(millis) / 1000)
    }

    var rfc3339: String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: self)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02dZ", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
    }
}

/// The injectable clock: production reads the system time, tests set it.
public struct AppClock: Sendable {
    private let read: @Sendable () -> Date
    public init(_ read: @escaping @Sendable () -> Date) { self.read = read }
    public static let system = AppClock { Date() }
    public var now: Date { read() }
}

/// The injectable source of opaque IDs and secret tokens.
public struct IDGenerator: Sendable {
    private let make: @Sendable () -> String
    public init(_ make: @escaping @Sendable () -> String) { self.make = make }
    /// 128 random bits as 26 lowercase base32 characters.
    public static let random = IDGenerator { randomBase32(bytes: 16) }
    public func next() -> String { make() }
}

func randomBase32(bytes count: Int) -> String {
    var generator = SystemRandomNumberGenerator()
    let bytes = (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    return base32(bytes)
}

func base32(_ bytes: [UInt8]) -> String {
    let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
    var output = ""
    var buffer = 0
    var bits = 0
    for byte in bytes {
        buffer = (buffer << 8) | Int(byte)
        bits += 8
        while bits >= 5 {
            output.append(alphabet[(buffer >> (bits - 5)) & 31])
            bits -= 5
        }
    }
    if bits > 0 { output.append(alphabet[(buffer << (5 - bits)) & 31]) }
    return output
}
