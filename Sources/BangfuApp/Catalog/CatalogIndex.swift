/// A product as the catalog index holds it: what filters, sorts, counts and searches read. The
/// row in `products` stays the source of truth; this is a copy kept current by `CatalogFeed`.
struct IndexedProduct: Sendable, Equatable {
    var id: String
    var categoryId: String
    var topCategoryId: String
    var countyCode: String
    var labels: [String]
    var listed: Bool
    var merchantActive: Bool
    /// Milliseconds; nil without a valid certificate.
    var certificateExpiresAt: Int64?
    var priceFen: Int64
    var sales: Int64
    var merchantRating: Int64
    var createdAt: Int64
    /// `SearchTerms.normalize` of the title, the description and the merchant's name (`search_text`).
    var searchText: String
    /// The normalized title and merchant name, which relevance ranks by.
    var title: String
    var merchantName: String
}

extension IndexedProduct {
    /// Equal, and the search text and title byte for byte (`==` holds for canonically
    /// equivalent texts, which the index's terms tell apart). Names the index numbers (merchants,
    /// labels, categories, counties) are looked up by `String`, so `==` is their identity.
    func isIdentical(to other: IndexedProduct) -> Bool {
        self == other && searchText.utf8.elementsEqual(other.searchText.utf8) && title.utf8.elementsEqual(other.title.utf8)
    }
}

/// The public catalog in memory (issue 18): listing, search, facet counts and every sort answered
/// without scanning the database. Each product has a dense document number; a bit set
/// (`DocumentBits`) per category (leaf and top level), county and label, and one of the products
/// that may be on sale (listed, merchant active, holding a certificate) select candidates;
/// postings of the search terms (`SearchTerms`) find a query's candidates; per-document arrays
/// give the sort keys, and the products that may be on sale are also kept sorted in each order
/// (`Order`): a page walks its order from the cursor, a price range is a slice of the price order,
/// and the certificates lapsed by now are the head of the expiry order. So the clock is compared
/// on every read: expiry hides a product at its instant, and a sweep takes the lapsed out once a
/// few have gathered or a minute has passed (`sweepLapsed`), so reads walk only those. Pure: no database, no clock of
/// its own.
struct CatalogIndex: Sendable {
    private(set) var ids: [String] = []
    /// The first 16 bytes of each id: ids compare by these first (`idPrefix`).
    private(set) var idKeys: [IDKey] = []
    private(set) var documents: [String: Int32] = [:]
    /// Per document: held (a product, not a removed one), listed, merchant active (`Flag`). The
    /// index keeps no copy of the `IndexedProduct`: every field is in one of these arrays or text
    /// columns once (`product(_:)` puts it back together), which at 1,000,000 products saves some
    /// 400 MB.
    private(set) var flags: [UInt8] = []
    private(set) var leafCategory: [Int32] = []
    private(set) var labels: [[String]] = []
    private(set) var price: [Int64] = []
    private(set) var sales: [Int64] = []
    private(set) var rating: [Int64] = []
    private(set) var created: [Int64] = []
    /// Certificate expiry in milliseconds; `Int64.min` without a certificate.
    private(set) var expiry: [Int64] = []
    private(set) var topCategory: [Int32] = []
    private(set) var county: [Int32] = []
    /// The normalized search text and title of each document (`TextColumn`).
    private(set) var searchTexts = TextColumn()
    private(set) var titleTexts = TextColumn()
    /// Where each document's title ends in its search text (`titleEnd`), or -1.
    private(set) var titleEnds: [Int32] = []
    /// Each product's merchant name, numbered (`merchantNames`): relevance checks a name once a query.
    private(set) var merchantOf: [Int32] = []

