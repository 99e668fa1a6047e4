import Foundation
import NIOCore
import Testing

@testable import SocketIOCore

private func parse(_ text: String, depth: Int = JSONValue.defaultMaxNestingDepth) throws -> JSONValue {
    try JSONValue(parsing: text, maxNestingDepth: depth)
}

private func parseError(_ text: String, depth: Int = JSONValue.defaultMaxNestingDepth) -> JSONParsingError? {
    do {
        _ = try JSONValue(parsing: text, maxNestingDepth: depth)
        return nil
    } catch {
        return error
    }
}

private func parseBytes(_ bytes: [UInt8]) throws(JSONParsingError) -> JSONValue {
    let result = bytes.withUnsafeBytes { raw in
        Result { () throws(JSONParsingError) in try JSONValue(parsing: raw) }
    }
    return try result.get()
}

@Suite("JSON parsing")
struct JSONParsingTests {
    @Test func scalars() throws {
        #expect(try parse("null") == .null)
        #expect(try parse("true") == .bool(true))
        #expect(try parse("false") == .bool(false))
        #expect(try parse("0") == .int(0))
        #expect(try parse("-0") == .int(0))
        #expect(try parse("42") == .int(42))
        #expect(try parse("-17") == .int(-17))
        #expect(try parse("\"hi\"") == .string("hi"))
        #expect(try parse(" \t\r\n 1 \n") == .int(1))
    }

    @Test func integersAtTheEdges() throws {
        #expect(try parse("9223372036854775807") == .int(Int.max))
        #expect(try parse("-9223372036854775808") == .int(Int.min))
        // One past Int: a double.
        guard case .double(let big) = try parse("9223372036854775808") else {
            Issue.record("expected a double")
            return
        }
        #expect(big == 9_223_372_036_854_775_808.0)
        guard case .double(let huge) = try parse("123456789012345678901234567890") else {
            Issue.record("expected a double")
            return
        }
        #expect(huge == 1.2345678901234568e29)
        guard case .double(let negative) = try parse("-9223372036854775809") else {
            Issue.record("expected a double")
            return
        }
        #expect(negative == -9_223_372_036_854_775_809.0)
    }

    @Test func fractionsAndExponents() throws {
        #expect(try parse("1.5") == .double(1.5))
        #expect(try parse("-0.25") == .double(-0.25))
        #expect(try parse("1e3") == .double(1000))
        #expect(try parse("1E+3") == .double(1000))
        #expect(try parse("2.5e-3") == .double(0.0025))
        #expect(try parse("1.0") == .double(1.0))
        #expect(try parse("1e400") == .double(.infinity))
        if case .double(let tiny) = try parse("5e-324") {
            #expect(tiny == .leastNonzeroMagnitude)
        } else {
            Issue.record("expected a double")
        }
    }

    @Test func invalidNumbers() {
        for text in ["01", "-", "1.", ".5", "1e", "1e+", "+1", "-a", "0x10", "1.e5", "--1", "NaN", "Infinity", "-Infinity"] {
            let error = parseError(text)
            #expect(error != nil, "\(text) should fail")
        }
        #expect(parseError("01")?.code == .invalidNumber)
        #expect(parseError("1.")?.code == .invalidNumber)
        #expect(parseError("1e")?.code == .invalidNumber)
        #expect(parseError("-")?.code == .invalidNumber)
    }

    @Test func stringEscapes() throws {
        #expect(try parse(#""a\"b\\c\/d""#) == .string("a\"b\\c/d"))
        #expect(try parse(#""\b\f\n\r\t""#) == .string("\u{08}\u{0C}\n\r\t"))
        #expect(try parse(#""\u0041\u00e9\u4e2d""#) == .string("Aé中"))
        #expect(try parse(#""\u00E9""#) == .string("é"))
        #expect(try parse(#""\u0000""#) == .string("\u{0}"))
        #expect(try parse(#""x\ny""#) == .string("x\ny"))
    }

    @Test func surrogatePairs() throws {
        #expect(try parse(#""\ud83d\ude00""#) == .string("😀"))
        #expect(try parse(#""a\uD834\uDD1Eb""#) == .string("a𝄞b"))
        // Lone surrogates become U+FFFD.
        #expect(try parse(#""\ud800""#) == .string("\u{FFFD}"))
        #expect(try parse(#""\udc00x""#) == .string("\u{FFFD}x"))
        #expect(try parse(#""\ud800\u0041""#) == .string("\u{FFFD}A"))
        #expect(try parse(#""\ud800\ud800\udc00""#) == .string("\u{FFFD}𐀀"))
    }

