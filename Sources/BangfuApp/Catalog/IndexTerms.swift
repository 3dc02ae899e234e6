/// The catalog index's search terms (issue 18): the unigrams, bigrams and trigrams of the runs of
/// letters, digits and marks of already normalized text (`SearchTerms.normalize`), taken over
/// Unicode scalars and packed into numbers: no string is made per term, so building the index of
/// a large catalog spends its time on the catalog, not on allocating. A unigram is its scalar; a
/// bigram sets the top bit over the two scalars (21 bits each); a trigram sets it over the three,
/// the first in bits 42 to 62, which a bigram leaves clear (no word part is scalar 0), so no two
/// terms share a number. Queries are cut the same way, so a document and a query always agree.
///
/// Trigrams answer a run of three exactly from its postings. With bigrams alone a query such as
/// "5kg" or 礼盒装 at 1,000,000 products had some 200,000 candidates, each checked for the
/// substring in its text: a third of a search's time.
enum IndexTerms {
    static func isWordPart(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        if scalar.isASCII {
            return (0x30...0x39).contains(v) || (0x61...0x7A).contains(v) || (0x41...0x5A).contains(v)
        }
        // CJK Unified Ideographs, every one assigned and alphabetic (a test checks the block
        // against the properties): most of a catalog's text, without the property lookup.
        if (0x4E00...0x9FFF).contains(v) { return true }
        let properties = scalar.properties
        if properties.isAlphabetic || properties.numericType != nil { return true }
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return true
        default: return false
        }
    }

    /// The runs of `normalized`, as scalars.
    static func runs(_ normalized: String) -> [[Unicode.Scalar]] {
        SearchTerms.runs(of: normalized.unicodeScalars, where: isWordPart)
    }

    static func unigram(_ a: Unicode.Scalar) -> UInt64 { UInt64(a.value) }

    static func bigram(_ a: Unicode.Scalar, _ b: Unicode.Scalar) -> UInt64 {
        1 << 63 | UInt64(a.value) << 21 | UInt64(b.value)
    }

    static func trigram(_ a: Unicode.Scalar, _ b: Unicode.Scalar, _ c: Unicode.Scalar) -> UInt64 {
        1 << 63 | UInt64(a.value) << 42 | UInt64(b.value) << 21 | UInt64(c.value)
    }

    /// Every unigram, bigram and trigram of every run of a document, each once, in ascending order: sorted
    /// numbers in an array, which a change diffs by merging (`CatalogIndex.move`) and a build
    /// appends from without making a set per product.
    static func document(_ normalized: String) -> [UInt64] {
        var terms = occurrences(normalized)
        terms.sort()
        var kept = 0
        for at in terms.indices where kept == 0 || terms[kept - 1] != terms[at] {
            terms[kept] = terms[at]
            kept += 1
        }
        terms.removeLast(terms.count - kept)
        return terms
    }

    /// Every unigram, bigram and trigram of every run, in text order, repeats included: what a
    /// build collects (its flush drops a document's repeats, so no sort per document).
    static func occurrences(_ normalized: String) -> [UInt64] {
        var terms: [UInt64] = []
        terms.reserveCapacity(3 * normalized.utf8.count)
        var (first, previous): (Unicode.Scalar?, Unicode.Scalar?) = (nil, nil)
        for scalar in normalized.unicodeScalars {
            guard isWordPart(scalar) else {
                (first, previous) = (nil, nil)
                continue
            }
            terms.append(unigram(scalar))
            if let previous {
                terms.append(bigram(previous, scalar))
                if let first { terms.append(trigram(first, previous, scalar)) }
            }
            (first, previous) = (previous, scalar)
        }
        return terms
    }

    /// The scalars of `piece` when it is one run, nil otherwise: a piece (a run of letters and
    /// digits as `Character`s) can hold a scalar that is no word part, such as a zero-width
    /// joiner after 米, which splits it into runs found apart.
    static func wholeRun(_ piece: String) -> [Unicode.Scalar]? {
        let runs = runs(piece)
        guard runs.count == 1, let only = runs.first, only.count == piece.unicodeScalars.count else { return nil }
        return only
    }

    /// Whether `piece` is answered by its term alone: one run of up to three scalars.
    static func isExact(_ piece: String) -> Bool { wholeRun(piece).map { $0.count <= 3 } ?? false }

    /// What a document must hold for a query piece: the unigram of a one-scalar run, the bigram
    /// of a two-scalar one, else the trigrams of the run. A run of more than three scalars is then
    /// checked as a substring too (its trigrams may occur apart), and so is a piece that is not
    /// one run (`wholeRun`).
    static func query(_ pieces: [String]) -> (terms: Set<UInt64>, long: [[UInt8]]) {
        var terms = Set<UInt64>()
        var long: [[UInt8]] = []
        for piece in pieces {
            let pieceRuns = runs(piece)
            if wholeRun(piece) == nil { long.append(Array(piece.utf8)) }
            for run in pieceRuns {
                // No subscript past what the run holds: zip pairs and triples its scalars.
                if run.count == 1, let only = run.first { terms.insert(unigram(only)) }
                if run.count == 2 { for (a, b) in zip(run, run.dropFirst()) { terms.insert(bigram(a, b)) } }
                if run.count > 2 {
                    for ((a, b), c) in zip(zip(run, run.dropFirst()), run.dropFirst(2)) { terms.insert(trigram(a, b, c)) }
                }
                if run.count > 3 {
                    var text = String.UnicodeScalarView()
                    text.append(contentsOf: run)
                    long.append(Array(String(text).utf8))
                }
            }
        }
        return (terms, long)
    }
}
