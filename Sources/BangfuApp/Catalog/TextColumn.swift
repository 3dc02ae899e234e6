/// Every document's text (UTF-8) by document number, in byte buffers of 4,096 documents each. A
/// search checks the text of each of its candidates in document order: from a shared buffer that
/// is a read onward in memory, where an array per document was a cache miss per candidate (at
/// 1,000,000 products, 200,000 candidates of "5kg", most of the search's time). It also saves
/// each array's header.
///
/// Readers hold copies of the index while the feed changes it, so a change copies what it
/// writes: one chunk here (some hundreds of kilobytes), never every text. A text equal to the one
/// held (a change of stock or price) writes nothing. A text no longer than the one it replaces is
/// written in its place; a longer one is appended to its chunk and the old bytes left unused,
/// until they outweigh the used ones and the chunk is written afresh.
struct TextColumn: Sendable {
    static let chunkShift = 12
    private static let chunkMask = (1 << chunkShift) - 1
    private var chunks: [Chunk] = []
    /// Unused bytes a chunk tolerates before it is written afresh (besides outweighing the used).
    private let slack: Int

    init(slack: Int = 1 << 12) { self.slack = slack }

    /// Sets the text of `doc`, numbering documents up to it (with empty texts) if it is new.
    mutating func set(_ doc: Int, _ text: String) {
        guard doc >= 0 else { return }
        let chunk = doc >> Self.chunkShift
        while chunks.count <= chunk { chunks.append(Chunk()) }
        var text = text
        text.withUTF8 { chunks[chunk].set(doc & Self.chunkMask, UnsafeRawBufferPointer($0), slack: slack) }
    }

    /// Forgets the text of `doc` (a removed product).
    mutating func clear(_ doc: Int) {
        let chunk = doc >> Self.chunkShift
        guard doc >= 0, chunk < chunks.count else { return }
        chunks[chunk].set(doc & Self.chunkMask, UnsafeRawBufferPointer(start: nil, count: 0), slack: slack)
    }

    func string(_ doc: Int) -> String {
        let chunk = doc >> Self.chunkShift
        guard doc >= 0, chunk < chunks.count else { return "" }
        return chunks[chunk].withText(doc & Self.chunkMask) { String(decoding: $0, as: UTF8.self) }
    }

    /// The documents of `docs` that `admitted` lets through and whose text contains every one of
    /// `needles`.
    func filter(_ docs: [Int32], containing needles: [[UInt8]], where admitted: (Int32) -> Bool = { _ in true }) -> [Int32] {
        var found: [Int32] = []
        forEachText(of: docs) { doc, text in
            // A document the column never held has no text to contain anything, not even "".
            guard doc >= 0, Int(doc) >> Self.chunkShift < chunks.count, admitted(doc) else { return }
            if needles.allSatisfy({ needle in needle.withUnsafeBytes { CatalogIndex.contains(text, $0) } }) { found.append(doc) }
        }
        return found
    }

    /// Calls `body` with each document of `docs` (in their order) and its text; a document past
    /// the column reads as empty. A run of documents in one chunk takes the chunk's buffers once,
    /// rather than each document taking them again.
    func forEachText(of docs: [Int32], _ body: (Int32, UnsafeRawBufferPointer) -> Void) {
        var at = 0
        while at < docs.count {
            let chunk = Int(docs[at]) >> Self.chunkShift
            var end = at + 1
            while end < docs.count && Int(docs[end]) >> Self.chunkShift == chunk { end += 1 }
            if docs[at] >= 0 && chunk < chunks.count {
                chunks[chunk].withTexts { text in
                    for i in at..<end { body(docs[i], text(Int(docs[i]) & Self.chunkMask)) }
                }
            } else {
                for i in at..<end { body(docs[i], UnsafeRawBufferPointer(start: nil, count: 0)) }
            }
            at = end
        }
    }

    /// Bytes held, used or not (tests watch chunks being written afresh).
    var storedBytes: Int { chunks.reduce(0) { $0 + $1.bytes.count } }

    /// The texts of up to 4,096 documents, numbered from 0 within the chunk.
    private struct Chunk: Sendable {
        var bytes: [UInt8] = []
        var starts: [Int] = []
        var lengths: [Int] = []
        var unused = 0

        mutating func set(_ doc: Int, _ text: UnsafeRawBufferPointer, slack: Int) {
            while starts.count <= doc {
                starts.append(bytes.count)
                lengths.append(0)
            }
            let old = lengths[doc]
            if old == text.count && withText(doc, { $0.elementsEqual(text) }) { return }
            if text.count <= old {
                let start = starts[doc]
                bytes.withUnsafeMutableBytes { bytes in
                    UnsafeMutableRawBufferPointer(rebasing: bytes[start..<start + text.count]).copyMemory(from: text)
                }
                unused += old - text.count
            } else {
                unused += old
                starts[doc] = bytes.count
                bytes.append(contentsOf: text)
            }
            lengths[doc] = text.count
            if unused > slack && unused > bytes.count / 2 { compact() }
        }

        /// `body` given a lookup of a document's text (empty past the chunk's documents).
        func withTexts<Result>(_ body: ((Int) -> UnsafeRawBufferPointer) -> Result) -> Result {
            bytes.withUnsafeBytes { bytes in
                starts.withUnsafeBufferPointer { starts in
                    lengths.withUnsafeBufferPointer { lengths in
                        body { doc in
                            guard starts.indices.contains(doc) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
                            return UnsafeRawBufferPointer(rebasing: bytes[starts[doc]..<starts[doc] + lengths[doc]])
                        }
                    }
                }
            }
        }

        func withText<Result>(_ doc: Int, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
            bytes.withUnsafeBytes { bytes in
                guard starts.indices.contains(doc) else { return body(UnsafeRawBufferPointer(rebasing: bytes[0..<0])) }
                return body(UnsafeRawBufferPointer(rebasing: bytes[starts[doc]..<starts[doc] + lengths[doc]]))
            }
        }

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
}
