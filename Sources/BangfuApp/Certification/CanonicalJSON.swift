import Foundation

/// A JSON value with exactly the kinds RFC 8785 (JSON Canonicalization Scheme, JCS) has to order
/// and print. Numbers are integers within ±(2^53 − 1), which JCS prints as plain decimals: the
/// certificate payload holds strings only, and fractional numbers (ECMAScript's shortest-double
/// printing) are refused rather than printed differently from other implementations.
enum CanonicalJSON: Sendable, Equatable {
    case string(String)
    case integer(Int64)
    case bool(Bool)
    case null
    case array([CanonicalJSON])
    case object([String: CanonicalJSON])

    struct UnsupportedNumber: Error {}

    /// The canonical UTF-8 bytes: no insignificant whitespace, object members sorted by the UTF-16
    /// code units of their names (RFC 8785 §3.2.3), strings escaped as ECMAScript's
    /// `JSON.stringify` does (§3.2.2.2): `\"`, `\\`, the short escapes `\b \t \n \f \r`, other
    /// controls as `\u00xx` in lowercase hex, everything else as itself.
    func canonicalBytes() throws -> [UInt8] {
        var out: [UInt8] = []
        try write(into: &out)
        return out
    }

    private func write(into out: inout [UInt8]) throws {
        switch self {
        case .string(let s): Self.writeString(s, into: &out)
        case .integer(let n):
            guard n.magnitude <= 9_007_199_254_740_991 else { throw UnsupportedNumber() }
            out.append(contentsOf: String(n).utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .null: out.append(contentsOf: "null".utf8)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                try item.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            let names = members.keys.sorted { $0.utf16.lexicographicallyPrecedes($1.utf16) }
            for (index, name) in names.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(name, into: &out)
                out.append(UInt8(ascii: ":"))
                try members[name]!.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static let hex = Array("0123456789abcdef".utf8)

    /// `s` as a JSON string literal (RFC 8259 escaping, which RFC 8785 keeps); also used by the
    /// JSON log format.
    static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x08: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0C: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x00..<0x20:
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
