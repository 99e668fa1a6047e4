"""The README's Swift snippets are the ones CI compiles (Sources/socketio-readme-examples/*.swift)."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]


def swift_blocks(markdown: str):
    return re.findall(r"```swift\n(.*?)```", markdown, flags=re.S)


def test_every_readme_swift_block_is_compiled_code():
    readme = (ROOT / "README.md").read_text()
    examples = "".join(path.read_text() for path in sorted((ROOT / "Sources/socketio-readme-examples").glob("*.swift")))
    blocks = swift_blocks(readme)
    assert len(blocks) >= 6, "the README shows the chat, rooms, namespace, acks, listen and client examples"
    for block in blocks:
        assert block.strip() in examples, f"README block not in Examples.swift:\n{block}"
