import Foundation

/// Every document's text (UTF-8) in one byte buffer, by document number. A search checks the
/// text of each of its candidates, in document order: from one buffer that is a read onward in
/// memory, where an array per document was a cache miss per candidate (at 1,000,000 products,
/// 200,000 candidates of "5kg", most of the search's time). It also saves each array's header.
///
/// A text no longer than the one it replaces is written in its place; a longer one is appended
/// and the old bytes left unused, until the unused bytes outweigh the used and the buffer is
/// written afresh.
struct TextColumn: Sendable {
    private var bytes: [UInt8] = []
    private var starts: [Int] = []
    private var lengths: [Int] = []
    private var unused = 0
    /// Unused bytes tolerated before the buffer is written afresh (besides outweighing the used).
    private let slack: Int

    init(slack: Int = 1 << 16) { self.slack = slack }

    /// Documents numbered so far.
    var count: Int { starts.count }

    /// Sets the text of `doc`, numbering documents up to it (with empty texts) if it is new.
    mutating func set(_ doc: Int, _ text: String) {
        while starts.count <= doc {
            starts.append(bytes.count)
            lengths.append(0)
        }
        let length = text.utf8.count
        let old = lengths[doc]
        if length <= old {
            let start = starts[doc]
            bytes.replaceSubrange(start..<start + length, with: text.utf8)
            unused += old - length
        } else {
            unused += old
            starts[doc] = bytes.count
            bytes.append(contentsOf: text.utf8)
        }
        lengths[doc] = length
        if unused > slack && unused > bytes.count / 2 { compact() }
    }

    /// Forgets the text of `doc` (a removed product).
    mutating func clear(_ doc: Int) {
        guard lengths.indices.contains(doc) else { return }
        unused += lengths[doc]
        lengths[doc] = 0
    }

    func string(_ doc: Int) -> String {
        guard lengths.indices.contains(doc) else { return "" }
        return String(decoding: bytes[starts[doc]..<starts[doc] + lengths[doc]], as: UTF8.self)
    }

    /// The documents of `docs` whose text contains every one of `needles`.
    func filter(_ docs: [Int32], containing needles: [[UInt8]], where admitted: (Int32) -> Bool = { _ in true }) -> [Int32] {
        bytes.withUnsafeBytes { buffer in
            docs.filter { doc in
                let i = Int(doc)
                guard starts.indices.contains(i), admitted(doc) else { return false }
                let text = UnsafeRawBufferPointer(rebasing: buffer[starts[i]..<starts[i] + lengths[i]])
                return needles.allSatisfy { needle in needle.withUnsafeBytes { CatalogIndex.contains(text, $0) } }
            }
        }
    }

    /// Bytes held, used or not (tests watch the buffer being written afresh).
    var capacity: Int { bytes.count }

    private mutating func compact() {
        var fresh: [UInt8] = []
        fresh.reserveCapacity(bytes.count - unused)
        for doc in starts.indices {
            let start = starts[doc]
            starts[doc] = fresh.count
            fresh.append(contentsOf: bytes[start..<start + lengths[doc]])
        }
        bytes = fresh
        unused = 0
    }
}
