import NIOCore
import SocketIOCore
import SocketIORedis
import Testing

func bytes(_ hex: String) -> ByteBuffer {
    let digits = hex.filter { !$0.isWhitespace }
    var buffer = ByteBuffer()
    var index = digits.startIndex
    while index < digits.endIndex {
        let next = digits.index(index, offsetBy: 2)
        buffer.writeInteger(UInt8(digits[index..<next], radix: 16)!)
        index = next
    }
    return buffer
}

func hex(_ buffer: ByteBuffer) -> String {
    buffer.readableBytesView.map { byte in
        let digits = String(byte, radix: 16)
        return digits.count == 1 ? "0" + digits : digits
    }.joined()
}

@Suite struct RESPParserTests {
    let parser = RESPParser()

    func parseAll(_ text: String) throws -> [RESPValue] {
        var buffer = ByteBuffer(string: text)
        var values: [RESPValue] = []
        while let value = try parser.next(&buffer) { values.append(value) }
        #expect(buffer.readableBytes == 0)
        return values
    }

    @Test func resp2Types() throws {
        let values = try parseAll("+OK\r\n-ERR unknown\r\n:42\r\n:-7\r\n$5\r\nhello\r\n$0\r\n\r\n$-1\r\n*2\r\n$1\r\na\r\n:1\r\n*-1\r\n*0\r\n")
        #expect(values == [
            .simpleString("OK"), .error("ERR unknown"), .integer(42), .integer(-7), .bulkString(ByteBuffer(string: "hello")),
            .bulkString(ByteBuffer()), .bulkString(nil), .array([.bulkString(ByteBuffer(string: "a")), .integer(1)]), .array(nil), .array([]),
        ])
    }

    @Test func resp3TypesAreTolerated() throws {
        let values = try parseAll("_\r\n#t\r\n,1.5\r\n(123456789012345678901234567890\r\n%1\r\n+k\r\n:1\r\n~1\r\n+s\r\n>3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nx\r\n=8\r\ntxt:text\r\n|1\r\n+a\r\n+b\r\n+after\r\n!3\r\nERR\r\n")
        #expect(values == [
            .bulkString(nil), .boolean(true), .double(1.5), .simpleString("123456789012345678901234567890"),
            .array([.simpleString("k"), .integer(1)]), .array([.simpleString("s")]),
            .array([.bulkString(ByteBuffer(string: "message")), .bulkString(ByteBuffer(string: "ch")), .bulkString(ByteBuffer(string: "x"))]),
            .bulkString(ByteBuffer(string: "text")), .simpleString("after"), .error("ERR"),
        ])
    }

    @Test func truncatedInputConsumesNothingAndCompletesLater() throws {
        let full = "*3\r\n$7\r\nmessage\r\n$4\r\nchan\r\n$5\r\nhello\r\n"
        for cut in 0..<full.utf8.count {
            var buffer = ByteBuffer(bytes: Array(full.utf8.prefix(cut)))
            #expect(try parser.next(&buffer) == nil, "cut at \(cut)")
            #expect(buffer.readableBytes == cut)
        }
        // Drip-fed byte by byte into one buffer.
        var buffer = ByteBuffer()
        var parsed: RESPValue?
        for byte in full.utf8 {
            buffer.writeInteger(byte)
            if let value = try parser.next(&buffer) { parsed = value }
        }
        #expect(parsed?.elements?.count == 3)
    }

    @Test(arguments: [
        "?what\r\n", ":12x\r\n", "$abc\r\n", "$-2\r\n", "$3\r\nabcXY", "*-5\r\n", "#x\r\n", "+a\rb\r\n", ",nope\r\n", "_x\r\n",
    ])
    func malformedInputThrows(_ text: String) {
        var buffer = ByteBuffer(string: text)
        #expect(throws: RedisError.self) { try parser.next(&buffer) }
    }

    @Test func lengthsAreBounded() {
        let small = RESPParser(limits: .init(maxBulkLength: 10, maxElements: 4, maxDepth: 3, maxLineLength: 16))
        for text in ["$11\r\n", "*5\r\n", "*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", "+" + String(repeating: "a", count: 20), "%3\r\n"] {
            var buffer = ByteBuffer(string: text)
            #expect(throws: RedisError.self, "\(text.prefix(10))") { try small.next(&buffer) }
        }
    }

    @Test func commandEncoding() {
        var buffer = ByteBuffer()
        RedisCommand("PUBLISH", "chan", "hé").write(into: &buffer)
        #expect(String(buffer: buffer) == "*3\r\n$7\r\nPUBLISH\r\n$4\r\nchan\r\n$3\r\nhé\r\n")
    }
}

