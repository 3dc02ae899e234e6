import BitCollections

/// Answering a listing from the index: the same products, order, cursors and relevance as the SQL
/// of `ProductStore.publicProducts`, which stays as the reference `bangfu check` compares with.
extension CatalogIndex {
    struct Query: Sendable {
        var filter = ProductFilter()
        var sort: ProductSort = .newest
        var after: ProductStore.Position?
        var limit = 20
    }

    struct Hit: Sendable, Equatable {
        var id: String
        var position: ProductStore.Position
    }

    struct Count: Sendable, Equatable {
        var key: String
        var count: Int64
    }

    /// Disjunctive counts: each facet counts the products that pass every other filter, so a
    /// buyer who picked one county still sees how many products the other counties hold.
    struct Facets: Sendable, Equatable {
        var category: [Count] = []
        var county: [Count] = []
        var label: [Count] = []
    }

    enum Facet: Sendable { case category, county, label }

    /// Up to `query.limit` products after `query.after` in the sort's order.
    func page(_ query: Query, now: Int64) -> [Hit] {
        answer(query, now: now, facets: false).hits
    }

    /// The facet counts of the products `filter` selects.
    func facets(_ filter: ProductFilter, now: Int64) -> Facets {
        answer(Query(filter: filter, limit: 0), now: now, facets: true).facets
    }

    /// A page and the facet counts of its filter. A facet its own filter narrows counts the
    /// candidates without that filter; every other facet counts the page's candidates. Only the
    /// facet wanted is counted in each pass.
    func answer(_ query: Query, now: Int64, facets wanted: Bool = true) -> (hits: [Hit], facets: Facets) {
        let filter = query.filter
        let found = filter.query.map(searchDocuments)
        let docs = candidates(bits(filter, except: nil), found, filter, now: now)
        var ranking = Ranking(index: self, sort: query.sort, limit: max(query.limit, 0), query: filter.query)
        if let after = query.after { ranking.start(after: after) }
        if query.limit > 0 {
            for doc in docs { ranking.offer(Int(doc)) }
        }
        guard wanted else { return (ranking.hits(), Facets()) }
        func counted(_ facet: Facet, narrowed: Bool) -> [Count] {
            count(narrowed ? candidates(bits(filter, except: facet), found, filter, now: now) : docs, facet)
        }
        let facets = Facets(
            category: counted(.category, narrowed: filter.categoryId != nil),
            county: counted(.county, narrowed: filter.countyCode != nil),
            label: counted(.label, narrowed: filter.label != nil))
        return (ranking.hits(), facets)
    }

    // MARK: Candidates

    /// The products that may be on sale and pass the category, county and label filters (but the
    /// one `except` names).
    private func bits(_ filter: ProductFilter, except: Facet?) -> BitSet {
        var set = listable
        if except != .category, let category = filter.categoryId { set.formIntersection(byCategory[category] ?? BitSet()) }
        if except != .county, let code = filter.countyCode { set.formIntersection(byCounty[code] ?? BitSet()) }
        if except != .label, let label = filter.label { set.formIntersection(byLabel[label] ?? BitSet()) }
        return set
    }

    /// The documents in `set` (and in `found`, when a query found some) whose certificate is
    /// valid at `now` and whose price is in the filter's range, in document order.
    private func candidates(_ set: BitSet, _ found: [Int32]?, _ filter: ProductFilter, now: Int64) -> [Int32] {
        let low = filter.minPriceFen ?? .min
        let high = filter.maxPriceFen ?? .max
        var docs: [Int32] = []
        docs.reserveCapacity(found?.count ?? set.count)
        expiry.withUnsafeBufferPointer { expiry in
            price.withUnsafeBufferPointer { price in
                if let found {
                    for doc in found where set.contains(Int(doc)) {
                        let i = Int(doc)
                        if expiry[i] > now && price[i] >= low && price[i] <= high { docs.append(doc) }
                    }
                } else {
                    for i in set where expiry[i] > now && price[i] >= low && price[i] <= high { docs.append(Int32(i)) }
                }
            }
        }
        return docs
    }

