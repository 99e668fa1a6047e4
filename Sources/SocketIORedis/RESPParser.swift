import NIOCore

/// A pure, incremental RESP2/RESP3 parser over `inout ByteBuffer`, with every length bounded.
///
/// `parseNext(_:)` returns the next value, or nil when the buffer holds only part of it: then it keeps
/// what it parsed and resumes there on the next call, so a large reply arriving in many pieces is parsed
/// once. `next(_:)` is the stateless form (nil consumes nothing, each call starts over). Malformed input
/// throws `RedisError`.
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

    /// Where a value that arrived only in part stopped: the aggregates entered (with the elements parsed so
    /// far), a bulk string whose header was read, and how far the current line was scanned.
    private struct Progress: Sendable {
        struct Frame: Sendable {
            var isAttribute: Bool
            var remaining: Int
            var elements: [RESPValue]
        }

        var frames: [Frame] = []
        /// The type byte and length of a blob whose header was consumed but whose bytes have not all arrived.
        var blob: (marker: UInt8, length: Int)?
        /// Bytes after the type byte of the current line already searched for CR.
        var scanned = 0
    }

    /// The limits in force.
    public var limits: Limits
    private var progress = Progress()
    /// Bytes searched or taken by `parseNext(_:)` so far: a work counter, which stays about the size of
    /// the input however it was split.
    public private(set) var examinedBytes = 0

    /// Creates a parser.
    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Parses the next complete value from the start of `buffer`, consuming its bytes; nil (nothing
    /// consumed) if incomplete. Stateless: each call starts over, so a caller that receives a large value
    /// in many pieces should keep a parser and use `parseNext(_:)`, which resumes.
    public func next(_ buffer: inout ByteBuffer) throws(RedisError) -> RESPValue? {
        var fresh = RESPParser(limits: self.limits)
        var copy = buffer
        guard let value = try fresh.parseNext(&copy) else { return nil }
        buffer = copy
        return value
    }

    /// Parses the next complete value, resuming where the previous call stopped.
    ///
    /// Every call consumes what it could parse; when the value is incomplete it returns nil and keeps the
    /// partial value, so the next call must get the rest of the stream (the bytes left in `buffer` followed
    /// by new ones). Each byte is examined about once however many pieces the value arrives in. After an
    /// error the parser's state is undefined (the connection is to be closed).
    public mutating func parseNext(_ buffer: inout ByteBuffer) throws(RedisError) -> RESPValue? {
        while true {
            guard var value = try self.step(&buffer) else { return nil }
            // Hand the finished value to the aggregates it completes.
            while true {
                guard !self.progress.frames.isEmpty else { return value }
                let top = self.progress.frames.count - 1
                self.progress.frames[top].elements.append(value)
                self.progress.frames[top].remaining -= 1
                guard self.progress.frames[top].remaining == 0 else { break }
                let frame = self.progress.frames.removeLast()
                // RESP3 attributes describe the value that follows; skip them.
                if frame.isAttribute { break }
                value = .array(frame.elements)
            }
        }
    }

    /// One leaf value, or an aggregate entered (nil returned after pushing its frame is handled by the
    /// loop: `step` returns `.none` only when input is missing).
    private mutating func step(_ buffer: inout ByteBuffer) throws(RedisError) -> RESPValue? {
        while true {
            if let blob = self.progress.blob {
                guard buffer.readableBytes >= blob.length + 2 else { return nil }
                self.progress.blob = nil
                self.examinedBytes += blob.length + 2
                let bytes = buffer.readSlice(length: blob.length)!
                guard buffer.readInteger(as: UInt16.self) == 0x0D0A else { throw .protocolError("bulk string not terminated by CRLF") }
                return try Self.blobValue(marker: blob.marker, bytes: bytes)
            }
            guard let marker = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
            guard let text = try self.line(&buffer) else { return nil }
            switch marker {
            case UInt8(ascii: "+"):
                return .simpleString(text)
            case UInt8(ascii: "-"):
                return .error(text)
            case UInt8(ascii: ":"):
                guard let value = Int64(text) else { throw .protocolError("bad integer \(text.prefix(32))") }
                return .integer(value)
            case UInt8(ascii: "$"), UInt8(ascii: "="), UInt8(ascii: "!"):
                guard let length = Int(text), length >= -1 else { throw .protocolError("bad bulk length \(text.prefix(32))") }
                if length == -1 { return marker == UInt8(ascii: "!") ? .error("") : .bulkString(nil) }
                guard length <= self.limits.maxBulkLength else { throw .protocolError("bulk string of \(length) bytes is over the limit") }
                self.progress.blob = (marker, length)
            case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "%"), UInt8(ascii: "|"):
                guard let declared = Int(text), declared >= -1 else { throw .protocolError("bad aggregate length \(text.prefix(32))") }
                if declared == -1 { return .array(nil) }
                let isMap = marker == UInt8(ascii: "%") || marker == UInt8(ascii: "|")
                let (count, overflow) = isMap ? declared.multipliedReportingOverflow(by: 2) : (declared, false)
                guard !overflow, count <= self.limits.maxElements else { throw .protocolError("aggregate of \(declared) elements is over the limit") }
                guard self.progress.frames.count < self.limits.maxDepth else { throw .protocolError("aggregates nested too deep") }
                let isAttribute = marker == UInt8(ascii: "|")
                if count == 0 {
                    if isAttribute { continue }  // an empty attribute: the value follows
                    return .array([])
                }
                var elements: [RESPValue] = []
                elements.reserveCapacity(min(count, 1024))
                self.progress.frames.append(Progress.Frame(isAttribute: isAttribute, remaining: count, elements: elements))
            case UInt8(ascii: "_"):
                guard text.isEmpty else { throw .protocolError("bad null") }
                return .bulkString(nil)
            case UInt8(ascii: "#"):
                switch text {
                case "t": return .boolean(true)
                case "f": return .boolean(false)
                default: throw .protocolError("bad boolean")
                }
            case UInt8(ascii: ","):
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
                guard !text.isEmpty, text.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "-") }) else {
                    throw .protocolError("bad big number")
                }
                return .simpleString(text)
            default:
                throw .protocolError("unknown type byte 0x\(String(marker, radix: 16))")
            }
        }
    }

    private static func blobValue(marker: UInt8, bytes: ByteBuffer) throws(RedisError) -> RESPValue {
        switch marker {
        case UInt8(ascii: "!"):
            // RESP3 blob error: `!<len>\r\n<bytes>\r\n`
            return .error(String(buffer: bytes))
        case UInt8(ascii: "="):
            // RESP3 verbatim string: `txt:` + text.
            guard bytes.readableBytes >= 4 else { throw .protocolError("bad verbatim string") }
            return .bulkString(bytes.getSlice(at: bytes.readerIndex + 4, length: bytes.readableBytes - 4)!)
        default:
            return .bulkString(bytes)
        }
    }

    /// The type byte and the CRLF-terminated line after it (returned without the CRLF), consumed; nil
    /// (nothing consumed) if the line is incomplete, remembering how far it was searched.
    private mutating func line(_ buffer: inout ByteBuffer) throws(RedisError) -> String? {
        let view = buffer.readableBytesView.dropFirst(1)
        let start = view.startIndex + self.progress.scanned
        guard let cr = view[start...].firstIndex(of: UInt8(ascii: "\r")) else {
            self.examinedBytes += view.endIndex - start
            self.progress.scanned = view.count
            if view.count > self.limits.maxLineLength { throw .protocolError("line too long") }
            return nil
        }
        self.examinedBytes += cr - start + 1
        let length = cr - view.startIndex
        if length > self.limits.maxLineLength { throw .protocolError("line too long") }
        self.progress.scanned = length
        guard view.endIndex > cr + 1 else { return nil }
        guard view[cr + 1] == UInt8(ascii: "\n") else { throw .protocolError("CR without LF") }
        self.progress.scanned = 0
        buffer.moveReaderIndex(forwardBy: 1)
        let text = buffer.readString(length: length)!
        buffer.moveReaderIndex(forwardBy: 2)
        return text
    }
}
