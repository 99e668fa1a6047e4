// libFuzzer target: the Engine.IO packet codec, the polling payload codec and base64.
//
// Invariants checked on every input:
// - `Base64.decode(Base64.encode(x)) == x` for any bytes; whatever `Base64.decode` accepts re-encodes to text that
//   decodes to the same bytes, and it decodes to exactly `count / 4 * 3 - padding` bytes.
// - `EnginePacketCodec.decodeText` is lossless: re-encoding the packet gives back the input bytes, as text.
// - `PollingPayload.decode` round-trips: what it decodes re-encodes to a body that decodes to the same packets, and
//   that encoding is stable; a body without binary segments re-encodes to exactly the input.
// - Decoding never depends on where the buffer's reader index is (the input is also decoded behind a prefix).
import EngineIOCore
import FuzzDriver
import NIOCore

@inline(never)
func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("invariant violated: \(message())") }
}

func checkBase64(_ input: ByteBuffer) {
    let bytes = input.readableBytesView

    // Any bytes survive an encode/decode round trip.
    var encoded = ByteBuffer()
    Base64.encode(bytes, into: &encoded)
    require(encoded.readableBytes == Base64.encodedLength(of: bytes.count), "encoded length")
    guard let decoded = Base64.decode(encoded.readableBytesView) else {
        return require(false, "Base64.decode rejected Base64.encode's output")
    }
    require(decoded.readableBytesView.elementsEqual(bytes), "base64 round trip")

    // What decodes, decodes to the right length and re-encodes to text that decodes the same.
    guard let accepted = Base64.decode(bytes) else { return }
    require(bytes.count % 4 == 0, "accepted base64 of length \(bytes.count)")
    let padding = bytes.reversed().prefix(2).prefix { $0 == UInt8(ascii: "=") }.count
    require(accepted.readableBytes == bytes.count / 4 * 3 - padding, "decoded length")
    var again = ByteBuffer()
    Base64.encode(accepted.readableBytesView, into: &again)
    require(Base64.decode(again.readableBytesView) == accepted, "base64 re-decode")
    // An array and a byte view are decoded alike.
    require(Base64.decode(Array(bytes)) == accepted, "base64 of an array")
}

func checkPacket(_ input: ByteBuffer) {
    guard let packet = try? EnginePacketCodec.decodeText(input) else { return }
    require(!packet.isBinary, "a text frame decoded as binary")
    var encoded = ByteBuffer()
    let isBinary = EnginePacketCodec.encode(packet, into: &encoded)
    require(!isBinary, "a text packet encoded as binary")
    require(encoded.readableBytesView.elementsEqual(input.readableBytesView), "text packet round trip")
    require((try? EnginePacketCodec.decodeText(encoded)) == packet, "text packet re-decode")
    _ = packet.message
    _ = packet.text

    let binary = EnginePacketCodec.decodeBinary(input)
    var binaryEncoded = ByteBuffer()
    require(EnginePacketCodec.encode(binary, into: &binaryEncoded), "a binary packet encoded as text")
    require(binaryEncoded == input, "binary packet round trip")
}

func checkPayload(_ input: ByteBuffer) {
    guard let packets = try? PollingPayload.decode(input) else { return }
    require(input.readableBytes > 0 || packets.isEmpty, "packets from an empty body")
    let encoded = PollingPayload.encode(packets)
    let again: [EnginePacket]
    do {
        again = try PollingPayload.decode(encoded)
    } catch {
        return require(false, "re-encoded payload does not decode: \(error)")
    }
    require(again == packets, "payload round trip")
    require(PollingPayload.encode(again) == encoded, "payload encoding is not stable")
    if !packets.contains(where: \.isBinary) {
        require(encoded == input, "text-only payload does not re-encode to the input")
    }
    for packet in packets where !packet.isBinary {
        require(!packet.payload.readableBytesView.contains(PollingPayload.separator), "separator inside a packet")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    let input = ByteBuffer(bytes: bytes)
    // The same bytes behind a prefix: the decoders must work from the reader index, not from 0.
    var shifted = ByteBuffer(bytes: [0x34, 0x1E, 0x62])
    shifted.writeBytes(bytes)
    shifted.moveReaderIndex(forwardBy: 3)

    checkBase64(input)
    checkPacket(input)
    checkPayload(input)
    require((try? PollingPayload.decode(shifted)) == (try? PollingPayload.decode(input)), "reader index matters (payload)")
    require(
        (try? EnginePacketCodec.decodeText(shifted)) == (try? EnginePacketCodec.decodeText(input)),
        "reader index matters (packet)"
    )
    return 0
}

/// The entry point SwiftPM links as `main`: runs libFuzzer's driver on ``fuzz(_:_:)``.
@_cdecl("FuzzEngineIO_main")
public func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var argc = argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        fuzz(data.map { UnsafeRawPointer($0) } ?? UnsafeRawPointer(bitPattern: 1)!, size)
    }
}
