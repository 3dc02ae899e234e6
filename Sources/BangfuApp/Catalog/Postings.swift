/// Documents by search term (`IndexTerms`): a sorted list of document numbers while a term is
/// rare, a bit set (`DocumentBits`) once it is common. A list costs four bytes a document, a set
/// one bit per document of the catalog: a term held by more than one document in 32 is smaller as
/// a set. A catalog's common terms ("kg", 大米, 礼盒) hold most of its postings: at 1,000,000
/// seeded products four fifths of them were in terms past that share, some 340 MB as lists
/// (before the slack of growing arrays) against under 100 MB as sets. A set is also intersected a
/// word at a time and needs no conversion to filter the catalog.
///
/// A list becomes a set as it grows past its share (`promotes`); a set becomes a list again only
/// in `settle` (`demotes`, with slack, so a product going in and out does not convert a term back
/// and forth), which puts every term in the form its count calls for at the end of a build and
/// of a batch of changes applied in bulk (`CatalogIndex.apply`). Counting a set reads all of it,
/// so a removal from one does not count it: a term that became rare through single changes stays
/// a set, at most one bit per document, until then.
struct Postings: Sendable {
    private(set) var lists: [UInt64: [Int32]] = [:]
    private(set) var sets: [UInt64: DocumentBits] = [:]

    /// A list at least this long, and longer than a 32nd of the documents, becomes a set.
    static let smallestSet = 1024

    static func promotes(_ count: Int, documents: Int) -> Bool { count >= smallestSet && count > documents / 32 }

    /// A set that falls below a 64th of the documents (or below half the smallest) is a list again
    /// at the next `settle`.
    static func demotes(_ count: Int, documents: Int) -> Bool { count < smallestSet / 2 || count < documents / 64 }

    /// The documents that hold every one of `terms` (none when `terms` is empty).
    enum Found {
        case list([Int32])
        case set(DocumentBits)

        var docs: [Int32] {
            switch self {
            case .list(let docs): return docs
            case .set(let bits):
                var docs: [Int32] = []
                docs.reserveCapacity(bits.count)
                bits.forEach { docs.append(Int32(truncatingIfNeeded: $0)) }
                return docs
            }
        }

        func bits(capacity: Int) -> DocumentBits {
            switch self {
            case .list(let docs): DocumentBits(docs, capacity: capacity)
            case .set(let bits): bits
            }
        }
    }

    /// The lists are intersected shortest first and the result kept to the sets' documents; with
    /// no list, the sets are intersected a word at a time.
    func holding(_ terms: some Collection<UInt64>) -> Found {
        var found: [[Int32]] = [], dense: [DocumentBits] = []
        for term in terms {
            if let list = lists[term] {
                found.append(list)
            } else if let set = sets[term] {
                dense.append(set)
            } else {
                return .list([])
            }
        }
        found.sort { $0.count < $1.count }
        guard var result = found.first else {
            guard var result = dense.first else { return .list([]) }
            for other in dense.dropFirst() { result.formIntersection(other) }
            return .set(result)
        }
        for other in found.dropFirst() where !result.isEmpty { result = CatalogIndex.intersect(result, other) }
        for set in dense where !result.isEmpty { result.removeAll { !set.contains(Int($0)) } }
        return .list(result)
    }

    /// The documents of `term`, ascending (tests and `==`).
    func documents(_ term: UInt64) -> [Int32] { lists[term] ?? Found.set(sets[term] ?? DocumentBits()).docs }

    var terms: Set<UInt64> {
        Set(lists.compactMap { $0.value.isEmpty ? nil : $0.key }).union(sets.compactMap { $0.value.isEmpty ? nil : $0.key })
    }

    mutating func insert(_ doc: Int32, _ term: UInt64, documents: Int) {
        if sets[term] != nil {
            sets[term]?.insert(Int(doc))
            return
        }
        Self.insert(doc, into: &lists[term, default: []])
        promoteIfDue(term, documents: documents)
    }

    mutating func remove(_ doc: Int32, _ term: UInt64) {
        if sets[term] != nil {
            sets[term]?.remove(Int(doc))
            if sets[term]?.isEmpty == true { sets[term] = nil }
            return
        }
        guard var list = lists.removeValue(forKey: term) else { return }
        let at = Self.lowerBound(doc, in: list)
        if at < list.count, list[at] == doc { list.remove(at: at) }
        if !list.isEmpty { lists[term] = list }
    }

    /// `docs`, ascending and new to the term (a build's), added in one go.
    mutating func append(_ docs: ArraySlice<Int32>, _ term: UInt64, documents: Int) {
        guard !docs.isEmpty else { return }
        if var set = sets.removeValue(forKey: term) {
            // Out of the dictionary while it grows: one lookup, not one per document.
            set.insert(contentsOf: docs)
            sets[term] = set
            return
        }
        if let last = lists[term]?.last, let first = docs.first, last >= first {
            for doc in docs { Self.insert(doc, into: &lists[term, default: []]) }
        } else {
            lists[term, default: []].append(contentsOf: docs)
        }
        promoteIfDue(term, documents: documents)
    }

    /// Sets that fell below their share of `documents` (`demotes`) become lists again, and empty
    /// ones go. (A list is promoted as it grows, `promoteIfDue`, and the count of documents never
    /// falls, so no list is due here.)
    mutating func settle(documents: Int) {
        let counted = sets.map { (term: $0.key, count: $0.value.count) }
        for (term, count) in counted where count == 0 || Self.demotes(count, documents: documents) {
            if let set = sets.removeValue(forKey: term), count > 0 { lists[term] = Found.set(set).docs }
        }
    }

    private mutating func promoteIfDue(_ term: UInt64, documents: Int) {
        guard let list = lists[term], Self.promotes(list.count, documents: documents) else { return }
        lists[term] = nil
        sets[term] = DocumentBits(list, capacity: documents)
    }

    private static func insert(_ doc: Int32, into list: inout [Int32]) {
        if let last = list.last, last >= doc {
            let at = lowerBound(doc, in: list)
            if at < list.count, list[at] == doc { return }
            list.insert(doc, at: at)
        } else {
            list.append(doc)
        }
    }

    private static func lowerBound(_ doc: Int32, in list: [Int32]) -> Int {
        var (low, high) = (0, list.count)
        while low < high {
            let mid = (low + high) / 2
            if list[mid] < doc { low = mid + 1 } else { high = mid }
        }
        return low
    }
}

extension Postings: Equatable {
    /// The same documents under the same terms, whichever form each term is in.
    static func == (a: Postings, b: Postings) -> Bool {
        let terms = a.terms
        return terms == b.terms && terms.allSatisfy { a.documents($0) == b.documents($0) }
    }
}
