import NIOCore

extension JSONValue {
    /// Appends this value as compact JSON to `buffer`, as JavaScript's `JSON.stringify` writes it.
    ///
    /// Strings escape only `"`, `\` and control characters (`\b \f \n \r \t` short forms, others `\u00xx`) and
    /// keep non-ASCII as UTF-8. Numbers follow `Number.prototype.toString`: `1.0` → `1`, `1e21` → `1e+21`,
    /// `0.0000001` → `1e-7`, NaN and ±infinity → `null` (one deliberate difference: an integral double between
    /// 2^53 and 2^63 prints its exact digits, which JavaScript parses to the same number). Binary values are written as Node.js writes a `Buffer`,
    /// `{"type":"Buffer","data":[…]}` (packets use placeholders instead; see ``SocketPacketEncoder``).
    public func writeJSON(into buffer: inout ByteBuffer) {
        var writer = JSONWriter(binaryStrategy: .nodeBuffer)
        writer.write(self, into: &buffer)
    }

    /// This value as compact JSON in a new buffer (see ``writeJSON(into:)``).
    public func jsonBytes(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: self.estimatedJSONSize)
        self.writeJSON(into: &buffer)
        return buffer
    }

    /// This value as a compact JSON string (see ``writeJSON(into:)``).
    public func jsonString() -> String {
        let buffer = self.jsonBytes()
        return String(buffer: buffer)
    }

    /// A cheap upper-ish estimate of the serialized size, used to reserve capacity once.
    internal var estimatedJSONSize: Int {
        switch self {
        case .null: return 4
        case .bool: return 5
        case .int: return 8
        case .double: return 24
        case .string(let string): return string.utf8.count + 2
        case .binary: return 28
        case .array(let array):
            var total = 2 + array.count
            for element in array { total += element.estimatedJSONSize }
            return total
        case .object(let object):
            var total = 2 + object.count * 4
            for position in 0..<object.count {
                total += object._keys[position].utf8.count + object._values[position].estimatedJSONSize
            }
            return total
        }
    }
}

/// Writes JSON into a ByteBuffer; collects binary values as attachments when asked to.
internal struct JSONWriter {
    enum BinaryStrategy {
        /// `{"_placeholder":true,"num":i}` and the bytes appended to `attachments` (depth-first order).
        case placeholders
        /// `{"type":"Buffer","data":[bytes]}` like Node.js's `Buffer.prototype.toJSON`.
        case nodeBuffer
        /// A base64 string (what Foundation's JSONDecoder expects for `Data`).
        case base64
    }

    let binaryStrategy: BinaryStrategy
    var attachments: [ByteBuffer] = []

    init(binaryStrategy: BinaryStrategy) {
        self.binaryStrategy = binaryStrategy
    }

    mutating func write(_ value: JSONValue, into buffer: inout ByteBuffer) {
        switch value {
        case .null:
            buffer.writeStaticString("null")
        case .bool(let bool):
            buffer.writeStaticString(bool ? "true" : "false")
        case .int(let int):
            buffer.writeDecimal(int)
        case .double(let double):
            buffer.writeJavaScriptNumber(double)
        case .string(let string):
            buffer.writeJSONString(string)
        case .array(let array):
            buffer.writeInteger(UInt8(ascii: "["))
            var first = true
            for element in array {
                if !first { buffer.writeInteger(UInt8(ascii: ",")) }
                first = false
                self.write(element, into: &buffer)
            }
            buffer.writeInteger(UInt8(ascii: "]"))
        case .object(let object):
            buffer.writeInteger(UInt8(ascii: "{"))
            for position in 0..<object.count {
                if position > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
                buffer.writeJSONString(object._keys[position])
                buffer.writeInteger(UInt8(ascii: ":"))
                self.write(object._values[position], into: &buffer)
            }
            buffer.writeInteger(UInt8(ascii: "}"))
        case .binary(let bytes):
            switch self.binaryStrategy {
            case .placeholders:
                buffer.writeStaticString("{\"_placeholder\":true,\"num\":")
                buffer.writeDecimal(self.attachments.count)
                buffer.writeInteger(UInt8(ascii: "}"))
                self.attachments.append(bytes)
            case .nodeBuffer:
                buffer.writeStaticString("{\"type\":\"Buffer\",\"data\":[")
                var first = true
                for byte in bytes.readableBytesView {
                    if !first { buffer.writeInteger(UInt8(ascii: ",")) }
                    first = false
                    buffer.writeDecimal(Int(byte))
                }
                buffer.writeStaticString("]}")
            case .base64:
                buffer.writeInteger(UInt8(ascii: "\""))
                buffer.writeBase64(bytes.readableBytesView)
                buffer.writeInteger(UInt8(ascii: "\""))
            }
        }
    }
}

