import Foundation

/// Chinese substring search without a full scan: every product is indexed under the unigrams and
/// bigrams of its searchable text, so a query of one character looks up its unigram and a longer
/// query the bigrams it contains; candidates are then checked for the exact substring. This finds
/// 1- and 2-character queries (大米, 米), which a trigram index cannot, and works the same on
/// SQLite (FTS5 over the terms) and PostgreSQL (a text[] with a GIN index).
enum SearchTerms {
    /// Lower case, full-width ASCII folded to half-width, ideographic space to space. ASCII is
    /// lowered here; a text with nothing else but general punctuation (U+2000-206F), CJK
    /// punctuation, kana and ideographs (U+3000-9FFF) and half-width forms (U+FF5F-FFEF), none of
    /// which has a lower case (a test checks each), is then done, and any other
    /// text goes through `lowercased()`, a tenth of building the index when it took every text.
    static func normalize(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        var caseless = true
        for scalar in text.unicodeScalars {
            var value = scalar.value
            switch value {
            case 0xFF01...0xFF5E: value -= 0xFEE0
            case 0x3000: value = 0x20
            case 0...0x7F, 0x2000...0x206F, 0x3001...0x9FFF, 0xFF5F...0xFFEF: break
            default: caseless = false
            }
            if (0x41...0x5A).contains(value) { value += 0x20 }
            scalars.append(Unicode.Scalar(value) ?? scalar)
        }
        return caseless ? String(scalars) : String(scalars).lowercased()
    }

    /// Runs of letters and digits (Chinese characters are letters); everything else separates.
    static func runs(_ normalized: String) -> [[Character]] {
        runs(of: normalized) { $0.isLetter || $0.isNumber }
    }

    /// The maximal runs of `elements` that `isPart` keeps; the others separate them. Shared by the
    /// SQL search's terms (characters) and the catalog index's (scalars).
    static func runs<S: Sequence>(of elements: S, where isPart: (S.Element) -> Bool) -> [[S.Element]] {
        var runs: [[S.Element]] = []
        var current: [S.Element] = []
        for element in elements {
            if isPart(element) {
                current.append(element)
            } else if !current.isEmpty {
                runs.append(current)
                current = []
            }
        }
        if !current.isEmpty { runs.append(current) }
        return runs
    }

    /// The terms a document is indexed under: every unigram and bigram of each run, each once, in
    /// order of first occurrence (sorting them cost a fifth of a bulk load in string comparisons).
    static func documentTerms(_ text: String) -> [String] {
        var seen = Set<String>()
        var terms: [String] = []
        func add(_ term: String) {
            if seen.insert(term).inserted { terms.append(term) }
        }
        for run in runs(normalize(text)) {
            for (index, character) in run.enumerated() {
                add(String(character))
                if index + 1 < run.count { add(String([character, run[index + 1]])) }
            }
        }
        return terms
    }

    struct Query: Equatable {
        /// Terms that every match is indexed under.
        var terms: [String]
        /// Normalized pieces that every match contains as substrings (checked on candidates).
        var pieces: [String]
    }

    /// nil when the query holds nothing searchable (only punctuation or spaces).
    static func query(_ text: String) -> Query? {
        let runs = runs(normalize(text))
        guard !runs.isEmpty else { return nil }
        var terms = Set<String>()
        for run in runs {
            if run.count == 1 {
                terms.insert(String(run))
            } else {
                for index in 0..<(run.count - 1) { terms.insert(String(run[index...index + 1])) }
            }
        }
        return Query(terms: terms.sorted(), pieces: runs.map { String($0) })
    }

    /// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
    static func likePattern(_ piece: String) -> String {
        var escaped = ""
        for character in piece {
            if character == "%" || character == "_" || character == "\\" { escaped.append("\\") }
            escaped.append(character)
        }
        return "%" + escaped + "%"
    }
}
