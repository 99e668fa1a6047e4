import NIOCore
import Testing

@testable import SocketIOCore

private func encode(_ packet: SocketPacket) -> (String, [[UInt8]]) {
    let encoded = SocketPacketEncoder().encode(packet)
    return (String(buffer: encoded.text), encoded.attachments.map { Array($0.readableBytesView) })
}

private func bin(_ bytes: UInt8...) -> JSONValue { .binary(bytes: bytes) }

/// Decodes a text packet and its attachments with a fresh decoder; the packet must be complete after the last one.
private func decode(
    _ text: String,
    attachments: [[UInt8]] = [],
    configuration: SocketPacketDecoder.Configuration = .init()
) throws(SocketPacketDecodingError) -> SocketPacket {
    var decoder = SocketPacketDecoder(configuration: configuration)
    var packet = try decoder.decode(text: text)
    for (index, attachment) in attachments.enumerated() {
        #expect(packet == nil, "packet complete before attachment \(index)")
        packet = try decoder.decode(binary: ByteBuffer(bytes: attachment))
    }
    #expect(!decoder.isAwaitingAttachments)
    guard let packet else {
        Issue.record("packet still waiting for attachments")
        return SocketPacket(type: .disconnect)
    }
    return packet
}

private func decodeError(
    _ text: String,
    configuration: SocketPacketDecoder.Configuration = .init()
) -> SocketPacketDecodingError? {
    var decoder = SocketPacketDecoder(configuration: configuration)
    do {
        _ = try decoder.decode(text: text)
        return nil
    } catch {
        return error
    }
}

/// One wire example: the packet, its text form and attachments. Decoding the text gives `decoded` (the packet
/// with its wire type), encoding the packet gives the text.
struct WireExample: Sendable, CustomTestStringConvertible {
    var packet: SocketPacket
    var text: String
    var attachments: [[UInt8]] = []
    var decoded: SocketPacket? = nil
    var testDescription: String { self.text }
}