extension ByteBuffer {
    /// Writes `value` in decimal ASCII without allocating.
    internal mutating func writeDecimal(_ value: Int) {
        if value >= 0, value < 10 {
            self.writeInteger(UInt8(truncatingIfNeeded: value) &+ UInt8(ascii: "0"))
            return
        }
        self.writeWithUnsafeMutableBytes(minimumWritableBytes: 20) { target in
            var magnitude = value.magnitude
            var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch on the stack
            return withUnsafeMutableBytes(of: &digits) { scratch in
                var position = scratch.count
                repeat {
                    position -= 1
                    scratch[position] = UInt8(truncatingIfNeeded: magnitude % 10) &+ UInt8(ascii: "0")
                    magnitude /= 10
                } while magnitude != 0
                if value < 0 {
                    position -= 1
                    scratch[position] = UInt8(ascii: "-")
                }
                let length = scratch.count - position
                target.baseAddress!.copyMemory(from: scratch.baseAddress! + position, byteCount: length)
                return length
            }
        }
    }

    /// Writes a double as JavaScript's `Number.prototype.toString` would (`null` for NaN and infinities).
    internal mutating func writeJavaScriptNumber(_ value: Double) {
        guard value.isFinite else {
            self.writeStaticString("null")
            return
        }
        // Integral doubles that fit Int print their exact value. Below 2^53 that is what JavaScript prints; above,
        // JavaScript prints the shortest round-trip digits padded with zeros (1729382256910270464 as
        // 1729382256910270500). Both parse back to the same double, but the exact form also parses back to the
        // same `.int`, so values survive a round trip through this codec.
        if let integer = Int(exactly: value) {
            self.writeDecimal(integer)
            return
        }
        // Swift's description is the shortest representation that round-trips; reshape its digits and exponent
        // into JavaScript's layout.
        var digits: [UInt8] = []
        digits.reserveCapacity(24)
        var pointPosition = 0
        var exponent = 0
        var sawPoint = false
        var inExponent = false
        var exponentNegative = false
        for byte in value.magnitude.description.utf8 {
            if inExponent {
                if byte == UInt8(ascii: "-") {
                    exponentNegative = true
                } else if byte != UInt8(ascii: "+") {
                    exponent = exponent * 10 + Int(byte &- UInt8(ascii: "0"))
                }
            } else if byte == UInt8(ascii: ".") {
                sawPoint = true
            } else if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                inExponent = true
            } else {
                digits.append(byte)
                if !sawPoint { pointPosition += 1 }
            }
        }
        pointPosition += exponentNegative ? -exponent : exponent
        // Strip leading zeros (each moves the point left) and trailing zeros.
        var first = 0
        while first < digits.count - 1, digits[first] == UInt8(ascii: "0") {
            first += 1
            pointPosition -= 1
        }
        var last = digits.count
        while last > first + 1, digits[last - 1] == UInt8(ascii: "0") { last -= 1 }
        let significant = digits[first..<last]
        let k = significant.count
        let n = pointPosition

