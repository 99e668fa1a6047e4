import NIOCore
import SocketIOCore

/// A small, pure MessagePack codec between bytes and `JSONValue`, byte-compatible with `notepack.io`
/// (what `@socket.io/redis-adapter` uses): the shortest int/str/array/map forms, float64 for fractions,
/// `bin` for binary. Decoding accepts every standard format: float32, all int widths, ext type 0
/// (an ArrayBuffer, decoded as binary), fixext type 0 (`undefined`, decoded as null).
public enum MessagePack {
    /// Bounds on what the decoder accepts.
    public struct Limits: Sendable, Hashable {
        /// The deepest nesting of arrays and maps (default 64).
        public var maxDepth: Int
        /// The most elements of one array or map (default 1 Mi).
        public var maxElements: Int

        /// Creates limits.
        public init(maxDepth: Int = 64, maxElements: Int = 1 << 20) {
            self.maxDepth = maxDepth
            self.maxElements = maxElements
        }
    }

    /// Errors of the decoder.
    public struct DecodingError: Error, Hashable, Sendable, CustomStringConvertible {
        /// What is wrong.
        public let detail: String
        /// The offset (from the start of the value) where decoding stopped.
        public let offset: Int

        public var description: String { "MessagePack: \(self.detail) at byte \(self.offset)" }
    }

    // MARK: Encoding

    /// Encodes `value`.
    public static func encode(_ value: JSONValue) -> ByteBuffer {
        var buffer = ByteBuffer()
        self.encode(value, into: &buffer)
        return buffer
    }

    /// Appends the encoding of `value` to `buffer`.
    public static func encode(_ value: JSONValue, into buffer: inout ByteBuffer) {
        switch value {
        case .null:
            buffer.writeInteger(UInt8(0xc0))
        case .bool(let flag):
            buffer.writeInteger(flag ? UInt8(0xc3) : UInt8(0xc2))
        case .int(let number):
            self.encodeInteger(Int64(number), into: &buffer)
        case .double(let number):
            if number.isFinite, number.rounded(.towardZero) == number, let exact = Int64(exactly: number) {
                // notepack writes integral numbers as integers.
                self.encodeInteger(exact, into: &buffer)
            } else {
                buffer.writeInteger(UInt8(0xcb))
                buffer.writeInteger(number.bitPattern)
            }
        case .string(let text):
            let length = text.utf8.count
            if length < 0x20 {
                buffer.writeInteger(UInt8(0xa0 | length))
            } else if length < 0x100 {
                buffer.writeInteger(UInt8(0xd9))
                buffer.writeInteger(UInt8(length))
            } else if length < 0x10000 {
                buffer.writeInteger(UInt8(0xda))
                buffer.writeInteger(UInt16(length))
            } else {
                buffer.writeInteger(UInt8(0xdb))
                buffer.writeInteger(UInt32(truncatingIfNeeded: length))
            }
            buffer.writeString(text)
        case .binary(let bytes):
            let length = bytes.readableBytes
            if length < 0x100 {
                buffer.writeInteger(UInt8(0xc4))
                buffer.writeInteger(UInt8(length))
            } else if length < 0x10000 {
                buffer.writeInteger(UInt8(0xc5))
                buffer.writeInteger(UInt16(length))
            } else {
                buffer.writeInteger(UInt8(0xc6))
                buffer.writeInteger(UInt32(truncatingIfNeeded: length))
            }
            buffer.writeImmutableBuffer(bytes)
        case .array(let elements):
            self.writeHeader(count: elements.count, fix: 0x90, sixteen: 0xdc, thirtyTwo: 0xdd, into: &buffer)
            for element in elements { self.encode(element, into: &buffer) }
        case .object(let object):
            self.writeHeader(count: object.count, fix: 0x80, sixteen: 0xde, thirtyTwo: 0xdf, into: &buffer)
            for (key, element) in object {
                self.encode(.string(key), into: &buffer)
                self.encode(element, into: &buffer)
            }
        }
    }

    private static func writeHeader(count: Int, fix: UInt8, sixteen: UInt8, thirtyTwo: UInt8, into buffer: inout ByteBuffer) {
        if count < 0x10 {
            buffer.writeInteger(fix | UInt8(count))
        } else if count < 0x10000 {
            buffer.writeInteger(sixteen)
            buffer.writeInteger(UInt16(count))
        } else {
            buffer.writeInteger(thirtyTwo)
            buffer.writeInteger(UInt32(truncatingIfNeeded: count))
        }
    }