    /// The documents holding every term of `query` and containing each of its longer pieces.
    private func searchDocuments(_ query: SearchTerms.Query) -> [Int32] {
        let (terms, long) = IndexTerms.query(query.pieces)
        let lists = terms.map { postings[$0] ?? [] }.sorted { $0.count < $1.count }
        guard var result = lists.first else { return [] }
        for other in lists.dropFirst() where !result.isEmpty { result = Self.intersect(result, other) }
        // A piece of one or two scalars is itself a term; longer ones may have their bigrams apart.
        if !long.isEmpty {
            result = result.filter { doc in long.allSatisfy { Self.contains(searchBytes[Int(doc)], $0) } }
        }
        return result
    }

    /// Counts `docs` by one facet, most first. The numbers are the index's own (every document's
    /// category, county and label numbers are below their counts), never request data.
    private func count(_ docs: [Int32], _ facet: Facet) -> [Count] {
        switch facet {
        case .category: return Self.counts(Self.tally(docs, topCategory, buckets: names.values.count), names.values)
        case .county: return Self.counts(Self.tally(docs, county, buckets: countyNames.values.count), countyNames.values)
        case .label:
            var labels = [Int64](repeating: 0, count: 32)
            labels.withUnsafeMutableBufferPointer { labels in
                labelMask.withUnsafeBufferPointer { labelMask in
                    for doc in docs {
                        var mask = labelMask[Int(doc)]
                        while mask != 0 {
                            labels[mask.trailingZeroBitCount] &+= 1
                            mask &= mask - 1
                        }
                    }
                }
            }
            return Self.counts(labels, labelNames.values)
        }
    }

    /// How many of `docs` have each number in `numbers`.
    private static func tally(_ docs: [Int32], _ numbers: [Int32], buckets: Int) -> [Int64] {
        var counts = [Int64](repeating: 0, count: buckets)
        counts.withUnsafeMutableBufferPointer { counts in
            numbers.withUnsafeBufferPointer { numbers in
                for doc in docs { counts[Int(numbers[Int(doc)])] &+= 1 }
            }
        }
        return counts
    }

    private static func counts(_ values: [Int64], _ keys: [String]) -> [Count] {
        zip(keys, values).filter { $0.1 > 0 }.map { Count(key: $0.0, count: $0.1) }
            .sorted { $0.count != $1.count ? $0.count > $1.count : $0.key < $1.key }
    }

    // MARK: Ordering

    /// The best `limit` documents after the cursor, kept sorted as candidates are offered. Keys
    /// and id prefixes are compared first; an id itself only when two prefixes are equal.
    private struct Ranking {
        struct Entry {
            var key: Int64
            var created: Int64
            var idKey: UInt64
            /// The document, or -1 for the cursor's position.
            var doc: Int32
        }

        let index: CatalogIndex
        let sort: ProductSort
        let limit: Int
        /// The documents whose title holds the query's first piece, and the merchant names that do
        /// (relevance: title 2, merchant 1).
        let titleMatch: BitSet
        let merchantMatch: [Bool]
        var after: Entry?
        var afterId = ""
        var best: [Entry] = []

        init(index: CatalogIndex, sort: ProductSort, limit: Int, query: SearchTerms.Query?) {
            self.index = index
            self.sort = sort
            self.limit = limit
            guard sort == .relevance, let piece = query?.pieces.first, case let (terms, _) = IndexTerms.query([piece]), !terms.isEmpty else {
                (titleMatch, merchantMatch) = (BitSet(), [])
                best.reserveCapacity(limit + 1)
                return
            }
            let bytes = Array(piece.utf8)
            let lists = terms.map { index.titlePostings[$0] ?? [] }.sorted { $0.count < $1.count }
            var docs = lists.first ?? []
            for other in lists.dropFirst() where !docs.isEmpty { docs = CatalogIndex.intersect(docs, other) }
            if piece.unicodeScalars.count > 2 { docs = docs.filter { CatalogIndex.contains(index.titleBytes[Int($0)], bytes) } }
            titleMatch = BitSet(docs.map(Int.init))
            merchantMatch = index.merchantNames.values.map { CatalogIndex.contains(Array($0.utf8), bytes) }
            best.reserveCapacity(limit + 1)
        }

