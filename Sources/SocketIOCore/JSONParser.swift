import NIOCore

extension JSONValue {
    /// The default limit on nested arrays/objects when parsing.
    public static let defaultMaxNestingDepth = 64

    /// Parses one JSON text (RFC 8259) from the readable bytes of `buffer`, without consuming them.
    ///
    /// Strict: no comments, no trailing commas, no leading zeros, no NaN/Infinity, only JSON whitespace around
    /// the value, strings must be valid UTF-8 without raw control characters. A lone UTF-16 surrogate written as a
    /// `\uXXXX` escape (which JavaScript's `JSON.stringify` can produce) becomes U+FFFD instead of failing.
    /// Integers that fit `Int` become `.int`; other numbers become `.double` (out-of-range magnitudes become
    /// ±infinity, as in JavaScript). A repeated object key keeps its first position and its last value.
    public init(parsing buffer: ByteBuffer, maxNestingDepth: Int = JSONValue.defaultMaxNestingDepth) throws(JSONParsingError) {
        let result = buffer.withUnsafeReadableBytes { bytes in
            Result { () throws(JSONParsingError) in try JSONValue(parsing: bytes, maxNestingDepth: maxNestingDepth) }
        }
        self = try result.get()
    }

    /// Parses one JSON text from a string's UTF-8 (see ``init(parsing:maxNestingDepth:)-(ByteBuffer,_)``).
    public init(parsing text: String, maxNestingDepth: Int = JSONValue.defaultMaxNestingDepth) throws(JSONParsingError) {
        let result = text.utf8.withContiguousStorageIfAvailable { bytes in
            Result { () throws(JSONParsingError) in
                try JSONValue(parsing: UnsafeRawBufferPointer(bytes), maxNestingDepth: maxNestingDepth)
            }
        }
        if let result {
            self = try result.get()
        } else {
            let bytes = Array(text.utf8)
            let fallback = bytes.withUnsafeBytes { raw in
                Result { () throws(JSONParsingError) in try JSONValue(parsing: raw, maxNestingDepth: maxNestingDepth) }
            }
            self = try fallback.get()
        }
    }

    /// Parses one JSON text from raw UTF-8 bytes (see ``init(parsing:maxNestingDepth:)-(ByteBuffer,_)``).
    public init(parsing bytes: UnsafeRawBufferPointer, maxNestingDepth: Int = JSONValue.defaultMaxNestingDepth) throws(JSONParsingError) {
        var parser = JSONParser(bytes: bytes, maxNestingDepth: maxNestingDepth)
        self = try parser.parseDocument()
    }
}

/// A recursive-descent RFC 8259 parser over a borrowed byte range. Allocates only the values it produces (and a
/// scratch buffer for strings that contain escapes).
internal struct JSONParser {
    private let bytes: UnsafeBufferPointer<UInt8>
    private let maxNestingDepth: Int
    private(set) var offset: Int = 0
    private var depth: Int = 0
    private var scratch: [UInt8] = []

    init(bytes: UnsafeRawBufferPointer, maxNestingDepth: Int) {
        self.bytes = bytes.bindMemory(to: UInt8.self)
        self.maxNestingDepth = maxNestingDepth
    }

    /// One value surrounded by optional whitespace and nothing else.
    mutating func parseDocument() throws(JSONParsingError) -> JSONValue {
        self.skipWhitespace()
        let value = try self.parseValue()
        self.skipWhitespace()
        guard self.offset == self.bytes.count else {
            throw JSONParsingError(.trailingData, at: self.offset, byte: self.bytes[self.offset])
        }
        return value
    }

    @inline(__always)
    private mutating func skipWhitespace() {
        while self.offset < self.bytes.count {
            switch self.bytes[self.offset] {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"):
                self.offset += 1
            default:
                return
            }
        }
    }

    private func unexpected() -> JSONParsingError {
        if self.offset >= self.bytes.count {
            return JSONParsingError(.unexpectedEnd, at: self.offset)
        }
        return JSONParsingError(.unexpectedByte, at: self.offset, byte: self.bytes[self.offset])
    }

