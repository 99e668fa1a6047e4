import NIOCore
import Testing

@testable import SocketIOCore

/// A small deterministic generator (SplitMix64) so failures reproduce.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

private let interestingScalars: [Unicode.Scalar] = [
    "a", "Z", "0", " ", "\"", "\\", "/", "\n", "\r", "\t", "\u{0}", "\u{1}", "\u{1F}", "\u{7F}", "é", "ß", "中",
    "\u{2028}", "\u{FEFF}", "\u{FFFD}", "😀", "𝄞", "_", "{", "]", ",", ":",
]

private func randomString(_ rng: inout SplitMix64) -> String {
    let length = Int.random(in: 0...12, using: &rng)
    var scalars = String.UnicodeScalarView()
    for _ in 0..<length {
        scalars.append(interestingScalars.randomElement(using: &rng)!)
    }
    return String(scalars)
}

private func randomDouble(_ rng: inout SplitMix64) -> Double {
    switch Int.random(in: 0..<5, using: &rng) {
    case 0: return Double.random(in: -1...1, using: &rng)
    case 1: return Double.random(in: -1e6...1e6, using: &rng)
    case 2: return Double(sign: .plus, exponent: Int.random(in: -1000...1000, using: &rng), significand: 1.5)
    case 3: return Double(bitPattern: rng.next() & 0x7FEF_FFFF_FFFF_FFFF)  // any finite positive
    default: return Double(Int.random(in: -1000...1000, using: &rng)) / 8
    }
}

private func randomValue(_ rng: inout SplitMix64, depth: Int, binary: Bool) -> JSONValue {
    let leafOnly = depth >= 5
    switch Int.random(in: 0..<(leafOnly ? 7 : 9), using: &rng) {
    case 0: return .null
    case 1: return .bool(Bool.random(using: &rng))
    case 2: return .int(Int.random(in: Int.min...Int.max, using: &rng) >> Int.random(in: 0...63, using: &rng))
    case 3: return .double(randomDouble(&rng))
    case 4, 5: return .string(randomString(&rng))
    case 6:
        guard binary else { return .string(randomString(&rng)) }
        return .binary(bytes: (0..<Int.random(in: 0...5, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
    case 7:
        return .array((0..<Int.random(in: 0...4, using: &rng)).map { _ in randomValue(&rng, depth: depth + 1, binary: binary) })
    default:
        var object = JSONObject()
        for _ in 0..<Int.random(in: 0...12, using: &rng) {
            object[randomString(&rng)] = randomValue(&rng, depth: depth + 1, binary: binary)
        }
        return .object(object)
    }
}

/// Order-sensitive comparison (JSONValue's `==` ignores object key order).
private func sameOrder(_ a: JSONValue, _ b: JSONValue) -> Bool {
    switch (a, b) {
    case (.array(let x), .array(let y)):
        return x.count == y.count && zip(x, y).allSatisfy { sameOrder($0, $1) }
    case (.object(let x), .object(let y)):
        return x.keys == y.keys && zip(x.values, y.values).allSatisfy { sameOrder($0, $1) }
    default:
        return a == b
    }
}

@Suite("Round trips")
struct RoundTripTests {
    @Test func randomJSONValuesSurviveSerializeThenParse() throws {
        var rng = SplitMix64(state: 0x5EED)
        for iteration in 0..<2_000 {
            let value = randomValue(&rng, depth: 0, binary: false)
            let text = value.jsonString()
            let parsed = try JSONValue(parsing: text)
            #expect(parsed == value, "iteration \(iteration): \(text)")
            #expect(sameOrder(parsed, value), "iteration \(iteration): key order changed")
            // Serialization is a fixed point after one round.
            #expect(parsed.jsonString() == text)
        }
    }

    @Test func randomPacketsSurviveEncodeThenDecode() throws {
        var rng = SplitMix64(state: 42)
        let namespaces = ["/", "/admin", "/ñ-space", "/a/b"]
        for iteration in 0..<1_000 {
            var arguments: [JSONValue] = []
            for _ in 0..<Int.random(in: 0...4, using: &rng) {
                arguments.append(randomValue(&rng, depth: 1, binary: true))
            }
            let namespace = namespaces.randomElement(using: &rng)!
            let ackId: Int? = Bool.random(using: &rng) ? Int.random(in: 0...1_000_000, using: &rng) : nil
            let packet: SocketPacket =
                Bool.random(using: &rng) || ackId == nil
                ? .event("e\(iteration)", arguments, namespace: namespace, ackId: ackId)
                : .ack(arguments, ackId: ackId!, namespace: namespace)
            let encoded = SocketPacketEncoder().encode(packet)
            guard encoded.attachments.count <= 10 else { continue }  // the decoder's default limit

            var decoder = SocketPacketDecoder()
            var decoded = try decoder.decode(text: encoded.text)
            for attachment in encoded.attachments {
                #expect(decoded == nil)
                decoded = try decoder.decode(binary: attachment)
            }
            let result = try #require(decoded, "iteration \(iteration)")
            #expect(result.data == packet.data, "iteration \(iteration): \(String(buffer: encoded.text))")
            #expect(result.namespace == packet.namespace)
            #expect(result.ackId == packet.ackId)
            #expect(result.isEvent == packet.isEvent)
            #expect(result.type.isBinary == !encoded.attachments.isEmpty)
        }
    }

    /// Mutated packets (fuzz-style): the decoder must either decode or throw, never trap.
    @Test func mutatedPacketsNeverTrap() {
        var rng = SplitMix64(state: 7)
        let seeds = [
            #"2["hello",1]"#, #"52-/admin,7["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
            #"0/admin,{"token":"\u00e9\ud83d\ude00"}"#, #"3/x,12[1.5e-3,-0,{"a":[null,true]}]"#, "1/admin,",
        ]
        let alphabet = Array(#"0123456789-/,[]{}":.eE+\u_placeholdernum truefalsenull"#.utf8) + [0x00, 0x1F, 0x80, 0xC3, 0xFF]
        var decoded = 0
        for _ in 0..<5_000 {
            var bytes = Array(seeds.randomElement(using: &rng)!.utf8)
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let position = Int.random(in: 0...bytes.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: bytes.insert(alphabet.randomElement(using: &rng)!, at: position)
                case 1: if position < bytes.count { bytes.remove(at: position) }
                default: if position < bytes.count { bytes[position] = alphabet.randomElement(using: &rng)! }
                }
            }
            var decoder = SocketPacketDecoder()
            if (try? decoder.decode(text: ByteBuffer(bytes: bytes))) != nil { decoded += 1 }
            while decoder.isAwaitingAttachments {
                _ = try? decoder.decode(binary: ByteBuffer(bytes: [1]))
            }
        }
        #expect(decoded > 0)
    }
}
