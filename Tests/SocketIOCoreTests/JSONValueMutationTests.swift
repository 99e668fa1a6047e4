import Testing

import SocketIOCore

@Suite("JSONValue nested assignment")
struct JSONValueMutationTests {
    @Test func settingAKeyChangesOneEntryAndKeepsTheOrder() {
        var value: JSONValue = ["a": 1, "b": ["c": 2, "d": [1, 2]]]
        value["b"]?["c"] = "two"
        value["b"]?["d"]?[1] = 3
        value["a"] = nil
        value["e"] = true
        #expect(value.jsonString() == #"{"b":{"c":"two","d":[1,3]},"e":true}"#)
    }

    @Test func aMissingLinkOfTheChainChangesNothing() {
        var value: JSONValue = ["a": 1]
        value["missing"]?["c"] = 2
        value["a"]?["c"] = 2  // a number has no keys
        value["a"]?[0] = 2
        #expect(value == ["a": 1])
    }

    @Test func nullBecomesAnObjectWhenAKeyIsSet() {
        var value: JSONValue = .null
        value["name"] = "bob"
        #expect(value == ["name": "bob"])
        var untouched: JSONValue = .null
        untouched["name"] = nil
        #expect(untouched == .null)
    }

    @Test func arrayElementsAreReplacedOnlyInRange() {
        var value: JSONValue = [1, 2]
        value[0] = 10
        value[2] = 3
        value[-1] = 3
        value[1] = nil
        #expect(value == [10, 2])
    }

    @Test func aCopyIsNotChangedByTheOriginal() {
        var value: JSONValue = ["user": ["name": "a"]]
        let copy = value
        value["user"]?["name"] = "b"
        #expect(copy == ["user": ["name": "a"]])
        #expect(value == ["user": ["name": "b"]])
    }
}