    private mutating func parseValue() throws(JSONParsingError) -> JSONValue {
        guard self.offset < self.bytes.count else { throw JSONParsingError(.unexpectedEnd, at: self.offset) }
        switch self.bytes[self.offset] {
        case UInt8(ascii: "\""):
            return .string(try self.parseString())
        case UInt8(ascii: "["):
            return try self.parseArray()
        case UInt8(ascii: "{"):
            return try self.parseObject()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try self.parseNumber()
        case UInt8(ascii: "t"):
            try self.expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try self.expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try self.expectLiteral("null")
            return .null
        default:
            throw self.unexpected()
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONParsingError) {
        let count = literal.utf8CodeUnitCount
        let pointer = literal.utf8Start
        for index in 0..<count {
            guard self.offset < self.bytes.count, self.bytes[self.offset] == pointer[index] else {
                throw self.unexpected()
            }
            self.offset += 1
        }
    }

    private mutating func enterContainer() throws(JSONParsingError) {
        self.depth += 1
        if self.depth > self.maxNestingDepth {
            throw JSONParsingError(.nestingTooDeep, at: self.offset)
        }
        self.offset += 1  // the opening bracket
    }

    private mutating func parseArray() throws(JSONParsingError) -> JSONValue {
        try self.enterContainer()
        var elements: [JSONValue] = []
        self.skipWhitespace()
        if self.offset < self.bytes.count, self.bytes[self.offset] == UInt8(ascii: "]") {
            self.offset += 1
            self.depth -= 1
            return .array(elements)
        }
        // room for a Socket.IO event's name and first arguments at once (appending from empty would
        // allocate twice for two elements)
        elements.reserveCapacity(4)
        while true {
            self.skipWhitespace()
            elements.append(try self.parseValue())
            self.skipWhitespace()
            guard self.offset < self.bytes.count else { throw JSONParsingError(.unexpectedEnd, at: self.offset) }
            let byte = self.bytes[self.offset]
            self.offset += 1
            if byte == UInt8(ascii: ",") { continue }
            if byte == UInt8(ascii: "]") { break }
            self.offset -= 1
            throw self.unexpected()
        }
        self.depth -= 1
        return .array(elements)
    }

    private mutating func parseObject() throws(JSONParsingError) -> JSONValue {
        try self.enterContainer()
        var object = JSONObject()
        self.skipWhitespace()
        if self.offset < self.bytes.count, self.bytes[self.offset] == UInt8(ascii: "}") {
            self.offset += 1
            self.depth -= 1
            return .object(object)
        }
        while true {
            self.skipWhitespace()
            guard self.offset < self.bytes.count, self.bytes[self.offset] == UInt8(ascii: "\"") else {
                throw self.unexpected()
            }
            let key = try self.parseString()
            self.skipWhitespace()
            guard self.offset < self.bytes.count, self.bytes[self.offset] == UInt8(ascii: ":") else {
                throw self.unexpected()
            }
            self.offset += 1
            self.skipWhitespace()
            let value = try self.parseValue()
            if let position = object.index(forKey: key) {
                object.withValue(at: position) { $0 = value }
            } else {
                object.append(key: key, value: value)
            }
            self.skipWhitespace()
            guard self.offset < self.bytes.count else { throw JSONParsingError(.unexpectedEnd, at: self.offset) }
            let byte = self.bytes[self.offset]
            self.offset += 1
            if byte == UInt8(ascii: ",") { continue }
            if byte == UInt8(ascii: "}") { break }
            self.offset -= 1
            throw self.unexpected()
        }
        self.depth -= 1
        return .object(object)
    }

    // MARK: Strings

    /// Parses a string starting at its opening quote.
    private mutating func parseString() throws(JSONParsingError) -> String {
        let start = self.offset + 1
        var index = start
        var highBits: UInt8 = 0
        // Fast path: no escapes. Find the closing quote.
        while index < self.bytes.count {
            let byte = self.bytes[index]
            highBits |= byte
            if byte == UInt8(ascii: "\"") {
                self.offset = index + 1
                let utf8 = UnsafeBufferPointer(rebasing: self.bytes[start..<index])
                if highBits & 0x80 == 0 {
                    return String(decoding: utf8, as: UTF8.self)  // ASCII: nothing to validate
                }
                return try self.makeString(utf8, at: start)
            }
            if byte == UInt8(ascii: "\\") {
                return try self.parseEscapedString(start: start, firstEscape: index)
            }
            if byte < 0x20 {
                throw JSONParsingError(.controlCharacterInString, at: index, byte: byte)
            }
            index += 1
        }
        throw JSONParsingError(.unexpectedEnd, at: index)
    }

    private func makeString(_ utf8: UnsafeBufferPointer<UInt8>, at offset: Int) throws(JSONParsingError) -> String {
        guard let string = String(validatingUTF8Bytes: utf8) else {
            throw JSONParsingError(.invalidUTF8, at: offset)
        }
        return string
    }

    private mutating func parseEscapedString(start: Int, firstEscape: Int) throws(JSONParsingError) -> String {
        self.scratch.removeAll(keepingCapacity: true)
        self.scratch.reserveCapacity(firstEscape - start + 16)
        self.scratch.append(contentsOf: UnsafeBufferPointer(rebasing: self.bytes[start..<firstEscape]))
        var index = firstEscape
        var runStart = index
        while index < self.bytes.count {
            let byte = self.bytes[index]
            if byte == UInt8(ascii: "\"") {
                self.scratch.append(contentsOf: UnsafeBufferPointer(rebasing: self.bytes[runStart..<index]))
                self.offset = index + 1
                let string = self.scratch.withUnsafeBufferPointer { String(validatingUTF8Bytes: $0) }
                guard let string else { throw JSONParsingError(.invalidUTF8, at: start) }
                return string
            }
            if byte < 0x20 {
                throw JSONParsingError(.controlCharacterInString, at: index, byte: byte)
            }
            guard byte == UInt8(ascii: "\\") else {
                index += 1
                continue
            }
            self.scratch.append(contentsOf: UnsafeBufferPointer(rebasing: self.bytes[runStart..<index]))
            guard index + 1 < self.bytes.count else { throw JSONParsingError(.unexpectedEnd, at: index + 1) }
            let escaped = self.bytes[index + 1]
            index += 2
            switch escaped {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"):
                self.scratch.append(escaped)
            case UInt8(ascii: "b"): self.scratch.append(0x08)
            case UInt8(ascii: "f"): self.scratch.append(0x0C)
            case UInt8(ascii: "n"): self.scratch.append(0x0A)
            case UInt8(ascii: "r"): self.scratch.append(0x0D)
            case UInt8(ascii: "t"): self.scratch.append(0x09)
            case UInt8(ascii: "u"):
                let unit = try self.hex4(at: index)
                index += 4
                var scalar: UInt32
                if (0xD800...0xDBFF).contains(unit) {
                    // A high surrogate must be followed by an escaped low surrogate; otherwise it is lone.
                    if index + 6 <= self.bytes.count, self.bytes[index] == UInt8(ascii: "\\"),
                        self.bytes[index + 1] == UInt8(ascii: "u"),
                        let low = try? self.hex4(at: index + 2), (0xDC00...0xDFFF).contains(low)
                    {
                        scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                        index += 6
                    } else {
                        scalar = 0xFFFD
                    }
                } else if (0xDC00...0xDFFF).contains(unit) {
                    scalar = 0xFFFD
                } else {
                    scalar = UInt32(unit)
                }
                self.appendUTF8(scalar)
            default:
                throw JSONParsingError(.invalidEscape, at: index - 2, byte: escaped)
            }
            runStart = index
        }
        throw JSONParsingError(.unexpectedEnd, at: index)
    }

    private func hex4(at index: Int) throws(JSONParsingError) -> UInt16 {
        guard index + 4 <= self.bytes.count else { throw JSONParsingError(.unexpectedEnd, at: self.bytes.count) }
        var value: UInt16 = 0
        for position in index..<(index + 4) {
            let byte = self.bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte &- UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte &- UInt8(ascii: "a") &+ 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte &- UInt8(ascii: "A") &+ 10
            default: throw JSONParsingError(.invalidEscape, at: position, byte: byte)
            }
            value = value << 4 | UInt16(digit)
        }
        return value
    }

