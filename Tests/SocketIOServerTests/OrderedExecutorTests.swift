import NIOConcurrencyHelpers
import Testing

@testable import SocketIOServer

@Suite struct OrderedExecutorTests {
    @Test func synchronousJobsRunAtOnceInOrder() {
        let executor = OrderedExecutor()
        let log = NIOLockedValueBox<[Int]>([])
        for index in 0..<100 {
            executor.submit {
                log.withLockedValue { $0.append(index) }
                return nil
            }
        }
        #expect(log.withLockedValue { $0 } == Array(0..<100))
    }

    @Test func asynchronousJobsKeepSubmissionOrderWithSynchronousOnes() async throws {
        let executor = OrderedExecutor()
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
        let executor = OrderedExecutor()
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
}
