/// A set of document numbers as plain 64-bit words (bit `d % 64` of word `d / 64`), which the
/// catalog index intersects and counts a word at a time: a facet's count is the size of an
/// intersection, with no pass over the documents. Document numbers are the index's own (0 up to
/// its count), never request data.
struct DocumentBits: Sendable {
    private(set) var words: [UInt64] = []

    init() {}

    /// The documents in `docs`, in a set sized for `capacity` documents.
    init(_ docs: some Sequence<Int32>, capacity: Int) {
        words = Array(repeating: 0, count: (max(capacity, 0) + 63) / 64)
        // Set in place, one uniqueness check for all (a search's 200,000 candidates made the
        // check per insert a tenth of its time); any beyond `capacity` grow the set after.
        var beyond: [Int32] = []
        words.withUnsafeMutableBufferPointer { words in
            for doc in docs where doc >= 0 {
                let word = Int(doc) >> 6
                if word < words.count { words[word] |= 1 << UInt64(doc & 63) } else { beyond.append(doc) }
            }
        }
        for doc in beyond { insert(Int(doc)) }
    }

    func contains(_ doc: Int) -> Bool {
        let word = doc >> 6
        return doc >= 0 && word < words.count && words[word] & (1 << UInt64(doc & 63)) != 0
    }

    mutating func insert(_ doc: Int) {
        guard doc >= 0 else { return }
        let word = doc >> 6
        if word >= words.count { words.append(contentsOf: repeatElement(0, count: word - words.count + 1)) }
        words[word] |= 1 << UInt64(doc & 63)
    }

    /// Adds `docs` (a build's next documents): the words are made once, up to the highest, and
    /// the bits set in place.
    mutating func insert(contentsOf docs: some Collection<Int32>) {
        guard let highest = docs.max(), highest >= 0 else { return }
        let needed = Int(highest) >> 6 + 1
        if needed > words.count { words.append(contentsOf: repeatElement(0, count: needed - words.count)) }
        words.withUnsafeMutableBufferPointer { words in
            for doc in docs where doc >= 0 { words[Int(doc) >> 6] |= 1 << UInt64(doc & 63) }
        }
    }

    mutating func remove(_ doc: Int) {
        let word = doc >> 6
        guard doc >= 0, word < words.count else { return }
        words[word] &= ~(1 << UInt64(doc & 63))
    }

    var count: Int {
        words.withUnsafeBufferPointer { words in words.reduce(0) { $0 &+ $1.nonzeroBitCount } }
    }

    var isEmpty: Bool { !words.contains { $0 != 0 } }

    /// Keeps only the documents also in `other`.
    mutating func formIntersection(_ other: DocumentBits) {
        if words.count > other.words.count { words.removeLast(words.count - other.words.count) }
        words.withUnsafeMutableBufferPointer { words in
            other.words.withUnsafeBufferPointer { other in
                for i in words.indices { words[i] &= other[i] }
            }
        }
    }

    /// Takes out the documents in `other`.
    mutating func subtract(_ other: DocumentBits) {
        words.withUnsafeMutableBufferPointer { words in
            other.words.withUnsafeBufferPointer { other in
                for i in 0..<min(words.count, other.count) { words[i] &= ~other[i] }
            }
        }
    }

    /// How many documents are in both sets.
    func intersectionCount(_ other: DocumentBits) -> Int {
        words.withUnsafeBufferPointer { words in
            other.words.withUnsafeBufferPointer { other in
                var total = 0
                for i in 0..<min(words.count, other.count) { total &+= (words[i] & other[i]).nonzeroBitCount }
                return total
            }
        }
    }

    /// Calls `body` with each document, in ascending order.
    @inline(__always)
    func forEach(_ body: (Int) -> Void) {
        words.withUnsafeBufferPointer { words in
            for (i, word) in words.enumerated() {
                var bits = word
                while bits != 0 {
                    body(i << 6 | bits.trailingZeroBitCount)
                    bits &= bits &- 1
                }
            }
        }
    }
}
