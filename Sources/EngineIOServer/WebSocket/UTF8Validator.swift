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
        var remaining = self.remaining
        var lower = self.lower
        var upper = self.upper
        defer {
            self.remaining = remaining
            self.lower = lower
            self.upper = upper
        }
        for byte in bytes {
            if remaining == 0 {
                switch byte {
                case 0x00...0x7F:
                    continue
                case 0xC2...0xDF:
                    remaining = 1
                    (lower, upper) = (0x80, 0xBF)
                case 0xE0:
                    remaining = 2
                    (lower, upper) = (0xA0, 0xBF)
                case 0xE1...0xEC, 0xEE...0xEF:
                    remaining = 2
                    (lower, upper) = (0x80, 0xBF)
                case 0xED:
                    remaining = 2
                    (lower, upper) = (0x80, 0x9F)
                case 0xF0:
                    remaining = 3
                    (lower, upper) = (0x90, 0xBF)
                case 0xF1...0xF3:
                    remaining = 3
                    (lower, upper) = (0x80, 0xBF)
                case 0xF4:
                    remaining = 3
                    (lower, upper) = (0x80, 0x8F)
                default:
                    return false
                }
            } else {
                guard byte >= lower, byte <= upper else { return false }
                remaining -= 1
                (lower, upper) = (0x80, 0xBF)
            }
        }
        return true
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
