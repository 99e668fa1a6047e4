import NIOCore
import Testing

@testable import EngineIOCore

@Suite struct PollingPayloadTests {
    private func decode(_ body: String) throws(EngineDecodingError) -> [EnginePacket] {
        try PollingPayload.decode(ByteBuffer(string: body))
    }

    @Test func separatorIsRecordSeparator() {
        #expect(PollingPayload.separator == 0x1E)
    }

    @Test func emptyBodyHoldsNoPackets() throws {
        #expect(try decode("").isEmpty)
        #expect(PollingPayload.encode([EnginePacket]()).readableBytes == 0)
    }

    @Test func singlePacket() throws {
        #expect(try decode("4hello") == [EnginePacket(.message, text: "hello")])
        #expect(try decode("2") == [.ping])
        #expect(try decode("3probe") == [.probeAnswer])
        #expect(try decode("1") == [.close])
        #expect(try decode("6") == [.noop])
    }

    @Test func severalPacketsWithBinary() throws {
        let packets = try decode("4hello\u{1e}bAQIDBA==")
        #expect(packets.count == 2)
        #expect(packets[0] == EnginePacket(message: .text("hello")))
        #expect(packets[1] == EnginePacket(message: .binary(ByteBuffer(bytes: [1, 2, 3, 4]))))
        #expect(packets[1].isBinary)
        #expect(packets[1].type == .message)
    }

    @Test func everyTypeInOnePayload() throws {
        let body = "0{\"sid\":\"a\"}\u{1e}1\u{1e}2\u{1e}3\u{1e}4x\u{1e}5\u{1e}6\u{1e}2probe\u{1e}3probe\u{1e}b"
        let packets = try decode(body)
        #expect(packets.map(\.type) == [.open, .close, .ping, .pong, .message, .upgrade, .noop, .ping, .pong, .message])
        #expect(packets[0].text == "{\"sid\":\"a\"}")
        #expect(packets[4].text == "x")
        #expect(packets[7] == .probe)
        // `b` with nothing after it is an empty binary message
        #expect(packets[9] == EnginePacket(message: .binary(ByteBuffer())))
        #expect(String(buffer: PollingPayload.encode(packets)) == body)
    }

    @Test func encodeJoinsWithSeparators() {
        let packets = [
            EnginePacket(message: .text("hello")),
            EnginePacket(message: .binary(ByteBuffer(bytes: [1, 2, 3, 4]))),
            EnginePacket(message: .text("")),
            .ping,
        ]
        #expect(String(buffer: PollingPayload.encode(packets)) == "4hello\u{1e}bAQIDBA==\u{1e}4\u{1e}2")
        var appended = ByteBuffer(string: "prefix:")
        PollingPayload.encode(packets.prefix(1), into: &appended)
        #expect(String(buffer: appended) == "prefix:4hello")
    }

    @Test func unicodeText() throws {
        let text = "héllo wörld ✓ 日本語 🎉 \u{2028}"
        let packets = try decode("4\(text)\u{1e}4\(text)")
        #expect(packets.count == 2)
        #expect(packets.allSatisfy { $0.text == text && !$0.isBinary })
        #expect(String(buffer: PollingPayload.encode(packets)) == "4\(text)\u{1e}4\(text)")
    }

    @Test func binaryRoundTripsEveryByte() throws {
        let bytes = ByteBuffer(bytes: (0...255).map { UInt8($0) })
        let body = PollingPayload.encode([EnginePacket(message: .binary(bytes)), EnginePacket(message: .binary(ByteBuffer(bytes: [0x1E])))])
        #expect(!body.readableBytesView.dropFirst().prefix(while: { $0 != 0x1E }).contains(0x1E))
        let decoded = try PollingPayload.decode(body)
        #expect(decoded == [EnginePacket(message: .binary(bytes)), EnginePacket(message: .binary(ByteBuffer(bytes: [0x1E])))])
    }

    @Test func sliceOfALargerBuffer() throws {
        var buffer = ByteBuffer(string: "HTTP junk|4a\u{1e}4b")
        buffer.moveReaderIndex(forwardBy: 10)
        let slice = buffer.readSlice(length: buffer.readableBytes)!
        #expect(try PollingPayload.decode(slice) == [EnginePacket(.message, text: "a"), EnginePacket(.message, text: "b")])
    }

    // MARK: Malformed

    @Test func emptySegmentsAreErrors() {
        #expect(throws: EngineDecodingError.emptyPacket(at: 3)) { try decode("4a\u{1e}\u{1e}4b") }
        #expect(throws: EngineDecodingError.emptyPacket(at: 0)) { try decode("\u{1e}4a") }
        #expect(throws: EngineDecodingError.emptyPacket(at: 3)) { try decode("4a\u{1e}") }
        #expect(throws: EngineDecodingError.emptyPacket(at: 0)) { try decode("\u{1e}") }
    }

    @Test func unknownTypeDigits() {
        #expect(throws: EngineDecodingError.unknownPacketType(UInt8(ascii: "7"), at: 0)) { try decode("7") }
        #expect(throws: EngineDecodingError.unknownPacketType(UInt8(ascii: "9"), at: 7)) { try decode("4hello\u{1e}9x") }
        #expect(throws: EngineDecodingError.unknownPacketType(UInt8(ascii: "x"), at: 3)) { try decode("4a\u{1e}xyz\u{1e}4b") }
        #expect(throws: EngineDecodingError.unknownPacketType(UInt8(ascii: "B"), at: 0)) { try decode("BAQID") }
    }

    @Test(arguments: [
        "b!!!!",  // not base64 characters
        "bAQ-_",  // base64url is not base64
        "bAQIDB",  // length not a multiple of 4
        "bAQI",
        "bAQ",
        "bA",
        "bA===",  // too much padding
        "b====",
        "bAQ=D",  // padding in the middle
        "bAQ==AAAA",  // data after padding
        "bAQI\nAAA",  // whitespace
        "bAQ IDAA",
        "b\u{e9}AA",  // non-ASCII (4 bytes of UTF-8)
    ])
    func invalidBase64(body: String) {
        #expect(throws: EngineDecodingError.invalidBase64(at: 0)) { try decode(body) }
    }

    @Test func validBase64Lengths() throws {
        #expect(try decode("bAQID") == [EnginePacket(message: .binary(ByteBuffer(bytes: [1, 2, 3])))])
        #expect(try decode("bAQI=") == [EnginePacket(message: .binary(ByteBuffer(bytes: [1, 2])))])
        #expect(try decode("bAQ==") == [EnginePacket(message: .binary(ByteBuffer(bytes: [1])))])
    }

    @Test func invalidBase64OffsetIsTheSegments() {
        #expect(throws: EngineDecodingError.invalidBase64(at: 6)) { try decode("4abcd\u{1e}bAQ=D") }
    }

    @Test func errorStopsAtFirstBadSegment() {
        // An error in a later segment fails the whole payload (the session then closes with parse error).
        #expect(throws: EngineDecodingError.self) { try decode("4ok\u{1e}4ok\u{1e}8") }
    }
}
