import NIOCore

extension JSONValue {
    /// Appends this value as compact JSON to `buffer`, as JavaScript's `JSON.stringify` writes it.
    ///
    /// Strings escape only `"`, `\` and control characters (`\b \f \n \r \t` short forms, others `\u00xx`) and
    /// keep non-ASCII as UTF-8. Numbers follow `Number.prototype.toString`: `1.0` → `1`, `1e21` → `1e+21`,
    /// `0.0000001` → `1e-7`, NaN and ±infinity → `null` (one deliberate difference: an integral double between
    /// 2^53 and 2^63 prints its exact digits, which JavaScript parses to the same number). Binary values are
    /// written as Node.js writes a `Buffer`, `{"type":"Buffer","data":[…]}` (packets use placeholders instead; see
    /// ``SocketPacketEncoder``).
    public func writeJSON(into buffer: inout ByteBuffer) {
        var writer = JSONWriter(binaryStrategy: .nodeBuffer)
        writer.write(self, into: &buffer)
    }

    /// This value as compact JSON in a new buffer (see ``writeJSON(into:)``).
    public func jsonBytes(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var writer = JSONWriter(binaryStrategy: .nodeBuffer)
        let measure = writer.measure(self)
        var buffer = allocator.buffer(capacity: measure.bound)
        writer.write(self, into: &buffer, bound: measure.bound)
        return buffer
    }

    /// This value as a compact JSON string (see ``writeJSON(into:)``).
    public func jsonString() -> String {
        String(buffer: self.jsonBytes())
    }
}

/// Writes JSON into a ByteBuffer in two passes: one computes an upper bound of the output size (and counts the
/// binary values), the other writes through a raw pointer into space reserved once, so no per-token capacity or
/// uniqueness checks are paid.
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

    /// The longest text a finite double can take in JavaScript's layout (`-0.000001234567890123456`-like: 25).
    static let maxDoubleLength = 26
    static let maxIntLength = 20
    static let placeholderPrefix: StaticString = "{\"_placeholder\":true,\"num\":"
    static let nodeBufferPrefix: StaticString = "{\"type\":\"Buffer\",\"data\":["

    /// An upper bound of the serialized size, and the number of binary values.
    func measure(_ value: JSONValue) -> (bound: Int, binaries: Int) {
        var bound = 0
        var binaries = 0
        self.measure(value, bound: &bound, binaries: &binaries)
        return (bound, binaries)
    }

    private func measure(_ value: JSONValue, bound: inout Int, binaries: inout Int) {
        switch value {
        case .null, .bool: bound += 5
        case .int: bound += Self.maxIntLength
        case .double: bound += Self.maxDoubleLength
        case .string(let string): bound += Self.measureString(string)
        case .binary(let bytes):
            binaries += 1
            switch self.binaryStrategy {
            case .placeholders: bound += Self.placeholderPrefix.utf8CodeUnitCount + Self.maxIntLength + 1
            case .nodeBuffer: bound += Self.nodeBufferPrefix.utf8CodeUnitCount + 2 + bytes.readableBytes * 4
            case .base64: bound += 2 + (bytes.readableBytes + 2) / 3 * 4
            }
        case .array(let array):
            bound += 2 + array.count
            for element in array { self.measure(element, bound: &bound, binaries: &binaries) }
        case .object(let object):
            bound += 2 + object.count * 2
            for entry in object._entries {
                bound += Self.measureString(entry.key)
                self.measure(entry.value, bound: &bound, binaries: &binaries)
            }
        }
    }

    /// The exact quoted and escaped length of `string`.
    private static func measureString(_ string: String) -> Int {
        let utf8 = string.utf8
        let extra: Int? = utf8.withContiguousStorageIfAvailable { bytes in
            var extra = 0
            for byte in bytes where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                extra += Self.escapeLength(byte) - 1
            }
            return extra
        }
        if let extra { return utf8.count + 2 + extra }
        var slow = 0
        for byte in utf8 where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
            slow += Self.escapeLength(byte) - 1
        }
        return utf8.count + 2 + slow
    }

    @inline(__always)
    private static func escapeLength(_ byte: UInt8) -> Int {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x08, 0x0C, 0x0A, 0x0D, 0x09: 2
        default: 6
        }
    }

    /// Appends `value`, measuring it first.
    mutating func write(_ value: JSONValue, into buffer: inout ByteBuffer) {
        self.write(value, into: &buffer, bound: self.measure(value).bound)
    }

    /// Appends `value` given an upper bound from ``measure(_:)``.
    mutating func write(_ value: JSONValue, into buffer: inout ByteBuffer, bound: Int) {
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { raw in
            var cursor = Cursor(raw.baseAddress!)
            self.write(value, cursor: &cursor)
            let written = raw.baseAddress!.distance(to: cursor.pointer)
            assert(written <= bound, "JSON size bound \(bound) exceeded: \(written)")
            return written
        }
    }

    private mutating func write(_ value: JSONValue, cursor: inout Cursor) {
        switch value {
        case .null:
            cursor.write("null")
        case .bool(let bool):
            cursor.write(bool ? "true" : "false")
        case .int(let int):
            cursor.writeDecimal(int)
        case .double(let double):
            cursor.writeJavaScriptNumber(double)
        case .string(let string):
            cursor.writeJSONString(string)
        case .array(let array):
            cursor.write(UInt8(ascii: "["))
            var first = true
            for element in array {
                if !first { cursor.write(UInt8(ascii: ",")) }
                first = false
                self.write(element, cursor: &cursor)
            }
            cursor.write(UInt8(ascii: "]"))
        case .object(let object):
            cursor.write(UInt8(ascii: "{"))
            var first = true
            for entry in object._entries {
                if !first { cursor.write(UInt8(ascii: ",")) }
                first = false
                cursor.writeJSONString(entry.key)
                cursor.write(UInt8(ascii: ":"))
                self.write(entry.value, cursor: &cursor)
            }
            cursor.write(UInt8(ascii: "}"))
        case .binary(let bytes):
            switch self.binaryStrategy {
            case .placeholders:
                cursor.write(Self.placeholderPrefix)
                cursor.writeDecimal(self.attachments.count)
                cursor.write(UInt8(ascii: "}"))
                self.attachments.append(bytes)
            case .nodeBuffer:
                cursor.write(Self.nodeBufferPrefix)
                var first = true
                for byte in bytes.readableBytesView {
                    if !first { cursor.write(UInt8(ascii: ",")) }
                    first = false
                    cursor.writeDecimal(Int(byte))
                }
                cursor.write("]}")
            case .base64:
                cursor.write(UInt8(ascii: "\""))
                cursor.writeBase64(bytes.readableBytesView)
                cursor.write(UInt8(ascii: "\""))
            }
        }
    }
}