@Suite struct RedisConfigurationTests {
    @Test func parsesURLs() throws {
        let full = try RedisConfiguration(url: "redis://user:p%40ss@redis.local:6380/3")
        #expect(full.host == "redis.local" && full.port == 6380 && full.database == 3)
        #expect(full.username == "user" && full.password == "p@ss")
        let passwordOnly = try RedisConfiguration(url: "redis://:secret@127.0.0.1")
        #expect(passwordOnly.username == nil && passwordOnly.password == "secret" && passwordOnly.port == 6379 && passwordOnly.database == 0)
        let ipv6 = try RedisConfiguration(url: "redis://[::1]:7000/1")
        #expect(ipv6.host == "::1" && ipv6.port == 7000 && ipv6.database == 1)
    }

    @Test(arguments: ["http://x", "redis://", "redis://host:abc", "redis://host:70000", "redis://host/x", "redis://:%zz@host"])
    func rejectsBadURLs(_ url: String) {
        #expect(throws: RedisError.self) { try RedisConfiguration(url: url) }
    }
}

@Suite struct MessagePackTests {
    @Test func encodesLikeNotepack() {
        #expect(hex(MessagePack.encode(.int(0))) == "00")
        #expect(hex(MessagePack.encode(.int(127))) == "7f")
        #expect(hex(MessagePack.encode(.int(128))) == "cc80")
        #expect(hex(MessagePack.encode(.int(65535))) == "cdffff")
        #expect(hex(MessagePack.encode(.int(65536))) == "ce00010000")
        #expect(hex(MessagePack.encode(.int(1 << 32))) == "cf0000000100000000")
        #expect(hex(MessagePack.encode(.int(-1))) == "ff")
        #expect(hex(MessagePack.encode(.int(-32))) == "e0")
        #expect(hex(MessagePack.encode(.int(-33))) == "d0df")
        #expect(hex(MessagePack.encode(.int(-129))) == "d1ff7f")
        #expect(hex(MessagePack.encode(.int(-40000))) == "d2ffff63c0")
        #expect(hex(MessagePack.encode(.double(1.5))) == "cb3ff8000000000000")
        #expect(hex(MessagePack.encode(.double(3.0))) == "03")  // integral numbers are integers in JS
        #expect(hex(MessagePack.encode(.null)) == "c0")
        #expect(hex(MessagePack.encode(.bool(true))) == "c3")
        #expect(hex(MessagePack.encode(.string("a"))) == "a161")
        #expect(hex(MessagePack.encode(.string(String(repeating: "x", count: 32)))).hasPrefix("d920"))
        #expect(hex(MessagePack.encode(.string(String(repeating: "x", count: 256)))).hasPrefix("da0100"))
        #expect(hex(MessagePack.encode(.binary(bytes: [1, 2, 3]))) == "c403010203")
        #expect(hex(MessagePack.encode(.array(Array(repeating: .int(1), count: 16)))).hasPrefix("dc0010"))
        #expect(hex(MessagePack.encode(["a": 1, "b": [true]])) == "82a16101a16291c3")
    }

    @Test func roundTrips() throws {
        let values: [JSONValue] = [
            .null, true, false, 0, -1, 300, -300, 70000, -70000, .int(Int.max), .int(Int.min), 1.25, -0.5, "", "héllo ✓",
            .string(String(repeating: "z", count: 70000)), .binary(bytes: [0, 255]), [], [1, "two", [3]],
            ["nested": ["k": [.null, .binary(bytes: Array(repeating: 7, count: 300))]], "n": 1e300],
        ]
        for value in values {
            #expect(try MessagePack.decode(MessagePack.encode(value)) == value)
        }
    }

    @Test func decodesOtherFormats() throws {
        #expect(try MessagePack.decode(bytes("ca3fc00000")) == .double(1.5))  // float32
        #expect(try MessagePack.decode(bytes("d4 00 00")) == .null)  // notepack's undefined
        #expect(try MessagePack.decode(bytes("c7 02 00 0102")) == .binary(bytes: [1, 2]))  // ArrayBuffer
        #expect(try MessagePack.decode(bytes("cfffffffffffffffff")) == .double(18446744073709551616.0))
        #expect(try MessagePack.decode(bytes("81 01 a1 78")) == ["1": "x"])  // numeric keys become strings
    }

    @Test(arguments: [
        "", "c1", "a3 6162", "92 01", "cd 00", "c4 05 0102", "dc 00", "dd ffffffff", "82 a161 01", "a2 c328", "81 90 01", "0101",
        "db ffffffff 00",
    ])
    func malformedOrTruncatedThrows(_ input: String) {
        #expect(throws: MessagePack.DecodingError.self) { try MessagePack.decode(bytes(input)) }
    }

