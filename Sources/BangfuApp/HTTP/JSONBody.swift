import Foundation
import Hummingbird

extension Request {
    /// Decodes a JSON body (at most 1 MiB) and maps every decoding failure to a problem that names
    /// the field: malformed JSON or invalid UTF-8 is a 400, a missing field, a wrong type or an
    /// out-of-range number is a 422. An empty body decodes as `{}`.
    func decodeJSON<T: Decodable>(_ type: T.Type, context: AppRequestContext) async throws -> T {
        if let contentType = headers[.contentType]?.lowercased() {
            let mediaType = contentType.split(separator: ";").first.map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            if mediaType != "application/json" && !(mediaType?.hasSuffix("+json") ?? false) {
                throw DomainError(
                    .unsupportedMediaType, code: "unsupported_media_type",
                    detail: "send the body as application/json")
            }
        }
        var buffer = try await body.collect(upTo: context.maxUploadSize)
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        return try decodeJSONBytes(type, from: bytes.isEmpty ? Array("{}".utf8) : bytes)
    }
}

func decodeJSONBytes<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
    do {
        return try JSONDecoder().decode(type, from: Data(bytes))
    } catch let error as DecodingError {
        if case .dataCorrupted(let context) = error, context.codingPath.isEmpty,
            let field = outOfRangeNumber(in: bytes)
        {
            // Foundation reports a number it cannot represent at the root; name its field.
            throw DomainError.invalid(field, "must be a whole number within range")
        }
        throw problem(for: error)
    }
}

/// The path of the first number in otherwise valid JSON that is not a whole number within
/// Int64's range (every number in this API is one: fen, counts, basis points).
private func outOfRangeNumber(in bytes: [UInt8]) -> String? {
    guard let root = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) else {
        return nil
    }
    func walk(_ value: Any, _ path: String) -> String? {
        switch value {
        case let object as [String: Any]:
            for key in object.keys.sorted() {
                if let found = walk(object[key]!, path.isEmpty ? key : path + "." + key) { return found }
            }
            return nil
        case let array as [Any]:
            for (index, element) in array.enumerated() {
                if let found = walk(element, path + "[\(index)]") { return found }
            }
            return nil
        case let number as NSNumber:
            let text = number.stringValue
            return Int64(text) == nil ? path : nil
        default:
            return nil
        }
    }
    return walk(root, "")
}

private func fieldPath(_ path: [any CodingKey], _ last: (any CodingKey)? = nil) -> String {
    var parts: [String] = []
    for key in path + (last.map { [$0] } ?? []) {
        if let index = key.intValue {
            parts.append("[\(index)]")
        } else {
            parts.append(parts.isEmpty ? key.stringValue : "." + key.stringValue)
        }
    }
    return parts.joined()
}

private func problem(for error: DecodingError) -> DomainError {
    switch error {
    case .keyNotFound(let key, let context):
        return .invalid(fieldPath(context.codingPath, key), "is required")
    case .valueNotFound(_, let context):
        if context.codingPath.isEmpty { return .badRequest("the body must be a JSON object") }
        return .invalid(fieldPath(context.codingPath), "must not be null")
    case .typeMismatch(let type, let context):
        if context.codingPath.isEmpty { return .badRequest("the body must be a JSON object") }
        return .invalid(fieldPath(context.codingPath), "must be \(describe(type))")
    case .dataCorrupted(let context):
        if context.codingPath.isEmpty { return .badRequest("the body is not valid JSON") }
        return .invalid(fieldPath(context.codingPath), "has an invalid value")
    @unknown default:
        return .badRequest("the body is not valid JSON")
    }
}

private func describe(_ type: Any.Type) -> String {
    switch type {
    case is String.Type: "a string"
    case is Bool.Type: "a boolean"
    case is Int64.Type, is Int.Type, is Int32.Type: "an integer"
    case is [Any].Type: "an array"
    default: "of another type"
    }
}

extension Response {
    /// A JSON response with the given status.
    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        json(bytes: try jsonBytes(value), status: status)
    }

    /// A JSON response of bytes already encoded (a cached page).
    static func json(bytes: ByteBuffer, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: bytes))
    }

    static func jsonBytes<T: Encodable>(_ value: T) throws -> ByteBuffer {
        ByteBuffer(bytes: try JSONEncoder.api.encode(value))
    }
}