    private(set) var listable = DocumentBits()
    /// By category id, leaf and top level alike (what a filter names).
    private(set) var byCategory: [String: DocumentBits] = [:]
    /// By the numbers of `names` (top categories), `countyNames` and `labelNames`: what facets count.
    private(set) var byTop: [DocumentBits] = [], byCounty: [DocumentBits] = [], byLabel: [DocumentBits] = []
    /// The documents of `listable` in each `Order`, while `ordered` (both changed only by the
    /// functions of `CatalogIndex+Orders.swift`).
    var orders: [[Int32]] = Array(repeating: [], count: Order.allCases.count)
    var ordered = true
    /// Documents by search term (`IndexTerms`): a list or a set per term (`Postings`).
    private(set) var postings = Postings()
    /// Postings of the title's own terms, which relevance ranks by.
    private(set) var titlePostings = Postings()
    /// While the orders are deferred (a build, a bulk batch), new documents' postings wait here
    /// and go into `postings` and `titlePostings` a list at a time (`flushPostings`): appending
    /// each document to some sixty lists spread over hundreds of megabytes stalled on memory for a
    /// fifth of a 1,000,000-product build. Empty whenever the index is read (`endPending()`
    /// flushes them before the orders are back: `sortOrders()`, a bulk `apply`).
    private var pendingPostings = PendingPostings(), pendingTitlePostings = PendingPostings()
    /// The first document waiting: every document numbered from it on waits (all were fresh).
    private var firstPending: Int32?

    /// (term, document) pairs in the order they came: written one after the other, so collecting
    /// them touches no list of its own per term (each such touch missed the cache as well).
    struct PendingPostings: Sendable {
        var terms: [UInt64] = []
        var docs: [Int32] = []
    }
    private(set) var merchantNames = Interned()
    private(set) var names = Interned()
    private(set) var leafNames = Interned()
    private(set) var countyNames = Interned()
    private(set) var labelNames = Interned()

    /// Products held (on sale or not).
    private(set) var count = 0

    /// Strings numbered in order of first sight, so arrays of counts can be indexed by them.
    struct Interned: Sendable {
        private(set) var values: [String] = []
        private var numbers: [String: Int32] = [:]
        func find(_ value: String) -> Int32? { numbers[value] }
        mutating func number(_ value: String) -> Int32 {
            if let known = numbers[value] { return known }
            let next = Int32(values.count)
            values.append(value)
            numbers[value] = next
            return next
        }
    }

    // MARK: Changes

    /// Adds `product` or replaces the product of the same id.
    mutating func upsert(_ product: IndexedProduct) {
        if let known = documents[product.id] {
            update(known, from: self.product(known), to: product)
            return
        }
        let doc = Int32(ids.count)
        documents[product.id] = doc
        append(product, as: doc)
    }

    /// `upsert` for a build, whose index nobody else holds yet: a new product (every product of a
    /// build) is numbered in the one lookup that finds it absent, and a known one is put back.
    /// Anywhere else that write would copy the id dictionary readers share.
    mutating func upsertBuilding(_ product: IndexedProduct) {
        let doc = Int32(ids.count)
        if let known = documents.updateValue(doc, forKey: product.id) {
            documents[product.id] = known
            update(known, from: self.product(known), to: product)
            return
        }
        append(product, as: doc)
    }

    /// Makes room for document `doc` (the next number) and puts `product` there.
    private mutating func append(_ product: IndexedProduct, as doc: Int32) {
        ids.append(product.id)
        idKeys.append(Self.idPrefix(product.id))
        flags.append(0)
        leafCategory.append(0)
        labels.append([])
        price.append(0)
        sales.append(0)
        rating.append(0)
        created.append(0)
        expiry.append(.min)
        topCategory.append(0)
        county.append(0)
        merchantOf.append(0)
        titleEnds.append(-1)
        update(doc, from: nil, to: product)
    }

    static func isListable(_ product: IndexedProduct) -> Bool {
        product.listed && product.merchantActive && product.certificateExpiresAt != nil
    }

    /// Forgets the product `id` (a row gone from `products`).
    mutating func remove(id: String) {
        guard let doc = documents[id] else { return }
        update(doc, from: product(doc), to: nil)
    }

    /// Takes the products whose certificate lapsed by `now` out of `listable` and every order,
    /// answering how many. A read hides a lapsed certificate at its instant by walking the head of
    /// the expiry order (`answer`), so without this each read walked every certificate that ever
    /// lapsed: with 50,000 of 100,000 lapsed a listing cost 1.0 ms of server CPU against
    /// 0.72–0.84 ms swept (Benchmarks/RESULTS.md, tenth pass). The feed's background pass calls
    /// it (`CatalogFeed.sweepLapsed`), so reads walk only what lapsed since. Nothing else changes: a later change to a swept product places it again as
    /// any product that may be on sale (`isListable`), and reads hide it again until a sweep.
    /// The clock moves forward only: a read asking at an earlier `now` than a sweep's would miss
    /// the products swept between the two instants.
    @discardableResult
    mutating func sweepLapsed(now: Int64) -> Int {
        let low = lapsed(now: now).count
        guard ordered, low > 0 else { return 0 }
        let byExpiry = orders[Order.expiry.rawValue]
        let lapsed = DocumentBits(byExpiry[..<low], capacity: ids.count)
        listable.subtract(lapsed)
        for order in Order.allCases where order != .expiry {
            orders[order.rawValue].removeAll { lapsed.contains(Int($0)) }
        }
        orders[Order.expiry.rawValue].removeFirst(low)
        return low
    }