    @Test func rawUnicode() throws {
        #expect(try parse("\"héllo wörld 中文 😀\"") == .string("héllo wörld 中文 😀"))
        #expect(try parse("{\"ключ\":\"значение\"}") == ["ключ": "значение"])
    }

    @Test func invalidStrings() throws {
        #expect(parseError(#""\x""#)?.code == .invalidEscape)
        #expect(parseError(#""\u12""#) != nil)
        #expect(parseError(#""\u12G4""#)?.code == .invalidEscape)
        #expect(parseError("\"a\nb\"")?.code == .controlCharacterInString)
        #expect(parseError("\"a\u{01}\"")?.code == .controlCharacterInString)
        #expect(parseError("\"abc")?.code == .unexpectedEnd)
        #expect(parseError("\"abc\\")?.code == .unexpectedEnd)
        #expect(parseError("'a'")?.code == .unexpectedByte)
        // Invalid UTF-8: a lone continuation byte, an overlong encoding, a truncated sequence.
        for bytes: [UInt8] in [[0x22, 0x80, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xE4, 0xB8, 0x22], [0x22, 0x5C, 0x6E, 0xFF, 0x22]] {
            #expect(throws: JSONParsingError.self) { try parseBytes(bytes) }
            do {
                _ = try parseBytes(bytes)
            } catch {
                #expect(error.code == .invalidUTF8)
            }
        }
    }

