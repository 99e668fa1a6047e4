import Foundation
import Testing

import SocketIOCore

private struct Bid: Codable, Equatable {
    var item: String
    var amounts: [Int]
}

private func failure(_ payload: [JSONValue]) -> EventDecodingError? {
    if case .failure(let error) = EventDecodingError.decode(Bid.self, from: payload, event: "bid", using: JSONDecoder()) {
        return error
    }
    return nil
}

@Suite("Decoding event payloads for typed handlers")
struct EventDecodingErrorTests {
    @Test func aPayloadThatDecodesIsTheFirstArgument() throws {
        let result = EventDecodingError.decode(Bid.self, from: [["item": "lamp", "amounts": [1, 2]], "ignored"], event: "bid", using: JSONDecoder())
        #expect(try result.get() == Bid(item: "lamp", amounts: [1, 2]))
    }

    static let failures: [([JSONValue], String)] = [
        ([["item": 1, "amounts": []]], "item: expected String, found a number"),
        ([["item": "x"]], "missing key amounts"),
        ([["item": "x", "amounts": [1, "2"]]], "amounts.[1]: expected Int, found a string"),
        ([["item": nil, "amounts": []]], "item: expected String, found null or nothing"),
        ([], "payload: expected Dictionary<String, Any>, found null or nothing"),
    ]

    @Test("each kind of decoding failure reads as the path and the problem", arguments: Self.failures)
    func messages(payload: [JSONValue], message: String) throws {
        let error = try #require(failure(payload))
        #expect(error.message == message)
        #expect(error.event == "bid")
        #expect(error.expectedType == "Bid")
        #expect(error.underlyingError is DecodingError)
    }

    @Test func theReplyIsTheDocumentedObject() throws {
        let error = try #require(failure([["item": "x"]]))
        #expect(error.reply == ["error": "invalid payload", "event": "bid", "message": "missing key amounts"])
        #expect(error.description == "event bid: payload is not a Bid: missing key amounts")
    }
}
