import NIOCore

/// A pure, incremental RESP2/RESP3 parser over `inout ByteBuffer`, with every length bounded.
///
/// `next(_:)` returns a value and consumes its bytes, or returns nil and consumes nothing when the
/// buffer holds only part of a value; malformed input throws `RedisError`.
public struct RESPParser: Sendable {
    /// Bounds on what the parser accepts.
    public struct Limits: Sendable, Hashable {
        /// The longest bulk string (default 64 MiB).
        public var maxBulkLength: Int
        /// The most elements of one aggregate (default 1 Mi).
        public var maxElements: Int
        /// The deepest nesting of aggregates (default 32).
        public var maxDepth: Int
        /// The longest simple line: simple strings, errors, numbers (default 64 KiB).
        public var maxLineLength: Int

        /// Creates limits; the defaults suit pub/sub traffic.
        public init(maxBulkLength: Int = 64 << 20, maxElements: Int = 1 << 20, maxDepth: Int = 32, maxLineLength: Int = 64 << 10) {
            self.maxBulkLength = maxBulkLength
            self.maxElements = maxElements
            self.maxDepth = maxDepth
            self.maxLineLength = maxLineLength
        }
    }

    /// The limits in force.
    public var limits: Limits

    /// Creates a parser.
    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Parses the next complete value, consuming its bytes; nil (nothing consumed) if incomplete.
    public func next(_ buffer: inout ByteBuffer) throws(RedisError) -> RESPValue? {
        var copy = buffer
        guard let value = try self.parse(&copy, depth: 0) else { return nil }
        buffer = copy
        return value
    }

    private func parse(_ buffer: inout ByteBuffer, depth: Int) throws(RedisError) -> RESPValue? {
        guard let marker = buffer.readInteger(as: UInt8.self) else { return nil }
        switch marker {
        case UInt8(ascii: "+"):
            return try self.line(&buffer).map { .simpleString($0) }
        case UInt8(ascii: "-"), UInt8(ascii: "!"):
            if marker == UInt8(ascii: "!") {
                // RESP3 blob error: `!<len>\r\n<bytes>\r\n`
                guard let bytes = try self.blob(&buffer) else { return nil }
                return .error(bytes.map { String(buffer: $0) } ?? "")
            }
            return try self.line(&buffer).map { .error($0) }
        case UInt8(ascii: ":"):
            guard let text = try self.line(&buffer) else { return nil }
            guard let value = Int64(text) else { throw .protocolError("bad integer \(text.prefix(32))") }
            return .integer(value)
        case UInt8(ascii: "$"), UInt8(ascii: "="):
            // `=` is a RESP3 verbatim string: `txt:` + text.
            guard let bytes = try self.blob(&buffer) else { return nil }
            guard marker == UInt8(ascii: "="), var verbatim = bytes else { return .bulkString(bytes) }
            guard verbatim.readableBytes >= 4 else { throw .protocolError("bad verbatim string") }
            verbatim.moveReaderIndex(forwardBy: 4)
            return .bulkString(verbatim)
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "%"), UInt8(ascii: "|"):
            guard let text = try self.line(&buffer) else { return nil }
            guard let declared = Int(text), declared >= -1 else { throw .protocolError("bad aggregate length \(text.prefix(32))") }
            if declared == -1 { return .array(nil) }
            let isMap = marker == UInt8(ascii: "%") || marker == UInt8(ascii: "|")
            let (count, overflow) = isMap ? declared.multipliedReportingOverflow(by: 2) : (declared, false)
            guard !overflow, count <= self.limits.maxElements else { throw .protocolError("aggregate of \(declared) elements is over the limit") }
            guard depth < self.limits.maxDepth else { throw .protocolError("aggregates nested too deep") }
            var elements: [RESPValue] = []
            elements.reserveCapacity(min(count, 1024))
            for _ in 0..<count {
                guard let element = try self.parse(&buffer, depth: depth + 1) else { return nil }
                elements.append(element)
            }
            if marker == UInt8(ascii: "|") {
                // RESP3 attributes describe the value that follows; skip them.
                return try self.parse(&buffer, depth: depth)
            }
            return .array(elements)
        case UInt8(ascii: "_"):
            guard let text = try self.line(&buffer) else { return nil }
            guard text.isEmpty else { throw .protocolError("bad null") }
            return .bulkString(nil)
        case UInt8(ascii: "#"):
            guard let text = try self.line(&buffer) else { return nil }
            switch text {
            case "t": return .boolean(true)
            case "f": return .boolean(false)
            default: throw .protocolError("bad boolean")
            }
        case UInt8(ascii: ","):
            guard let text = try self.line(&buffer) else { return nil }
            switch text {
            case "inf": return .double(.infinity)
            case "-inf": return .double(-.infinity)
            case "nan": return .double(.nan)
            default:
                guard let value = Double(text) else { throw .protocolError("bad double") }
                return .double(value)
            }
        case UInt8(ascii: "("):
            // RESP3 big number: kept as its decimal text.
            guard let text = try self.line(&buffer) else { return nil }
            guard !text.isEmpty, text.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "-") }) else {
                throw .protocolError("bad big number")
            }
            return .simpleString(text)
        default:
            throw .protocolError("unknown type byte 0x\(String(marker, radix: 16))")
        }
    }

    /// A CRLF-terminated line (without the CRLF), or nil if incomplete.
    private func line(_ buffer: inout ByteBuffer) throws(RedisError) -> String? {
        let view = buffer.readableBytesView
        guard let cr = view.firstIndex(of: UInt8(ascii: "\r")) else {
            if view.count > self.limits.maxLineLength { throw .protocolError("line too long") }
            return nil
        }
        let length = cr - view.startIndex
        if length > self.limits.maxLineLength { throw .protocolError("line too long") }
        guard view.count >= length + 2 else { return nil }
        guard view[cr + 1] == UInt8(ascii: "\n") else { throw .protocolError("CR without LF") }
        let text = buffer.readString(length: length)!
        buffer.moveReaderIndex(forwardBy: 2)
        return text
    }

    /// A length-prefixed blob (`<len>\r\n<bytes>\r\n`); `.some(nil)` for length -1; nil if incomplete.
    private func blob(_ buffer: inout ByteBuffer) throws(RedisError) -> ByteBuffer?? {
        guard let text = try self.line(&buffer) else { return nil }
        guard let length = Int(text), length >= -1 else { throw .protocolError("bad bulk length \(text.prefix(32))") }
        if length == -1 { return .some(nil) }
        guard length <= self.limits.maxBulkLength else { throw .protocolError("bulk string of \(length) bytes is over the limit") }
        guard buffer.readableBytes >= length + 2 else { return nil }
        let bytes = buffer.readSlice(length: length)!
        guard buffer.readInteger(as: UInt16.self) == 0x0D0A else { throw .protocolError("bulk string not terminated by CRLF") }
        return .some(bytes)
    }
}