    private mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case 0..<0x80:
            self.scratch.append(UInt8(scalar))
        case 0x80..<0x800:
            self.scratch.append(UInt8(0xC0 | (scalar >> 6)))
            self.scratch.append(UInt8(0x80 | (scalar & 0x3F)))
        case 0x800..<0x10000:
            self.scratch.append(UInt8(0xE0 | (scalar >> 12)))
            self.scratch.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            self.scratch.append(UInt8(0x80 | (scalar & 0x3F)))
        default:
            self.scratch.append(UInt8(0xF0 | (scalar >> 18)))
            self.scratch.append(UInt8(0x80 | ((scalar >> 12) & 0x3F)))
            self.scratch.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            self.scratch.append(UInt8(0x80 | (scalar & 0x3F)))
        }
    }

    // MARK: Numbers

    private mutating func parseNumber() throws(JSONParsingError) -> JSONValue {
        let start = self.offset
        var index = start
        let count = self.bytes.count
        var negative = false
        if self.bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        guard index < count else { throw JSONParsingError(.invalidNumber, at: start) }
        var magnitude: UInt64 = 0
        var overflow = false
        let firstDigit = self.bytes[index]
        if firstDigit == UInt8(ascii: "0") {
            index += 1
            if index < count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self.bytes[index]) {
                throw JSONParsingError(.invalidNumber, at: start)  // leading zero
            }
        } else if (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(firstDigit) {
            while index < count {
                let byte = self.bytes[index]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { break }
                if !overflow {
                    let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
                    let (sum, o2) = times10.addingReportingOverflow(UInt64(byte &- UInt8(ascii: "0")))
                    overflow = o1 || o2
                    magnitude = sum
                }
                index += 1
            }
        } else {
            throw JSONParsingError(.invalidNumber, at: start)
        }
        var isInteger = true
        if index < count, self.bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            let digitsStart = index
            while index < count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self.bytes[index]) { index += 1 }
            guard index > digitsStart else { throw JSONParsingError(.invalidNumber, at: start) }
        }
        if index < count, self.bytes[index] | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            index += 1
            if index < count, self.bytes[index] == UInt8(ascii: "+") || self.bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            let digitsStart = index
            while index < count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self.bytes[index]) { index += 1 }
            guard index > digitsStart else { throw JSONParsingError(.invalidNumber, at: start) }
        }
        self.offset = index
        if isInteger, !overflow {
            if negative {
                if magnitude <= UInt64(Int.max) {
                    return .int(-Int(magnitude))
                } else if magnitude == UInt64(Int.max) + 1 {
                    return .int(Int.min)
                }
            } else if magnitude <= UInt64(Int.max) {
                return .int(Int(magnitude))
            }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: self.bytes[start..<index]), as: UTF8.self)
        guard let double = Double(text) else { throw JSONParsingError(.invalidNumber, at: start) }
        return .double(double)
    }
}

