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
                postings.remove(doc, term, documents: documents)
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
        postings.settle(documents: documents)
        check()
        for term in terms {
            let count = expected[term]?.count ?? 0
            #expect(postings.sets[term] == nil || !Postings.demotes(count, documents: documents), "\(term)")
            #expect(postings.lists[term] == nil || !Postings.promotes(count, documents: documents), "\(term)")
        }
        #expect(postings.holding([UInt64]()).docs.isEmpty)
        #expect(postings.holding([1, 99]).docs.isEmpty)
    }

    /// A word most products hold is a set in the index, not a list of four bytes a product, and
    /// a search for it answers the same.
    @Test func aCommonTermIsHeldAsASetAndFoundTheSame() {
        var index = CatalogIndex()
        index.deferOrders()
        for n in 0..<3_000 {
            let title = n % 2 == 0 ? "五常大米 \(n)" : "东北黑木耳 \(n)"
            index.upsertBuilding(CatalogIndexUnitTests.product(String(format: "p%05d", n), title: title, created: Int64(n)))
        }
        index.sortOrders()
        let rice = Array("大米".unicodeScalars), fungus = Array("木耳".unicodeScalars)
        #expect(index.postings.sets[IndexTerms.bigram(rice[0], rice[1])] != nil)
        #expect(index.postings.lists[IndexTerms.bigram(rice[0], rice[1])] == nil)
        #expect(index.titlePostings.sets[IndexTerms.bigram(fungus[0], fungus[1])] != nil)
        // "12" is held by a few products only: a list.
        #expect(index.postings.lists[IndexTerms.bigram("1", "2")] != nil)
        func found(_ query: String, _ sort: ProductSort) -> Int {
            index.page(CatalogIndex.Query(filter: ProductFilter(query: SearchTerms.query(query)), sort: sort, limit: 5_000), now: 0).count
        }
        for sort in [ProductSort.relevance, .newest] {
            #expect(found("大米", sort) == 1_500)
            #expect(found("五常大米", sort) == 1_500)
            #expect(found("黑木耳", sort) == 1_500)
            #expect(found("米 12", sort) == (0..<3_000).filter { $0 % 2 == 0 && String($0).contains("12") }.count)
        }
    }
}
