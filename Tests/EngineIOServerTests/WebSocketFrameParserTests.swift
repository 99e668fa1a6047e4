import NIOCore
import NIOWebSocket
import Testing

@testable import EngineIOServer

@Suite("WebSocket frame parser")
struct WebSocketFrameParserTests {
    /// Parses `bytes` fed in pieces of `chunk` bytes.
    private func parse(_ bytes: ByteBuffer, chunk: Int, maxFrameSize: Int = 1 << 20) throws -> [WebSocketFrameParser.Frame] {
        var parser = WebSocketFrameParser(maxFrameSize: maxFrameSize)
        var bytes = bytes
        var frames: [WebSocketFrameParser.Frame] = []
        while let piece = bytes.readSlice(length: min(chunk, bytes.readableBytes)), piece.readableBytes > 0 {
            parser.append(piece)
            while let frame = try parser.next() { frames.append(frame) }
        }
        #expect(!parser.hasPendingBytes)
        return frames
    }

    @Test func framesOfEveryLengthClassSplitAnywhere() throws {
        var wire = ByteBuffer()
        for length in [0, 5, 125, 126, 65_535, 65_536] {
            wire.writeImmutableBuffer(try clientFrame(.binary, Array(repeating: UInt8(length % 251), count: length)))
        }
        wire.writeImmutableBuffer(try clientFrame(.text, Array("end".utf8), fin: false, rsv1: true))
        for chunk in [1, 3, 7, 1000, wire.readableBytes] {
            let frames = try self.parse(wire, chunk: chunk)
            #expect(frames.map(\.unmaskedData.readableBytes) == [0, 5, 125, 126, 65_535, 65_536, 3])
            #expect(frames.dropLast().allSatisfy { $0.fin && !$0.rsv1 && $0.opcode == .binary && $0.maskKey != nil })
            #expect(frames[2].unmaskedData.readableBytesView.allSatisfy { $0 == 125 })
            let last = try #require(frames.last)
            #expect(!last.fin && last.rsv1 && last.opcode == .text && String(buffer: last.unmaskedData) == "end")
        }
    }

    @Test func unmaskedFramesAreParsedWithoutKey() throws {
        let frames = try self.parse(try clientFrame(.ping, [1, 2], masked: false), chunk: 100)
        #expect(frames.count == 1)
        #expect(frames.first?.maskKey == nil)
        #expect(frames.first.map { Array($0.data.readableBytesView) } == [1, 2])
    }

    @Test func framesLongerThanTheLimitAreRefused() throws {
        #expect(throws: NIOWebSocketError.invalidFrameLength) {
            _ = try self.parse(try clientFrame(.binary, Array(repeating: 0, count: 11)), chunk: 4, maxFrameSize: 10)
        }
        // a 64-bit length far beyond any limit, before its payload arrives
        var parser = WebSocketFrameParser(maxFrameSize: 10)
        parser.append(ByteBuffer(bytes: [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0]))
        #expect(throws: NIOWebSocketError.invalidFrameLength) { _ = try parser.next() }
    }

    @Test func controlFramesMustBeWholeAndShort() throws {
        #expect(throws: NIOWebSocketError.fragmentedControlFrame) {
            _ = try self.parse(ByteBuffer(bytes: [0x09, 0x80, 1, 2, 3, 4]), chunk: 6)
        }
        #expect(throws: NIOWebSocketError.multiByteControlFrameLength) {
            _ = try self.parse(ByteBuffer(bytes: [0x89, 0xFE, 0, 126]), chunk: 4)
        }
    }
}