extension String {
    /// A string from `bytes` if they are well-formed UTF-8 (no overlong forms, surrogates or values above
    /// U+10FFFF), else nil. A concrete, non-generic check: the standard library's generic
    /// `String(validating:as:)` costs a metadata lookup per call on this path.
    init?(validatingUTF8Bytes bytes: UnsafeBufferPointer<UInt8>) {
        guard isWellFormedUTF8(bytes) else { return nil }
        self = String(decoding: bytes, as: UTF8.self)
    }
}

/// Whether `bytes` are well-formed UTF-8 (RFC 3629, Unicode table 3-7).
internal func isWellFormedUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    var index = 0
    let count = bytes.count
    @inline(__always) func continuation(_ position: Int, _ range: ClosedRange<UInt8> = 0x80...0xBF) -> Bool {
        position < count && range.contains(bytes[position])
    }
    while index < count {
        let lead = bytes[index]
        switch lead {
        case 0x00...0x7F:
            index += 1
        case 0xC2...0xDF:
            guard continuation(index + 1) else { return false }
            index += 2
        case 0xE0:
            guard continuation(index + 1, 0xA0...0xBF), continuation(index + 2) else { return false }
            index += 3
        case 0xE1...0xEC, 0xEE...0xEF:
            guard continuation(index + 1), continuation(index + 2) else { return false }
            index += 3
        case 0xED:
            guard continuation(index + 1, 0x80...0x9F), continuation(index + 2) else { return false }
            index += 3
        case 0xF0:
            guard continuation(index + 1, 0x90...0xBF), continuation(index + 2), continuation(index + 3) else {
                return false
            }
            index += 4
        case 0xF1...0xF3:
            guard continuation(index + 1), continuation(index + 2), continuation(index + 3) else { return false }
            index += 4
        case 0xF4:
            guard continuation(index + 1, 0x80...0x8F), continuation(index + 2), continuation(index + 3) else {
                return false
            }
            index += 4
        default:
            return false
        }
    }
    return true
}
