/// The catalog's two hot answers, a page and a product, written straight to JSON bytes: exactly
/// what `JSONEncoder.api` makes of them (keys in the order of their UTF-8 bytes, `/` unescaped,
/// the encoder's string escapes), without the encoder's intermediate tree, which cost 16 % of a
/// listing's CPU. The `Encodable` conformances stay the definition: `CatalogJSONTests` compares
/// the two byte for byte on values with every field set and strings of every escape, so a field
/// added to a DTO and not here fails that test.
struct CatalogJSON {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 8192) { bytes.reserveCapacity(capacity) }

    static func bytes(_ list: CatalogDTO.ListOutput) -> [UInt8] {
        var json = CatalogJSON(capacity: 1024 + list.items.count * 1024)
        json.write(list)
        return json.bytes
    }

    static func bytes(_ product: CatalogDTO.ProductOutput) -> [UInt8] {
        var json = CatalogJSON(capacity: 2048)
        json.write(product)
        return json.bytes
    }

    // MARK: Values

    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func string(_ value: String) {
        bytes.append(0x22)
        var value = value
        value.withUTF8 { utf8 in
            var start = 0
            for (i, byte) in utf8.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5C {
                bytes.append(contentsOf: utf8[start..<i])
                start = i + 1
                switch byte {
                case 0x22: raw(#"\""#)
                case 0x5C: raw(#"\\"#)
                case 0x08: raw(#"\b"#)
                case 0x0C: raw(#"\f"#)
                case 0x0A: raw(#"\n"#)
                case 0x0D: raw(#"\r"#)
                case 0x09: raw(#"\t"#)
                default:
                    raw(#"\u00"#)
                    bytes.append(Self.hex(byte / 16))
                    bytes.append(Self.hex(byte % 16))
                }
            }
            bytes.append(contentsOf: utf8[start...])
        }
        bytes.append(0x22)
    }

    private static func hex(_ digit: UInt8) -> UInt8 { digit < 10 ? 0x30 + digit : 0x61 + digit - 10 }

    mutating func number(_ value: Int64) { bytes.append(contentsOf: String(value).utf8) }

    mutating func bool(_ value: Bool) { value ? raw("true") : raw("false") }

    mutating func optional<T>(_ value: T?, _ write: (inout CatalogJSON, T) -> Void) {
        if let value { write(&self, value) } else { raw("null") }
    }

    mutating func array<T>(_ values: [T], _ write: (inout CatalogJSON, T) -> Void) {
        bytes.append(0x5B)
        for (i, value) in values.enumerated() {
            if i > 0 { bytes.append(0x2C) }
            write(&self, value)
        }
        bytes.append(0x5D)
    }

    // MARK: Answers (keys in sorted order)

    mutating func write(_ list: CatalogDTO.ListOutput) {
        func facet(_ json: inout CatalogJSON, _ count: ProductStore.FacetCount) {
            json.raw(#"{"count":"#)
            json.number(count.count)
            json.raw(#","key":"#)
            json.string(count.key)
            json.raw(#","label":"#)
            json.string(count.label)
            json.raw("}")
        }
        raw(#"{"facets":{"category":"#)
        array(list.facets.category, facet)
        raw(#","county":"#)
        array(list.facets.county, facet)
        raw(#","label":"#)
        array(list.facets.label, facet)
        raw(#"},"items":"#)
        array(list.items) { $0.write($1) }
        raw(#","nextCursor":"#)
        optional(list.nextCursor) { $0.string($1) }
        raw("}")
    }

    mutating func write(_ p: CatalogDTO.ProductOutput) {
        raw(#"{"categoryId":"#)
        string(p.categoryId)
        raw(#","certificate":"#)
        optional(p.certificate) { json, certificate in
            json.raw(#"{"expiresAt":"#)
            json.string(certificate.expiresAt)
            json.raw(#","number":"#)
            json.string(certificate.number)
            json.raw(#","status":"#)
            json.string(certificate.status)
            json.raw("}")
        }
        raw(#","countyName":"#)
        string(p.countyName)
        raw(#","createdAt":"#)
        string(p.createdAt)
        raw(#","description":"#)
        string(p.description)
        raw(#","id":"#)
        string(p.id)
        raw(#","images":"#)
        optional(p.images) { json, images in
            json.array(images) { json, image in
                json.raw(#"{"contentType":"#)
                json.string(image.contentType)
                json.raw(#","createdAt":"#)
                json.string(image.createdAt)
                json.raw(#","id":"#)
                json.string(image.id)
                json.raw(#","size":"#)
                json.number(image.size)
                json.raw(#","url":"#)
                json.string(image.url)
                json.raw("}")
            }
        }
        raw(#","labels":"#)
        array(p.labels) { $0.string($1) }
        raw(#","merchantId":"#)
        string(p.merchantId)
        raw(#","merchantName":"#)
        string(p.merchantName)
        raw(#","netContentGrams":"#)
        optional(p.netContentGrams) { $0.number($1) }
        raw(#","onSale":"#)
        bool(p.onSale)
        raw(#","originCountyCode":"#)
        string(p.originCountyCode)
        raw(#","priceFen":"#)
        number(p.priceFen)
        raw(#","sales":"#)
        number(p.sales)
        raw(#","specification":"#)
        string(p.specification)
        raw(#","status":"#)
        string(p.status.rawValue)
        raw(#","stock":"#)
        number(p.stock)
        raw(#","title":"#)
        string(p.title)
        raw(#","unit":"#)
        string(p.unit)
        raw(#","unitPrice":"#)
        optional(p.unitPrice) { json, price in
            json.raw(#"{"categoryMedianPerKgFen":"#)
            json.optional(price.categoryMedianPerKgFen) { $0.number($1) }
            json.raw(#","perKgFen":"#)
            json.number(price.perKgFen)
            json.raw("}")
        }
        raw(#","updatedAt":"#)
        string(p.updatedAt)
        raw("}")
    }
}
