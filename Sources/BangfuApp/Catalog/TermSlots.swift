/// Numbers the distinct terms of one flush in order of first sight (`CatalogIndex.flush`): an
/// open-addressing table with a multiplicative hash. A flush looks up some sixty terms a product,
/// and the standard dictionary's SipHash was a third of the flush's time at 1,000,000 products.
///
/// Terms come from merchants' text, so the multiplier is drawn at random for each table: without
/// it, terms chosen to collide could make a build's lookups quadratic.
struct TermSlots {
    private var keys: [UInt64]
    /// The slot of the term at the same place in `keys`, or -1 where that place is empty.
    private var slots: [Int32]
    private var shift: UInt64
    private let multiplier: UInt64
    /// The terms in order of first sight: slot `n` is `terms[n]`.
    private(set) var terms: [UInt64] = []

    init(expected: Int, multiplier: UInt64 = UInt64.random(in: 1...UInt64.max) | 1) {
        var bits: UInt64 = 4
        while (1 << bits) < expected * 2 { bits += 1 }
        keys = Array(repeating: 0, count: 1 << bits)
        slots = Array(repeating: -1, count: 1 << bits)
        shift = 64 - bits
        self.multiplier = multiplier
    }

    /// The slot of `term`, numbering it next if it is new.
    mutating func slot(_ term: UInt64) -> Int {
        // At most half full, so a probe always meets an empty place and ends.
        if terms.count * 2 >= keys.count { grow() }
        let mask = keys.count - 1
        var place = Int(truncatingIfNeeded: (term &* multiplier) >> shift)
        while true {
            let slot = slots[place]
            if slot < 0 {
                keys[place] = term
                slots[place] = Int32(terms.count)
                terms.append(term)
                return terms.count - 1
            }
            if keys[place] == term { return Int(slot) }
            place = (place + 1) & mask
        }
    }

    private mutating func grow() {
        let known = terms
        var bigger = TermSlots(expected: keys.count, multiplier: multiplier)
        for term in known { _ = bigger.slot(term) }
        self = bigger
    }
}