/// The examples of the protocol README ("Packet encoding" and "Sample session") and of its test suite.
let wireExamples: [WireExample] = [
    // Connection to a namespace.
    WireExample(packet: .connect(), text: "0"),
    WireExample(packet: .connect(namespace: "/admin", sid: "oSO0OpakMV_3jnilAAAA"), text: #"0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}"#),
    WireExample(packet: .connect(sid: "wZX3oN0bSVIhsaknAAAI"), text: #"0{"sid":"wZX3oN0bSVIhsaknAAAI"}"#),
    WireExample(packet: .connect(namespace: "/admin"), text: "0/admin,"),
    WireExample(packet: .connect(payload: ["token": "123"]), text: #"0{"token":"123"}"#),
    WireExample(packet: .connect(namespace: "/custom", payload: ["token": "abc"]), text: #"0/custom,{"token":"abc"}"#),
    WireExample(packet: .connectError(message: "Not authorized"), text: #"4{"message":"Not authorized"}"#),
    WireExample(
        packet: .connectError(namespace: "/random", message: "Invalid namespace"),
        text: #"4/random,{"message":"Invalid namespace"}"#
    ),
    WireExample(
        packet: .connectError(message: "nope", data: ["retry": false]),
        text: #"4{"message":"nope","data":{"retry":false}}"#
    ),
    // Sending and receiving data.
    WireExample(packet: .event("foo"), text: #"2["foo"]"#),
    WireExample(packet: .event("bar", namespace: "/admin"), text: #"2/admin,["bar"]"#),
    WireExample(packet: .event("hey", ["Jude"]), text: #"2["hey","Jude"]"#),
    WireExample(packet: .event("hello", [1]), text: #"2["hello",1]"#),
    WireExample(
        packet: .event("message", [1, "2", ["3": [true]]]),
        text: #"2["message",1,"2",{"3":[true]}]"#
    ),
    WireExample(
        packet: .event("baz", [bin(1, 2, 3, 4)]),
        text: #"51-["baz",{"_placeholder":true,"num":0}]"#,
        attachments: [[1, 2, 3, 4]],
        decoded: SocketPacket(type: .binaryEvent, data: ["baz", bin(1, 2, 3, 4)])
    ),
    WireExample(
        packet: .event("baz", [bin(1, 2), bin(3, 4)], namespace: "/admin"),
        text: #"52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
        attachments: [[1, 2], [3, 4]],
        decoded: SocketPacket(type: .binaryEvent, namespace: "/admin", data: ["baz", bin(1, 2), bin(3, 4)])
    ),
    // Acknowledgement.
    WireExample(packet: .event("foo", ackId: 12), text: #"212["foo"]"#),
    WireExample(packet: .ack([], ackId: 12), text: "312[]"),
    WireExample(packet: .event("foo", namespace: "/admin", ackId: 13), text: #"2/admin,13["foo"]"#),
    WireExample(packet: .ack(["bar"], ackId: 13, namespace: "/admin"), text: #"3/admin,13["bar"]"#),
    WireExample(packet: .event("tellme", namespace: "/admin", ackId: 1), text: #"2/admin,1["tellme"]"#),
    WireExample(
        packet: .ack(["bar", bin(1, 2, 3, 4)], ackId: 15),
        text: #"61-15["bar",{"_placeholder":true,"num":0}]"#,
        attachments: [[1, 2, 3, 4]],
        decoded: SocketPacket(type: .binaryAck, ackId: 15, data: ["bar", bin(1, 2, 3, 4)])
    ),
    WireExample(
        packet: .ack([bin(9)], ackId: 1, namespace: "/admin"),
        text: #"61-/admin,1[{"_placeholder":true,"num":0}]"#,
        attachments: [[9]],
        decoded: SocketPacket(type: .binaryAck, namespace: "/admin", ackId: 1, data: [bin(9)])
    ),
    WireExample(
        packet: .event("message-with-ack", [1, "2", ["3": [false]]], ackId: 456),
        text: #"2456["message-with-ack",1,"2",{"3":[false]}]"#
    ),
    WireExample(packet: .ack([1, "2", ["3": [false]]], ackId: 456), text: #"3456[1,"2",{"3":[false]}]"#),
    WireExample(
        packet: .event("message-with-ack", [bin(1, 2, 3), bin(4, 5, 6)], ackId: 789),
        text: #"52-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
        attachments: [[1, 2, 3], [4, 5, 6]],
        decoded: SocketPacket(type: .binaryEvent, ackId: 789, data: ["message-with-ack", bin(1, 2, 3), bin(4, 5, 6)])
    ),
    // Disconnection.
    WireExample(packet: .disconnect(), text: "1"),
    WireExample(packet: .disconnect(namespace: "/admin"), text: "1/admin,"),
    // Non-ASCII survives as UTF-8.
    WireExample(packet: .event("chat", ["héllo 😀 中文"], namespace: "/ñ"), text: "2/ñ,[\"chat\",\"héllo 😀 中文\"]"),
]

@Suite("Socket.IO packets")
struct PacketTests {
    @Test(arguments: wireExamples)
    func encodesByteForByte(example: WireExample) {
        let (text, attachments) = encode(example.packet)
        #expect(text == example.text)
        #expect(attachments == example.attachments)
    }

    @Test(arguments: wireExamples)
    func decodesByteForByte(example: WireExample) throws {
        let packet = try decode(example.text, attachments: example.attachments)
        #expect(packet == (example.decoded ?? example.packet))
        // And the decoded packet encodes back to the same bytes.
        let (text, attachments) = encode(packet)
        #expect(text == example.text)
        #expect(attachments == example.attachments)
    }

    @Test func encodeIntoLetsTheCallerPrefix() {
        var buffer = ByteBuffer(string: "4")
        let attachments = SocketPacketEncoder().encode(.event("a", [bin(7)]), into: &buffer)
        #expect(String(buffer: buffer) == #"451-["a",{"_placeholder":true,"num":0}]"#)
        #expect(attachments == [ByteBuffer(bytes: [7])])
    }

    @Test func namespaceWithoutCommaIsAccepted() throws {
        // Sent by the protocol's own test suite, accepted by Node.js and python-socketio.
        #expect(try decode("40/custom".dropFirst().description) == .connect(namespace: "/custom"))
        #expect(try decode("1/custom") == .disconnect(namespace: "/custom"))
        #expect(try decode("0/random") == .connect(namespace: "/random"))
    }

    @Test func typeNormalizationWhenEncoding() {
        // A binary type without binary data is sent as the plain type, and vice versa.
        #expect(encode(SocketPacket(type: .binaryEvent, data: ["x"])).0 == #"2["x"]"#)
        #expect(encode(SocketPacket(type: .binaryAck, ackId: 3, data: [])).0 == "33[]")
        #expect(encode(SocketPacket(type: .ack, ackId: 3, data: [bin(1)])).0 == #"61-3[{"_placeholder":true,"num":0}]"#)
        // Binary in a CONNECT payload is not an attachment (socket.io-parser writes the Buffer as JSON).
        #expect(encode(.connect(payload: ["k": bin(1, 2)])).0 == #"0{"k":{"type":"Buffer","data":[1,2]}}"#)
    }

    @Test func eventAccessors() throws {
        let packet = try decode(#"2["chat",1,{"a":true}]"#)
        #expect(packet.isEvent)
        #expect(!packet.isAck)
        #expect(packet.eventName == "chat")
        #expect(Array(packet.arguments) == [1, ["a": true]])
        let numeric = try decode(#"2[42,"x"]"#)
        #expect(numeric.eventName == "42")
        #expect(Array(numeric.arguments) == ["x"])
        let ack = try decode(#"37["ok",2]"#)
        #expect(ack.isAck)
        #expect(ack.eventName == nil)
        #expect(Array(ack.arguments) == ["ok", 2])
        #expect(SocketPacket.connect().arguments.isEmpty)
        #expect(SocketPacket.event("e", [bin(1)]).containsBinary)
        #expect(SocketPacket.event("e", [1]).description == #"EVENT / ["e",1]"#)
    }

    @Test func whitespaceAroundJSONLikeJSONParse() throws {
        #expect(try decode(#"2 ["a"] "#) == .event("a"))
    }
}

@Suite("Binary attachments")
struct AttachmentTests {
    @Test func reconstructsAtSeveralDepths() throws {
        let original: SocketPacket = .event(
            "upload",
            [
                bin(0),
                ["file": bin(1, 1), "meta": ["name": "x", "parts": [bin(2, 2), ["deep": [[bin(3)]]]]]],
                [bin(4), "text", [bin(5)]],
                bin(),
            ],
            namespace: "/files",
            ackId: 99
        )
        let encoded = SocketPacketEncoder().encode(original)
        let prefix = #"57-/files,99["upload",{"_placeholder":true,"num":0},{"file":{"_placeholder":true,"num":1},"#
        #expect(String(buffer: encoded.text).hasPrefix(prefix))
        #expect(encoded.attachments.map { Array($0.readableBytesView) } == [[0], [1, 1], [2, 2], [3], [4], [5], []])

        var decoder = SocketPacketDecoder()
        #expect(try decoder.decode(text: encoded.text) == nil)
        for attachment in encoded.attachments.dropLast() {
            #expect(try decoder.decode(binary: attachment) == nil)
            #expect(decoder.isAwaitingAttachments)
        }
        let decoded = try #require(try decoder.decode(binary: encoded.attachments.last!))
        #expect(decoded.type == .binaryEvent)
        #expect(decoded.namespace == "/files")
        #expect(decoded.ackId == 99)
        #expect(decoded.data == original.data)
        #expect(decoded.arguments[2]["meta"]?["parts"]?[1]?["deep"]?[0]?[0] == bin(3))
        #expect(!decoder.isAwaitingAttachments)
    }

    @Test func placeholdersOutOfOrderAreMatchedByNum() throws {
        let packet = try decode(
            #"52-["e",{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]"#,
            attachments: [[0xAA], [0xBB]]
        )
        #expect(packet.data == ["e", bin(0xBB), bin(0xAA)])
    }

    @Test func zeroAttachmentBinaryPacketIsImmediate() throws {
        // Node.js emits such a packet immediately too.
        #expect(try decode(#"50-["e",1]"#) == SocketPacket(type: .binaryEvent, data: ["e", 1]))
    }

    @Test func placeholderInPlainEventIsLeftAlone() throws {
        let packet = try decode(#"2["e",{"_placeholder":true,"num":0}]"#)
        #expect(packet.data == ["e", ["_placeholder": true, "num": 0]])
    }

    @Test func decoderIsReusableAcrossPackets() throws {
        var decoder = SocketPacketDecoder()
        #expect(try decoder.decode(text: #"51-["a",{"_placeholder":true,"num":0}]"#) == nil)
        #expect(try decoder.decode(binary: ByteBuffer(bytes: [1]))?.data == ["a", bin(1)])
        #expect(try decoder.decode(text: #"2["b"]"#) == .event("b"))
        #expect(try decoder.decode(text: #"51-["c",{"_placeholder":true,"num":0}]"#) == nil)
        #expect(try decoder.decode(binary: ByteBuffer(bytes: [2]))?.data == ["c", bin(2)])
    }

    @Test func binaryWhenNoneExpected() {
        var decoder = SocketPacketDecoder()
        #expect(throws: SocketPacketDecodingError.self) { try decoder.decode(binary: ByteBuffer(bytes: [1])) }
        do {
            _ = try decoder.decode(binary: ByteBuffer(bytes: [1]))
        } catch {
            #expect(error.code == .unexpectedAttachment)
        }
    }

    @Test func textWhileAwaitingAttachments() throws {
        var decoder = SocketPacketDecoder()
        #expect(try decoder.decode(text: #"52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#) == nil)
        #expect(try decoder.decode(binary: ByteBuffer(bytes: [1])) == nil)
        do {
            _ = try decoder.decode(text: #"2["b"]"#)
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .unexpectedText)
        }
        #expect(!decoder.isAwaitingAttachments)
    }

    @Test func resetDropsAPendingPacket() throws {
        var decoder = SocketPacketDecoder()
        #expect(try decoder.decode(text: #"51-["a",{"_placeholder":true,"num":0}]"#) == nil)
        decoder.reset()
        #expect(try decoder.decode(text: #"2["b"]"#) == .event("b"))
    }
}

/// Malformed input: each must be rejected with the given code.
struct MalformedExample: Sendable, CustomTestStringConvertible {
    var text: String
    var code: SocketPacketDecodingError.Code
    var testDescription: String { self.text.isEmpty ? "(empty)" : self.text }
}

let malformedExamples: [MalformedExample] = [
    // From the protocol test suite ("should close the connection upon invalid format"), Engine.IO prefix removed.
    MalformedExample(text: "abc", code: .unknownType),
    MalformedExample(text: "2{}", code: .invalidPayload),
    MalformedExample(text: #"2abc["message-with-ack",1,"2",{"3":[false]}]"#, code: .invalidJSON),
    // Type.
    MalformedExample(text: "", code: .emptyPacket),
    MalformedExample(text: "7", code: .unknownType),
    MalformedExample(text: "9[\"a\"]", code: .unknownType),
    MalformedExample(text: "/admin,", code: .unknownType),
    MalformedExample(text: " 2[\"a\"]", code: .unknownType),
    // Attachment counts.
    MalformedExample(text: #"5["a"]"#, code: .invalidAttachmentCount),
    MalformedExample(text: #"5-["a"]"#, code: .invalidAttachmentCount),
    MalformedExample(text: "51", code: .invalidAttachmentCount),
    MalformedExample(text: #"5a-["a"]"#, code: .invalidAttachmentCount),
    MalformedExample(text: #"511-["a"]"#, code: .tooManyAttachments),
    MalformedExample(text: #"599999999999999999999999-["a"]"#, code: .tooManyAttachments),
    MalformedExample(text: #"21-["a"]"#, code: .invalidJSON),
    // Ack ids.
    MalformedExample(text: #"29007199254740992["a"]"#, code: .invalidAckId),
    MalformedExample(text: #"2999999999999999999999999999["a"]"#, code: .invalidAckId),
    MalformedExample(text: "3/admin,99999999999999999999[]", code: .invalidAckId),
    // JSON.
    MalformedExample(text: #"2["a""#, code: .invalidJSON),
    MalformedExample(text: #"2["a"]x"#, code: .invalidJSON),
    MalformedExample(text: #"2["a"],"#, code: .invalidJSON),
    MalformedExample(text: #"2['a']"#, code: .invalidJSON),
    MalformedExample(text: "0/admin,{", code: .invalidJSON),
    MalformedExample(text: "2" + String(repeating: "[", count: 65) + String(repeating: "]", count: 65), code: .invalidJSON),
    // Payload shapes.
    MalformedExample(text: "2", code: .invalidPayload),
    MalformedExample(text: "2/admin,", code: .invalidPayload),
    MalformedExample(text: "21", code: .invalidPayload),
    MalformedExample(text: "2[]", code: .invalidPayload),
    MalformedExample(text: #"2"a""#, code: .invalidPayload),
    MalformedExample(text: "2[null]", code: .invalidPayload),
    MalformedExample(text: "2[{}]", code: .invalidPayload),
    MalformedExample(text: "2[[\"a\"]]", code: .invalidPayload),
    MalformedExample(text: "2[true]", code: .invalidPayload),
    MalformedExample(text: "3", code: .invalidAckId),
    MalformedExample(text: "3[]", code: .invalidAckId),
    MalformedExample(text: "3/admin,[]", code: .invalidAckId),
    MalformedExample(text: "31", code: .invalidPayload),
    MalformedExample(text: "31{}", code: .invalidPayload),
    MalformedExample(text: #"31"a""#, code: .invalidPayload),
    MalformedExample(text: "0[]", code: .invalidPayload),
    MalformedExample(text: #"0"token""#, code: .invalidPayload),
    MalformedExample(text: "0null", code: .invalidPayload),
    MalformedExample(text: "0/admin,1", code: .invalidAckId),
    MalformedExample(text: "01{}", code: .invalidAckId),
    MalformedExample(text: "11", code: .invalidAckId),
    MalformedExample(text: #"41{"message":"x"}"#, code: .invalidAckId),
    MalformedExample(text: "1{}", code: .invalidPayload),
    MalformedExample(text: "1[]", code: .invalidPayload),
    MalformedExample(text: "1/admin,null", code: .invalidPayload),
    MalformedExample(text: "4", code: .invalidPayload),
    MalformedExample(text: "4[]", code: .invalidPayload),
    MalformedExample(text: "4null", code: .invalidPayload),
    MalformedExample(text: "50-{}", code: .invalidPayload),
    MalformedExample(text: "61-", code: .invalidAckId),
    MalformedExample(text: "61-1", code: .invalidPayload),
    // Reserved event names.
    MalformedExample(text: #"2["connect"]"#, code: .reservedEventName),
    MalformedExample(text: #"2["disconnect",1]"#, code: .reservedEventName),
    MalformedExample(text: #"2/admin,["disconnecting"]"#, code: .reservedEventName),
    MalformedExample(text: #"2["connect_error"]"#, code: .reservedEventName),
    MalformedExample(text: #"2["newListener"]"#, code: .reservedEventName),
    MalformedExample(text: #"2["removeListener"]"#, code: .reservedEventName),
    // Placeholders.
    MalformedExample(text: #"51-["a",{"_placeholder":true,"num":1}]"#, code: .invalidPlaceholder),
    MalformedExample(text: #"51-["a",{"_placeholder":true,"num":-1}]"#, code: .invalidPlaceholder),
    MalformedExample(text: #"51-["a",{"_placeholder":true}]"#, code: .invalidPlaceholder),
    MalformedExample(text: #"51-["a",{"_placeholder":true,"num":"0"}]"#, code: .invalidPlaceholder),
    MalformedExample(text: #"51-["a",{"_placeholder":true,"num":0.5}]"#, code: .invalidPlaceholder),
    MalformedExample(text: #"52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}]"#, code: .invalidPlaceholder),
    MalformedExample(text: #"52-["a",[{"x":{"_placeholder":true,"num":5}}]]"#, code: .invalidPlaceholder),
    MalformedExample(text: #"50-["a",{"_placeholder":true,"num":0}]"#, code: .invalidPlaceholder),
    MalformedExample(text: #"61-1[{"_placeholder":true,"num":1}]"#, code: .invalidPlaceholder),
]

@Suite("Malformed packets")
struct MalformedPacketTests {
    @Test(arguments: malformedExamples)
    func rejected(example: MalformedExample) {
        let error = decodeError(example.text)
        #expect(error?.code == example.code, "\(error.map { String(describing: $0) } ?? "accepted")")
    }

    @Test func invalidUTF8Namespace() {
        var decoder = SocketPacketDecoder()
        let bytes = ByteBuffer(bytes: [UInt8(ascii: "1"), UInt8(ascii: "/"), 0xFF, UInt8(ascii: ",")])
        do {
            _ = try decoder.decode(text: bytes)
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .invalidNamespace)
        }
    }

    @Test func limitsAreConfigurable() throws {
        var configuration = SocketPacketDecoder.Configuration()
        configuration.maxAttachments = 2
        #expect(decodeError(#"53-["a"]"#, configuration: configuration)?.code == .tooManyAttachments)
        configuration.maxAckId = 100
        #expect(try decode(#"2100["a"]"#, configuration: configuration).ackId == 100)
        #expect(decodeError(#"2101["a"]"#, configuration: configuration)?.code == .invalidAckId)
        configuration.maxNestingDepth = 2
        #expect(decodeError(#"2["a",[[1]]]"#, configuration: configuration)?.code == .invalidJSON)
        configuration.rejectsReservedEventNames = false
        #expect(try decode(#"2["connect"]"#, configuration: configuration).eventName == "connect")
        configuration.allowsNumericEventNames = false
        #expect(decodeError("2[1]", configuration: configuration)?.code == .invalidPayload)
    }

    @Test func hugeAttachmentLimitDoesNotOverflow() {
        let configuration = SocketPacketDecoder.Configuration(maxAttachments: .max)
        #expect(decodeError(#"599999999999999999999999-["a"]"#, configuration: configuration)?.code == .tooManyAttachments)
        let none = SocketPacketDecoder.Configuration(maxAttachments: 0, maxAckId: 0)
        #expect(decodeError(#"55-["a"]"#, configuration: none)?.code == .tooManyAttachments)
        #expect(decodeError(#"25["a"]"#, configuration: none)?.code == .invalidAckId)
        #expect((try? decode(#"20["a"]"#, configuration: none))?.ackId == 0)
    }

    @Test func largestAcceptedAckId() throws {
        #expect(try decode(#"29007199254740991["a"]"#).ackId == 9_007_199_254_740_991)
        #expect(try decode(#"20["a"]"#).ackId == 0)
    }

    @Test func errorsDescribeThemselves() {
        let json = decodeError(#"2["a"]x"#)
        #expect(json?.jsonError?.code == .trailingData)
        #expect(json?.description.contains("offset") == true)
        #expect(decodeError("7")?.description == "unknown Socket.IO packet type 0x37")
        #expect(decodeError(#"511-[]"#)?.description == "too many binary attachments: 11 (limit 10)")
        #expect(decodeError("2[]")?.description.contains("non-empty array") == true)
        #expect(decodeError(#"2["connect"]"#)?.description == #"reserved event name "connect""#)
    }

    @Test func acceptsConnectErrorAsString() throws {
        // Older servers (v2) sent a bare string; socket.io-parser still accepts it.
        #expect(try decode(#"4"Not authorized""#).data == "Not authorized")
    }
}
