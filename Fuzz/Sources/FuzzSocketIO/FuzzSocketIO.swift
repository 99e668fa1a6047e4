// libFuzzer target: the Socket.IO packet decoder with binary reconstruction, the encoder, and the JSON parser.
//
// Input layout: the text packet (without the Engine.IO `4`), then binary attachments, separated by 0x1E (the
// byte cannot occur unescaped in JSON, so corpus files read like polling bodies): `451-["a",{...}]\x1E<bytes>`.
//
// Invariants checked on every input:
// - The decoder returns a packet from the text alone or announces attachments (`isAwaitingAttachments`); the
//   attachment that completes a packet is the last one it takes, and one more is refused (`unexpectedAttachment`).
// - Decoding from a `ByteBuffer`, from a `String` (when the text is UTF-8) and from behind a prefix agree.
// - A decoded packet re-encodes with `SocketPacketEncoder` and decodes to an equal packet: same namespace, ack id and
//   data (binary values back in place), the type up to the BINARY_ variant the encoder picks from the content. The
//   one known lossy value is a non-finite number (`1e999`), which JSON writes as `null`, as JavaScript does.
// - `JSONValue(parsing:)` of the whole text round-trips through `writeJSON`, and that serialization is stable.
import FuzzDriver
import NIOCore
import SocketIOCore

@inline(never)
func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("invariant violated: \(message())") }
}

/// `value` as it reads back from JSON: non-finite numbers become `null`.
func normalized(_ value: JSONValue) -> JSONValue {
    switch value {
    case .double(let number) where !number.isFinite: return .null
    case .array(let array): return .array(array.map(normalized))
    case .object(let object): return .object(JSONObject(object.map { ($0.key, normalized($0.value)) }))
    default: return value
    }
}

/// The packet the encoder's output should decode to.
func expectedRoundTrip(_ packet: SocketPacket) -> SocketPacket {
    var expected = packet
    expected.data = packet.data.map(normalized)
    switch packet.type {
    case .event, .binaryEvent: expected.type = packet.containsBinary ? .binaryEvent : .event
    case .ack, .binaryAck: expected.type = packet.containsBinary ? .binaryAck : .ack
    default: break
    }
    return expected
}

func containsNonFinite(_ value: JSONValue) -> Bool {
    switch value {
    case .double(let number): return !number.isFinite
    case .array(let array): return array.contains(where: containsNonFinite)
    case .object(let object): return object.contains { containsNonFinite($0.value) }
    default: return false
    }
}

enum Outcome: Equatable {
    case packet(SocketPacket)
    case pending
    case failure(SocketPacketDecodingError.Code)
}

/// Feeds the text and then the attachments until a packet comes out; checks the decoder's state on the way.
func decodeAll(_ text: ByteBuffer, _ attachments: [ByteBuffer]) -> (Outcome, used: Int) {
    var decoder = SocketPacketDecoder()
    do {
        if let packet = try decoder.decode(text: text) {
            require(!decoder.isAwaitingAttachments, "a packet returned while awaiting attachments")
            return (.packet(packet), 0)
        }
        require(decoder.isAwaitingAttachments, "nil returned without awaiting attachments")
        for (index, attachment) in attachments.enumerated() {
            if let packet = try decoder.decode(binary: attachment) {
                require(!decoder.isAwaitingAttachments, "complete packet still awaiting attachments")
                do {
                    _ = try decoder.decode(binary: attachment)
                    require(false, "an attachment accepted after the packet was complete")
                } catch {
                    require(error.code == .unexpectedAttachment, "extra attachment: \(error)")
                }
                return (.packet(packet), index + 1)
            }
            require(decoder.isAwaitingAttachments, "nil returned without awaiting attachments")
        }
        return (.pending, attachments.count)
    } catch {
        require(!decoder.isAwaitingAttachments, "decoder not reset after \(error)")
        _ = error.description
        return (.failure(error.code), 0)
    }
}

