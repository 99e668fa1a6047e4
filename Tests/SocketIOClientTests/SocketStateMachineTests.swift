import NIOCore
import Testing

@testable import SocketIOClient

@Suite("Socket state machine")
struct SocketStateMachineTests {
    typealias Machine = SocketStateMachine<String>

    /// The packets a list of actions sends.
    func sent(_ actions: [Machine.Action]) -> [SocketPacket] {
        actions.compactMap { if case .send(let packet) = $0 { return packet } else { return nil } }
    }

    func connected(_ namespace: String = "/", retries: Int? = nil, ackTimeout: TimeAmount? = nil) -> Machine {
        var machine = Machine(namespace: namespace, retries: retries, ackTimeout: ackTimeout)
        _ = machine.connect(engineOpen: true)
        _ = machine.received(connect: ["sid": "abc"])
        return machine
    }

    @Test("CONNECT is sent when the engine opens; connect then flushes the buffer in order")
    func bufferingInOrder() {
        var machine = Machine(namespace: "/chat")
        #expect(machine.connect(engineOpen: false).isEmpty)
        #expect(machine.active && !machine.connected)
        #expect(self.sent(machine.emit("a", [1])).isEmpty)
        #expect(self.sent(machine.emit("b", [2])).isEmpty)
        #expect(self.sent(machine.emit("v", [3], volatile: true)).isEmpty)  // dropped
        #expect(machine.bufferedCount == 2)
        let opened = machine.engineOpened()
        guard case .sendConnect(nil)? = opened.first else {
            Issue.record("expected CONNECT, got \(opened)")
            return
        }
        let actions = machine.received(connect: ["sid": "s1"])
        guard case .emitConnect? = actions.first else {
            Issue.record("expected connect first")
            return
        }
        #expect(self.sent(actions) == [.event("a", [1], namespace: "/chat"), .event("b", [2], namespace: "/chat")])
        #expect(machine.id == "s1")
        #expect(machine.bufferedCount == 0)
        // Connected: sent at once, volatile too.
        #expect(self.sent(machine.emit("c", [], volatile: true)) == [.event("c", [], namespace: "/chat")])
    }

    @Test("acks: ids increase, the answer completes the right callback, timeouts fail and cancel")
    func ackBookkeeping() {
        var machine = self.connected()
        let first = machine.emit("e", [], callback: "first", timeout: .seconds(1))
        #expect(first.count == 2)
        guard case .startAckTimer(0, _) = first[0] else {
            Issue.record("expected a timer for ack 0")
            return
        }
        #expect(self.sent(first) == [.event("e", [], ackId: 0)])
        let second = machine.emit("e", [], callback: "second")
        #expect(self.sent(second) == [.event("e", [], ackId: 1)])
        let answered = machine.received(ackId: 1, arguments: ["ok"])
        guard answered.count == 1, case .completeAck("second", let args) = answered[0] else {
            Issue.record("expected the second callback, got \(answered)")
            return
        }
        #expect(args == ["ok"])
        let timedOut = machine.ackTimedOut(id: 0)
        guard timedOut.count == 1, case .failAck("first", let error) = timedOut[0] else {
            Issue.record("expected the first callback to fail, got \(timedOut)")
            return
        }
        #expect(error.isTimeout)
        #expect(machine.received(ackId: 0, arguments: []).isEmpty)  // late answer ignored
        #expect(machine.pendingAckCount == 0)
    }

    @Test("a buffered emit that times out is not sent later; acks of sent packets fail on disconnect")
    func timeoutWhileBufferedAndDisconnect() {
        var machine = Machine(namespace: "/")
        _ = machine.connect(engineOpen: false)
        _ = machine.emit("late", [], callback: "late", timeout: .milliseconds(10))
        _ = machine.ackTimedOut(id: 0)
        _ = machine.engineOpened()
        #expect(self.sent(machine.received(connect: ["sid": "x"])).isEmpty)
        _ = machine.emit("sent", [], callback: "sent")
        let closed = machine.engineClosed(reason: "transport close")
        guard case .emitDisconnect("transport close")? = closed.first, case .failAck("sent", let error)? = closed.last else {
            Issue.record("unexpected \(closed)")
            return
        }
        #expect(error.isDisconnected)
        #expect(machine.active)  // still wants to reconnect
    }

