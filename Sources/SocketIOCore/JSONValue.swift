import NIOCore

/// A JSON value as carried by Socket.IO event arguments, acks and handshake payloads, plus binary data.
///
/// `.binary` holds a binary attachment (a Node.js `Buffer`/`ArrayBuffer`, python `bytes`) anywhere inside the
/// arguments: the packet encoder replaces each one with a `{"_placeholder":true,"num":i}` object and sends the
/// bytes as separate attachments, and the decoder puts them back.
///
/// Numbers: integers that fit `Int` are `.int`, everything else is `.double`. Equality and hashing compare numbers
/// by value as JavaScript does, so `.int(1) == .double(1.0)`; NaN is equal to itself so that `Hashable` holds.
public enum JSONValue: Sendable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// An integer that fits `Int`.
    case int(Int)
    /// Any other number (fractions, exponents, integers too large for `Int`).
    case double(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object, in key insertion order.
    case object(JSONObject)
    /// Binary data, sent as a Socket.IO binary attachment.
    case binary(ByteBuffer)
}

extension JSONValue {
    /// A binary value holding a copy of `bytes`.
    public static func binary(bytes: some Sequence<UInt8>) -> JSONValue {
        var buffer = ByteBuffer()
        buffer.writeBytes(bytes)
        return .binary(buffer)
    }

    /// Whether this is `null`.
    @inlinable
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The boolean, if this is one.
    @inlinable
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The integer, if this is an `.int` or an integral `.double` that fits `Int`.
    @inlinable
    public var intValue: Int? {
        switch self {
        case .int(let value): return value
        case .double(let value): return Int(exactly: value)
        default: return nil
        }
    }

    /// The number as a `Double`, if this is a number.
    @inlinable
    public var doubleValue: Double? {
        switch self {
        case .int(let value): return Double(value)
        case .double(let value): return value
        default: return nil
        }
    }

    /// The string, if this is one.
    @inlinable
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The elements, if this is an array.
    @inlinable
    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The object, if this is one.
    @inlinable
    public var objectValue: JSONObject? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// The bytes, if this is binary.
    @inlinable
    public var binaryValue: ByteBuffer? {
        if case .binary(let value) = self { return value }
        return nil
    }

    /// The value for `key` if this is an object that has it, else nil.
    ///
    /// Setting changes one entry in place, so nested values read like JavaScript's property chains:
    /// `socket.data["user"]?["name"] = "bob"`. Setting nil removes the key; setting a key of `null` makes an
    /// object holding it; setting a key of any other value does nothing (as with a JavaScript primitive).
    @inlinable
    public subscript(key: String) -> JSONValue? {
        get {
            if case .object(let object) = self { return object[key] }
            return nil
        }
        set {
            switch self {
            case .object(var object):
                self = .null  // the object's storage stays uniquely referenced while it changes
                object[key] = newValue
                self = .object(object)
            case .null:
                if let newValue { self = .object([key: newValue]) }
            default:
                break
            }
        }
    }

    /// The element at `index` if this is an array and the index is in range, else nil.
    ///
    /// Setting replaces an element in range (`socket.data["tags"]?[0] = "new"`); setting nil, or an index out
    /// of range, or an element of something that is not an array, does nothing.
    @inlinable
    public subscript(index: Int) -> JSONValue? {
        get {
            if case .array(let array) = self, array.indices.contains(index) { return array[index] }
            return nil
        }
        set {
            guard case .array(var array) = self, array.indices.contains(index), let newValue else { return }
            self = .null
            array[index] = newValue
            self = .array(array)
        }
    }

    /// Whether a `.binary` value appears anywhere inside this value.
    public var containsBinary: Bool {
        switch self {
        case .binary: return true
        case .array(let array): return array.contains { $0.containsBinary }
        case .object(let object): return object._entries.contains { $0.value.containsBinary }
        default: return false
        }
    }
}

extension JSONValue: Hashable {
    /// Structural equality; numbers compare by value (`.int(1) == .double(1)`), NaN equals NaN.
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.double(let a), .double(let b)): return a == b || (a.isNaN && b.isNaN)
        case (.int(let a), .double(let b)), (.double(let b), .int(let a)): return Int(exactly: b) == a
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)): return a == b
        case (.binary(let a), .binary(let b)): return a == b
        default: return false
        }
    }

    /// Hash consistent with `==`.
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null:
            hasher.combine(0 as UInt8)
        case .bool(let value):
            hasher.combine(1 as UInt8)
            hasher.combine(value)
        case .int(let value):
            hasher.combine(2 as UInt8)
            hasher.combine(value)
        case .double(let value):
            if let integer = Int(exactly: value) {
                hasher.combine(2 as UInt8)
                hasher.combine(integer)
            } else {
                hasher.combine(3 as UInt8)
                hasher.combine(value.isNaN ? Double.nan.bitPattern : value.bitPattern)
            }
        case .string(let value):
            hasher.combine(4 as UInt8)
            hasher.combine(value)
        case .array(let value):
            hasher.combine(5 as UInt8)
            hasher.combine(value)
        case .object(let value):
            hasher.combine(6 as UInt8)
            hasher.combine(value)
        case .binary(let value):
            hasher.combine(7 as UInt8)
            hasher.combine(value)
        }
    }
}

extension JSONValue: ExpressibleByNilLiteral {
    /// `nil` is `null`.
    public init(nilLiteral: ()) { self = .null }
}

extension JSONValue: ExpressibleByBooleanLiteral {
    /// A boolean literal.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension JSONValue: ExpressibleByIntegerLiteral {
    /// An integer literal.
    public init(integerLiteral value: Int) { self = .int(value) }
}

extension JSONValue: ExpressibleByFloatLiteral {
    /// A floating-point literal.
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension JSONValue: ExpressibleByStringLiteral {
    /// A string literal.
    public init(stringLiteral value: String) { self = .string(value) }
}

extension JSONValue: ExpressibleByStringInterpolation {
    /// An interpolated string literal: `["error": "no auction \(id)"]`.
    public init(stringInterpolation: DefaultStringInterpolation) {
        self = .string(String(stringInterpolation: stringInterpolation))
    }
}

extension JSONValue: ExpressibleByArrayLiteral {
    /// An array literal.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
}

extension JSONValue: ExpressibleByDictionaryLiteral {
    /// An object literal, keeping the literal's key order.
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(JSONObject(elements)) }
}

extension JSONValue: CustomStringConvertible {
    /// Compact JSON as `JSON.stringify` writes it; binary values appear as Node.js writes a `Buffer`
    /// (`{"type":"Buffer","data":[1,2]}`).
    public var description: String { self.jsonString() }
}
