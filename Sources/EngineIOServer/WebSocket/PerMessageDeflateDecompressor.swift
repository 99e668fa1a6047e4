import CompressNIO
import NIOCore

/// Inflates the messages of one connection (RFC 7692 section 7.2.2): raw deflate, each message completed by
/// the `00 00 ff ff` tail the sender stripped, history kept across messages unless the peer resets it.
///
/// Output is bounded: inflating stops with ``PerMessageDeflateError/messageTooLarge`` as soon as a message
/// passes its limit, so a small compressed "bomb" cannot grow memory. Confined to one event loop.
final class PerMessageDeflateDecompressor {
    private static let tail: [UInt8] = [0x00, 0x00, 0xFF, 0xFF]
    private let resetAfterMessage: Bool
    private var zlib: ZlibDecompressor?
    private var emptyInput: ByteBuffer

    /// - Parameter noContextTakeover: the peer resets its context per message, so history can be dropped.
    init(noContextTakeover: Bool, allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        self.resetAfterMessage = noContextTakeover
        // A buffer with storage but nothing readable: zlib wants a valid pointer even for no input.
        self.emptyInput = allocator.buffer(capacity: 16)
    }

    /// Inflates one frame's payload of a compressed message, appending to `output`.
    /// - Parameter limit: the most bytes `output` may hold.
    func inflate(_ input: ByteBuffer, into output: inout ByteBuffer, limit: Int) throws(PerMessageDeflateError) {
        var input = input
        try self.run(&input, into: &output, limit: limit)
    }

    /// Ends a message: inflates the implicit `00 00 ff ff` tail, then resets when there is no context takeover.
    func finishMessage(into output: inout ByteBuffer, limit: Int) throws(PerMessageDeflateError) {
        var tail = ByteBuffer(bytes: Self.tail)
        try self.run(&tail, into: &output, limit: limit)
        if self.resetAfterMessage {
            // Freeing the stream keeps an idle connection small; the next message makes a new one.
            self.zlib = nil
        }
    }

    /// Forgets any partial message (after an error).
    func reset() {
        self.zlib = nil
    }

    private func stream() throws(PerMessageDeflateError) -> ZlibDecompressor {
        if let zlib = self.zlib { return zlib }
        do {
            // A 15-bit window inflates anything a peer may send with a smaller one.
            let zlib = try ZlibDecompressor(algorithm: .deflate, windowSize: 15)
            self.zlib = zlib
            return zlib
        } catch {
            throw .internalError
        }
    }

    private func run(_ input: inout ByteBuffer, into output: inout ByteBuffer, limit: Int) throws(PerMessageDeflateError) {
        var zlib = try self.stream()
        var idleRounds = 0
        while true {
            let room = limit - output.readableBytes
            // One byte more than allowed so that "exactly at the limit" and "over it" can be told apart.
            let chunk = min(room + 1, max(input.readableBytes * 4, 16 * 1024))
            if output.writableBytes < chunk {
                let wanted = max(output.capacity * 2, output.writerIndex + chunk)
                output.reserveCapacity(min(wanted, output.writerIndex + room + 1))
            }
            let inputBefore = input.readableBytes
            let outputBefore = output.writerIndex
            var outputFull = false
            do {
                if input.readableBytes > 0 {
                    try zlib.inflate(from: &input, to: &output)
                } else {
                    try zlib.inflate(from: &self.emptyInput, to: &output)
                }
            } catch let error as CompressNIOError where error == .bufferOverflow {
                outputFull = true
            } catch let error as CompressNIOError where error == .inputBufferOverflow {
                // No progress possible without more input: everything available has been inflated.
                if output.readableBytes > limit { throw .messageTooLarge }
                return
            } catch let error as CompressNIOError where error == .corruptData {
                throw .corruptData
            } catch {
                throw .internalError
            }
            if output.readableBytes > limit { throw .messageTooLarge }
            if outputFull { continue }
            if input.readableBytes == 0 { return }
            // A normal return with input left means zlib reached the end of a deflate stream (a final block).
            // What follows starts a new stream; give up if that makes no progress either.
            if input.readableBytes == inputBefore && output.writerIndex == outputBefore {
                idleRounds += 1
                if idleRounds > 1 { throw .corruptData }
            } else {
                idleRounds = 0
            }
            self.zlib = nil
            zlib = try self.stream()
        }
    }
}
