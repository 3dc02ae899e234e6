import SQLKit

/// Small SQL fragments the stores share.
extension SQLQueryString {
    /// The keyset condition of newest-first lists (`ORDER BY time DESC, id DESC`): rows strictly
    /// after the last item `(time, id)` of the previous page.
    static func after(_ position: (Int64, String), time: String, id: String) -> SQLQueryString {
        " AND (\(unsafeRaw: time) < \(bind: position.0) OR (\(unsafeRaw: time) = \(bind: position.0) AND \(unsafeRaw: id) < \(bind: position.1)))"
    }

    /// The tail of a newest-first page: rows after `position` (when there is one), ordered by
    /// `time` then `id` descending, at most `limit` of them (every limit when `nil`).
    static func newestFirst(after position: (Int64, String)?, time: String, id: String, limit: Int?) -> SQLQueryString {
        var sql = position.map { after($0, time: time, id: id) } ?? ""
        sql += " ORDER BY \(unsafeRaw: time) DESC, \(unsafeRaw: id) DESC"
        if let limit { sql += " LIMIT \(literal: limit)" }
        return sql
    }

    /// `?, ?, ?` with `values` bound, for `IN (...)`.
    static func list<T: Encodable & Sendable>(_ values: [T]) -> SQLQueryString {
        var sql = SQLQueryString("")
        for (index, value) in values.enumerated() {
            if index > 0 { sql += ", " }
            sql += "\(bind: value)"
        }
        return sql
    }

    /// ` (…), (…), …`: the rows of a multi-row `INSERT … VALUES`, each written with its binds.
    static func values(_ rows: [SQLQueryString]) -> SQLQueryString {
        var sql = SQLQueryString("")
        for (index, row) in rows.enumerated() {
            sql += index == 0 ? " " : ", "
            sql += row
        }
        return sql
    }

    /// `CASE column WHEN ? THEN ? … END` mapping each key to its value.
    static func cases(_ column: String, _ values: [(String, Int64)]) -> SQLQueryString {
        var sql = SQLQueryString("CASE \(unsafeRaw: column)")
        for (key, value) in values { sql += " WHEN \(bind: key) THEN \(bind: value)" }
        return sql + " END"
    }
}

extension SQLDatabase {
    /// `head` (`INSERT INTO t (columns) VALUES`) with `rows`, `chunk` rows a statement: one
    /// statement for a small batch, never more binds than either engine takes.
    func insert(_ head: SQLQueryString, rows: [SQLQueryString], chunk: Int = 200) async throws {
        for start in stride(from: 0, to: rows.count, by: chunk) {
            try await raw(head + .values(Array(rows[start..<min(start + chunk, rows.count)]))).run()
        }
    }
}
