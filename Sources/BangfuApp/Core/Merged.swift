import Foundation

/// One JSON object made of two values side by side: a stored row and what the route adds beside
/// its fields. `Merged(application, ApplicationExtra(reviews: …))` encodes every field of
/// `application` and every field of the extra at the same level, so a row that matches its answer
/// field for field needs no mirror DTO; it decodes the same way (`bangfu certificate verify`
/// reads a certificate's answer as its signed payload and the signature beside it). The two sides
/// never share a key (`MergedTests` checks every answer; `CertificationTests` the decoding).
struct Merged<Base, Extra> {
    var base: Base
    var extra: Extra

    init(_ base: Base, _ extra: Extra) {
        self.base = base
        self.extra = extra
    }
}

extension Merged: Encodable where Base: Encodable, Extra: Encodable {
    func encode(to encoder: any Encoder) throws {
        try base.encode(to: encoder)
        try extra.encode(to: encoder)
    }
}

extension Merged: Decodable where Base: Decodable, Extra: Decodable {
    init(from decoder: any Decoder) throws {
        base = try Base(from: decoder)
        extra = try Extra(from: decoder)
    }
}

extension Merged: Sendable where Base: Sendable, Extra: Sendable {}
