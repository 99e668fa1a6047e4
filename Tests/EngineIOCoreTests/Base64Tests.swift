import Foundation
import NIOCore
import Testing

@testable import EngineIOCore

@Suite struct Base64Tests {
    /// Deterministic bytes of every value, different for each length.
    private func bytes(count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 151 &+ count &* 7 &+ ($0 >> 3)) }
    }

    private func encode(_ bytes: [UInt8]) -> String {
        var buffer = ByteBuffer()
        Base64.encode(bytes, into: &buffer)
        return String(buffer: buffer)
    }

    @Test func rfc4648Vectors() {
        let vectors = ["": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=", "foobar": "Zm9vYmFy"]
        for (plain, encoded) in vectors {
            #expect(encode(Array(plain.utf8)) == encoded)
            #expect(Base64.decode(Array(encoded.utf8)).map { String(buffer: $0) } == plain)
        }
    }

    @Test func encodeMatchesFoundationForLengths0To100() {
        for count in 0...100 {
            let input = bytes(count: count)
            let expected = Data(input).base64EncodedString()
            #expect(encode(input) == expected, "length \(count)")
            #expect(Base64.encodedLength(of: count) == expected.utf8.count, "length \(count)")
        }
    }

    @Test func decodeMatchesFoundationForLengths0To100() throws {
        for count in 0...100 {
            let input = bytes(count: count)
            let encoded = Data(input).base64EncodedString()
            let decoded = try #require(Base64.decode(Array(encoded.utf8)), "length \(count)")
            #expect(Array(decoded.readableBytesView) == input, "length \(count)")
            #expect(Data(base64Encoded: encode(input)) == Data(input), "length \(count)")
        }
    }

    @Test func everyByteValueRoundTrips() throws {
        let input = (0...255).map { UInt8($0) } + (0...255).reversed().map { UInt8($0) }
        let encoded = encode(input)
        #expect(encoded == Data(input).base64EncodedString())
        let decoded = try #require(Base64.decode(Array(encoded.utf8)))
        #expect(Array(decoded.readableBytesView) == input)
    }

    @Test func encodeAppends() {
        var buffer = ByteBuffer(string: "b")
        Base64.encode([0xFF, 0xFE], into: &buffer)
        #expect(String(buffer: buffer) == "b//4=")
    }

    @Test func decodeAcceptsAnyByteCollection() throws {
        let buffer = ByteBuffer(string: "xAQIDBA==")
        let decoded = try #require(Base64.decode(buffer.readableBytesView.dropFirst()))
        #expect(Array(decoded.readableBytesView) == [1, 2, 3, 4])
    }

    @Test(arguments: [
        "A", "AA", "AAA", "AAAAA",  // not a multiple of 4
        "A===", "====", "=AAA", "A=AA", "AA=A",  // misplaced or too much padding
        "AA==AAAA", "AAA=AAAA",  // data after padding
        "AQ-_", "AQ_=",  // base64url alphabet
        "AQI!", "AQ I", "AQI\n", "AQI\0",  // foreign characters
    ])
    func invalidInputIsNil(encoded: String) {
        #expect(Base64.decode(Array(encoded.utf8)) == nil)
    }

    @Test func invalidHighBytesAreNil() {
        #expect(Base64.decode([0x41, 0x41, 0x41, 0xC3]) == nil)
        #expect(Base64.decode([0x80, 0x41, 0x41, 0x41]) == nil)
    }
}
