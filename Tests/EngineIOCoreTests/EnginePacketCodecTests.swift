import NIOCore
import Testing

@testable import EngineIOCore

@Suite struct EnginePacketTypeTests {
    @Test(arguments: EnginePacketType.allCases)
    func digitRoundTrip(type: EnginePacketType) {
        #expect(type.asciiDigit == UInt8(ascii: "0") + type.rawValue)
        #expect(EnginePacketType(asciiDigit: type.asciiDigit) == type)
    }

    @Test func wireDigitsAreEngineIOv4s() {
        let digits = EnginePacketType.allCases.map { Character(Unicode.Scalar($0.asciiDigit)) }
        #expect(String(digits) == "0123456")
        #expect(EnginePacketType.allCases == [.open, .close, .ping, .pong, .message, .upgrade, .noop])
    }

    @Test(arguments: Array("789/:b \u{0}".utf8) + [0xFF, 0x30 - 1])
    func nonDigitsAreNoType(byte: UInt8) {
        #expect(EnginePacketType(asciiDigit: byte) == nil)
    }
}

@Suite struct EnginePacketCodecTests {
    /// Every type, with and without a payload, encodes as its digit then the payload, and decodes back.
    @Test(arguments: EnginePacketType.allCases)
    func textPacketRoundTrip(type: EnginePacketType) throws {
        for payload in ["", "hello", "probe", "{\"sid\":\"x\"}", "héllo ✓ 🎉"] {
            let packet = EnginePacket(type, text: payload)
            var wire = ByteBuffer()
            let isBinary = EnginePacketCodec.encode(packet, into: &wire)
            #expect(!isBinary)
            #expect(Array(wire.readableBytesView) == [type.asciiDigit] + Array(payload.utf8))
            let decoded = try EnginePacketCodec.decodeText(wire)
            #expect(decoded == packet)
            #expect(decoded.type == type)
            #expect(decoded.text == payload)
            #expect(!decoded.isBinary)
        }
    }

    @Test func namedPackets() {
        func wire(_ packet: EnginePacket) -> String {
            var buffer = ByteBuffer()
            EnginePacketCodec.encode(packet, into: &buffer)
            return String(buffer: buffer)
        }
        #expect(wire(.probe) == "2probe")
        #expect(wire(.probeAnswer) == "3probe")
        #expect(wire(.ping) == "2")
        #expect(wire(.noop) == "6")
        #expect(wire(.close) == "1")
        #expect(wire(EnginePacket(message: .text("hi"))) == "4hi")
    }

    @Test func binaryMessageIsRawBytes() {
        let bytes = ByteBuffer(bytes: [0, 1, 2, 0xFF, 0x34])
        let packet = EnginePacket(message: .binary(bytes))
        #expect(packet.type == .message)
        #expect(packet.isBinary)
        var wire = ByteBuffer()
        let isBinary = EnginePacketCodec.encode(packet, into: &wire)
        #expect(isBinary)
        #expect(wire == bytes)  // no type digit in a binary frame
        let decoded = EnginePacketCodec.decodeBinary(wire)
        #expect(decoded == packet)
        #expect(decoded.message == .binary(bytes))
    }

    @Test func textMessageAccessors() throws {
        let packet = try EnginePacketCodec.decodeText(ByteBuffer(string: "4hello"))
        #expect(packet.message == .text("hello"))
        #expect(packet.message?.isBinary == false)
        #expect(packet.message?.bytes == ByteBuffer(string: "hello"))
        #expect(try EnginePacketCodec.decodeText(ByteBuffer(string: "2probe")).message == nil)
    }

    @Test func decodeRespectsReaderIndex() throws {
        var buffer = ByteBuffer(string: "xx4abc")
        buffer.moveReaderIndex(forwardBy: 2)
        let packet = try EnginePacketCodec.decodeText(buffer)
        #expect(packet == EnginePacket(.message, text: "abc"))
    }

    @Test func emptyFrameIsAnError() {
        #expect(throws: EngineDecodingError.emptyPacket(at: 0)) {
            try EnginePacketCodec.decodeText(ByteBuffer())
        }
        #expect(throws: EngineDecodingError.emptyPacket(at: 7)) {
            try EnginePacketCodec.decodeText(ByteBuffer(), offset: 7)
        }
    }

    @Test(arguments: ["7", "9hello", "bAQID", "x", " 4", "{}"])
    func unknownTypeIsAnError(frame: String) {
        let first = frame.utf8.first!
        #expect(throws: EngineDecodingError.unknownPacketType(first, at: 0)) {
            try EnginePacketCodec.decodeText(ByteBuffer(string: frame))
        }
    }

    @Test func errorDescriptions() {
        #expect(EngineDecodingError.emptyPacket(at: 3).description == "empty packet at byte 3")
        #expect(EngineDecodingError.unknownPacketType(0x39, at: 0).description == "unknown packet type byte 57 at byte 0")
        #expect(EngineDecodingError.invalidBase64(at: 5).description == "invalid base64 at byte 5")
        #expect(EngineDecodingError.payloadTooLarge(limit: 10).isPayloadTooLarge)
        #expect(!EngineDecodingError.invalidBase64(at: 0).isPayloadTooLarge)
    }
}

@Suite struct EngineFrameTests {
    /// A text message frame carries its complete server WebSocket frame (header + payload) so that a
    /// broadcast can write it as is.
    @Test func textMessageFrameCarriesItsWebSocketHeader() throws {
        for length in [0, 1, 124, 125, 126, 300, 65_534, 65_535, 70_000] {
            let text = String(repeating: "a", count: length)
            let frame = EngineFrame(message: .text(text))
            #expect(!frame.isBinary)
            #expect(String(buffer: frame.bytes) == "4" + text)
            let ws = try #require(frame.webSocketFrame, "length \(length)")
            var header = ws
            let first = header.readInteger(as: UInt8.self)
            #expect(first == 0x81)
            let payloadLength = length + 1
            let second = header.readInteger(as: UInt8.self)!
            if payloadLength < 126 {
                #expect(Int(second) == payloadLength)
            } else if payloadLength <= 0xFFFF {
                #expect(second == 126)
                #expect(header.readInteger(as: UInt16.self).map(Int.init) == payloadLength)
            } else {
                #expect(second == 127)
                #expect(header.readInteger(as: UInt64.self).map(Int.init) == payloadLength)
            }
            #expect(header == frame.bytes)
        }
    }

    @Test func framesEncodeAsPollingPayload() {
        let frames = [
            EngineFrame(message: .text("hello")),
            EngineFrame(message: .binary(ByteBuffer(bytes: [1, 2, 3, 4]))),
            EngineFrame(.ping),
        ]
        var body = ByteBuffer()
        PollingPayload.encode(frames: frames, into: &body)
        #expect(String(buffer: body) == "4hello\u{1e}bAQIDBA==\u{1e}2")
    }
}