/// A write position in memory reserved beforehand; every write trusts the bound computed by the caller.
internal struct Cursor {
    var pointer: UnsafeMutableRawPointer

    init(_ pointer: UnsafeMutableRawPointer) {
        self.pointer = pointer
    }

    @inline(__always)
    mutating func write(_ byte: UInt8) {
        self.pointer.storeBytes(of: byte, as: UInt8.self)
        self.pointer += 1
    }

    @inline(__always)
    mutating func write(_ text: StaticString) {
        self.pointer.copyMemory(from: text.utf8Start, byteCount: text.utf8CodeUnitCount)
        self.pointer += text.utf8CodeUnitCount
    }

    @inline(__always)
    mutating func write(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        self.pointer.copyMemory(from: base, byteCount: bytes.count)
        self.pointer += bytes.count
    }

    @inline(__always)
    mutating func writeRepeating(_ byte: UInt8, count: Int) {
        guard count > 0 else { return }
        self.pointer.initializeMemory(as: UInt8.self, repeating: byte, count: count)
        self.pointer += count
    }

    /// Decimal ASCII, at most 20 bytes.
    mutating func writeDecimal(_ value: Int) {
        if value >= 0, value < 10 {
            self.write(UInt8(truncatingIfNeeded: value) &+ UInt8(ascii: "0"))
            return
        }
        var magnitude = value.magnitude
        var length = 1
        var probe = magnitude
        while probe >= 10 {
            probe /= 10
            length += 1
        }
        if value < 0 {
            self.write(UInt8(ascii: "-"))
        }
        var position = length
        repeat {
            position -= 1
            (self.pointer + position).storeBytes(
                of: UInt8(truncatingIfNeeded: magnitude % 10) &+ UInt8(ascii: "0"),
                as: UInt8.self
            )
            magnitude /= 10
        } while magnitude != 0
        self.pointer += length
    }

