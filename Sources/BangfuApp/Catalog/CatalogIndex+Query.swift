import Foundation

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

    /// How a page is found: by walking the sort's order from the cursor until the page is full,
    /// or by ranking every candidate (`Ranking`). `automatic` walks when the candidates are dense
    /// enough in the order that a walk is expected to be shorter, and ranks if the walk runs past
    /// four times its estimate; tests pin a walk (giving up after `budget` steps) or ranking.
    enum Plan: Sendable, Equatable { case automatic, walk(budget: Int), rank }

    /// Up to `query.limit` products after `query.after` in the sort's order.
    func page(_ query: Query, now: Int64, plan: Plan = .automatic) -> [Hit] {
        answer(query, now: now, facets: false, plan: plan).hits
    }

    /// The facet counts of the products `filter` selects.
    func facets(_ filter: ProductFilter, now: Int64) -> Facets {
        answer(Query(filter: filter, limit: 0), now: now, facets: true).facets
    }

    /// A page and the facet counts of its filter. Every filter is a bit set: the category, county
    /// and label sets, the price range (a slice of the price order), the query's documents, less
    /// the certificates lapsed by `now`. A facet its own filter narrows counts without that
    /// filter; each count is the size of an intersection, or a tally of the candidates when the
    /// facet has more values than that would pay for.
    func answer(_ query: Query, now: Int64, facets wanted: Bool = true, plan: Plan = .automatic) -> (hits: [Hit], facets: Facets) {
        guard ordered else {
            // Only a build in progress defers the orders, on an index no read holds yet.
            assertionFailure("a read of an index whose orders are deferred")
            var copy = self
            copy.sortOrders()
            return copy.answer(query, now: now, facets: wanted, plan: plan)
        }
        let filter = query.filter
        var common = listable
        var titled: [Int32]?
        if let search = filter.query {
            let found = searchDocuments(search, titles: query.sort == .relevance && query.limit > 0)
            titled = found.titled
            common.formIntersection(found.docs)
        }
        var priced: Range<Int>?
        if filter.minPriceFen != nil || filter.maxPriceFen != nil {
            let range = prices(from: filter.minPriceFen ?? .min, to: filter.maxPriceFen ?? .max)
            let byPrice = orders[Order.price.rawValue]
            if range.count * 2 > byPrice.count {
                // Most prices are in range: take out the few outside it.
                for doc in byPrice[..<range.lowerBound] { common.remove(Int(doc)) }
                for doc in byPrice[range.upperBound...] { common.remove(Int(doc)) }
            } else {
                common.formIntersection(DocumentBits(byPrice[range], capacity: ids.count))
            }
            priced = range
        }
        for doc in orders[Order.expiry.rawValue] {
            guard expiry[Int(doc)] <= now else { break }
            common.remove(Int(doc))
        }
        let narrowing: [Facet: DocumentBits] = [
            .category: filter.categoryId.map { byCategory[$0] ?? DocumentBits() },
            .county: filter.countyCode.map { code in countyNames.find(code).map { byCounty[Int($0)] } ?? DocumentBits() },
            .label: filter.label.map { label in labelNames.find(label).map { byLabel[Int($0)] } ?? DocumentBits() },
        ].compactMapValues { $0 }
        func candidates(except facet: Facet?) -> DocumentBits {
            var set = common
            for (narrowed, bits) in narrowing where narrowed != facet { set.formIntersection(bits) }
            return set
        }
        let set = candidates(except: nil)
        let hits = query.limit > 0 ? page(set, query, priced: priced, titled: titled, plan: plan) : []
        guard wanted else { return (hits, Facets()) }
        func counted(_ facet: Facet) -> [Count] { count(narrowing[facet] == nil ? set : candidates(except: facet), facet) }
        return (hits, Facets(category: counted(.category), county: counted(.county), label: counted(.label)))
    }

    // MARK: Candidates

    /// Where the documents whose price is in `low...high` are in the price order.
    private func prices(from low: Int64, to high: Int64) -> Range<Int> {
        let byPrice = orders[Order.price.rawValue]
        func first(_ passed: (Int64) -> Bool) -> Int {
            var (lower, upper) = (0, byPrice.count)
            while lower < upper {
                let mid = (lower + upper) / 2
                if passed(price[Int(byPrice[mid])]) { lower = mid + 1 } else { upper = mid }
            }
            return lower
        }
        let start = first { $0 < low }, end = first { $0 <= high }
        return start..<max(start, end)
    }

    /// The documents holding every term of `query` and containing each of its longer pieces. With
    /// `titles`, also those of them whose title holds the query's first piece when that piece is
    /// not its own term (`IndexTerms.isExact`: relevance's title matches, `relevance(_:within:titled:)`), found in
    /// the same pass over the texts: a first occurrence in the search text before `titleEnds`
    /// lies in the title. A second pass over the titles was a third of such a search's time.
    private func searchDocuments(_ query: SearchTerms.Query, titles: Bool) -> (docs: DocumentBits, titled: [Int32]?) {
        let (terms, long) = IndexTerms.query(query.pieces)
        guard !terms.isEmpty else { return (DocumentBits(), nil) }
        let holding = postings.holding(terms)
        // A run of up to three scalars is itself a term; a longer one (its trigrams may occur apart)
        // and a word split by a joiner or mark are checked as substrings (`long`).
        guard !long.isEmpty else { return (holding.bits(capacity: ids.count), nil) }
        let result = holding.docs
        let piece = titles ? query.pieces.first.flatMap { IndexTerms.isExact($0) ? nil : Array($0.utf8) } : nil
        guard let piece else { return (DocumentBits(searchTexts.filter(result, containing: long), capacity: ids.count), nil) }
        var found: [Int32] = [], titled: [Int32] = [], unsure: [Int32] = []
        found.reserveCapacity(result.count)
        let reused = long.firstIndex(of: piece)
        piece.withUnsafeBytes { piece in
            searchTexts.forEachText(of: result) { doc, text in
                var offset: Int?
                for (n, needle) in long.enumerated() {
                    guard let at = needle.withUnsafeBytes({ Self.firstOffset(of: $0, in: text) }) else { return }
                    if n == reused { offset = at }
                }
                found.append(doc)
                let end = titleEnds.indices.contains(Int(doc)) ? Int(titleEnds[Int(doc)]) : -1
                if end < 0 {
                    unsure.append(doc)
                } else if let at = offset ?? Self.firstOffset(of: piece, in: text), at < end {
                    titled.append(doc)
                }
            }
        }
        // Texts that do not begin with their title are checked against the title itself.
        if !unsure.isEmpty { titled += titleTexts.filter(unsure, containing: [piece]) }
        return (DocumentBits(found, capacity: ids.count), titled)
    }

    /// Counts the documents of `set` by one facet, most first. Intersections cost a pass over the
    /// words per value, a word a cycle or so with the processor's population count (`popcnt`,
    /// Package.swift); a tally costs a step per document, several cycles each, mostly waiting on
    /// the document's number: the cheaper is taken. The tally keeps four counts per value, by the
    /// document's last two bits, so neighbouring documents of one value do not each wait for the
    /// other's increment.
    private func count(_ set: DocumentBits, _ facet: Facet) -> [Count] {
        let (sets, keys, numbers): ([DocumentBits], [String], [Int32]?) =
            switch facet {
            case .category: (byTop, names.values, topCategory)
            case .county: (byCounty, countyNames.values, county)
            case .label: (byLabel, labelNames.values, nil)
            }
        var counts = [Int64](repeating: 0, count: keys.count)
        if let numbers, sets.count * set.words.count > 12 * set.count {
            var lanes = [Int64](repeating: 0, count: 4 * keys.count)
            lanes.withUnsafeMutableBufferPointer { lanes in
                numbers.withUnsafeBufferPointer { numbers in
                    set.forEach { doc in
                        // Every number is below the count of names (interned), so this always holds.
                        let number = doc < numbers.count ? Int(numbers[doc]) : -1
                        if number >= 0 && number < keys.count { lanes[number << 2 | doc & 3] &+= 1 }
                    }
                }
            }
            for number in counts.indices { counts[number] = lanes[4 * number..<4 * number + 4].reduce(0, &+) }
        } else {
            for (number, bits) in sets.enumerated() where number < counts.count { counts[number] = Int64(set.intersectionCount(bits)) }
        }
        return zip(keys, counts).filter { $0.1 > 0 }.map { Count(key: $0.0, count: $0.1) }
            .sorted { $0.count != $1.count ? $0.count > $1.count : $0.key < $1.key }
    }

    /// The page of `set`: walked in the sort's order from the cursor, or ranked. A price sort
    /// with a price range walks only the range's slice of the order. Relevance walks the time
    /// order once per score (`walkByScore`).
    private func page(_ set: DocumentBits, _ query: Query, priced: Range<Int>?, titled: [Int32]?, plan: Plan) -> [Hit] {
        let limit = query.limit
        if let order = Order(query.sort), plan != .rank {
            let span = order == .price ? priced ?? orders[order.rawValue].indices : orders[order.rawValue].indices
            if let budget = walkBudget(found: set.count, span: span.count, limit: limit, plan: plan),
                let hits = walk(set, order, span, descending: query.sort == .priceDesc, after: query.after, limit: limit, budget: budget)
            {
                return hits
            }
        }
        let matches = query.sort == .relevance ? relevance(query.filter.query, within: set, titled: titled) : nil
        if let matches, plan != .rank, let hits = walkByScore(set, matches, query, plan: plan)
        {
            return hits
        }
        var ranking = Ranking(index: self, sort: query.sort, limit: limit, matches: matches)
        if let after = query.after { ranking.start(after: after) }
        set.forEach { ranking.offer($0) }
        return ranking.hits()
    }

    /// How many steps a walk may take before the candidates are ranked instead; nil: rank at once.
    /// A walk visits about limit × span / found documents; ranking visits every one found.
    /// Candidates bunched at the far end of the order make a walk longer than that: past four
    /// times the estimate it gives up.
    private func walkBudget(found: Int, span: Int, limit: Int, plan: Plan) -> Int? {
        if case .walk(let steps) = plan { return steps }
        let (visits, overflow) = limit.multipliedReportingOverflow(by: span)
        let expected = overflow ? Int.max : visits / max(found, 1)
        guard expected < found else { return nil }
        return max(expected, 256) > Int.max / 4 ? Int.max : max(expected, 256) * 4
    }

    /// Relevance's matches for the query's first piece: documents whose title holds it (for a
    /// piece that is not its own term, only the candidates' titles are checked; a read intersects
    /// with the candidates anyway), and which merchant names (by number) hold it. A title scores
    /// 2, a merchant name 1. Every name the index has numbered is checked, a renamed merchant's
    /// old one too: a match there only costs `walkByScore` a pass over the candidates.
    struct Matches {
        var titles = DocumentBits()
        var merchants: [Bool] = []
    }

    /// `titled`: the title matches of a piece that is not its own term, when the search found them
    /// (`searchDocuments(_:titles:)`); they hold every candidate whose title holds the piece.
    private func relevance(_ query: SearchTerms.Query?, within candidates: DocumentBits, titled: [Int32]?) -> Matches {
        guard let piece = query?.pieces.first, case let (terms, _) = IndexTerms.query([piece]), !terms.isEmpty else { return Matches() }
        let bytes = Array(piece.utf8)
        let titles: DocumentBits
        if !IndexTerms.isExact(piece) {
            let docs = titled ?? titleTexts.filter(titlePostings.holding(terms).docs, containing: [bytes]) { candidates.contains(Int($0)) }
            titles = DocumentBits(docs, capacity: ids.count)
        } else {
            titles = titlePostings.holding(terms).bits(capacity: ids.count)
        }
        // Read in place (a native string's UTF-8 is contiguous): no copy of each name per query.
        let merchants = merchantNames.values.map { name in
            name.utf8.withContiguousStorageIfAvailable { name in bytes.withUnsafeBytes { Self.contains(UnsafeRawBufferPointer(name), $0) } }
                ?? Self.contains(Array(name.utf8), bytes)
        }
        return Matches(titles: titles, merchants: merchants)
    }

    /// Relevance by groups of one score: the candidates whose title and merchant name hold the
    /// query (3), the title only (2), the merchant name only (1), neither (0), each group walked
    /// in the time order (newest first, then id), which is relevance's order within a score. A
    /// cursor skips the groups above its score and starts its own group after itself. A group too
    /// sparse to walk is ranked on its own (it is small); nil when a walk runs past its budget:
    /// the caller ranks every candidate instead. Ranking them all had compared most candidates in
    /// full (their scores tie), reading each one's time and id at random: a fifth of a search's
    /// time at 1,000,000 products when a county's name, which merchants' names hold, was sought.
    private func walkByScore(_ set: DocumentBits, _ matches: Matches, _ query: Query, plan: Plan) -> [Hit]? {
        var byMerchant = DocumentBits()
        if matches.merchants.contains(true) {
            set.forEach { doc in
                let merchant = Int(merchantOf[doc])
                if merchant < matches.merchants.count && matches.merchants[merchant] { byMerchant.insert(doc) }
            }
        }
        var titled = set, untitled = set
        titled.formIntersection(matches.titles)
        untitled.subtract(matches.titles)
        var groups: [(score: Int64, docs: DocumentBits)] = []
        for (base, group) in [(Int64(2), titled), (0, untitled)] {
            if byMerchant.isEmpty {
                groups.append((base, group))
                continue
            }
            var both = group, alone = group
            both.formIntersection(byMerchant)
            alone.subtract(byMerchant)
            groups += [(base + 1, both), (base, alone)]
        }
        let span = orders[Order.created.rawValue].indices
        var hits: [Hit] = []
        for (score, group) in groups {
            let wanted = query.limit - hits.count
            guard wanted > 0 else { break }
            if let after = query.after, score > after.key { continue }
            let found = group.count
            guard found > 0 else { continue }
            guard let budget = walkBudget(found: found, span: span.count, limit: wanted, plan: plan) else {
                var ranking = Ranking(index: self, sort: .relevance, limit: wanted, matches: matches)
                if let after = query.after { ranking.start(after: after) }
                group.forEach { ranking.offer($0) }
                hits += ranking.hits()
                continue
            }
            // Within a score the time order's key is the creation time.
            let cursor = query.after.flatMap { $0.key == score ? ProductStore.Position(key: $0.createdAt, createdAt: $0.createdAt, id: $0.id) : nil }
            guard let more = walk(group, .created, span, descending: false, after: cursor, limit: wanted, budget: budget) else { return nil }
            hits += more.map { Hit(id: $0.id, position: .init(key: score, createdAt: $0.position.createdAt, id: $0.id)) }
        }
        return hits
    }

    /// Walks `span` of `order` (backwards for price descending) from just past the cursor,
    /// keeping the documents of `set` until `limit` are found; nil after `budget` steps.
    private func walk(
        _ set: DocumentBits, _ order: Order, _ span: Range<Int>, descending: Bool, after: ProductStore.Position?, limit: Int,
        budget: Int
    ) -> [Hit]? {
        let list = orders[order.rawValue]
        var at = descending ? span.upperBound - 1 : span.lowerBound
        if let after {
            let start = boundary(order, after.key, Self.idPrefix(after.id), after.id)
            if descending {
                at = min(at, start - 1)
            } else {
                at = max(at, start)
                // The cursor's own product (same key and id) was on the page before.
                if at < list.count, key(Int(list[at]), order) == after.key, ids[Int(list[at])] == after.id { at += 1 }
            }
        }
        var hits: [Hit] = []
        hits.reserveCapacity(limit)
        var steps = 0
        while hits.count < limit && span.contains(at) {
            steps += 1
            if steps > budget { return nil }
            let doc = Int(list[at])
            if set.contains(doc) {
                let id = ids[doc]
                hits.append(Hit(id: id, position: .init(key: key(doc, order), createdAt: created[doc], id: id)))
            }
            at += descending ? -1 : 1
        }
        return hits
    }

    // MARK: Ordering

    /// The best `limit` documents after the cursor, kept sorted as candidates are offered. Keys
    /// and id prefixes are compared first; an id itself only when two prefixes are equal.
    private struct Ranking {
        struct Entry {
            var key: Int64
            var created: Int64
            var idKey: CatalogIndex.IDKey
            /// The document, or -1 for the cursor's position.
            var doc: Int32
        }

        let index: CatalogIndex
        let sort: ProductSort
        /// The order whose key the sort takes; nil for relevance.
        let order: CatalogIndex.Order?
        let limit: Int
        /// The documents whose title holds the query's first piece, and the merchant names that do
        /// (relevance: title 2, merchant 1).
        let titleMatch: DocumentBits
        let merchantMatch: [Bool]
        var after: Entry?
        var afterId = ""
        var best: [Entry] = []

        /// `matches`: relevance's (nil for every other sort).
        init(index: CatalogIndex, sort: ProductSort, limit: Int, matches: Matches?) {
            self.index = index
            self.sort = sort
            self.order = CatalogIndex.Order(sort)
            self.limit = limit
            titleMatch = matches?.titles ?? DocumentBits()
            merchantMatch = matches?.merchants ?? []
            best.reserveCapacity(limit + 1)
        }

        mutating func start(after position: ProductStore.Position) {
            after = Entry(key: position.key, created: position.createdAt, idKey: CatalogIndex.idPrefix(position.id), doc: -1)
            afterId = position.id
        }

        /// The sort's key: its order's (`CatalogIndex.key`), or relevance's score.
        func key(_ doc: Int) -> Int64 {
            if let order { return index.key(doc, order) }
            let merchant = Int(index.merchantOf[doc])
            return (titleMatch.contains(doc) ? 2 : 0) + (merchant < merchantMatch.count && merchantMatch[merchant] ? 1 : 0)
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
    static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: UnsafeRawBufferPointer) -> Bool {
        firstOffset(of: needle, in: haystack) != nil
    }

    /// Where `needle` first starts in `haystack`, nil if nowhere. Sixteen starts a step: the bytes
    /// that would be the needle's first and last are compared at once (SIMD), the starts matching
    /// both found from a 16-bit mask, and only their middle bytes compared (in place: a call to
    /// `memcmp` per such start, and reading the lanes one by one, were half this function's time
    /// in a search for "5kg" at 1,000,000 products, 200,000 candidates each checked twice). A byte
    /// loop was 80 % of that search before.
    static func firstOffset(of needle: UnsafeRawBufferPointer, in haystack: UnsafeRawBufferPointer) -> Int? {
        let length = needle.count
        guard length > 0 else { return 0 }
        guard haystack.count >= length, let base = haystack.baseAddress, let wanted = needle.baseAddress else { return nil }
        let first = wanted.load(as: UInt8.self), last = wanted.load(fromByteOffset: length - 1, as: UInt8.self)
        let lastStart = haystack.count - length
        // Whether the bytes between the first and the last match at `start`.
        func middleMatches(_ start: Int) -> Bool {
            var k = 1
            while k < length - 1 {
                if base.load(fromByteOffset: start + k, as: UInt8.self) != wanted.load(fromByteOffset: k, as: UInt8.self) { return false }
                k += 1
            }
            return true
        }
        var start = 0
        // A block reads bytes start ..< start + 16 and start + length - 1 ..< start + length + 15:
        // both inside the haystack while start + 15 <= lastStart.
        let firsts = SIMD16<UInt8>(repeating: first), lasts = SIMD16<UInt8>(repeating: last)
        let lanes = SIMD16<UInt8>(1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128)
        while start + 15 <= lastStart {
            let heads = base.loadUnaligned(fromByteOffset: start, as: SIMD16<UInt8>.self)
            let tails = base.loadUnaligned(fromByteOffset: start + length - 1, as: SIMD16<UInt8>.self)
            let both = (heads .== firsts) .& (tails .== lasts)
            if any(both) {
                // Lane i's bit: the low eight lanes make the low byte, the high eight the high.
                let bits = SIMD16<UInt8>(repeating: 0).replacing(with: lanes, where: both)
                var mask = UInt16(bits.lowHalf.wrappedSum()) | UInt16(bits.highHalf.wrappedSum()) << 8
                while mask != 0 {
                    let lane = mask.trailingZeroBitCount
                    if middleMatches(start + lane) { return start + lane }
                    mask &= mask - 1
                }
            }
            start += 16
        }
        while start <= lastStart {
            if base.load(fromByteOffset: start, as: UInt8.self) == first,
                base.load(fromByteOffset: start + length - 1, as: UInt8.self) == last, middleMatches(start)
            {
                return start
            }
            start += 1
        }
        return nil
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        haystack.withUnsafeBytes { haystack in needle.withUnsafeBytes { contains(haystack, $0) } }
    }
}