    @Test func depthIsBounded() {
        let deep = bytes(String(repeating: "91", count: 100) + "01")
        #expect(throws: MessagePack.DecodingError.self) { try MessagePack.decode(deep) }
        #expect(throws: MessagePack.DecodingError.self) { try MessagePack.decode(bytes("dc 0005 01 01 01 01 01"), limits: .init(maxElements: 4)) }
    }
}

@Suite struct RESPParserResumeTests {
    /// A reply of about 300 KB: an array of bulk strings, nested arrays, a large bulk string, and RESP3
    /// types, as one buffer.
    static func largeReply() -> (bytes: ByteBuffer, elements: Int) {
        var buffer = ByteBuffer()
        let count = 2_000
        buffer.writeString("*\(count + 2)\r\n")
        for index in 0..<count {
            let text = "element-\(index)-" + String(repeating: "x", count: index % 97)
            if index % 10 == 0 {
                buffer.writeString("*2\r\n:\(index)\r\n$\(text.utf8.count)\r\n\(text)\r\n")
            } else {
                buffer.writeString("$\(text.utf8.count)\r\n\(text)\r\n")
            }
        }
        let big = String(repeating: "0123456789", count: 20_000)
        buffer.writeString("$\(big.utf8.count)\r\n\(big)\r\n")
        buffer.writeString("%1\r\n+k\r\n|1\r\n+attr\r\n+v\r\n:7\r\n")
        return (buffer, count + 2)
    }

    @Test func aLargeReplyFedByteByByteIsParsedOnce() throws {
        let (whole, elements) = Self.largeReply()
        var expected = whole
        let reference = try #require(try RESPParser().next(&expected))
        #expect(reference.elements?.count == elements)

        var parser = RESPParser()
        var buffer = ByteBuffer()
        var values: [RESPValue] = []
        var source = whole
        while let byte = source.readInteger(as: UInt8.self) {
            buffer.writeInteger(byte)
            if let value = try parser.parseNext(&buffer) { values.append(value) }
        }
        // One value, complete only with the last byte, equal to the one parsed from the whole buffer.
        #expect(values.count == 1)
        #expect(values.first == reference)
        #expect(buffer.readableBytes == 0)
        // Each byte examined about once (restarting would examine ~n²/2 bytes, about 4.5e10 here).
        #expect(parser.examinedBytes <= 2 * whole.readableBytes, "examined \(parser.examinedBytes) bytes of \(whole.readableBytes)")
    }

    @Test func resumesOverEveryCutOfEveryType() throws {
        let text = "+OK\r\n-ERR x\r\n:42\r\n$5\r\nhello\r\n$-1\r\n*2\r\n$1\r\na\r\n*1\r\n:1\r\n*0\r\n_\r\n#t\r\n,1.5\r\n(12\r\n"
            + "%1\r\n+k\r\n:1\r\n>2\r\n$8\r\nsmessage\r\n$1\r\nx\r\n=8\r\ntxt:text\r\n|1\r\n+a\r\n+b\r\n+after\r\n!3\r\nERR\r\n*-1\r\n"
        var reference: [RESPValue] = []
        var all = ByteBuffer(string: text)
        while let value = try RESPParser().next(&all) { reference.append(value) }
        #expect(reference.count == 17)
        for chunk in [1, 2, 3, 5, 7, 64] {
            var parser = RESPParser()
            var buffer = ByteBuffer()
            var values: [RESPValue] = []
            var source = ByteBuffer(string: text)
            while source.readableBytes > 0 {
                var piece = source.readSlice(length: min(chunk, source.readableBytes))!
                buffer.writeBuffer(&piece)
                while let value = try parser.parseNext(&buffer) { values.append(value) }
            }
            #expect(values == reference, "chunk \(chunk)")
        }
    }

    @Test func limitsHoldWhenResuming() {
        var parser = RESPParser(limits: .init(maxBulkLength: 10, maxElements: 4, maxDepth: 2, maxLineLength: 16))
        var buffer = ByteBuffer(string: "*1\r\n*1\r\n")
        #expect(throws: Never.self) { try parser.parseNext(&buffer) }
        buffer.writeString("*1\r\n:1\r\n")
        #expect(throws: RedisError.self) { try parser.parseNext(&buffer) }
        var long = RESPParser(limits: .init(maxLineLength: 16))
        var line = ByteBuffer(string: "+0123456789")
        #expect(throws: Never.self) { try long.parseNext(&line) }
        line.writeString("0123456789")
        #expect(throws: RedisError.self) { try long.parseNext(&line) }
    }
}