    /// How many of the products that may be on sale have a certificate lapsed by `now`, and the
    /// first one's expiry: the head of the expiry order, found by binary search.
    func lapsed(now: Int64) -> (count: Int, first: Int64?) {
        guard ordered else { return (0, nil) }
        let byExpiry = orders[Order.expiry.rawValue]
        var (low, high) = (0, byExpiry.count)
        while low < high {
            let mid = (low + high) / 2
            if expiry[Int(byExpiry[mid])] <= now { low = mid + 1 } else { high = mid }
        }
        return (low, byExpiry.first.flatMap { low > 0 ? expiry[Int($0)] : nil })
    }

    /// Every product held, for `bangfu check`.
    var allProducts: [IndexedProduct] { (0..<ids.count).compactMap { product(Int32($0)) } }

    enum Flag {
        static let held: UInt8 = 1
        static let listed: UInt8 = 2
        static let merchantActive: UInt8 = 4
    }

    /// The product of document `doc` as it was given, or nil for a removed one.
    func product(_ doc: Int32) -> IndexedProduct? {
        let i = Int(doc)
        guard ids.indices.contains(i), flags[i] & Flag.held != 0 else { return nil }
        return IndexedProduct(
            id: ids[i], categoryId: leafNames.values[Int(leafCategory[i])], topCategoryId: names.values[Int(topCategory[i])],
            countyCode: countyNames.values[Int(county[i])], labels: labels[i], listed: flags[i] & Flag.listed != 0,
            merchantActive: flags[i] & Flag.merchantActive != 0, certificateExpiresAt: expiry[i] == .min ? nil : expiry[i],
            priceFen: price[i], sales: sales[i], merchantRating: rating[i], createdAt: created[i],
            searchText: searchTexts.string(i), title: titleTexts.string(i),
            merchantName: merchantNames.values[Int(merchantOf[i])])
    }

