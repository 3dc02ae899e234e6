import Foundation
import Hummingbird

/// CSV answers (RFC 4180, CRLF line ends) in UTF-8 with a byte-order mark, so that Excel opens
/// Chinese text correctly. Cells that a spreadsheet would run as a formula (`=`, `+`, `@`, or `-`
/// not followed by a number) are prefixed with `'`.
enum CSV {
    /// True when the caller asked for CSV: `?format=csv` or `Accept: text/csv`. Any other
    /// `format` is a 400.
    static func isRequested(_ request: Request) throws -> Bool {
        if let format = request.uri.queryParameters["format"] {
            switch format {
            case "csv": return true
            case "json": return false
            default: throw DomainError.badRequest("format must be json or csv", field: "format")
            }
        }
        return request.headers[.accept]?.contains("text/csv") ?? false
    }

    static func cell(_ value: String) -> String {
        var text = value
        if isFormula(text) { text = "'" + text }
        if text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return text
    }

    /// True when a spreadsheet could read the cell as a formula: its first Unicode scalar after
    /// any byte-order marks and whitespace is `=`, `+`, `@`, a tab or carriage return, or `-`
    /// where the cell is not a plain number. Scalars, not characters: `=` followed by a combining
    /// mark is one character that is not `=`, yet a spreadsheet still sees `=`.
    static func isFormula(_ text: String) -> Bool {
        let scalars = text.unicodeScalars
        guard let first = scalars.first(where: { $0 != "\u{FEFF}" && !($0.properties.isWhitespace && $0 != "\t" && $0 != "\r") })
        else { return false }
        if "=+@\t\r".unicodeScalars.contains(first) { return true }
        if first == "-" { return Int64(text.trimmingCharacters(in: .whitespaces)) == nil }
        // Full-width forms that some spreadsheets normalise (＝ ＋ － ＠).
        return [0xFF1D, 0xFF0B, 0xFF0D, 0xFF20].contains(first.value)
    }

    static func document(header: [String], rows: [[String]]) -> String {
        var out = "\u{FEFF}"
        for line in [header] + rows {
            out += line.map(cell).joined(separator: ",") + "\r\n"
        }
        return out
    }

    static func response(header: [String], rows: [[String]], filename: String) -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: "text/csv; charset=utf-8",
                .contentDisposition: "attachment; filename=\"\(filename)\"",
            ],
            body: .init(byteBuffer: ByteBuffer(string: document(header: header, rows: rows))))
    }
}
