import Testing

@testable import BangfuApp

/// The index's postings (`Postings`): lists for rare terms, bit sets for common ones, the same
/// documents either way.
@Suite struct PostingsTests {
    typealias Random = TextColumnTests.Random

    /// Random inserts, removals and appends against a dictionary of sets, with terms from rare to
    /// held by most documents: every term's documents and every intersection agree, whichever form
    /// each term is in, and a settle leaves each term in the form its count calls for.
    @Test func listsAndSetsHoldWhatADictionaryOfSetsHolds() {
        var random = Random(state: 18)
        let documents = 6_000
        // Term t is held by about one document in 2^t: from half of them to a few.
        let terms: [UInt64] = Array(1...12)
        var postings = Postings()
        var expected: [UInt64: Set<Int32>] = [:]
        var next: Int32 = 0
        // A build's appends: new documents, ascending.
        while next < 4_000 {
            let docs = (0..<200).map { next + Int32($0) }
            for term in terms {
                let held = docs.filter { _ in random.next(1 << Int(term)) == 0 }
                postings.append(held[...], term, documents: Int(next) + 200)
                expected[term, default: []].formUnion(held)
            }
            next += 200
        }
        // Then live changes, in any order.
        for _ in 0..<20_000 {
            let doc = Int32(random.next(documents)), term = terms[random.next(terms.count)]
            if random.next(3) == 0 {
                postings.remove(doc, term)
                expected[term]?.remove(doc)
            } else if random.next(1 << Int(term)) < 2 {
                postings.insert(doc, term, documents: documents)
                expected[term, default: []].insert(doc)
            }
        }
        func check() {
            for term in terms { #expect(postings.documents(term) == (expected[term] ?? []).sorted(), "\(term)") }
            for _ in 0..<200 {
                let asked = Set((0..<1 + random.next(3)).map { _ in terms[random.next(terms.count)] })
                let want = asked.map { expected[$0] ?? [] }.reduce(Set(0..<Int32(documents))) { $0.intersection($1) }
                #expect(postings.holding(asked).docs == want.sorted(), "\(asked.sorted())")
                #expect(postings.holding(asked).bits(capacity: documents).count == want.count)
            }
        }
        check()
        #expect(!postings.sets.isEmpty && !postings.lists.isEmpty)
        // Term 2 loses most of its documents: still a set, until a settle makes it a list.
        #expect(postings.sets[1] != nil && postings.sets[2] != nil)
        for doc in (expected[2] ?? []).sorted().dropLast(300) {
            postings.remove(doc, 2)
            expected[2]?.remove(doc)
        }
        #expect(postings.sets[2] != nil)
        // A list, and a set, that lose every document go at once.
        #expect(postings.lists[4] != nil)
        for doc in expected[4] ?? [] { postings.remove(doc, 4) }
        expected[4] = nil
        postings.append((0..<2_000)[...].map { Int32($0 * 3) }[...], 99, documents: documents)
        #expect(postings.sets[99] != nil)
        for doc in 0..<2_000 { postings.remove(Int32(doc * 3), 99) }
        #expect(postings.sets[4] == nil && postings.lists[4] == nil && postings.sets[99] == nil && postings.lists[99] == nil)
        check()
        postings.settle(documents: documents)
        check()
        #expect(postings.lists[2]?.count == 300 && postings.sets[1] != nil)
        for term in terms {
            let count = expected[term]?.count ?? 0
            #expect(postings.sets[term] == nil || !Postings.demotes(count, documents: documents), "\(term)")
            #expect(postings.lists[term] == nil || !Postings.promotes(count, documents: documents), "\(term)")
        }
        #expect(postings.holding([UInt64]()).docs.isEmpty)
        #expect(postings.holding([1, 99]).docs.isEmpty)
    }

    /// A word most products hold is a set in the index, not a list of four bytes a product; a
    /// search finds the same products through retitles and removals, and a batch applied in bulk
    /// makes a term that became rare a list again.
    @Test func aCommonTermIsHeldAsASetAndFoundTheSame() {
        var index = CatalogIndex()
        var titles: [String: String] = [:]
        index.deferOrders()
        for n in 0..<3_000 {
            let id = String(format: "p%05d", n), title = n % 2 == 0 ? "五常大米 \(n)" : "东北黑木耳 \(n)"
            index.upsertBuilding(CatalogIndexUnitTests.product(id, title: title, created: Int64(n)))
            titles[id] = title
        }
        index.sortOrders()
        let rice = IndexTerms.bigram("大", "米"), fungus = IndexTerms.bigram("木", "耳")
        #expect(index.postings.sets[rice] != nil && index.postings.lists[rice] == nil)
        #expect(index.titlePostings.sets[fungus] != nil)
        // "12" is held by a few products only: a list.
        #expect(index.postings.lists[IndexTerms.bigram("1", "2")] != nil)
        func check(_ step: String) {
            for query in ["大米", "五常大米", "黑木耳", "米 12", "耳 3", "木耳耳木", "耳木"] {
                guard let search = SearchTerms.query(query) else { continue }
                let expected = titles.filter { _, title in search.pieces.allSatisfy { title.contains($0) } }.keys
                for sort in [ProductSort.relevance, .newest] {
                    let query = CatalogIndex.Query(filter: ProductFilter(query: search), sort: sort, limit: 5_000)
                    #expect(Set(index.page(query, now: 0).map(\.id)) == Set(expected), "\(step): \(query) \(sort)")
                }
            }
        }
        check("built")
        // Most of the rice is retitled or removed one by one: 大米 is still a set.
        for n in stride(from: 0, to: 2_800, by: 2) {
            let id = String(format: "p%05d", n)
            if n % 4 == 0 {
                index.remove(id: id)
                titles[id] = nil
            } else {
                index.upsert(CatalogIndexUnitTests.product(id, title: "木耳耳木 \(n)", created: Int64(n)))
                titles[id] = "木耳耳木 \(n)"
            }
        }
        #expect(index.postings.sets[rice] != nil)
        check("changed")
        // A batch in bulk settles the terms: the hundred left of 大米 are a list.
        index.apply([("p02800", CatalogIndexUnitTests.product("p02800", title: "木耳", created: 2_800))], bulk: 0)
        titles["p02800"] = "木耳"
        #expect(index.postings.lists[rice]?.count == 99 && index.postings.sets[rice] == nil)
        check("settled")
    }
}
