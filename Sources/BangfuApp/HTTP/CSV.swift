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
            default: throw APIError.badRequest("format must be json or csv", field: "format")
            }
        }
        return request.headers[.accept]?.contains("text/csv") ?? false
    }

    static func cell(_ value: String) -> String {
        var text = value
        if let first = text.first, "=+@\t\r".contains(first) || (first == "-" && Int64(text) == nil) {
            text = "'" + text
        }
        if text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return text
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
