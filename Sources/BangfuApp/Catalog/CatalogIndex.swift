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

/// The public catalog in memory (issue 18): listing, search, facet counts and every sort answered
/// without scanning the database. Each product has a dense document number; a bit set
/// (`DocumentBits`) per category (leaf and top level), county and label, and one of the products
/// that may be on sale (listed, merchant active, holding a certificate) select candidates;
/// postings of the search terms (`SearchTerms`) find a query's candidates; per-document arrays
/// give the sort keys, and the products that may be on sale are also kept sorted in each order
/// (`Order`): a page walks its order from the cursor, a price range is a slice of the price order,
/// and the certificates lapsed by now are the head of the expiry order. So the clock is compared
/// on every read: expiry hides a product at its instant with nothing to sweep. Pure: no database,
/// no clock of its own.
struct CatalogIndex: Sendable {
    private(set) var ids: [String] = []
    /// The first 8 bytes of each id, big-endian: ids compare by these first (`idPrefix`).
    private(set) var idKeys: [UInt64] = []
    private(set) var documents: [String: Int32] = [:]
    /// Per document: held (a product, not a removed one), listed, merchant active (`Flag`). The
    /// index keeps no copy of the `IndexedProduct`: every field is in one of these arrays once
    /// (`product(_:)` puts it back together), which at 1,000,000 products saves some 400 MB.
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
    /// Documents by search term (`IndexTerms`), each list in document order.
    private(set) var postings: [UInt64: [Int32]] = [:]
    /// Postings of the title's own terms, which relevance ranks by.
    private(set) var titlePostings: [UInt64: [Int32]] = [:]
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
        let doc: Int32
        // The orders whose key the change leaves alone keep their entry where it is (a change of
        // price moves one order, not five).
        var kept: UInt8 = 0
        if let known = documents[product.id] {
            doc = known
            if ordered && listable.contains(Int(known)) && Self.isListable(product) {
                for order in Order.allCases where key(Int(known), order) == Self.key(product, order) { kept |= 1 << order.rawValue }
            }
            unlink(doc, keeping: kept)
        } else {
            doc = Int32(ids.count)
            documents[product.id] = doc
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
        }
        link(product, doc, keeping: kept)
    }

    static func isListable(_ product: IndexedProduct) -> Bool {
        product.listed && product.merchantActive && product.certificateExpiresAt != nil
    }

    /// Forgets the product `id` (a row gone from `products`).
    mutating func remove(id: String) {
        guard let doc = documents[id] else { return }
        unlink(doc, keeping: 0)
        searchTexts.clear(Int(doc))
        titleTexts.clear(Int(doc))
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

    /// `kept`: the orders (bit `rawValue`) where the document stays (`upsert`).
    private mutating func link(_ product: IndexedProduct, _ doc: Int32, keeping kept: UInt8) {
        let i = Int(doc)
        flags[i] = Flag.held | (product.listed ? Flag.listed : 0) | (product.merchantActive ? Flag.merchantActive : 0)
        leafCategory[i] = leafNames.number(product.categoryId)
        labels[i] = product.labels
        count += 1
        price[i] = product.priceFen
        sales[i] = product.sales
        rating[i] = product.merchantRating
        created[i] = product.createdAt
        expiry[i] = product.certificateExpiresAt ?? .min
        topCategory[i] = names.number(product.topCategoryId)
        county[i] = countyNames.number(product.countyCode)
        searchTexts.set(i, product.searchText)
        titleTexts.set(i, product.title)
        merchantOf[i] = merchantNames.number(product.merchantName)
        for category in Set([product.categoryId, product.topCategoryId]) { byCategory[category, default: DocumentBits()].insert(i) }
        Self.insert(i, Int(topCategory[i]), into: &byTop)
        Self.insert(i, Int(county[i]), into: &byCounty)
        for label in Set(product.labels) { Self.insert(i, Int(labelNames.number(label)), into: &byLabel) }
        if Self.isListable(product) {
            listable.insert(i)
            if ordered { for order in Order.allCases where kept & 1 << order.rawValue == 0 { place(doc, in: order) } }
        }
        for term in IndexTerms.document(product.searchText) { Self.insert(doc, into: &postings[term, default: []]) }
        for term in IndexTerms.document(product.title) { Self.insert(doc, into: &titlePostings[term, default: []]) }
    }

    private mutating func unlink(_ doc: Int32, keeping kept: UInt8) {
        let i = Int(doc)
        guard let old = product(doc) else { return }
        flags[i] = 0
        labels[i] = []
        count -= 1
        if ordered && listable.contains(i) {
            for order in Order.allCases where kept & 1 << order.rawValue == 0 { displace(doc, from: order) }
        }
        listable.remove(i)
        for category in Set([old.categoryId, old.topCategoryId]) { byCategory[category]?.remove(i) }
        byTop[Int(topCategory[i])].remove(i)
        byCounty[Int(county[i])].remove(i)
        for label in Set(old.labels) { labelNames.find(label).map { byLabel[Int($0)].remove(i) } }
        for term in IndexTerms.document(old.searchText) {
            Self.remove(doc, from: &postings[term, default: []])
            if postings[term]?.isEmpty == true { postings[term] = nil }
        }
        for term in IndexTerms.document(old.title) {
            Self.remove(doc, from: &titlePostings[term, default: []])
            if titlePostings[term]?.isEmpty == true { titlePostings[term] = nil }
        }
    }

    /// Adds `doc` to the set numbered `number`, making the sets up to it.
    private static func insert(_ doc: Int, _ number: Int, into sets: inout [DocumentBits]) {
        while sets.count <= number { sets.append(DocumentBits()) }
        sets[number].insert(doc)
    }

    /// The first 8 UTF-8 bytes of `id` as a big-endian number (zero-padded), which orders as the
    /// ids do whenever two prefixes differ.
    static func idPrefix(_ id: String) -> UInt64 {
        var key: UInt64 = 0
        var taken = 0
        for byte in id.utf8.prefix(8) {
            key = key << 8 | UInt64(byte)
            taken += 1
        }
        return taken == 8 ? key : key << (8 * UInt64(8 - taken))
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

    private static func remove(_ doc: Int32, from list: inout [Int32]) {
        let at = lowerBound(doc, in: list)
        if at < list.count, list[at] == doc { list.remove(at: at) }
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