        mutating func start(after position: ProductStore.Position) {
            after = Entry(key: position.key, created: position.createdAt, idKey: CatalogIndex.idPrefix(position.id), doc: -1)
            afterId = position.id
        }

        func key(_ doc: Int) -> Int64 {
            switch sort {
            case .relevance:
                let merchant = Int(index.merchantOf[doc])
                return (titleMatch.contains(doc) ? 2 : 0) + (merchant < merchantMatch.count && merchantMatch[merchant] ? 1 : 0)
            case .newest: return index.created[doc]
            case .priceAsc, .priceDesc: return index.price[doc]
            case .sales: return index.sales[doc]
            case .rating: return index.rating[doc]
            }
        }

        private func id(_ entry: Entry) -> String { entry.doc < 0 ? afterId : index.ids[Int(entry.doc)] }

        /// Whether `a` comes before `b`: relevance by score, time, id, all descending; price
        /// ascending by price then id; every other order by its key then id, descending.
        func precedes(_ a: Entry, _ b: Entry) -> Bool {
            if a.key != b.key { return before(a.key, b.key) }
            if sort == .relevance && a.created != b.created { return a.created > b.created }
            if a.idKey != b.idKey { return before(a.idKey, b.idKey) }
            return before(id(a), id(b))
        }

        /// The sort's direction: ascending for price ascending, descending for every other.
        private func before<T: Comparable>(_ a: T, _ b: T) -> Bool { sort == .priceAsc ? a < b : a > b }

        /// Most documents are decided by their key alone: before the cursor's, or worse than the
        /// last kept while the page is full. Only the rest are compared in full.
        mutating func offer(_ doc: Int) {
            let key = key(doc)
            if let after, before(key, after.key) { return }
            if best.count >= limit, let worst = best.last, before(worst.key, key) { return }
            let entry = Entry(key: key, created: index.created[doc], idKey: index.idKeys[doc], doc: Int32(doc))
            if let after, !precedes(after, entry) { return }
            if best.count >= limit {
                guard let worst = best.last, precedes(entry, worst) else { return }
            }
            var (low, high) = (0, best.count)
            while low < high {
                let mid = (low + high) / 2
                if precedes(best[mid], entry) { low = mid + 1 } else { high = mid }
            }
            best.insert(entry, at: low)
            if best.count > limit { best.removeLast() }
        }

        func hits() -> [Hit] {
            best.map { entry in
                let id = index.ids[Int(entry.doc)]
                return Hit(id: id, position: .init(key: entry.key, createdAt: entry.created, id: id))
            }
        }
    }

    // MARK: Helpers

    static func intersect(_ a: [Int32], _ b: [Int32]) -> [Int32] {
        var result: [Int32] = []
        result.reserveCapacity(min(a.count, b.count))
        var (i, j) = (0, 0)
        while i < a.count && j < b.count {
            if a[i] == b[j] {
                result.append(a[i])
                i += 1
                j += 1
            } else if a[i] < b[j] {
                i += 1
            } else {
                j += 1
            }
        }
        return result
    }

    /// Whether `needle` occurs in `haystack` (UTF-8 of normalized text, so a byte match is a
    /// character match).
    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard let head = needle.first else { return true }
        guard haystack.count >= needle.count else { return false }
        var start = 0
        let last = haystack.count - needle.count
        while start <= last {
            if haystack[start] == head {
                var matched = true
                for offset in 1..<needle.count where haystack[start + offset] != needle[offset] {
                    matched = false
                    break
                }
                if matched { return true }
            }
            start += 1
        }
        return false
    }
}
