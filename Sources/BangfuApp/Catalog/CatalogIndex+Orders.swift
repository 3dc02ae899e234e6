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
        boundary(in: orders[order.rawValue], from: 0, order, key, idKey, id)
    }

    /// The first place in `list` (sorted in `order`) at or after `start` whose document does not
    /// come before the position.
    private func boundary(in list: [Int32], from start: Int, _ order: Order, _ key: Int64, _ idKey: IDKey, _ id: String) -> Int {
        var (low, high) = (start, list.count)
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
    /// rest); `sortOrders()` makes them again (a bulk `apply` merges its products back instead).
    /// Nothing reads in between: a build sorts before it swaps the index in (a read of deferred
    /// orders asserts, and sorts a copy in release builds).
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

    /// Applies a batch of changes (nil: the product is gone). A small batch moves each product in
    /// each order (a memmove of about half of it): 138 changes took 26–32 ms at 1,000,000
    /// products. A batch of more than `bulk` changes takes its products out of the orders in one
    /// pass, applies the changes with the orders set aside, and merges those that may be on sale
    /// back in, each one's place found by binary search (`merged`): a pass over each order rather
    /// than a move per change, some 30 ms at 1,000,000 products whatever the batch (138 changes
    /// 27–43 ms, 1,000 changes 35–73 ms; Benchmarks/RESULTS.md, tenth pass), hence the bulk
    /// path past about that many. It sorted every order afresh before, 0.54–0.82 s a chunk of
    /// 1,000 at 1,000,000 products: a merchant's suspension held the catalog for over a second.
    mutating func apply(_ changes: [(id: String, product: IndexedProduct?)], bulk over: Int = 128) {
        func change() {
            for (id, product) in changes {
                if let product { upsert(product) } else { remove(id: id) }
            }
        }
        guard ordered && changes.count > over else { return change() }
        var moved = DocumentBits()
        for (id, _) in changes { if let doc = documents[id] { moved.insert(Int(doc)) } }
        let kept = orders.map { order in order.filter { !moved.contains(Int($0)) } }
        deferOrders()
        change()
        endPending()
        var placed: [Int32] = []
        for (id, _) in changes { if let doc = documents[id], listable.contains(Int(doc)) { placed.append(doc) } }
        placed = Array(Set(placed))
        for order in Order.allCases {
            orders[order.rawValue] = merged(kept[order.rawValue], sorted(placed, in: order), in: order)
        }
        ordered = true
    }

    /// What `bangfu check` verifies of the index's own structure, which reads rely on and a
    /// comparison of sampled answers may miss (a walk skips a document that is no candidate):
    /// each order holds exactly the candidates (`listable`), in its order. A sweep, a bulk batch
    /// and single changes each keep it. One pass per order, no sort: as many documents as
    /// candidates, each a candidate, each strictly after the one before (so none twice).
    func structuralProblems() -> [String] {
        guard ordered else { return ["the orders are deferred"] }
        let candidates = listable.count
        return Order.allCases.filter { order in
            let list = orders[order.rawValue]
            guard list.count == candidates else { return true }
            var previous: Int?
            for doc in list {
                let i = Int(doc)
                guard listable.contains(i) else { return true }
                if let previous, !comes(previous, before: key(i, order), idKeys[i], ids[i], in: order) { return true }
                previous = i
            }
            return false
        }.map { "the \($0) order does not hold exactly the candidates in order" }
    }

    /// `kept` and `added` (each sorted in `order`, no document in both) as one list in `order`:
    /// each added document's place is found by binary search from the last one's, and the runs
    /// of `kept` between them are copied whole.
    func merged(_ kept: [Int32], _ added: [Int32], in order: Order) -> [Int32] {
        var result: [Int32] = []
        result.reserveCapacity(kept.count + added.count)
        var from = 0
        for doc in added {
            let i = Int(doc)
            let at = boundary(in: kept, from: from, order, key(i, order), idKeys[i], ids[i])
            result.append(contentsOf: kept[from..<at])
            result.append(doc)
            from = at
        }
        result.append(contentsOf: kept[from...])
        return result
    }
}