    @Test("retries: one at a time, re-sent with a new id after a timeout, dequeued on ack, given up after retries")
    func retries() {
        var machine = self.connected(retries: 2, ackTimeout: .milliseconds(100))
        let first = machine.emitWithRetries("a", [1], callback: "a")
        #expect(self.sent(first) == [.event("a", [1], ackId: 0)])
        #expect(self.sent(machine.emitWithRetries("b", [2], callback: "b")).isEmpty)  // waits its turn
        // The ack of "a" is lost: re-sent with a new id.
        #expect(self.sent(machine.ackTimedOut(id: 0)) == [.event("a", [1], ackId: 1)])
        let acked = machine.received(ackId: 1, arguments: ["done"])
        guard case .completeAck("a", _)? = acked.first(where: { if case .completeAck = $0 { true } else { false } }) else {
            Issue.record("expected a's callback, got \(acked)")
            return
        }
        #expect(self.sent(acked) == [.event("b", [2], ackId: 2)])
        // "b": 1 try + 2 retries, then failure.
        #expect(self.sent(machine.ackTimedOut(id: 2)) == [.event("b", [2], ackId: 3)])
        #expect(self.sent(machine.ackTimedOut(id: 3)) == [.event("b", [2], ackId: 4)])
        let gaveUp = machine.ackTimedOut(id: 4)
        guard gaveUp.count == 1, case .failAck("b", let error) = gaveUp[0] else {
            Issue.record("expected b to fail, got \(gaveUp)")
            return
        }
        #expect(error.isTimeout)
        #expect(machine.queuedCount == 0)
    }

    @Test("retries: the queue is re-sent on reconnection")
    func retriesAcrossReconnection() {
        var machine = self.connected(retries: 3, ackTimeout: .seconds(1))
        #expect(self.sent(machine.emitWithRetries("a", [], callback: nil)).count == 1)
        _ = machine.engineClosed(reason: "transport close")
        #expect(machine.queuedCount == 1)
        _ = machine.engineOpened()
        let resent = self.sent(machine.received(connect: ["sid": "new"]))
        #expect(resent.count == 1 && resent[0].eventName == "a")
    }

    @Test("a refused connection fails the buffered and queued emits' acks with the refusal, timers cancelled")
    func refusalFailsWaitingEmits() {
        var machine = Machine(namespace: "/admin")
        _ = machine.connect(engineOpen: false)
        _ = machine.emit("with-timer", [1], callback: "a", timeout: .seconds(5))
        _ = machine.emit("plain", [2])
        _ = machine.emit("no-timer", [3], callback: "b")
        machine.retries = 2
        _ = machine.emitWithRetries("queued", [4], callback: "c")
        #expect(machine.bufferedCount == 3 && machine.pendingAckCount == 2 && machine.queuedCount == 1)
        _ = machine.engineOpened()
        let actions = machine.received(connectError: ["message": "unauthorized", "data": ["reason": "bad token"]])
        var failed: [String] = []
        var cancelled: [Int] = []
        for action in actions {
            switch action {
            case .failAck(let callback, let error):
                #expect(error.isConnectError && error.message == "unauthorized" && error.data == ["reason": "bad token"])
                failed.append(callback)
            case .cancelAckTimer(let id): cancelled.append(id)
            case .send(let packet): Issue.record("sent \(packet) after the refusal")
            default: break
            }
        }
        guard case .emitConnectError? = actions.first, case .becameInactive? = actions.last else {
            Issue.record("expected connect_error first and becameInactive last: \(actions)")
            return
        }
        #expect(failed == ["a", "b", "c"])
        #expect(cancelled == [0])
        #expect(machine.bufferedCount == 0 && machine.pendingAckCount == 0 && machine.queuedCount == 0)
        // connecting again later sends nothing of the dropped emits
        _ = machine.connect(engineOpen: true)
        #expect(self.sent(machine.received(connect: ["sid": "s"])).isEmpty)
    }

    @Test("connect_error deactivates with message and data; server disconnect deactivates")
    func refusals() {
        var machine = Machine(namespace: "/admin")
        _ = machine.connect(engineOpen: true)
        let actions = machine.received(connectError: ["message": "unauthorized", "data": ["reason": "bad token"]])
        guard case .emitConnectError(let error)? = actions.first else {
            Issue.record("expected connect_error")
            return
        }
        #expect(error.message == "unauthorized")
        #expect(error.data == ["reason": "bad token"])
        #expect(!machine.active)
        var other = self.connected()
        let disconnected = other.receivedDisconnect()
        guard case .emitDisconnect("io server disconnect")? = disconnected.first else {
            Issue.record("unexpected \(disconnected)")
            return
        }
        #expect(!other.active)
    }

    /// The recovery part of the CONNECT the next `engineOpened` sends.
    func reconnectRecovery(_ machine: inout Machine) -> JSONObject?? {
        _ = machine.engineClosed(reason: "transport close")
        let actions = machine.engineOpened()
        guard case .sendConnect(let recovery)? = actions.first else {
            Issue.record("expected CONNECT, got \(actions)")
            return nil
        }
        return .some(recovery)
    }

