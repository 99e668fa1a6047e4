import Testing

@testable import SocketIOServer

/// The sockets' handler tables: event names shared between the sockets of a namespace, buffers trimmed.
@Suite struct HandlerTableTests {
    @Test func handlerNameTablesAreSharedBetweenSocketsThatRegisterTheSameEvents() {
        let namespace = SocketIO().of("/shared")
        var names: [String] = []
        names.reserveCapacity(32)
        names += ["echo", "join", "emit-to"]
        let first = namespace.sharedEventNames(names)
        #expect(first == names)
        #expect(first.capacity < 32, "kept trimmed")
        let second = namespace.sharedEventNames(["echo", "join", "emit-to"])
        #expect(second.withUnsafeBufferPointer { $0.baseAddress } == first.withUnsafeBufferPointer { $0.baseAddress }, "one buffer for both")
        let other = namespace.sharedEventNames(["echo", "join"])
        #expect(other == ["echo", "join"])
        #expect(other.withUnsafeBufferPointer { $0.baseAddress } != first.withUnsafeBufferPointer { $0.baseAddress })
    }

    @Test func trimmingKeepsTheElementsInASmallerBuffer() {
        var array: [Int] = []
        for value in 0..<25 { array.append(value) }
        let grown = array.capacity
        array.trimCapacity()
        #expect(array == Array(0..<25))
        #expect(array.capacity < grown)
    }
}
