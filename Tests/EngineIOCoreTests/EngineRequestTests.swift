import Testing

@testable import EngineIOCore

@Suite struct EngineRequestClassifyTests {
    private let both: Set<EngineTransport> = [.polling, .websocket]

    private func classify(
        _ query: [String: String],
        upgrade: Bool = false,
        transports: Set<EngineTransport>? = nil
    ) -> Result<EngineRequest, EngineErrorCode> {
        self.classify("GET", query, upgrade: upgrade, transports: transports)
    }

    private func classify(
        _ method: String,
        _ query: [String: String],
        upgrade: Bool = false,
        transports: Set<EngineTransport>? = nil
    ) -> Result<EngineRequest, EngineErrorCode> {
        EngineRequest.classify(method: method, query: query, isWebSocketUpgrade: upgrade, transports: transports ?? self.both)
    }

    // MARK: Successes

    @Test func handshakes() {
        #expect(classify(["EIO": "4", "transport": "polling"]) == .success(.pollingHandshake))
        #expect(classify(["EIO": "4", "transport": "websocket"], upgrade: true) == .success(.webSocketHandshake))
    }

    @Test func requestsWithSid() {
        #expect(classify("GET", ["EIO": "4", "transport": "polling", "sid": "abc"]) == .success(.poll(sid: "abc")))
        #expect(classify("POST", ["EIO": "4", "transport": "polling", "sid": "abc"]) == .success(.post(sid: "abc")))
        #expect(classify("GET", ["EIO": "4", "transport": "websocket", "sid": "abc"], upgrade: true) == .success(.upgrade(sid: "abc")))
        // the protocol version is only checked on handshakes, like engine.io
        #expect(classify("GET", ["transport": "polling", "sid": "abc"]) == .success(.poll(sid: "abc")))
        #expect(classify("POST", ["EIO": "3", "transport": "polling", "sid": "abc"]) == .success(.post(sid: "abc")))
    }

    // MARK: Failures, in engine.io's order

    @Test func unknownTransportComesFirst() {
        #expect(classify(["EIO": "4"]) == .failure(.unknownTransport))
        #expect(classify(["EIO": "4", "transport": "tobi"]) == .failure(.unknownTransport))
        #expect(classify(["EIO": "4", "transport": "constructor"]) == .failure(.unknownTransport))
        #expect(classify(["EIO": "4", "transport": "Polling"]) == .failure(.unknownTransport))
        #expect(classify(["EIO": "4", "transport": ""]) == .failure(.unknownTransport))
        // before the method and the version
        #expect(classify("POST", ["EIO": "3", "transport": "flashsocket"]) == .failure(.unknownTransport))
        #expect(classify("PUT", [:]) == .failure(.unknownTransport))
        // a transport the server disabled is unknown
        #expect(classify(["EIO": "4", "transport": "polling"], transports: [.websocket]) == .failure(.unknownTransport))
        #expect(classify(["EIO": "4", "transport": "websocket"], upgrade: true, transports: [.polling]) == .failure(.unknownTransport))
    }

    @Test func webSocketWithoutUpgradeIsBadRequest() {
        #expect(classify(["EIO": "4", "transport": "websocket"]) == .failure(.badRequest))
        // before the version check
        #expect(classify(["EIO": "3", "transport": "websocket"]) == .failure(.badRequest))
        // an upgrade request must ask for websocket
        #expect(classify(["EIO": "4", "transport": "polling"], upgrade: true) == .failure(.badRequest))
    }

