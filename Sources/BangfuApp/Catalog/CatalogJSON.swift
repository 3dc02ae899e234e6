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

    /// `{`, the fields `body` writes, `}`.
    mutating func object(_ body: (inout CatalogJSON) -> Void) {
        bytes.append(0x7B)
        body(&self)
        bytes.append(0x7D)
    }

    /// `"name":`, after a comma unless it is the object's first field.
    mutating func key(_ name: StaticString) {
        if bytes.last != 0x7B { bytes.append(0x2C) }
        bytes.append(0x22)
        raw(name)
        raw(#"":"#)
    }

    mutating func field(_ name: StaticString, _ value: String) {
        key(name)
        string(value)
    }

    mutating func field(_ name: StaticString, _ value: Int64) {
        key(name)
        number(value)
    }

    mutating func field(_ name: StaticString, _ value: Int64?) {
        key(name)
        optional(value) { $0.number($1) }
    }

    // MARK: Answers (keys in sorted order)

    mutating func write(_ list: CatalogDTO.ListOutput) {
        func facet(_ json: inout CatalogJSON, _ count: ProductStore.FacetCount) {
            json.object { json in
                json.field("count", count.count)
                json.field("key", count.key)
                json.field("label", count.label)
            }
        }
        object { json in
            json.key("facets")
            json.object { json in
                json.key("category")
                json.array(list.facets.category, facet)
                json.key("county")
                json.array(list.facets.county, facet)
                json.key("label")
                json.array(list.facets.label, facet)
            }
            json.key("items")
            json.array(list.items) { $0.write($1) }
            json.key("nextCursor")
            json.optional(list.nextCursor) { $0.string($1) }
        }
    }

    mutating func write(_ p: CatalogDTO.ProductOutput) {
        object { json in
            json.field("categoryId", p.categoryId)
            json.key("certificate")
            json.optional(p.certificate) { json, certificate in
                json.object { json in
                    json.field("expiresAt", certificate.expiresAt)
                    json.field("number", certificate.number)
                    json.field("status", certificate.status)
                }
            }
            json.field("countyName", p.countyName)
            json.field("createdAt", p.createdAt)
            json.field("description", p.description)
            json.field("id", p.id)
            json.key("images")
            json.optional(p.images) { json, images in
                json.array(images) { json, image in
                    json.object { json in
                        json.field("contentType", image.contentType)
                        json.field("createdAt", image.createdAt)
                        json.field("id", image.id)
                        json.field("size", image.size)
                        json.field("url", image.url)
                    }
                }
            }
            json.key("labels")
            json.array(p.labels) { $0.string($1) }
            json.field("merchantId", p.merchantId)
            json.field("merchantName", p.merchantName)
            json.field("netContentGrams", p.netContentGrams)
            json.key("onSale")
            json.bool(p.onSale)
            json.field("originCountyCode", p.originCountyCode)
            json.field("priceFen", p.priceFen)
            json.field("sales", p.sales)
            json.field("specification", p.specification)
            json.field("status", p.status.rawValue)
            json.field("stock", p.stock)
            json.field("title", p.title)
            json.field("unit", p.unit)
            json.key("unitPrice")
            json.optional(p.unitPrice) { json, price in
                json.object { json in
                    json.field("categoryMedianPerKgFen", price.categoryMedianPerKgFen)
                    json.field("perKgFen", price.perKgFen)
                }
            }
            json.field("updatedAt", p.updatedAt)
        }
    }
}
