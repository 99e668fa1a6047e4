"""The README's Swift snippets are the ones CI compiles (Sources/socketio-readme-examples/*.swift)."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]


def swift_blocks(markdown: str):
    return re.findall(r"```swift\n(.*?)```", markdown, flags=re.S)


def package_blocks(blocks):
    return [block for block in blocks if block.startswith("// Package.swift")]


def test_every_readme_swift_block_is_compiled_code():
    readme = (ROOT / "README.md").read_text()
    examples = "".join(path.read_text() for path in sorted((ROOT / "Sources/socketio-readme-examples").glob("*.swift")))
    blocks = [block for block in swift_blocks(readme) if block not in package_blocks(swift_blocks(readme))]
    assert len(blocks) >= 10, "the README shows Getting started, the chat, rooms, namespace, acks, listen and client examples"
    for block in blocks:
        assert block.strip() in examples, f"README block not in Sources/socketio-readme-examples:\n{block}"


def test_getting_started_imports_server_and_client_in_one_compiled_file():
    source = (ROOT / "Sources/socketio-readme-examples/GettingStarted.swift").read_text()
    assert "import SocketIOServer\n" in source and "import SocketIOClient\n" in source
    assert "SocketIOServer.Socket" in source and "SocketIOClient.Socket" in source


def test_package_snippet_names_real_products():
    """The Package.swift lines of Getting started: every product they name is a library of this package."""
    blocks = package_blocks(swift_blocks((ROOT / "README.md").read_text()))
    assert len(blocks) == 1
    manifest = (ROOT / "Package.swift").read_text()
    assert 'name: "swift-socketio"' in manifest
    libraries = set(re.findall(r'\.library\(name: "([^"]+)"', manifest))
    named = re.findall(r'\.product\(name: "([^"]+)", package: "([^"]+)"\)', blocks[0])
    assert {"SocketIOServer", "SocketIOClient"} <= {name for name, _ in named}
    for name, package in named:
        assert package == "swift-socketio" and name in libraries, (name, package)