func checkPacket(_ text: ByteBuffer, _ attachments: [ByteBuffer]) {
    let (outcome, used) = decodeAll(text, attachments)

    // The String entry point agrees with the ByteBuffer one.
    if let string = String(validating: text.readableBytesView, as: UTF8.self) {
        var decoder = SocketPacketDecoder()
        let first: Outcome
        do {
            first = try decoder.decode(text: string).map(Outcome.packet) ?? .pending
        } catch {
            first = .failure(error.code)
        }
        switch (outcome, first) {
        case (.packet(let a), .packet(let b)): require(a == b, "String decode differs: \(a) vs \(b)")
        case (.packet, .pending), (.pending, .pending): break  // binary: the attachments decide
        case (.failure(let a), .failure(let b)): require(a == b, "String decode error differs: \(a) vs \(b)")
        default: require(false, "String decode differs: \(outcome) vs \(first)")
        }
    }

    // A reader index past 0 changes nothing.
    var shifted = ByteBuffer(string: "42[")
    shifted.writeImmutableBuffer(text)
    shifted.moveReaderIndex(forwardBy: 3)
    let (shiftedOutcome, _) = decodeAll(shifted, attachments)
    require(shiftedOutcome == outcome, "reader index matters: \(outcome) vs \(shiftedOutcome)")

    guard case .packet(let packet) = outcome else { return }
    require(used <= attachments.count, "used more attachments than given")
    _ = packet.description
    _ = packet.eventName
    _ = packet.arguments

    // Re-encode, decode again.
    let encoded = SocketPacketEncoder().encode(packet)
    var buffer = ByteBuffer()
    let attachmentsInto = SocketPacketEncoder().encode(packet, into: &buffer)
    require(buffer == encoded.text && attachmentsInto == encoded.attachments, "the two encode entry points differ")
    let (again, againUsed) = decodeAll(encoded.text, encoded.attachments)
    let expected = expectedRoundTrip(packet)
    switch again {
    case .packet(let decoded):
        require(againUsed == encoded.attachments.count, "re-decode used \(againUsed) of \(encoded.attachments.count)")
        require(decoded == expected, "round trip: \(packet) -> \(String(buffer: encoded.text)) -> \(decoded)")
        // Encoding is stable from here on.
        require(SocketPacketEncoder().encode(decoded) == encoded || containsNonFinite(packet.data ?? .null), "unstable encoding")
    case .pending:
        require(false, "re-encoded packet awaits attachments: \(String(buffer: encoded.text))")
    case .failure(let code):
        // `[1e999]` is accepted (a numeric event name, as Node.js does) but is written back as `[null]`.
        require(
            containsNonFinite(packet.data ?? .null),
            "re-encoded packet rejected (\(code)): \(packet) -> \(String(buffer: encoded.text))"
        )
    }
}

func checkJSON(_ text: ByteBuffer) {
    guard let value = try? JSONValue(parsing: text) else { return }
    let bytes = value.jsonBytes()
    let again: JSONValue
    do {
        again = try JSONValue(parsing: bytes)
    } catch {
        return require(false, "serialized JSON does not parse (\(error)): \(String(buffer: bytes))")
    }
    require(again == normalized(value), "JSON round trip: \(String(buffer: text)) -> \(String(buffer: bytes))")
    require(again.jsonBytes() == bytes, "JSON serialization is not stable: \(String(buffer: bytes))")
    var written = ByteBuffer()
    value.writeJSON(into: &written)
    require(written == bytes, "writeJSON and jsonBytes differ")
    require(value.jsonString() == String(buffer: bytes), "jsonString differs")
    if let string = String(validating: text.readableBytesView, as: UTF8.self) {
        require((try? JSONValue(parsing: string)) == value, "String parse differs")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let input = ByteBuffer(bytes: UnsafeRawBufferPointer(start: start, count: count))
    var parts = input.readableBytesView.split(separator: 0x1E, omittingEmptySubsequences: false).map {
        input.getSlice(at: $0.startIndex, length: $0.count)!
    }
    let text = parts.removeFirst()
    checkPacket(text, parts)
    checkJSON(text)
    return 0
}

/// The entry point SwiftPM links as `main`: runs libFuzzer's driver on ``fuzz(_:_:)``.
@_cdecl("FuzzSocketIO_main")
public func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var argc = argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        fuzz(data.map { UnsafeRawPointer($0) } ?? UnsafeRawPointer(bitPattern: 1)!, size)
    }
}
