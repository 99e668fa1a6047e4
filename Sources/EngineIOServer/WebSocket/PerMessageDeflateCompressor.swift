import CompressNIO
import NIOCore

/// Compresses the outgoing messages of one connection (RFC 7692 section 7.2.1): raw deflate, sync-flushed,
/// with the trailing `00 00 ff ff` removed; the context is kept across messages unless
/// `server_no_context_takeover` was agreed. Confined to one event loop.
final class PerMessageDeflateCompressor {
    private static let tail: [UInt8] = [0x00, 0x00, 0xFF, 0xFF]
    private let configuration: ZlibConfiguration
    private let resetAfterMessage: Bool
    private var zlib: ZlibCompressor?
    private var emptyInput: ByteBuffer

    /// - Parameters:
    ///   - windowBits: the negotiated `server_max_window_bits` (8...15). zlib cannot make raw streams with a
    ///     256-byte window, so 8 compresses with Huffman coding only: no back-references, readable by any window.
    ///   - compressionLevel: zlib level 0...9.
    ///   - memoryLevel: zlib memory level 1...9.
    ///   - noContextTakeover: reset the context after each message.
    init(
        windowBits: Int,
        compressionLevel: Int,
        memoryLevel: Int,
        noContextTakeover: Bool,
        allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) {
        self.configuration = ZlibConfiguration(
            windowSize: Int32(max(windowBits, 9)),
            compressionLevel: Int32(compressionLevel),
            memoryLevel: Int32(memoryLevel),
            strategy: windowBits < 9 ? .huffmanOnly : .default
        )
        self.resetAfterMessage = noContextTakeover
        self.emptyInput = allocator.buffer(capacity: 16)
    }

    /// Compresses one whole message and returns the frame payload (to be sent with RSV1 set).
    func compress(_ message: ByteBuffer, allocator: ByteBufferAllocator) throws(PerMessageDeflateError) -> ByteBuffer {
        let zlib: ZlibCompressor
        if let existing = self.zlib {
            zlib = existing
        } else {
            do {
                zlib = try ZlibCompressor(algorithm: .deflate, configuration: self.configuration)
            } catch {
                throw .internalError
            }
            self.zlib = zlib
        }
        var input = message
        var output = allocator.buffer(capacity: zlib.maxSize(from: input))
        while true {
            do {
                if input.readableBytes > 0 {
                    try zlib.deflate(from: &input, to: &output, flush: .sync)
                } else {
                    try zlib.deflate(from: &self.emptyInput, to: &output, flush: .sync)
                }
                if input.readableBytes == 0 && output.writableBytes > 0 { break }
            } catch let error as CompressNIOError where error == .bufferOverflow {
                // Z_BUF_ERROR: no progress was possible. With input and flush done, the message is complete.
                if input.readableBytes == 0 && output.writableBytes > 0 { break }
            } catch {
                self.zlib = nil
                throw .internalError
            }
            output.reserveCapacity(output.capacity * 2)
        }
        // A sync flush always ends with an empty stored block, 00 00 ff ff; the receiver puts it back.
        if output.readableBytes >= 4, output.readableBytesView.suffix(4).elementsEqual(Self.tail) {
            output.moveWriterIndex(to: output.writerIndex - 4)
        }
        if output.readableBytes == 0 {
            // An empty message after another one: zlib refuses a second sync flush with no input in between,
            // so nothing came out. RFC 7692 7.2.3.6: send a single 0x00 (an empty final block once the
            // receiver appends 00 00 ff ff), or the peer's inflater reads a bogus stored block.
            output.writeInteger(UInt8(0))
        }
        if self.resetAfterMessage {
            // Dropping the stream frees zlib's memory between messages.
            self.zlib = nil
        }
        return output
    }
}