    @Test("connection state recovery: the pid and the last offset go back in the CONNECT; recovered when the pid comes back")
    func recovery() {
        var machine = Machine(namespace: "/")
        guard case .sendConnect(nil)? = machine.connect(engineOpen: true).first else {
            Issue.record("the first CONNECT has nothing to recover")
            return
        }
        _ = machine.received(connect: ["sid": "s1", "pid": "p1"])
        #expect(!machine.recovered && machine.pid == "p1" && machine.lastOffset == nil)
        // Before any event: the pid alone (the official client's undefined offset is left out by JSON.stringify).
        #expect(self.reconnectRecovery(&machine) == .some(["pid": "p1"]))
        _ = machine.received(connect: ["sid": "s1", "pid": "p1"])
        #expect(machine.recovered)

        // The offset is the last argument, and stays there for the listeners, as in the official client.
        let delivered = machine.received(event: .event("news", ["hello", "offset-7"]))
        guard case .deliver("news", let args, nil)? = delivered.first else {
            Issue.record("unexpected \(delivered)")
            return
        }
        #expect(args == ["hello", "offset-7"])
        #expect(machine.lastOffset == "offset-7")
        _ = machine.received(event: .event("news", ["more", "offset-8"]))
        #expect(self.reconnectRecovery(&machine) == .some(["pid": "p1", "offset": "offset-8"]))
        _ = machine.received(connect: ["sid": "s1", "pid": "p1"])
        #expect(machine.recovered && machine.id == "s1")

        // The server gave a new session: not recovered; the new pid is used next time (the offset stays until
        // an event brings a new one, as in the official client).
        _ = self.reconnectRecovery(&machine)
        _ = machine.received(connect: ["sid": "s2", "pid": "p2"])
        #expect(!machine.recovered && machine.pid == "p2")
        #expect(self.reconnectRecovery(&machine) == .some(["pid": "p2", "offset": "offset-8"]))
        // A server with recovery off: no pid, nothing sent back any more.
        _ = machine.received(connect: ["sid": "s3"])
        #expect(!machine.recovered && machine.pid == nil)
        #expect(self.reconnectRecovery(&machine) == .some(nil))
    }

    @Test("the last offset: only with a pid, only from events without an ack id whose last argument is a string")
    func offsetBookkeeping() {
        // Without a pid (recovery off on the server) a trailing string is an ordinary argument.
        var plain = self.connected()
        _ = plain.received(event: .event("news", ["hello", "not-an-offset"]))
        #expect(plain.lastOffset == nil)
        #expect(plain.recoveryPayload == nil)

        var machine = Machine(namespace: "/")
        _ = machine.connect(engineOpen: true)
        _ = machine.received(connect: ["sid": "s1", "pid": "p1"])
        _ = machine.received(event: .event("a", ["x", "o1"]))
        #expect(machine.lastOffset == "o1")
        // An event with an ack id carries no offset (the server does not keep those for recovery).
        let withAck = machine.received(event: .event("b", ["y", "z"], ackId: 3))
        guard case .deliver("b", let args, 3)? = withAck.first else {
            Issue.record("unexpected \(withAck)")
            return
        }
        #expect(args == ["y", "z"])
        #expect(machine.lastOffset == "o1")
        // The last argument is not a string: no offset.
        _ = machine.received(event: .event("c", ["o-not", 5]))
        _ = machine.received(event: .event("d", []))
        #expect(machine.lastOffset == "o1")
        _ = machine.received(event: .event("e", ["o2"]))
        #expect(machine.recoveryPayload == ["pid": "p1", "offset": "o2"])

        // A disconnect() keeps them: the server, which forgot the session, answers with a new one.
        _ = machine.disconnect()
        guard case .sendConnect(let recovery)? = machine.connect(engineOpen: true).first else {
            Issue.record("expected CONNECT")
            return
        }
        #expect(recovery == ["pid": "p1", "offset": "o2"])
        _ = machine.received(connect: ["sid": "s9", "pid": "p9"])
        #expect(!machine.recovered)
    }

    @Test("the CONNECT payload: {pid, offset} with the auth object over it (auth's own keys win)")
    func connectPayloadMerge() {
        let recovery: JSONObject = ["pid": "p1", "offset": "o1"]
        #expect(Machine.connectPayload(auth: nil, recovery: nil) == nil)
        #expect(Machine.connectPayload(auth: ["token": "t"], recovery: nil) == ["token": "t"])
        #expect(Machine.connectPayload(auth: nil, recovery: recovery) == ["pid": "p1", "offset": "o1"])
        let merged = Machine.connectPayload(auth: ["token": "t", "offset": "mine"], recovery: recovery)
        #expect(merged == ["pid": "p1", "offset": "mine", "token": "t"])
        // the order of Object.assign({pid, offset}, auth): pid, offset, then auth's other keys
        #expect(merged.map { JSONValue.object($0).jsonString() } == #"{"pid":"p1","offset":"mine","token":"t"}"#)
    }
}