    private static func encodeInteger(_ value: Int64, into buffer: inout ByteBuffer) {
        if value >= 0 {
            if value < 0x80 {
                buffer.writeInteger(UInt8(value))
            } else if value < 0x100 {
                buffer.writeInteger(UInt8(0xcc))
                buffer.writeInteger(UInt8(value))
            } else if value < 0x10000 {
                buffer.writeInteger(UInt8(0xcd))
                buffer.writeInteger(UInt16(value))
            } else if value < 0x1_0000_0000 {
                buffer.writeInteger(UInt8(0xce))
                buffer.writeInteger(UInt32(value))
            } else {
                buffer.writeInteger(UInt8(0xcf))
                buffer.writeInteger(UInt64(value))
            }
        } else if value >= -0x20 {
            buffer.writeInteger(UInt8(bitPattern: Int8(value)))
        } else if value >= -0x80 {
            buffer.writeInteger(UInt8(0xd0))
            buffer.writeInteger(Int8(value))
        } else if value >= -0x8000 {
            buffer.writeInteger(UInt8(0xd1))
            buffer.writeInteger(Int16(value))
        } else if value >= -0x8000_0000 {
            buffer.writeInteger(UInt8(0xd2))
            buffer.writeInteger(Int32(value))
        } else {
            buffer.writeInteger(UInt8(0xd3))
            buffer.writeInteger(value)
        }
    }

    // MARK: Decoding

    /// Decodes one value that must span all of `bytes`.
    public static func decode(_ bytes: ByteBuffer, limits: Limits = Limits()) throws(DecodingError) -> JSONValue {
        var buffer = bytes
        let start = buffer.readerIndex
        let value = try self.decodeValue(&buffer, start: start, depth: 0, limits: limits)
        guard buffer.readableBytes == 0 else {
            throw DecodingError(detail: "\(buffer.readableBytes) trailing bytes", offset: buffer.readerIndex - start)
        }
        return value
    }

    /// Decodes one value from the front of `buffer`, consuming it.
    public static func decode(from buffer: inout ByteBuffer, limits: Limits = Limits()) throws(DecodingError) -> JSONValue {
        var copy = buffer
        let value = try self.decodeValue(&copy, start: buffer.readerIndex, depth: 0, limits: limits)
        buffer = copy
        return value
    }

