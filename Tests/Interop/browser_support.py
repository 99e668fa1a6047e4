"""Helpers of the browser tests: a real headless Chromium through Selenium, and servers that can be
restarted on the same port (so that pages reconnect to them by themselves).

Chromium and chromedriver are Debian's `chromium` and `chromium-driver` (scripts/setup-peers.sh
installs them); CHROMIUM_BIN / CHROMEDRIVER_BIN override the paths. A missing browser is an error,
never a skipped test.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import JavascriptException, TimeoutException
from selenium.webdriver.support.ui import WebDriverWait

from conftest import HOST, ROOT, free_port, swift_bin_dir

HERE = Path(__file__).resolve().parent


def _find(env: str, names: list[str]) -> str:
    if os.environ.get(env):
        return os.environ[env]
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError(f"{names[0]} not found (install Debian's chromium and chromium-driver: "
                       f"scripts/setup-peers.sh), or set {env}")


def new_browser(width: int = 1000, height: int = 760, extra_args: tuple[str, ...] = ()) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = _find("CHROMIUM_BIN", ["chromium", "chromium-browser"])
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-extensions", "--no-first-run", "--disable-background-timer-throttling",
                "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows",
                f"--window-size={width},{height}", "--lang=en-US", *extra_args):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=_find("CHROMEDRIVER_BIN", ["chromedriver"]))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_script_timeout(30)
    return driver


def browser_log(driver) -> str:
    try:
        return "\n".join(f"{e['level']} {e['message']}" for e in driver.get_log("browser"))
    except Exception as error:  # noqa: BLE001 - diagnostics only
        return f"(no browser log: {error})"


def wait_js(driver, expression: str, timeout: float = 10.0, message: str = ""):
    """Waits until the JavaScript `expression` is truthy; returns its value."""
    def check(d):
        try:
            return d.execute_script(f"return ({expression});")
        except JavascriptException:
            return False
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.05).until(check)
    except TimeoutException:
        raise AssertionError(f"timed out after {timeout}s waiting for {message or expression}\n"
                             + browser_log(driver)) from None


def run_async(driver, body: str, *args, timeout: float = 20.0):
    """Runs `body` (an async function body that sees `args`, the Python `args`) and returns its result.
    A thrown error comes back as an AssertionError with its message."""
    driver.set_script_timeout(timeout)
    script = f"""
        const done = arguments[arguments.length - 1];
        const args = Array.prototype.slice.call(arguments, 0, -1);
        (async (args) => {{ {body} }})(args)
          .then((value) => done({{ ok: true, value }}),
                (error) => done({{ ok: false, error: String(error && error.stack || error) }}));
    """
    result = driver.execute_async_script(script, *args)
    if not result["ok"]:
        raise AssertionError("browser script failed: " + result["error"] + "\n" + browser_log(driver))
    return result["value"]


class RestartableServer:
    """A server process on a fixed port (chosen once), restartable on that same port."""

    def __init__(self, command_for_port, ready_text: str = "listening", name: str = "server"):
        self.command_for_port = command_for_port
        self.ready_text = ready_text
        self.name = name
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.lines: deque[str] = deque(maxlen=300)

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        cmd = self.command_for_port(self.port)
        ready = threading.Event()
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, errors="replace", start_new_session=True)

        def pump(stream):
            for line in stream:
                self.lines.append(line.rstrip("\n"))
                if self.ready_text in line:
                    ready.set()
        threading.Thread(target=pump, args=(self.proc.stdout,), daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                time.sleep(0.1)
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}: {cmd}\n{self.log_tail()}")
            if ready.is_set() and self._accepts():
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"{self.name} did not start within {timeout}s: {cmd}\n{self.log_tail()}")

    def _accepts(self) -> bool:
        try:
            with socket.create_connection((HOST, self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=8)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self.proc = None

    def restart(self, sig: int = signal.SIGTERM) -> None:
        self.stop(sig)
        deadline = time.monotonic() + 10
        while True:  # the port may linger for a moment
            try:
                self.start()
                return
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n: int = 60) -> str:
        return f"--- {self.name} output (last lines) ---\n" + "\n".join(list(self.lines)[-n:])


def chat_binary() -> Path:
    binary = os.environ.get("CHAT_SERVER_BIN")
    path = Path(binary) if binary else swift_bin_dir() / "socketio-chat"
    if not path.is_file():
        raise RuntimeError(f"chat server binary {path} not found: run `swift build` first (or set CHAT_SERVER_BIN)")
    return path


def chat_server(admin_token: str | None = None, public: Path | None = None,
                extra: tuple[str, ...] = ()) -> RestartableServer:
    binary = chat_binary()

    def command(port: int) -> list[str]:
        cmd = [str(binary), "--host", HOST, "--port", str(port)]
        if admin_token:
            cmd += ["--admin-token", admin_token]
        if public:
            cmd += ["--public", str(public)]
        return cmd + list(extra)
    return RestartableServer(command, name="socketio-chat")


def python_socketio_server() -> RestartableServer:
    script = HERE / "fixtures" / "browser_python_server.py"
    return RestartableServer(lambda port: [sys.executable, str(script), "--host", HOST, "--port", str(port)],
                             name="python-socketio fixture")