    /// Moves document `doc` from `old` to `new` (nil: not held), touching only what differs.
    /// Readers hold copies of the index, so every write copies the array, set or posting list it
    /// lands in: an order, which changes a product's sales, must not rewrite its terms, sets and
    /// every field (at 1,000,000 products that copied tens of megabytes a change).
    ///
    /// The search text and title are compared byte for byte: `String`'s `==` holds for
    /// canonically equivalent texts (金 and its compatibility ideograph), whose bytes, scalars and
    /// so terms differ.
    private mutating func update(_ doc: Int32, from old: IndexedProduct?, to new: IndexedProduct?) {
        guard old != nil || new != nil else { return }
        // A pending document's terms are not in `postings` yet: a change to one puts them first.
        if old != nil, let first = firstPending, doc >= first { flushPostings() }
        let i = Int(doc)
        // While the orders are deferred, the postings of a document numbered after every other
        // (a new one, or the last given back) wait to be appended (`pendingPostings`); a removed
        // document given back below others goes in its place at once.
        let fresh = old == nil && !ordered && i == ids.count - 1
        let wasListed = old != nil && listable.contains(i)
        let isListed = new.map(Self.isListable) ?? false
        // Out of the orders whose key changes, while the old keys are in place; back in below.
        var moving: [Order] = []
        if ordered {
            for order in Order.allCases {
                let stays = wasListed && isListed && new.map { key(i, order) == Self.key($0, order) } == true
                if wasListed && !stays { displace(doc, from: order) }
                if isListed && !stays { moving.append(order) }
            }
        }
        if wasListed && !isListed { listable.remove(i) }
        count += (new == nil ? 0 : 1) - (old == nil ? 0 : 1)
        Self.write(&flags, i, new.map { Flag.held | ($0.listed ? Flag.listed : 0) | ($0.merchantActive ? Flag.merchantActive : 0) } ?? 0)
        if let new {
            Self.write(&price, i, new.priceFen)
            Self.write(&sales, i, new.sales)
            Self.write(&rating, i, new.merchantRating)
            Self.write(&created, i, new.createdAt)
            Self.write(&expiry, i, new.certificateExpiresAt ?? .min)
        }
        if old?.categoryId != new?.categoryId || old?.topCategoryId != new?.topCategoryId {
            if let old {
                byCategory[old.categoryId]?.remove(i)
                if old.topCategoryId != old.categoryId { byCategory[old.topCategoryId]?.remove(i) }
                byTop[Int(topCategory[i])].remove(i)
            }
            if let new {
                leafCategory[i] = leafNames.number(new.categoryId)
                topCategory[i] = names.number(new.topCategoryId)
                byCategory[new.categoryId, default: DocumentBits()].insert(i)
                if new.topCategoryId != new.categoryId { byCategory[new.topCategoryId, default: DocumentBits()].insert(i) }
                Self.insert(i, Int(topCategory[i]), into: &byTop)
            }
        }
        if old?.countyCode != new?.countyCode {
            if old != nil { byCounty[Int(county[i])].remove(i) }
            if let new {
                county[i] = countyNames.number(new.countyCode)
                Self.insert(i, Int(county[i]), into: &byCounty)
            }
        }
        if old?.labels != new?.labels {
            for label in Set(old?.labels ?? []) { labelNames.find(label).map { byLabel[Int($0)].remove(i) } }
            for label in Set(new?.labels ?? []) { Self.insert(i, Int(labelNames.number(label)), into: &byLabel) }
            labels[i] = new?.labels ?? []
        }
        if let new, old?.merchantName != new.merchantName { merchantOf[i] = merchantNames.number(new.merchantName) }
        if !Self.sameBytes(old?.searchText, new?.searchText) {
            if fresh, let new {
                Self.collect(doc, IndexTerms.occurrences(new.searchText), into: &pendingPostings)
                firstPending = firstPending ?? doc
            } else {
                Self.move(doc, in: &postings, from: old?.searchText, to: new?.searchText, documents: ids.count)
            }
            if let new { searchTexts.set(i, new.searchText) } else { searchTexts.clear(i) }
        }
        if !Self.sameBytes(old?.title, new?.title) {
            if fresh, let new {
                Self.collect(doc, IndexTerms.occurrences(new.title), into: &pendingTitlePostings)
                firstPending = firstPending ?? doc
            } else {
                Self.move(doc, in: &titlePostings, from: old?.title, to: new?.title, documents: ids.count)
            }
            if let new { titleTexts.set(i, new.title) } else { titleTexts.clear(i) }
        }
        if !Self.sameBytes(old?.searchText, new?.searchText) || !Self.sameBytes(old?.title, new?.title) {
            Self.write(&titleEnds, i, new.map(Self.titleEnd) ?? -1)
        }
        if isListed && !wasListed { listable.insert(i) }
        for order in moving { place(doc, in: order) }
    }

    /// The title's length in bytes when the search text begins with the title and then a line
    /// break or its end, as `ProductStore.searchText` makes it (normalized, a title's lower case
    /// could differ in context, so each is checked); -1 otherwise. A query's piece holds no line
    /// break, so an occurrence starting before that length lies in the title.
    static func titleEnd(_ product: IndexedProduct) -> Int32 {
        let title = product.title.utf8, text = product.searchText.utf8
        guard text.starts(with: title) else { return -1 }
        let rest = text.dropFirst(title.count)
        guard rest.first == nil || rest.first == 0x0A else { return -1 }
        return Int32(clamping: title.count)
    }

    private static func sameBytes(_ a: String?, _ b: String?) -> Bool {
        switch (a, b) {
        case (nil, nil): true
        case (let a?, let b?): a.utf8.elementsEqual(b.utf8)
        default: false
        }
    }

    /// Writes `value` unless it is there already (a write to an array a reader shares copies it).
    private static func write<T: Equatable>(_ array: inout [T], _ i: Int, _ value: T) {
        if array[i] != value { array[i] = value }
    }

