/// Lowercase hex of bytes (hashes, API.md "Hashes"), without `String(format:)`, which costs
/// microseconds per byte on Linux and ran on every authenticated request.
extension Sequence where Element == UInt8 {
    var lowercaseHex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
