#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore

// Codable bridging goes through Foundation's JSONEncoder/JSONDecoder: it is a convenience for user types,
// off the packet codec's hot path (which never touches Foundation).

extension JSONValue {
    /// Converts any `Encodable` value to a `JSONValue` by encoding it to JSON with `encoder` and parsing the result.
    ///
    /// `Data` properties follow the encoder's `dataEncodingStrategy` (base64 strings by default): they do **not**
    /// become binary attachments. To send bytes as a Socket.IO attachment, put a ``JSONValue/binary(_:)`` value in
    /// the arguments yourself.
    public init(encoding value: some Encodable, using encoder: JSONEncoder = JSONEncoder()) throws {
        let data = try encoder.encode(value)
        self = try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) throws -> JSONValue in
            try JSONValue(parsing: bytes, maxNestingDepth: .max)
        }
    }

    /// Encodes each of `values` with `encoder`, in order: the arguments of an event or acknowledgement.
    public static func encodingEach<each T: Encodable>(_ values: repeat each T, using encoder: JSONEncoder = JSONEncoder()) throws -> [JSONValue] {
        var arguments: [JSONValue] = []
        for value in repeat each values {
            arguments.append(try JSONValue(encoding: value, using: encoder))
        }
        return arguments
    }

    /// Decodes a `Decodable` type from this value with `decoder`.
    ///
    /// Binary values are presented to the decoder as base64 strings, so a `Data` property decodes from a received
    /// attachment with the default `dataDecodingStrategy`. Integers and doubles decode as the decoder allows
    /// (`1` decodes as `Double`, `1.5` does not decode as `Int`).
    public func decode<T: Decodable>(_ type: T.Type = T.self, using decoder: JSONDecoder = JSONDecoder()) throws -> T {
        var buffer = ByteBuffer()
        var writer = JSONWriter(binaryStrategy: .base64)
        writer.write(self, into: &buffer)
        let data = Data(buffer.readableBytesView)
        return try decoder.decode(T.self, from: data)
    }
}

/// A coding key for arbitrary object keys.
private struct JSONValueCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension JSONValue: Codable {
    /// Decodes any JSON-shaped value. Object key order follows the decoder's `allKeys`, which Foundation does not
    /// promise to be the document order.
    public init(from decoder: any Decoder) throws {
        if let container = try? decoder.container(keyedBy: JSONValueCodingKey.self) {
            var object = JSONObject(minimumCapacity: container.allKeys.count)
            for key in container.allKeys {
                object[key.stringValue] = try container.decode(JSONValue.self, forKey: key)
            }
            self = .object(object)
            return
        }
        if var container = try? decoder.unkeyedContainer() {
            var array: [JSONValue] = []
            if let count = container.count { array.reserveCapacity(count) }
            while !container.isAtEnd {
                array.append(try container.decode(JSONValue.self))
            }
            self = .array(array)
            return
        }
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let bool = try? container.decode(Bool.self) {
            self = .bool(bool)
        } else if let int = try? container.decode(Int.self) {
            self = .int(int)
        } else if let double = try? container.decode(Double.self) {
            self = .double(double)
        } else if let string = try? container.decode(String.self) {
            self = .string(string)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "Not a JSON value")
        }
    }

    /// Encodes the value; binary values are encoded as `Data` (base64 strings with JSONEncoder's default).
    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .null:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        case .bool(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .int(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .double(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .string(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .binary(let value):
            var container = encoder.singleValueContainer()
            try container.encode(Data(value.readableBytesView))
        case .array(let array):
            var container = encoder.unkeyedContainer()
            for element in array { try container.encode(element) }
        case .object(let object):
            var container = encoder.container(keyedBy: JSONValueCodingKey.self)
            for (key, value) in object {
                try container.encode(value, forKey: JSONValueCodingKey(stringValue: key))
            }
        }
    }
}
