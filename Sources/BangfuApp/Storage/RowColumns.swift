import SQLKit
import SQLiteNIO

/// A select's columns: each an expression and the name it is selected `AS`. One list makes both
/// the SQL and the places a decoder reads (`place(_:)`, by name), so the two cannot drift apart.
struct SelectColumns: Sendable {
    let columns: [(expression: String, name: String)]
    let names: [String]

    init(_ columns: [(String, String)]) {
        self.columns = columns.map { (expression: $0.0, name: $0.1) }
        names = columns.map(\.1)
    }

    /// `expression AS name, …` (every column named: SQLite leaves an unnamed column's name unspecified).
    var sql: String { columns.map { "\($0.expression) AS \($0.name)" }.joined(separator: ", ") }

    /// Where the column `name` is in the list (-1 if it is not: reading that place is a
    /// `RowColumnsMismatch`). Decoders take their places from here, once, so a column added to
    /// or moved in the list moves its decoder's reads with it.
    func place(_ name: String) -> Int { names.firstIndex(of: name) ?? -1 }

    static func + (lhs: SelectColumns, rhs: SelectColumns) -> SelectColumns {
        SelectColumns(lhs.columns.map { ($0.expression, $0.name) } + rhs.columns.map { ($0.expression, $0.name) })
    }
}

/// A row's columns read by their place in a `SelectColumns` list. `SQLiteColumns` reads sqlite-nio's
/// own rows by position: no name lookup and no `Decodable` machinery per column, which made
/// decoding by name a large part of reading many rows (the catalog index's build, a catalog
/// page). `NamedColumns` reads any engine's rows through SQLKit by the list's names. A decoder
/// written once against this protocol serves both.
protocol RowColumns {
    func text(_ place: Int) throws -> String
    func integer(_ place: Int) throws -> Int64
    func isNull(_ place: Int) throws -> Bool
}

extension RowColumns {
    func optionalText(_ place: Int) throws -> String? { try isNull(place) ? nil : text(place) }
    func optionalInteger(_ place: Int) throws -> Int64? { try isNull(place) ? nil : integer(place) }
}

/// A column of an unexpected type or place: an error naming the row's first column (its id) and
/// the column, never a value read from the wrong place.
struct RowColumnsMismatch: Error, CustomStringConvertible {
    var detail: String
    var description: String { "a read of stored rows found \(detail)" }
}

/// A sqlite-nio row of a statement whose column names `check` compared with the list once.
struct SQLiteColumns: RowColumns {
    let columns: [SQLiteColumn]

    init(_ row: SQLiteRow) { columns = row.columns }

    /// Every row of one statement has the same columns: the first row's names are compared with
    /// `names` once for all of them.
    static func check(_ rows: [SQLiteRow], names: [String]) throws {
        guard let first = rows.first else { return }
        let found = first.columns.map(\.name)
        guard found == names else {
            throw RowColumnsMismatch(detail: "columns \(found.joined(separator: ",")) instead of \(names.joined(separator: ","))")
        }
    }

    private func data(_ place: Int) throws -> SQLiteData {
        guard columns.indices.contains(place) else {
            throw RowColumnsMismatch(detail: "\(columns.count) columns where column \(place) was read")
        }
        return columns[place].data
    }

    private func mismatch(_ place: Int) -> RowColumnsMismatch {
        let id = if case .text(let id)? = columns.first?.data { id } else { "?" }
        let column = columns.indices.contains(place) ? columns[place] : nil
        return RowColumnsMismatch(
            detail: "row \(id): column \(column?.name ?? String(place)) holds \(String(describing: column?.data).prefix(60))")
    }

    func text(_ place: Int) throws -> String {
        guard case .text(let value) = try data(place) else { throw mismatch(place) }
        return value
    }

    func integer(_ place: Int) throws -> Int64 {
        guard case .integer(let value) = try data(place) else { throw mismatch(place) }
        return Int64(value)
    }

    func isNull(_ place: Int) throws -> Bool {
        if case .null = try data(place) { return true }
        return false
    }
}

/// Any engine's row through SQLKit, each place read by its name in the list.
struct NamedColumns: RowColumns {
    let row: any SQLRow
    let names: [String]

    private func name(_ place: Int) throws -> String {
        guard names.indices.contains(place) else {
            throw RowColumnsMismatch(detail: "\(names.count) columns where column \(place) was read")
        }
        return names[place]
    }

    func text(_ place: Int) throws -> String { try row.decode(column: try name(place), as: String.self) }
    func integer(_ place: Int) throws -> Int64 { try row.decode(column: try name(place), as: Int64.self) }

    /// A column the row lacks is an error, not a null (`decodeNil` answers true for it).
    func isNull(_ place: Int) throws -> Bool {
        let column = try name(place)
        guard row.contains(column: column) else { throw RowColumnsMismatch(detail: "no column \(column)") }
        return try row.decodeNil(column: column)
    }
}
