import Foundation
import NIOCore
import Testing

@testable import EngineIOCore

private func jsonObject(_ buffer: ByteBuffer) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView))
    return try #require(object as? [String: Any])
}

@Suite struct EngineErrorCodeTests {
    @Test(arguments: [
        (EngineErrorCode.unknownTransport, 0, "Transport unknown", 400),
        (EngineErrorCode.unknownSessionID, 1, "Session ID unknown", 400),
        (EngineErrorCode.badHandshakeMethod, 2, "Bad handshake method", 400),
        (EngineErrorCode.badRequest, 3, "Bad request", 400),
        (EngineErrorCode.forbidden, 4, "Forbidden", 403),
        (EngineErrorCode.unsupportedProtocolVersion, 5, "Unsupported protocol version", 400),
    ])
    func codesMessagesAndStatuses(error: EngineErrorCode, code: Int, message: String, status: Int) throws {
        #expect(error.code == code)
        #expect(error.message == message)
        #expect(error.httpStatus == status)
        #expect(String(buffer: error.jsonBody) == "{\"code\":\(code),\"message\":\"\(message)\"}")
        let json = try jsonObject(error.jsonBody)
        #expect(json["code"] as? Int == code)
        #expect(json["message"] as? String == message)
        #expect(error.description == "\(code) \(message)")
    }

    @Test func customMessageIsEscaped() throws {
        let message = "no \"quotes\" \\ or\nnew\tlines \u{1} héllo ✓"
        let error = EngineErrorCode(code: 4, message: message)
        #expect(error.httpStatus == 403)
        let json = try jsonObject(error.jsonBody)
        #expect(json["code"] as? Int == 4)
        #expect(json["message"] as? String == message)
    }
}

@Suite struct JSONTextTests {
    private func written(_ string: String) -> String {
        var buffer = ByteBuffer()
        JSONText.writeString(string, into: &buffer)
        return String(buffer: buffer)
    }

    @Test func escapesLikeJSONStringify() {
        #expect(written("") == "\"\"")
        #expect(written("plain") == "\"plain\"")
        #expect(written("a\"b\\c") == "\"a\\\"b\\\\c\"")
        #expect(written("\n\r\t\u{8}\u{c}") == "\"\\n\\r\\t\\b\\f\"")
        #expect(written("\u{0}\u{1f}") == "\"\\u0000\\u001f\"")
        #expect(written("/ é ✓ 🎉 \u{7f}") == "\"/ é ✓ 🎉 \u{7f}\"")
    }

    @Test func everyControlCharacterParsesBack() throws {
        let string = String((0..<0x20).map { Character(Unicode.Scalar(UInt8($0))) }) + "end"
        var buffer = ByteBuffer()
        JSONText.writeString(string, into: &buffer)
        let parsed = try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView), options: .fragmentsAllowed)
        #expect(parsed as? String == string)
    }
}

@Suite struct EngineHandshakeTests {
    @Test func openPacketJSON() throws {
        let handshake = EngineHandshake(sid: "abc-_123", upgrades: ["websocket"], pingInterval: 25_000, pingTimeout: 20_000, maxPayload: 1_000_000)
        let packet = handshake.openPacket
        #expect(packet.type == .open)
        #expect(!packet.isBinary)
        #expect(
            packet.text == "{\"sid\":\"abc-_123\",\"upgrades\":[\"websocket\"],\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}"
        )
        let json = try jsonObject(packet.payload)
        #expect(json["sid"] as? String == "abc-_123")
        #expect(json["upgrades"] as? [String] == ["websocket"])
        #expect(json["pingInterval"] as? Int == 25_000)
        #expect(json["pingTimeout"] as? Int == 20_000)
        #expect(json["maxPayload"] as? Int == 1_000_000)
        #expect(Set(json.keys) == ["sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"])
        #expect(String(buffer: PollingPayload.encode([packet])).hasPrefix("0{\"sid\""))
    }

    @Test func noUpgradesAndSeveral() throws {
        let none = EngineHandshake(sid: "s", upgrades: [], pingInterval: 1, pingTimeout: 2, maxPayload: 3)
        #expect(try jsonObject(none.openPacket.payload)["upgrades"] as? [String] == [])
        #expect(none.openPacket.text.contains("\"upgrades\":[]"))
        let two = EngineHandshake(sid: "s\"q", upgrades: ["websocket", "webtransport"], pingInterval: 1, pingTimeout: 2, maxPayload: 3)
        let json = try jsonObject(two.openPacket.payload)
        #expect(json["upgrades"] as? [String] == ["websocket", "webtransport"])
        #expect(json["sid"] as? String == "s\"q")
    }
}

@Suite struct SessionIDTests {
    private static let base64url = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    @Test func twentyBase64URLCharacters() {
        for _ in 0..<1_000 {
            let id = SessionID.make()
            #expect(id.utf8.count == 20)
            #expect(id.utf8.allSatisfy { Self.base64url.contains($0) }, "\(id)")
        }
    }

    @Test func tenThousandDistinct() {
        var seen = Set<String>()
        for _ in 0..<10_000 { seen.insert(SessionID.make()) }
        #expect(seen.count == 10_000)
    }

    @Test func everyPositionVaries() {
        // 120 random bits: over 1000 ids each of the 20 positions takes many values
        let ids = (0..<1_000).map { _ in Array(SessionID.make().utf8) }
        for position in 0..<20 {
            #expect(Set(ids.map { $0[position] }).count > 32, "position \(position)")
        }
    }
}