    @Test func containers() throws {
        #expect(try parse("[]") == .array([]))
        #expect(try parse("{}") == .object([:]))
        #expect(try parse("[ ]") == .array([]))
        #expect(try parse("{ }") == .object([:]))
        #expect(try parse("[1,[2,[3,{}]],{\"a\":[]}]") == [1, [2, [3, [:]]], ["a": []]])
        let object = try parse(#"{ "b" : 1 , "a" : [true, null] , "c" : {"d":"e"} }"#)
        #expect(object.objectValue?.keys == ["b", "a", "c"])
        #expect(object["a"]?[1] == .null)
        #expect(object["c"]?["d"]?.stringValue == "e")
        #expect(object["zzz"] == nil)
        #expect(object[0] == nil)
    }

    @Test func duplicateKeysLastValueWinsAtFirstPosition() throws {
        let value = try parse(#"{"a":1,"b":2,"a":3}"#)
        #expect(value.objectValue?.keys == ["a", "b"])
        #expect(value["a"] == 3)
        #expect(value.jsonString() == #"{"a":3,"b":2}"#)
    }

    @Test func malformedContainers() {
        #expect(parseError("[1,]")?.code == .unexpectedByte)
        #expect(parseError("[,1]")?.code == .unexpectedByte)
        #expect(parseError("[1 2]")?.code == .unexpectedByte)
        #expect(parseError("{\"a\":1,}")?.code == .unexpectedByte)
        #expect(parseError("{\"a\" 1}")?.code == .unexpectedByte)
        #expect(parseError("{a:1}")?.code == .unexpectedByte)
        #expect(parseError("{1:1}")?.code == .unexpectedByte)
        #expect(parseError("[1")?.code == .unexpectedEnd)
        #expect(parseError("[")?.code == .unexpectedEnd)
        #expect(parseError("{\"a\":")?.code == .unexpectedEnd)
        #expect(parseError("{\"a\"")?.code == .unexpectedEnd)
        #expect(parseError("")?.code == .unexpectedEnd)
        #expect(parseError("   ")?.code == .unexpectedEnd)
        #expect(parseError("tru")?.code == .unexpectedEnd)
        #expect(parseError("nul")?.code == .unexpectedEnd)
        #expect(parseError("trUe")?.code == .unexpectedByte)
        #expect(parseError("]")?.code == .unexpectedByte)
    }

    @Test func trailingGarbage() {
        let error = parseError("[1] x")
        #expect(error?.code == .trailingData)
        #expect(error?.offset == 4)
        #expect(parseError("1 2")?.code == .trailingData)
        #expect(parseError("{}}")?.code == .trailingData)
        #expect(parseError("\"a\"\"b\"")?.code == .trailingData)
        #expect(parseError("null\u{0}")?.code == .trailingData)
    }

    @Test func errorOffsets() {
        #expect(parseError("[1,,2]")?.offset == 3)
        #expect(parseError(#"{"a":"\q"}"#)?.offset == 6)
        #expect(parseError("[1,2")?.offset == 4)
        let description = parseError("[1,,2]")?.description ?? ""
        #expect(description.contains("offset 3"))
        #expect(description.contains("0x2C"))
    }

    @Test func depthLimit() throws {
        let deep64 = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        let deep65 = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        _ = try parse(deep64)
        #expect(parseError(deep65)?.code == .nestingTooDeep)
        #expect(parseError("[[[1]]]", depth: 2)?.code == .nestingTooDeep)
        _ = try parse("[[[1]]]", depth: 3)
        #expect(parseError(#"{"a":{"b":{}}}"#, depth: 2)?.code == .nestingTooDeep)
        // Depth is about nesting, not about how many containers there are.
        _ = try parse("[[],[],[],[]]", depth: 2)
        // A very deep document fails cleanly rather than exhausting the stack.
        let hostile = String(repeating: "[", count: 100_000)
        #expect(parseError(hostile)?.code == .nestingTooDeep)
    }

    @Test func parsesByteBufferWithoutConsumingIt() throws {
        var buffer = ByteBuffer(string: "xx[1,\"a\"]")
        buffer.moveReaderIndex(forwardBy: 2)
        #expect(try JSONValue(parsing: buffer) == [1, "a"])
        #expect(buffer.readableBytes == 7)
    }
}

@Suite("JSON serialization")
struct JSONSerializationTests {
    @Test func scalars() {
        #expect(JSONValue.null.jsonString() == "null")
        #expect(JSONValue.bool(true).jsonString() == "true")
        #expect(JSONValue.bool(false).jsonString() == "false")
        #expect(JSONValue.int(0).jsonString() == "0")
        #expect(JSONValue.int(7).jsonString() == "7")
        #expect(JSONValue.int(-7).jsonString() == "-7")
        #expect(JSONValue.int(1234567890).jsonString() == "1234567890")
        #expect(JSONValue.int(Int.max).jsonString() == "9223372036854775807")
        #expect(JSONValue.int(Int.min).jsonString() == "-9223372036854775808")
    }

    /// Expected strings are what Node.js prints for `JSON.stringify(x)`.
    @Test(arguments: [
        (1.0, "1"), (-1.0, "-1"), (0.0, "0"), (-0.0, "0"), (1.5, "1.5"), (-0.25, "-0.25"),
        (0.1, "0.1"), (0.1 + 0.2, "0.30000000000000004"), (123.456, "123.456"),
        (1e21, "1e+21"), (1e20, "100000000000000000000"), (1.5e21, "1.5e+21"), (123456789012345680000.0, "123456789012345680000"),
        (9007199254740993.0, "9007199254740992"), (1e16, "10000000000000000"),
        (0.000001, "0.000001"), (0.0000001, "1e-7"), (1.5e-7, "1.5e-7"), (0.00001234, "0.00001234"),
        (Double.leastNonzeroMagnitude, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"), (-1e-7, "-1e-7"),
        (2.5e-10, "2.5e-10"), (1e100, "1e+100"), (3.14159, "3.14159"),
        (Double.nan, "null"), (Double.infinity, "null"), (-Double.infinity, "null"),
    ])
    func doublesLikeJavaScript(value: Double, expected: String) {
        #expect(JSONValue.double(value).jsonString() == expected)
    }

    @Test func doublesRoundTrip() throws {
        for value in [0.1, 1.0 / 3.0, 2.0 / 3.0, 1e-300, 6.02214076e23, -123.456e-78, Double.leastNonzeroMagnitude, 1e21, 123e18] {
            let parsed = try JSONValue(parsing: JSONValue.double(value).jsonString())
            #expect(parsed.doubleValue == value, "\(value)")
        }
    }

    @Test func largeIntegralDoublesPrintExactly() throws {
        // JavaScript would print 1729382256910270500; both parse to the same double, ours also to the same Int.
        let value = JSONValue.double(1_729_382_256_910_270_464)
        #expect(value.jsonString() == "1729382256910270464")
        #expect(try JSONValue(parsing: value.jsonString()) == value)
        #expect(JSONValue.double(9.3e18).jsonString() == "9300000000000000000")  // above Int.max: JavaScript's form
    }

    @Test func stringEscapingLikeJSONStringify() {
        #expect(JSONValue.string("").jsonString() == #""""#)
        #expect(JSONValue.string("plain").jsonString() == #""plain""#)
        #expect(JSONValue.string("a\"b\\c").jsonString() == #""a\"b\\c""#)
        #expect(JSONValue.string("\u{08}\u{0C}\n\r\t").jsonString() == #""\b\f\n\r\t""#)
        #expect(JSONValue.string("\u{0}\u{1}\u{1F}").jsonString() == #""\u0000\u0001\u001f""#)
        // Not escaped: "/", DEL, non-ASCII, U+2028.
        #expect(JSONValue.string("a/b\u{7F}é中😀\u{2028}").jsonString() == "\"a/b\u{7F}é中😀\u{2028}\"")
    }

    @Test func containersKeepInsertionOrder() {
        let value: JSONValue = ["z": 1, "a": [true, nil, "x"], "m": [:], "e": []]
        #expect(value.jsonString() == #"{"z":1,"a":[true,null,"x"],"m":{},"e":[]}"#)
        #expect(value.description == value.jsonString())
    }

    @Test func binaryOutsidePacketsLooksLikeANodeBuffer() {
        let value: JSONValue = ["file": .binary(bytes: [1, 2, 255])]
        #expect(value.jsonString() == #"{"file":{"type":"Buffer","data":[1,2,255]}}"#)
    }

    @Test func writesIntoAnExistingBuffer() {
        var buffer = ByteBuffer(string: "42")
        JSONValue.array(["hi"]).writeJSON(into: &buffer)
        #expect(String(buffer: buffer) == #"42["hi"]"#)
    }

    @Test func base64ForCodable() throws {
        let cases: [([UInt8], String)] = [
            ([], ""), ([0x66], "Zg=="), ([0x66, 0x6F], "Zm8="), ([0x66, 0x6F, 0x6F], "Zm9v"), ([0xFB, 0xFF, 0xBF, 0x00], "+/+/AA=="),
        ]
        for (bytes, expected) in cases {
            #expect(try JSONValue.binary(bytes: bytes).decode(String.self) == expected)
        }
    }
}

@Suite("JSONValue and JSONObject")
struct JSONValueTests {
    @Test func numericEquality() {
        #expect(JSONValue.int(1) == .double(1.0))
        #expect(JSONValue.double(1.0) == .int(1))
        #expect(JSONValue.int(1) != .double(1.5))
        #expect(JSONValue.double(.nan) == .double(.nan))
        #expect(Set<JSONValue>([.int(1), .double(1.0), .double(2)]).count == 2)
        #expect(JSONValue.int(1) != .string("1"))
        #expect(JSONValue.bool(true) != .int(1))
    }

    @Test func objectEqualityIgnoresOrder() {
        let a: JSONObject = ["x": 1, "y": 2]
        let b: JSONObject = ["y": 2, "x": 1]
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(a != ["x": 1])
        #expect(a != ["x": 1, "z": 2])
    }

    @Test func objectMutationAndLargeObjects() {
        var object = JSONObject()
        for index in 0..<50 {
            object["k\(index)"] = .int(index)
        }
        #expect(object.count == 50)
        #expect(object["k37"] == 37)
        object["k10"] = "ten"
        #expect(object.keys[10] == "k10")
        #expect(object["k10"] == "ten")
        #expect(object.removeValue(forKey: "k0") == 0)
        #expect(object["k0"] == nil)
        #expect(object["k49"] == 49)
        #expect(object.keys.first == "k1")
        for index in 1..<45 {
            object["k\(index)"] = nil
        }
        #expect(object.count == 5)
        #expect(object["k46"] == 46)
        #expect(object.keys == ["k45", "k46", "k47", "k48", "k49"])
        #expect(object.map(\.key) == object.keys)
    }

    @Test func accessors() {
        let value: JSONValue = ["s": "x", "i": 3, "d": 2.0, "f": 2.5, "b": true, "n": nil, "a": [1], "o": ["k": 1]]
        #expect(value["s"]?.stringValue == "x")
        #expect(value["i"]?.intValue == 3)
        #expect(value["d"]?.intValue == 2)
        #expect(value["f"]?.intValue == nil)
        #expect(value["f"]?.doubleValue == 2.5)
        #expect(value["i"]?.doubleValue == 3)
        #expect(value["b"]?.boolValue == true)
        #expect(value["n"]?.isNull == true)
        #expect(value["a"]?.arrayValue == [1])
        #expect(value["o"]?.objectValue == ["k": 1])
        #expect(value["a"]?[0] == 1)
        #expect(value["a"]?[1] == nil)
        #expect(value["a"]?[-1] == nil)
        #expect(value["s"]?.intValue == nil)
        #expect(value.containsBinary == false)
        #expect(JSONValue.array([["x": .binary(bytes: [1])]]).containsBinary)
        #expect(JSONValue.binary(bytes: [1, 2]).binaryValue == ByteBuffer(bytes: [1, 2]))
    }
}

@Suite("Codable bridging")
struct CodableBridgingTests {
    struct Chat: Codable, Equatable {
        var user: String
        var text: String
        var likes: Int
        var score: Double
        var tags: [String]
        var reply: String?
    }

    struct WithData: Codable, Equatable {
        var name: String
        var payload: Data
    }

    @Test func binaryDecodesIntoData() throws {
        let value: JSONValue = ["name": "f", "payload": .binary(bytes: [0, 1, 2, 250])]
        #expect(try value.decode(WithData.self) == WithData(name: "f", payload: Data([0, 1, 2, 250])))
        // Outgoing Data becomes base64 (documented), not an attachment.
        let encoded = try JSONValue(encoding: WithData(name: "f", payload: Data([0, 1, 2, 250])))
        #expect(encoded["payload"] == "AAEC+g==")
    }

    @Test func encodeAndDecodeUserTypes() throws {
        let chat = Chat(user: "ann", text: "hi \"there\"", likes: 3, score: 1.5, tags: ["a", "b"], reply: nil)
        let value = try JSONValue(encoding: chat)
        #expect(value["user"] == "ann")
        #expect(value["likes"] == 3)
        #expect(value["score"] == 1.5)
        #expect(value["tags"] == ["a", "b"])
        #expect(try value.decode(Chat.self) == chat)
        let fromLiteral: JSONValue = ["user": "bob", "text": "yo", "likes": 0, "score": 2, "tags": [], "reply": "r"]
        #expect(try fromLiteral.decode(Chat.self) == Chat(user: "bob", text: "yo", likes: 0, score: 2, tags: [], reply: "r"))
    }

    @Test func decodingMismatchThrows() {
        let value: JSONValue = ["user": 1]
        #expect(throws: (any Error).self) { try value.decode(Chat.self) }
    }

    @Test func jsonValueIsCodable() throws {
        let value: JSONValue = ["a": [1, 2.5, "x", true, nil, ["b": []]]]
        let roundTripped = try JSONValue(encoding: value)
        #expect(roundTripped == value)
        #expect(try value.decode(JSONValue.self) == value)
        #expect(try JSONValue.array([1, "two"]).decode([JSONValue].self) == [1, "two"])
    }

    @Test func scalarsThroughCodable() throws {
        #expect(try JSONValue(encoding: 5) == 5)
        #expect(try JSONValue(encoding: "s") == "s")
        #expect(try JSONValue(encoding: [1, 2]) == [1, 2])
        #expect(try JSONValue.int(5).decode(Int.self) == 5)
        #expect(try JSONValue.int(5).decode(Double.self) == 5.0)
    }
}

@Suite("UTF-8 validation")
struct UTF8ValidationTests {
    private func valid(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { isWellFormedUTF8($0) }
    }

    @Test func agreesWithTheStandardLibrary() {
        // Every 1- and 2-byte sequence, and 3-byte sequences around the interesting lead bytes.
        var cases: [[UInt8]] = (0...255).map { [UInt8($0)] }
        for a in 0xC0...0xFF { for b in 0...255 { cases.append([UInt8(a), UInt8(b)]) } }
        for a in [0xE0, 0xE1, 0xED, 0xEF, 0xF0, 0xF4, 0xF5] {
            for b in stride(from: 0x70, through: 0xC0, by: 0x08) {
                for c in [0x7F, 0x80, 0xBF, 0xC0] {
                    cases.append([UInt8(a), UInt8(b), UInt8(c)])
                    cases.append([UInt8(a), UInt8(b), UInt8(c), 0x80])
                }
            }
        }
        for bytes in cases {
            let expected = String(validating: bytes, as: UTF8.self) != nil
            #expect(valid(bytes) == expected, "\(bytes)")
        }
        #expect(valid(Array("héllo 中文 😀 \u{10FFFF}".utf8)))
    }
}
