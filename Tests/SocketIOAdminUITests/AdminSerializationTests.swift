import Foundation
import SocketIOCore
import Testing

@testable import SocketIOAdminUI

/// The shapes the page reads.
@Suite struct AdminSerializationTests {
    @Test func datesAreJavaScriptDateJSON() {
        #expect(AdminUI.jsDate(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(AdminUI.jsDate(Date(timeIntervalSince1970: 1_767_323_045.678_9)) == "2026-01-02T03:04:05.678Z")
        #expect(AdminUI.jsDateString(milliseconds: 1_767_323_045_678) == "Fri Jan 02 2026 03:04:05 GMT+0000 (Coordinated Universal Time)")
    }

    @Test func aSocketIsSerializedAsTheOfficialServerDoes() throws {
        let handshake: JSONValue = [
            "headers": ["host": "localhost:3000", "x-forwarded-for": "10.0.0.7"],
            "time": "Thu Jan 01 1970", "address": "127.0.0.1", "xdomain": false, "secure": false,
            "issued": 1000, "url": "/socket.io/?EIO=4&transport=polling", "query": ["EIO": "4"], "auth": ["token": "secret"],
        ]
        let data: JSONValue = ["name": "ann", "_admin": ["clientId": "abcdefabcdef", "transport": "polling"]]
        let socket = AdminUI.serialize(id: "sid1", nsp: "/chat", handshake: handshake, rooms: ["room b", "sid1", "room a"], data: data)
        #expect(socket["id"] == "sid1")
        #expect(socket["clientId"] == "abcdefabcdef")
        #expect(socket["transport"] == "polling")
        #expect(socket["nsp"] == "/chat")
        #expect(socket["data"] == ["name": "ann"], "without _admin")
        #expect(socket["rooms"] == ["sid1", "room a", "room b"], "own room first")
        let serialized = try #require(socket["handshake"]?.objectValue)
        #expect(Set(serialized.keys) == ["address", "headers", "query", "issued", "secure", "time", "url", "xdomain"], "no auth")
        #expect(serialized["address"] == "10.0.0.7", "x-forwarded-for wins over the peer address")
        #expect(serialized["time"] == "Thu Jan 01 1970 00:00:01 GMT+0000 (Coordinated Universal Time)", "Date.toString() of issued")
    }

    @Test func sessionIdsAre16HexCharacters() {
        let id = AdminUI.randomSessionId()
        #expect(id.count == 16 && id.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(id != AdminUI.randomSessionId())
    }
}
