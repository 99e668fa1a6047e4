import Testing

@testable import SocketIOServer

/// The namespace's socket list: lookups by id, connection order kept through removals and compaction.
@Suite struct SocketRegistryTests {
    final class Member: Identifiable, Sendable {
        let id: String
        init(_ id: String) { self.id = id }
    }

    @Test func keepsConnectionOrderThroughRemovalsAndCompaction() {
        var registry = SocketRegistry<Member>()
        let members = (0..<100).map { Member("s\($0)") }
        for member in members { registry.add(member) }
        // Remove two thirds (forcing compactions), in an order unrelated to insertion.
        var removed = Set<String>()
        for index in stride(from: 99, through: 0, by: -1) where index % 3 != 0 {
            registry.remove(members[index])
            removed.insert(members[index].id)
        }
        let expected = members.filter { !removed.contains($0.id) }.map(\.id)
        #expect(registry.inOrder(excluding: []).map(\.id) == expected)
        #expect(registry.count == expected.count)
        #expect(registry["s3"] === members[3])
        #expect(registry["s4"] == nil)
        // Later arrivals come last.
        let late = Member("late")
        registry.add(late)
        #expect(registry.inOrder(excluding: []).last === late)
        #expect(registry.inOrder(excluding: ["s0"]).first?.id == "s3")
        #expect(registry.inOrder(excluding: ["s0", "late"]).map(\.id) == Array(expected.dropFirst()))
        #expect(Set(registry.dictionary.keys) == Set(expected + ["late"]))
    }

    @Test func removingADifferentObjectWithTheSameIDChangesNothing() {
        var registry = SocketRegistry<Member>()
        let member = Member("a")
        registry.add(member)
        registry.remove(Member("a"))
        #expect(registry["a"] === member)
        #expect(registry.inOrder(excluding: []).count == 1)
    }
}
