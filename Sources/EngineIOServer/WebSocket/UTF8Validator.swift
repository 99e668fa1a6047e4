import NIOCore

/// An incremental UTF-8 validator (RFC 3629): feed a message piece by piece and learn as early as possible
/// that it cannot be valid, which lets a text message fail fast before it is complete.
struct UTF8Validator {
    /// Continuation bytes still expected for the current code point.
    private var remaining: Int = 0
    /// Allowed range of the next byte (narrower than 0x80...0xBF right after E0, ED, F0 and F4).
    private var lower: UInt8 = 0x80
    private var upper: UInt8 = 0xBF

    /// True when the bytes seen so far end on a code point boundary.
    var isComplete: Bool { self.remaining == 0 }

    /// Feeds `bytes`; returns false as soon as they cannot be the prefix of valid UTF-8.
    mutating func feed<Bytes: Sequence>(_ bytes: Bytes) -> Bool where Bytes.Element == UInt8 {
        for byte in bytes {
            guard self.step(byte) else { return false }
        }
        return true
    }

    /// Feeds raw bytes, skipping runs of ASCII eight bytes at a time.
    mutating func feed(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let count = bytes.count
        var index = 0
        while index < count {
            if self.remaining == 0 {
                while index + 8 <= count,
                    bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 == 0
                {
                    index += 8
                }
                if index == count { break }
            }
            guard self.step(bytes[index]) else { return false }
            index += 1
        }
        return true
    }

    @inline(__always)
    private mutating func step(_ byte: UInt8) -> Bool {
        if self.remaining == 0 {
            switch byte {
            case 0x00...0x7F:
                return true
            case 0xC2...0xDF:
                self.expect(1, 0x80, 0xBF)
            case 0xE0:
                self.expect(2, 0xA0, 0xBF)
            case 0xE1...0xEC, 0xEE...0xEF:
                self.expect(2, 0x80, 0xBF)
            case 0xED:
                self.expect(2, 0x80, 0x9F)
            case 0xF0:
                self.expect(3, 0x90, 0xBF)
            case 0xF1...0xF3:
                self.expect(3, 0x80, 0xBF)
            case 0xF4:
                self.expect(3, 0x80, 0x8F)
            default:
                return false
            }
            return true
        }
        guard byte >= self.lower, byte <= self.upper else { return false }
        self.remaining -= 1
        self.lower = 0x80
        self.upper = 0xBF
        return true
    }

    @inline(__always)
    private mutating func expect(_ remaining: Int, _ lower: UInt8, _ upper: UInt8) {
        self.remaining = remaining
        self.lower = lower
        self.upper = upper
    }

    /// Feeds the readable bytes of `buffer`.
    mutating func feed(_ buffer: ByteBuffer) -> Bool {
        buffer.withUnsafeReadableBytes { self.feed($0) }
    }

    /// Validates a complete byte sequence.
    static func isValid<Bytes: Sequence>(_ bytes: Bytes) -> Bool where Bytes.Element == UInt8 {
        var validator = UTF8Validator()
        return validator.feed(bytes) && validator.isComplete
    }
}
