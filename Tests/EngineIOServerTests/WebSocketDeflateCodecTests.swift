import CompressNIO
import NIOCore
import Testing

@testable import EngineIOServer

@Suite("permessage-deflate codec")
struct WebSocketDeflateCodecTests {
    private let allocator = ByteBufferAllocator()

    private func compressor(windowBits: Int = 15, noContextTakeover: Bool = false) -> PerMessageDeflateCompressor {
        PerMessageDeflateCompressor(
            windowBits: windowBits,
            compressionLevel: 6,
            memoryLevel: 8,
            noContextTakeover: noContextTakeover
        )
    }

    private func inflate(
        _ decompressor: PerMessageDeflateDecompressor,
        _ bytes: [UInt8],
        limit: Int = 1 << 20
    ) throws(PerMessageDeflateError) -> [UInt8] {
        var output = self.allocator.buffer(capacity: 0)
        try decompressor.inflate(ByteBuffer(bytes: bytes), into: &output, limit: limit)
        try decompressor.finishMessage(into: &output, limit: limit)
        return Array(output.readableBytesView)
    }

    @Test func rfc7692HelloExample() throws {
        // RFC 7692 section 7.2.3.1: "Hello" in one compressed message.
        let compressed = try self.compressor().compress(ByteBuffer(string: "Hello"), allocator: self.allocator)
        #expect(Array(compressed.readableBytesView) == [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00])
        let decompressor = PerMessageDeflateDecompressor(noContextTakeover: false)
        #expect(try self.inflate(decompressor, [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00]) == Array("Hello".utf8))
    }

    @Test func rfc7692ContextTakeoverExample() throws {
        // Section 7.2.3.2: the second "Hello" refers back to the first.
        let compressor = self.compressor()
        _ = try compressor.compress(ByteBuffer(string: "Hello"), allocator: self.allocator)
        let second = try compressor.compress(ByteBuffer(string: "Hello"), allocator: self.allocator)
        #expect(Array(second.readableBytesView) == [0xF2, 0x00, 0x11, 0x00, 0x00])
        let decompressor = PerMessageDeflateDecompressor(noContextTakeover: false)
        #expect(try self.inflate(decompressor, [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00]) == Array("Hello".utf8))
        #expect(try self.inflate(decompressor, [0xF2, 0x00, 0x11, 0x00, 0x00]) == Array("Hello".utf8))
    }

    @Test func rfc7692UncompressedBlockAndSplitFrames() throws {
        // Section 7.2.3.3: a stored block; 7.2.3.1 split over two frames.
        let decompressor = PerMessageDeflateDecompressor(noContextTakeover: false)
        #expect(try self.inflate(decompressor, [0x00, 0x05, 0x00, 0xFA, 0xFF, 0x48, 0x65, 0x6C, 0x6C, 0x6F, 0x00]) == Array("Hello".utf8))
        let fresh = PerMessageDeflateDecompressor(noContextTakeover: false)
        var output = self.allocator.buffer(capacity: 0)
        try fresh.inflate(ByteBuffer(bytes: [0xF2, 0x48, 0xCD]), into: &output, limit: 100)
        try fresh.inflate(ByteBuffer(bytes: [0xC9, 0xC9, 0x07, 0x00]), into: &output, limit: 100)
        try fresh.finishMessage(into: &output, limit: 100)
        #expect(String(buffer: output) == "Hello")
    }

    @Test func emptyMessageCompressesToOneByte() throws {
        let compressed = try self.compressor().compress(ByteBuffer(), allocator: self.allocator)
        #expect(Array(compressed.readableBytesView) == [0x00])
        let decompressor = PerMessageDeflateDecompressor(noContextTakeover: false)
        #expect(try self.inflate(decompressor, [0x00]) == [])
    }

    @Test func emptyMessageAfterAnotherOnTheSameContextIsOneZeroByte() throws {
        // found by FuzzWebSocket: zlib refuses a second sync flush with no input, which left the frame empty
        let compressor = self.compressor()
        let decompressor = PerMessageDeflateDecompressor(noContextTakeover: false)
        let first = try compressor.compress(ByteBuffer(string: "a"), allocator: self.allocator)
        let empty = try compressor.compress(ByteBuffer(), allocator: self.allocator)
        let again = try compressor.compress(ByteBuffer(), allocator: self.allocator)
        #expect(Array(empty.readableBytesView) == [0x00])
        #expect(try self.inflate(decompressor, Array(first.readableBytesView)) == Array("a".utf8))
        #expect(try self.inflate(decompressor, Array(empty.readableBytesView)) == [])
        #expect(try self.inflate(decompressor, Array(again.readableBytesView)) == [])
        let next = try compressor.compress(ByteBuffer(string: "after"), allocator: self.allocator)
        #expect(try self.inflate(decompressor, Array(next.readableBytesView)) == Array("after".utf8))
    }