    @Test(arguments: ["POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])
    func handshakeMustBeGET(method: String) {
        #expect(classify(method, ["EIO": "4", "transport": "polling"]) == .failure(.badHandshakeMethod))
        // before the version check
        #expect(classify(method, ["EIO": "3", "transport": "polling"]) == .failure(.badHandshakeMethod))
    }

    @Test func handshakeProtocolVersion() {
        #expect(classify(["EIO": "3", "transport": "polling"]) == .failure(.unsupportedProtocolVersion))
        #expect(classify(["transport": "polling"]) == .failure(.unsupportedProtocolVersion))
        #expect(classify(["EIO": "5", "transport": "polling"]) == .failure(.unsupportedProtocolVersion))
        #expect(classify(["EIO": "", "transport": "polling"]) == .failure(.unsupportedProtocolVersion))
        #expect(classify(["EIO": "3", "transport": "websocket"], upgrade: true) == .failure(.unsupportedProtocolVersion))
    }

    @Test(arguments: ["OPTIONS", "PUT", "DELETE", "PATCH"])
    func otherMethodsWithSidAreBadRequest(method: String) {
        #expect(classify(method, ["EIO": "4", "transport": "polling", "sid": "abc"]) == .failure(.badRequest))
    }

    @Test func upgradeWithSidMustBeGET() {
        #expect(classify("POST", ["EIO": "4", "transport": "websocket", "sid": "abc"], upgrade: true) == .failure(.badRequest))
    }
}

@Suite struct RequestTargetTests {
    @Test func pathAndQuery() {
        let target = RequestTarget("/socket.io/?EIO=4&transport=polling&t=N8hyd6w")
        #expect(target.path == "/socket.io/")
        #expect(target.rawPath == "/socket.io/")
        #expect(target[query: "EIO"] == "4")
        #expect(target[query: "transport"] == "polling")
        #expect(target[query: "t"] == "N8hyd6w")
        #expect(target[query: "sid"] == nil)
        #expect(target.query == ["EIO": "4", "transport": "polling", "t": "N8hyd6w"])
        #expect(target.queryItems.map(\.name) == ["EIO", "transport", "t"])
    }

    @Test func noQuery() {
        let target = RequestTarget("/index.html")
        #expect(target.path == "/index.html")
        #expect(target.queryItems.isEmpty)
        #expect(RequestTarget("/x?").queryItems.isEmpty)
        #expect(RequestTarget("").path == "")
    }

    @Test func percentDecoding() {
        let target = RequestTarget("/a%20b/%C3%A9?na%6De=v%61l%75e&sid=ab%2Bcd&q=%3D%26%3F&emoji=%F0%9F%8E%89")
        #expect(target.path == "/a b/é")
        #expect(target.rawPath == "/a%20b/%C3%A9")
        #expect(target[query: "name"] == "value")
        #expect(target[query: "sid"] == "ab+cd")
        #expect(target[query: "q"] == "=&?")
        #expect(target[query: "emoji"] == "🎉")
    }

    @Test func plusIsSpaceInQueryOnly() {
        let target = RequestTarget("/a+b?x=a+b&y+z=1")
        #expect(target.path == "/a+b")
        #expect(target[query: "x"] == "a b")
        #expect(target[query: "y z"] == "1")
    }

    @Test func valuesMayHoldEqualsAndBeMissing() {
        let target = RequestTarget("/p?a=b=c&flag&empty=&&=v")
        #expect(target[query: "a"] == "b=c")
        #expect(target[query: "flag"] == "")
        #expect(target[query: "empty"] == "")
        #expect(target[query: ""] == "v")
    }

    @Test func firstValueWins() {
        let target = RequestTarget("/p?sid=first&sid=second")
        #expect(target[query: "sid"] == "first")
        #expect(target.query["sid"] == "first")
        #expect(target.queryItems.map(\.value) == ["first", "second"])
    }

    @Test func malformedEscapes() {
        // a bad escape in the path leaves it raw; in the query it reads as empty
        #expect(RequestTarget("/a%zz").path == "/a%zz")
        #expect(RequestTarget("/a%2").path == "/a%2")
        #expect(RequestTarget("/p?x=%G1")[query: "x"] == "")
        #expect(RequestTarget("/p?x=%")[query: "x"] == "")
        #expect(RequestTarget("/p?x=%FF")[query: "x"] == "")  // not UTF-8
        #expect(RequestTarget.percentDecode(Array("%41%6a%6A".utf8), plusIsSpace: false) == "Ajj")
        #expect(RequestTarget.percentDecode(Array("a+b".utf8), plusIsSpace: false) == "a+b")
        #expect(RequestTarget.percentDecode(Array("a%2".utf8), plusIsSpace: true) == nil)
    }

    @Test func equalityIgnoresNothingThatWasSent() {
        #expect(RequestTarget("/a?x=1") == RequestTarget("/a?x=1"))
        #expect(RequestTarget("/a?x=1") != RequestTarget("/a?x=2"))
        #expect(RequestTarget("/a?x=1&x=2") != RequestTarget("/a?x=1"))
        #expect(Set([RequestTarget("/a?x=1"), RequestTarget("/a?x=1")]).count == 1)
    }
}
