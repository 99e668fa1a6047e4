import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import SocketIOServer

@Suite struct OrderedExecutorTests {
    private static let loop = MultiThreadedEventLoopGroup.singleton.next()

    @Test func synchronousJobsRunAtOnceInOrder() {
        let executor = OrderedExecutor(eventLoop: Self.loop)
        let log = NIOLockedValueBox<[Int]>([])
        for index in 0..<100 {
            executor.submit {
                log.withLockedValue { $0.append(index) }
                return nil
            }
        }
        #expect(log.withLockedValue { $0 } == Array(0..<100))
    }

    @Test func aJobRunAfterClaimingHoldsBackLaterJobsUntilFinished() async throws {
        let executor = OrderedExecutor(eventLoop: Self.loop)
        let log = NIOLockedValueBox<[Int]>([])
        #expect(executor.claimIfIdle())
        #expect(!executor.claimIfIdle(), "claimed: a second caller must submit instead")
        executor.submit {
            log.withLockedValue { $0.append(2) }
            return nil
        }
        log.withLockedValue { $0.append(1) }  // the claimed job's own work
        #expect(log.withLockedValue { $0 } == [1], "the submitted job waits for the claimed one")
        executor.finishClaimed(nil)
        #expect(log.withLockedValue { $0 } == [1, 2])
        // a claimed job with asynchronous work: the queue waits for that work too
        #expect(executor.claimIfIdle())
        executor.submit {
            log.withLockedValue { $0.append(4) }
            return nil
        }
        executor.finishClaimed {
            try? await Task.sleep(for: .milliseconds(5))
            log.withLockedValue { $0.append(3) }
        }
        for _ in 0..<500 where log.withLockedValue({ $0.count }) < 4 {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(log.withLockedValue { $0 } == [1, 2, 3, 4])
    }

    @Test func asynchronousJobsKeepSubmissionOrderWithSynchronousOnes() async throws {
        let executor = OrderedExecutor(eventLoop: Self.loop)
        let log = NIOLockedValueBox<[Int]>([])
        for index in 0..<200 {
            if index % 3 == 0 {
                executor.submit {
                    {
                        // a handler that suspends: later jobs must still wait for it
                        try? await Task.sleep(for: .microseconds(Int.random(in: 0...200)))
                        log.withLockedValue { $0.append(index) }
                    }
                }
            } else {
                executor.submit {
                    log.withLockedValue { $0.append(index) }
                    return nil
                }
            }
        }
        for _ in 0..<500 where log.withLockedValue({ $0.count }) < 200 {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(log.withLockedValue { $0 } == Array(0..<200))
    }

    @Test func concurrentSubmittersNeverRunTwoJobsAtOnce() async {
        let executor = OrderedExecutor(eventLoop: Self.loop)
        let running = NIOLockedValueBox(0)
        let overlaps = NIOLockedValueBox(0)
        let done = NIOLockedValueBox(0)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    for _ in 0..<200 {
                        executor.submit {
                            if running.withLockedValue({ $0 += 1; return $0 }) > 1 { overlaps.withLockedValue { $0 += 1 } }
                            running.withLockedValue { $0 -= 1 }
                            done.withLockedValue { $0 += 1 }
                            return nil
                        }
                    }
                }
            }
        }
        #expect(overlaps.withLockedValue { $0 } == 0)
        #expect(done.withLockedValue { $0 } == 1600)
    }

    /// A connection handler that suspends, then emits (its write hops to the loop), followed by an event
    /// that the loop reads in the same tick, before it gets to the queued write, and answers at once:
    /// the client must still get the handler's emit first.
    @Test func writesFromTheTaskStayAheadOfLaterJobsOnTheLoop() async throws {
        let loop = Self.loop
        for _ in 0..<20 {
            let executor = OrderedExecutor(eventLoop: loop)
            let wire = NIOLockedValueBox<[String]>([])
            let handlerSent = NIOLockedValueBox(false)
            /// What `EngineSocket.send` does: writes directly on the loop, hops there from elsewhere.
            @Sendable func send(_ message: String) {
                if loop.inEventLoop {
                    wire.withLockedValue { $0.append(message) }
                } else {
                    loop.execute { wire.withLockedValue { $0.append(message) } }
                }
            }
            try await loop.submit {
                executor.submit {
                    {
                        await Task.yield()
                        send("auth")
                        handlerSent.withLockedValue { $0 = true }
                    }
                }
                // Still on the loop (as while reading a burst of packets): the handler's task sends, ends,
                // and only then does the event arrive.
                while !handlerSent.withLockedValue({ $0 }) { usleep(100) }
                usleep(5_000)
                executor.submit {
                    send("message-back")
                    return nil
                }
            }.get()
            for _ in 0..<500 where wire.withLockedValue({ $0.count }) < 2 {
                try await Task.sleep(for: .milliseconds(1))
            }
            #expect(wire.withLockedValue { $0 } == ["auth", "message-back"])
        }
    }
}
