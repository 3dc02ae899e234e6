/// The products that may be on sale, kept sorted in each order a read walks: every sort but
/// relevance (price ascending walked backwards is price descending), and certificate expiry.
/// Each order is total: its key, then the id (its prefix first), in the order's direction, the
/// same as the SQL's keyset order and `Ranking`.
extension CatalogIndex {
    enum Order: Int, CaseIterable, Sendable {
        case price, created, sales, rating, expiry

        /// Price and expiry ascend; the others descend (newest, best-selling, best-rated first).
        var ascending: Bool { self == .price || self == .expiry }

        init?(_ sort: ProductSort) {
            switch sort {
            case .newest: self = .created
            case .priceAsc, .priceDesc: self = .price
            case .sales: self = .sales
            case .rating: self = .rating
            case .relevance: return nil
            }
        }
    }

    func key(_ doc: Int, _ order: Order) -> Int64 {
        switch order {
        case .price: price[doc]
        case .created: created[doc]
        case .sales: sales[doc]
        case .rating: rating[doc]
        case .expiry: expiry[doc]
        }
    }

    /// The key `product` has in `order`.
    static func key(_ product: IndexedProduct, _ order: Order) -> Int64 {
        switch order {
        case .price: product.priceFen
        case .created: product.createdAt
        case .sales: product.sales
        case .rating: product.merchantRating
        case .expiry: product.certificateExpiresAt ?? .min
        }
    }

    /// Whether document `a` comes before the position (`key`, `idKey`, `id`) in `order`.
    func comes(_ a: Int, before key: Int64, _ idKey: IDKey, _ id: @autoclosure () -> String, in order: Order) -> Bool {
        let own = self.key(a, order)
        if own != key { return order.ascending ? own < key : own > key }
        if idKeys[a] != idKey { return order.ascending ? idKeys[a] < idKey : idKeys[a] > idKey }
        return order.ascending ? ids[a] < id() : ids[a] > id()
    }

    /// The first place in `order` whose document does not come before the position.
    func boundary(_ order: Order, _ key: Int64, _ idKey: IDKey, _ id: String) -> Int {
        let list = orders[order.rawValue]
        var (low, high) = (0, list.count)
        while low < high {
            let mid = (low + high) / 2
            if comes(Int(list[mid]), before: key, idKey, id, in: order) { low = mid + 1 } else { high = mid }
        }
        return low
    }

    mutating func place(_ doc: Int32, in order: Order) {
        let i = Int(doc)
        let at = boundary(order, key(i, order), idKeys[i], ids[i])
        orders[order.rawValue].insert(doc, at: at)
    }

    mutating func displace(_ doc: Int32, from order: Order) {
        let i = Int(doc)
        let at = boundary(order, key(i, order), idKeys[i], ids[i])
        if at < orders[order.rawValue].count, orders[order.rawValue][at] == doc { orders[order.rawValue].remove(at: at) }
    }

    /// Stops keeping the orders while many products are loaded (placing each would move the
    /// rest); `sortOrders()` makes them again. Nothing reads in between: a build sorts before it
    /// swaps the index in (a read of deferred orders asserts, and sorts a copy in release builds).
    mutating func deferOrders() {
        ordered = false
        orders = Array(repeating: [], count: Order.allCases.count)
    }

    /// Sorts every order afresh from `listable` (and puts the postings that waited in place).
    mutating func sortOrders() {
        endPending()
        var docs: [Int32] = []
        docs.reserveCapacity(listable.count)
        listable.forEach { docs.append(Int32($0)) }
        for order in Order.allCases { orders[order.rawValue] = sorted(docs, in: order) }
        ordered = true
    }

    /// `docs` in `order`. Each document's key and id prefix are copied beside it first, so the
    /// sort compares entries of one array rather than reading three arrays at random for every
    /// comparison (a third of the time these sorts took at 1,000,000 products went to those
    /// reads); a tie on both goes to the whole id, as `comes` does.
    func sorted(_ docs: [Int32], in order: Order) -> [Int32] {
        struct Entry {
            var key: Int64
            var idKey: IDKey
            var doc: Int32
        }
        var entries = docs.map { Entry(key: key(Int($0), order), idKey: idKeys[Int($0)], doc: $0) }
        let ascending = order.ascending
        entries.sort { a, b in
            if a.key != b.key { return ascending ? a.key < b.key : a.key > b.key }
            if a.idKey != b.idKey { return ascending ? a.idKey < b.idKey : a.idKey > b.idKey }
            return ascending ? ids[Int(a.doc)] < ids[Int(b.doc)] : ids[Int(a.doc)] > ids[Int(b.doc)]
        }
        return entries.map(\.doc)
    }

    /// Applies a batch of changes (nil: the product is gone), re-sorting the orders once when the
    /// batch has more than `bulk` changes rather than moving them for each product. A change
    /// moves about half of each of five orders (a memmove, some 10 ns a kilobyte); a sort compares
    /// n log n times through a closure (some 10 ns each): the sort pays past roughly 500 changes,
    /// whatever the catalog's size. (A feed chunk holds at most 1,000.)
    mutating func apply(_ changes: [(id: String, product: IndexedProduct?)], bulk over: Int = 512) {
        let bulk = ordered && changes.count > over
        if bulk { deferOrders() }
        for (id, product) in changes {
            if let product { upsert(product) } else { remove(id: id) }
        }
        if bulk { sortOrders() }
    }
}