    private static func decodeValue(_ buffer: inout ByteBuffer, start: Int, depth: Int, limits: Limits) throws(DecodingError) -> JSONValue {
        func fail(_ detail: String) -> DecodingError { DecodingError(detail: detail, offset: buffer.readerIndex - start) }
        func read<T: FixedWidthInteger>(_ type: T.Type) throws(DecodingError) -> T {
            guard let value = buffer.readInteger(as: T.self) else { throw fail("truncated input") }
            return value
        }
        func readBytes(_ length: Int) throws(DecodingError) -> ByteBuffer {
            guard length >= 0, let slice = buffer.readSlice(length: length) else { throw fail("truncated input") }
            return slice
        }
        func readString(_ length: Int) throws(DecodingError) -> String {
            let bytes = try readBytes(length)
            guard let text = String(validating: bytes.readableBytesView, as: UTF8.self) else { throw fail("invalid UTF-8 in string") }
            return text
        }
        func array(_ count: Int) throws(DecodingError) -> JSONValue {
            guard count <= limits.maxElements else { throw fail("array of \(count) elements is over the limit") }
            guard depth < limits.maxDepth else { throw fail("nested too deep") }
            // Each element takes at least one byte: a count beyond the input is truncated input.
            guard count <= buffer.readableBytes else { throw fail("truncated input") }
            var elements: [JSONValue] = []
            elements.reserveCapacity(count)
            for _ in 0..<count { elements.append(try self.decodeValue(&buffer, start: start, depth: depth + 1, limits: limits)) }
            return .array(elements)
        }
        func map(_ count: Int) throws(DecodingError) -> JSONValue {
            guard count <= limits.maxElements else { throw fail("map of \(count) entries is over the limit") }
            guard depth < limits.maxDepth else { throw fail("nested too deep") }
            guard count <= buffer.readableBytes / 2 else { throw fail("truncated input") }
            var object = JSONObject(minimumCapacity: count)
            for _ in 0..<count {
                let key: String
                switch try self.decodeValue(&buffer, start: start, depth: depth + 1, limits: limits) {
                case .string(let text): key = text
                case .int(let number): key = String(number)
                case .double(let number): key = String(number)
                case .bool(let flag): key = String(flag)
                case .null: key = "null"
                default: throw fail("map key is not a string")
                }
                _ = object.updateValue(try self.decodeValue(&buffer, start: start, depth: depth + 1, limits: limits), forKey: key)
            }
            return .object(object)
        }
        func ext(_ length: Int) throws(DecodingError) -> JSONValue {
            let type = try read(Int8.self)
            let bytes = try readBytes(length)
            switch type {
            case 0: return .binary(bytes)  // notepack's ArrayBuffer
            default: return .array([.int(Int(type)), .binary(bytes)])
            }
        }

        let prefix = try read(UInt8.self)
        switch prefix {
        case 0x00...0x7f: return .int(Int(prefix))
        case 0x80...0x8f: return try map(Int(prefix & 0x0f))
        case 0x90...0x9f: return try array(Int(prefix & 0x0f))
        case 0xa0...0xbf: return .string(try readString(Int(prefix & 0x1f)))
        case 0xe0...0xff: return .int(Int(Int8(bitPattern: prefix)))
        case 0xc0: return .null
        case 0xc2: return .bool(false)
        case 0xc3: return .bool(true)
        case 0xc4: return .binary(try readBytes(Int(try read(UInt8.self))))
        case 0xc5: return .binary(try readBytes(Int(try read(UInt16.self))))
        case 0xc6: return .binary(try readBytes(Int(try read(UInt32.self))))
        case 0xc7: return try ext(Int(try read(UInt8.self)))
        case 0xc8: return try ext(Int(try read(UInt16.self)))
        case 0xc9: return try ext(Int(try read(UInt32.self)))
        case 0xca: return .double(Double(Float(bitPattern: try read(UInt32.self))))
        case 0xcb: return .double(Double(bitPattern: try read(UInt64.self)))
        case 0xcc: return .int(Int(try read(UInt8.self)))
        case 0xcd: return .int(Int(try read(UInt16.self)))
        case 0xce: return .int(Int(try read(UInt32.self)))
        case 0xcf:
            let value = try read(UInt64.self)
            return value <= UInt64(Int.max) ? .int(Int(value)) : .double(Double(value))
        case 0xd0: return .int(Int(try read(Int8.self)))
        case 0xd1: return .int(Int(try read(Int16.self)))
        case 0xd2: return .int(Int(try read(Int32.self)))
        case 0xd3: return .int(Int(try read(Int64.self)))
        case 0xd4:
            // fixext 1; type 0 is notepack's `undefined`.
            let type = try read(Int8.self)
            let bytes = try readBytes(1)
            return type == 0 ? .null : .array([.int(Int(type)), .binary(bytes)])
        case 0xd5, 0xd6, 0xd7, 0xd8:
            let length = 1 << Int(prefix - 0xd4)
            let type = try read(Int8.self)
            let bytes = try readBytes(length)
            if prefix == 0xd7 && type == 0, let millis = bytes.getInteger(at: bytes.readerIndex, as: Int64.self) {
                // notepack's Date: milliseconds since 1970.
                return .int(Int(millis))
            }
            return .array([.int(Int(type)), .binary(bytes)])
        case 0xd9: return .string(try readString(Int(try read(UInt8.self))))
        case 0xda: return .string(try readString(Int(try read(UInt16.self))))
        case 0xdb: return .string(try readString(Int(try read(UInt32.self))))
        case 0xdc: return try array(Int(try read(UInt16.self)))
        case 0xdd: return try array(Int(try read(UInt32.self)))
        case 0xde: return try map(Int(try read(UInt16.self)))
        case 0xdf: return try map(Int(try read(UInt32.self)))
        default:
            throw DecodingError(detail: "unknown format byte 0x\(String(prefix, radix: 16))", offset: buffer.readerIndex - start - 1)
        }
    }
}