    /// Moves `doc` from the postings of `old`'s terms to those of `new`'s, leaving the terms both
    /// hold alone (the two sorted term lists merged in one pass).
    private static func move(_ doc: Int32, in postings: inout Postings, from old: String?, to new: String?, documents: Int) {
        let before = old.map(IndexTerms.document) ?? [], after = new.map(IndexTerms.document) ?? []
        var (b, a) = (0, 0)
        while b < before.count || a < after.count {
            if a == after.count || (b < before.count && before[b] < after[a]) {
                postings.remove(doc, before[b])
                b += 1
            } else if b == before.count || after[a] < before[b] {
                postings.insert(doc, after[a], documents: documents)
                a += 1
            } else {
                (b, a) = (b + 1, a + 1)
            }
        }
    }

    private static func collect(_ doc: Int32, _ terms: [UInt64], into pending: inout PendingPostings) {
        pending.terms.append(contentsOf: terms)
        pending.docs.append(contentsOf: repeatElement(doc, count: terms.count))
    }

    /// Moves the pending postings into `postings` and `titlePostings`, each term's documents in
    /// one append, keeping the pending storage for the next chunk of a build.
    mutating func flushPostings() {
        guard firstPending != nil else { return }
        Self.flush(&pendingPostings, into: &postings, documents: ids.count)
        Self.flush(&pendingTitlePostings, into: &titlePostings, documents: ids.count)
        firstPending = nil
    }

    /// Flushes, lets the pending storage go and settles each term's form (a build or a bulk batch
    /// is over: `sortOrders`, `apply`).
    mutating func endPending() {
        flushPostings()
        (pendingPostings, pendingTitlePostings) = (PendingPostings(), PendingPostings())
        postings.settle(documents: ids.count)
        titlePostings.settle(documents: ids.count)
    }

    /// Groups the pairs by term (a counting sort over the terms in order of first sight, so each
    /// term's documents keep the order they came in, a document's repeats side by side) and
    /// appends each group to its term (`Postings.append`), once per document.
    private static func flush(_ pending: inout PendingPostings, into postings: inout Postings, documents: Int) {
        var table = TermSlots(expected: pending.terms.count / 4)
        var counts: [Int] = []
        var slotOf: [Int32] = []
        slotOf.reserveCapacity(pending.terms.count)
        for term in pending.terms {
            let slot = table.slot(term)
            if slot == counts.count { counts.append(0) }
            counts[slot] += 1
            slotOf.append(Int32(truncatingIfNeeded: slot))
        }
        var starts = [0]
        starts.reserveCapacity(counts.count + 1)
        for count in counts { starts.append((starts.last ?? 0) + count) }
        var next = starts
        var grouped = [Int32](repeating: 0, count: pending.docs.count)
        for (pair, slot32) in slotOf.enumerated() {
            let slot = Int(slot32), doc = pending.docs[pair]
            // The term's last document so far: the same one again is a repeat within its text.
            if next[slot] > starts[slot] && grouped[next[slot] - 1] == doc { continue }
            grouped[next[slot]] = doc
            next[slot] += 1
        }
        for (slot, term) in table.terms.enumerated() {
            postings.append(grouped[starts[slot]..<next[slot]], term, documents: documents)
        }
        pending.terms.removeAll(keepingCapacity: true)
        pending.docs.removeAll(keepingCapacity: true)
    }

    /// Adds `doc` to the set numbered `number`, making the sets up to it.
    private static func insert(_ doc: Int, _ number: Int, into sets: inout [DocumentBits]) {
        while sets.count <= number { sets.append(DocumentBits()) }
        sets[number].insert(doc)
    }

    /// The first 16 UTF-8 bytes of an id as two big-endian numbers (zero-padded), which order as
    /// the ids do whenever two keys differ. Sixteen, not eight: an id's first ten characters are
    /// its creation time (`IDGenerator`), so eight bytes told apart only ids made in different
    /// seconds, and the many products a seed or an import makes in one second tied on the key
    /// and were compared as whole strings.
    struct IDKey: Hashable, Comparable, Sendable {
        var high: UInt64
        var low: UInt64

        static func < (a: IDKey, b: IDKey) -> Bool { a.high != b.high ? a.high < b.high : a.low < b.low }
    }

    static func idPrefix(_ id: String) -> IDKey {
        var words: (UInt64, UInt64) = (0, 0)
        var taken = 0
        for byte in id.utf8.prefix(16) {
            if taken < 8 { words.0 |= UInt64(byte) << UInt64(56 - 8 * taken) } else { words.1 |= UInt64(byte) << UInt64(120 - 8 * taken) }
            taken += 1
        }
        return IDKey(high: words.0, low: words.1)
    }
}