    @Test func noContextTakeoverMakesIndependentMessages() throws {
        let compressor = self.compressor(noContextTakeover: true)
        let first = try compressor.compress(ByteBuffer(string: "Hello"), allocator: self.allocator)
        let second = try compressor.compress(ByteBuffer(string: "Hello"), allocator: self.allocator)
        #expect(first == second)
        // Each inflates with a fresh decompressor.
        #expect(try self.inflate(PerMessageDeflateDecompressor(noContextTakeover: true), Array(second.readableBytesView)) == Array("Hello".utf8))
        // A resetting decompressor reads a resetting compressor's stream.
        let decompressor = PerMessageDeflateDecompressor(noContextTakeover: true)
        for _ in 0..<3 {
            let message = try compressor.compress(ByteBuffer(string: "Hello Hello Hello"), allocator: self.allocator)
            #expect(try self.inflate(decompressor, Array(message.readableBytesView)) == Array("Hello Hello Hello".utf8))
        }
    }

    @Test(arguments: [8, 9, 12, 15])
    func roundTripsLargeMessagesWithEveryWindow(windowBits: Int) throws {
        var text = ""
        for index in 0..<20_000 { text += "line \(index % 37) of some text that repeats; " }
        let compressor = self.compressor(windowBits: windowBits)
        let decompressor = PerMessageDeflateDecompressor(noContextTakeover: false)
        for _ in 0..<3 {
            let compressed = try compressor.compress(ByteBuffer(string: text), allocator: self.allocator)
            #expect(compressed.readableBytes < text.utf8.count)
            var output = self.allocator.buffer(capacity: 0)
            try decompressor.inflate(compressed, into: &output, limit: 1 << 22)
            try decompressor.finishMessage(into: &output, limit: 1 << 22)
            #expect(String(buffer: output) == text)
        }
    }

    @Test func windowEightIsReadableByAnEightBitInflater() throws {
        // Huffman-only output has no back-references, so a peer with a 256-byte window can read it.
        var text = ""
        for index in 0..<2_000 { text += "abcabcabc \(index % 5) " }
        let compressed = try self.compressor(windowBits: 8).compress(ByteBuffer(string: text), allocator: self.allocator)
        var input = compressed
        input.writeBytes([0x00, 0x00, 0xFF, 0xFF])
        let inflater = try ZlibDecompressor(algorithm: .deflate, windowSize: 8)
        var output = self.allocator.buffer(capacity: text.utf8.count + 64)
        do {
            try inflater.inflate(from: &input, to: &output)
        } catch let error as CompressNIOError where error == .inputBufferOverflow {}
        #expect(String(buffer: output) == text)
    }

    @Test func inflatedSizeIsBounded() throws {
        // A "zip bomb": 8 MiB of zeros compresses to a few KiB.
        let zeros = ByteBuffer(repeating: 0, count: 8 << 20)
        let compressed = try self.compressor().compress(zeros, allocator: self.allocator)
        #expect(compressed.readableBytes < 64 * 1024)
        let decompressor = PerMessageDeflateDecompressor(noContextTakeover: false)
        var output = self.allocator.buffer(capacity: 0)
        #expect(throws: PerMessageDeflateError.messageTooLarge) {
            try decompressor.inflate(compressed, into: &output, limit: 1 << 20)
        }
        #expect(output.capacity <= (1 << 21))
        // Exactly at the limit is fine.
        let exact = try self.compressor().compress(ByteBuffer(repeating: 7, count: 1000), allocator: self.allocator)
        #expect(try self.inflate(PerMessageDeflateDecompressor(noContextTakeover: false), Array(exact.readableBytesView), limit: 1000).count == 1000)
        #expect(throws: PerMessageDeflateError.messageTooLarge) {
            _ = try self.inflate(PerMessageDeflateDecompressor(noContextTakeover: false), Array(exact.readableBytesView), limit: 999)
        }
    }

    @Test func corruptDataIsReported() {
        #expect(throws: PerMessageDeflateError.corruptData) {
            _ = try self.inflate(PerMessageDeflateDecompressor(noContextTakeover: false), [0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        }
    }

    @Test func utf8Validator() {
        #expect(UTF8Validator.isValid("κόσμε € 𝄞".utf8))
        #expect(!UTF8Validator.isValid([0xC0, 0x80]))  // overlong
        #expect(!UTF8Validator.isValid([0xED, 0xA0, 0x80]))  // surrogate
        #expect(!UTF8Validator.isValid([0xF4, 0x90, 0x80, 0x80]))  // > U+10FFFF
        #expect(!UTF8Validator.isValid([0xE2, 0x82]))  // truncated
        var validator = UTF8Validator()
        let first = validator.feed([0xE2, 0x82])
        #expect(first)
        #expect(!validator.isComplete)
        let second = validator.feed([0xAC])
        #expect(second)
        #expect(validator.isComplete)
        let third = validator.feed([0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5, 0xED, 0xA0, 0x80])
        #expect(!third)
    }
}