        if value < 0 { self.writeInteger(UInt8(ascii: "-")) }
        if k <= n, n <= 21 {
            self.writeBytes(significant)
            self.writeRepeatingByte(UInt8(ascii: "0"), count: n - k)
        } else if 0 < n, n <= 21 {
            self.writeBytes(significant.prefix(n))
            self.writeInteger(UInt8(ascii: "."))
            self.writeBytes(significant.dropFirst(n))
        } else if -6 < n, n <= 0 {
            self.writeStaticString("0.")
            self.writeRepeatingByte(UInt8(ascii: "0"), count: -n)
            self.writeBytes(significant)
        } else {
            self.writeInteger(significant[significant.startIndex])
            if k > 1 {
                self.writeInteger(UInt8(ascii: "."))
                self.writeBytes(significant.dropFirst())
            }
            self.writeInteger(UInt8(ascii: "e"))
            let e = n - 1
            self.writeInteger(e >= 0 ? UInt8(ascii: "+") : UInt8(ascii: "-"))
            self.writeDecimal(abs(e))
        }
    }

    /// Writes `string` as a quoted JSON string, escaping like `JSON.stringify`.
    internal mutating func writeJSONString(_ string: String) {
        let done: Void? = string.utf8.withContiguousStorageIfAvailable { utf8 in
            self.writeJSONString(utf8: utf8, original: string)
        }
        if done == nil {
            let copy = Array(string.utf8)
            copy.withUnsafeBufferPointer { self.writeJSONString(utf8: $0, original: nil) }
        }
    }

    private mutating func writeJSONString(utf8: UnsafeBufferPointer<UInt8>, original: String?) {
        self.reserveCapacity(minimumWritableBytes: utf8.count + 2)
        self.writeInteger(UInt8(ascii: "\""))
        var runStart = 0
        for index in 0..<utf8.count {
            let byte = utf8[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            if index > runStart {
                self.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(utf8)[runStart..<index]))
            }
            runStart = index + 1
            switch byte {
            case UInt8(ascii: "\""): self.writeStaticString("\\\"")
            case UInt8(ascii: "\\"): self.writeStaticString("\\\\")
            case 0x08: self.writeStaticString("\\b")
            case 0x0C: self.writeStaticString("\\f")
            case 0x0A: self.writeStaticString("\\n")
            case 0x0D: self.writeStaticString("\\r")
            case 0x09: self.writeStaticString("\\t")
            default:
                let hex: StaticString = "0123456789abcdef"
                self.writeStaticString("\\u00")
                self.writeInteger(hex.utf8Start[Int(byte >> 4)])
                self.writeInteger(hex.utf8Start[Int(byte & 0x0F)])
            }
        }
        if runStart == 0, let original {
            self.writeString(original)
        } else if runStart < utf8.count {
            self.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(utf8)[runStart..<utf8.count]))
        }
        self.writeInteger(UInt8(ascii: "\""))
    }

    /// Writes standard base64 (with padding).
    internal mutating func writeBase64(_ bytes: ByteBufferView) {
        let alphabet: StaticString = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        let table = alphabet.utf8Start
        self.reserveCapacity(minimumWritableBytes: (bytes.count + 2) / 3 * 4)
        var iterator = bytes.makeIterator()
        while let b0 = iterator.next() {
            let b1 = iterator.next()
            let b2 = iterator.next()
            self.writeInteger(table[Int(b0 >> 2)])
            self.writeInteger(table[Int((b0 & 0x03) << 4 | (b1 ?? 0) >> 4)])
            if let b1 {
                self.writeInteger(table[Int((b1 & 0x0F) << 2 | (b2 ?? 0) >> 6)])
            } else {
                self.writeInteger(UInt8(ascii: "="))
            }
            if let b2 {
                self.writeInteger(table[Int(b2 & 0x3F)])
            } else {
                self.writeInteger(UInt8(ascii: "="))
            }
        }
    }
}