    /// A double as JavaScript's `Number.prototype.toString` writes it (`null` for NaN and infinities), at most
    /// ``JSONWriter/maxDoubleLength`` bytes.
    mutating func writeJavaScriptNumber(_ value: Double) {
        guard value.isFinite else {
            self.write("null")
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
        // into JavaScript's layout. At most 17 significant digits.
        var description = value.magnitude.description
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { digits in
            var count = 0
            var pointPosition = 0
            var exponent = 0
            var sawPoint = false
            var inExponent = false
            var exponentNegative = false
            description.withUTF8 { utf8 in
                for byte in utf8 {
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
                    } else if count < digits.count {
                        digits[count] = byte
                        count += 1
                        if !sawPoint { pointPosition += 1 }
                    }
                }
            }
            pointPosition += exponentNegative ? -exponent : exponent
            // Strip leading zeros (each moves the point left) and trailing zeros.
            var first = 0
            while first < count - 1, digits[first] == UInt8(ascii: "0") {
                first += 1
                pointPosition -= 1
            }
            var last = count
            while last > first + 1, digits[last - 1] == UInt8(ascii: "0") { last -= 1 }
            let significant = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(digits)[first..<last])
            let k = significant.count
            let n = pointPosition

            if value < 0 { self.write(UInt8(ascii: "-")) }
            if k <= n, n <= 21 {
                self.write(significant)
                self.writeRepeating(UInt8(ascii: "0"), count: n - k)
            } else if 0 < n, n <= 21 {
                self.write(UnsafeRawBufferPointer(rebasing: significant[0..<n]))
                self.write(UInt8(ascii: "."))
                self.write(UnsafeRawBufferPointer(rebasing: significant[n...]))
            } else if -6 < n, n <= 0 {
                self.write("0.")
                self.writeRepeating(UInt8(ascii: "0"), count: -n)
                self.write(significant)
            } else {
                self.write(significant[0])
                if k > 1 {
                    self.write(UInt8(ascii: "."))
                    self.write(UnsafeRawBufferPointer(rebasing: significant[1...]))
                }
                self.write(UInt8(ascii: "e"))
                let e = n - 1
                self.write(e >= 0 ? UInt8(ascii: "+") : UInt8(ascii: "-"))
                self.writeDecimal(abs(e))
            }
        }
    }

    /// `string` quoted and escaped like `JSON.stringify`.
    mutating func writeJSONString(_ string: String) {
        let done: Void? = string.utf8.withContiguousStorageIfAvailable { utf8 in
            self.writeJSONString(utf8: UnsafeRawBufferPointer(utf8))
        }
        if done == nil {
            let copy = Array(string.utf8)
            copy.withUnsafeBytes { self.writeJSONString(utf8: $0) }
        }
    }

    private mutating func writeJSONString(utf8: UnsafeRawBufferPointer) {
        self.write(UInt8(ascii: "\""))
        var runStart = 0
        for index in 0..<utf8.count {
            let byte = utf8[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            self.write(UnsafeRawBufferPointer(rebasing: utf8[runStart..<index]))
            runStart = index + 1
            switch byte {
            case UInt8(ascii: "\""): self.write("\\\"")
            case UInt8(ascii: "\\"): self.write("\\\\")
            case 0x08: self.write("\\b")
            case 0x0C: self.write("\\f")
            case 0x0A: self.write("\\n")
            case 0x0D: self.write("\\r")
            case 0x09: self.write("\\t")
            default:
                let hex: StaticString = "0123456789abcdef"
                self.write("\\u00")
                self.write(hex.utf8Start[Int(byte >> 4)])
                self.write(hex.utf8Start[Int(byte & 0x0F)])
            }
        }
        self.write(UnsafeRawBufferPointer(rebasing: utf8[runStart..<utf8.count]))
        self.write(UInt8(ascii: "\""))
    }

    /// Standard base64 with padding.
    mutating func writeBase64(_ bytes: ByteBufferView) {
        let table = ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/" as StaticString).utf8Start
        var iterator = bytes.makeIterator()
        while let b0 = iterator.next() {
            let b1 = iterator.next()
            let b2 = iterator.next()
            self.write(table[Int(b0 >> 2)])
            self.write(table[Int((b0 & 0x03) << 4 | (b1 ?? 0) >> 4)])
            self.write(b1.map { table[Int(($0 & 0x0F) << 2 | (b2 ?? 0) >> 6)] } ?? UInt8(ascii: "="))
            self.write(b2.map { table[Int($0 & 0x3F)] } ?? UInt8(ascii: "="))
        }
    }
}

extension ByteBuffer {
    /// Writes `value` in decimal ASCII without allocating.
    internal mutating func writeDecimal(_ value: Int) {
        self.writeWithUnsafeMutableBytes(minimumWritableBytes: JSONWriter.maxIntLength) { raw in
            var cursor = Cursor(raw.baseAddress!)
            cursor.writeDecimal(value)
            return raw.baseAddress!.distance(to: cursor.pointer)
        }
    }
}
