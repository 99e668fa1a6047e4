import NIOCore

/// Standard base64 (RFC 4648 §4, with padding), as Engine.IO's polling transport uses for binary packets.
public enum Base64 {
    @usableFromInline
    static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    @usableFromInline
    static let decodingTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    /// The length of the encoding of `count` bytes.
    @inlinable
    public static func encodedLength(of count: Int) -> Int { ((count + 2) / 3) * 4 }

    /// Appends the base64 encoding of `bytes` to `buffer`.
    @inlinable
    public static func encode<Bytes: Collection>(_ bytes: Bytes, into buffer: inout ByteBuffer) where Bytes.Element == UInt8 {
        let length = encodedLength(of: bytes.count)
        buffer.reserveCapacity(minimumWritableBytes: length)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { output in
            alphabet.withUnsafeBufferPointer { table in
                var out = 0
                var iterator = bytes.makeIterator()
                while let b0 = iterator.next() {
                    let b1 = iterator.next()
                    let b2 = iterator.next()
                    output[out] = table[Int(b0 >> 2)]
                    output[out + 1] = table[Int((b0 & 0x03) << 4 | (b1 ?? 0) >> 4)]
                    output[out + 2] = b1 == nil ? UInt8(ascii: "=") : table[Int(((b1 ?? 0) & 0x0F) << 2 | (b2 ?? 0) >> 6)]
                    output[out + 3] = b2 == nil ? UInt8(ascii: "=") : table[Int((b2 ?? 0) & 0x3F)]
                    out += 4
                }
                return out
            }
        }
    }

    /// The bytes encoded by `encoded`, or nil when it is not valid padded base64.
    @inlinable
    public static func decode<Bytes: Collection>(_ encoded: Bytes) -> ByteBuffer? where Bytes.Element == UInt8 {
        let count = encoded.count
        guard count % 4 == 0 else { return nil }
        var result = ByteBuffer()
        guard count > 0 else { return result }
        let maximum = count / 4 * 3
        var valid = true
        _ = decodingTable.withUnsafeBufferPointer { table in
            result.writeWithUnsafeMutableBytes(minimumWritableBytes: maximum) { output in
                var out = 0
                var index = 0
                var quad: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
                var padding = 0
                for byte in encoded {
                    let value: UInt8
                    if byte == UInt8(ascii: "=") {
                        // padding is allowed only in the last two positions of the input
                        guard index >= count - 2 else { valid = false; return 0 }
                        padding += 1
                        value = 0
                    } else {
                        value = table[Int(byte)]
                        guard value != 0xFF, padding == 0 else { valid = false; return 0 }
                    }
                    switch index & 3 {
                    case 0: quad.0 = value
                    case 1: quad.1 = value
                    case 2: quad.2 = value
                    default:
                        quad.3 = value
                        output[out] = quad.0 << 2 | quad.1 >> 4
                        output[out + 1] = quad.1 << 4 | quad.2 >> 2
                        output[out + 2] = quad.2 << 6 | quad.3
                        out += 3
                    }
                    index += 1
                }
                return out - padding
            }
        }
        return valid ? result : nil
    }
}
