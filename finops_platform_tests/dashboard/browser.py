"""Headless Chromium driven over the DevTools protocol on a pipe (no port, no extra package).

Debian's `chromium` with the flags the issue asks for and an empty profile; the test talks to it
on file descriptors 3 and 4 (`--remote-debugging-pipe`): NUL-terminated JSON messages.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> Path | None:
    if CHROMIUM.is_file():
        return CHROMIUM
    found = shutil.which("chromium")
    return Path(found) if found else None


class BrowserError(RuntimeError):
    pass


class Page:
    """One tab: navigate, evaluate JavaScript, take screenshots; records every request URL."""

    def __init__(self, browser: Chromium, session_id: str) -> None:
        self.browser = browser
        self.session_id = session_id

    def send(self, method: str, **params: object) -> dict:
        return self.browser.send(method, params, session_id=self.session_id)

    def evaluate(self, expression: str) -> object:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float, interval: float = 0.25) -> object:
        """Poll a JavaScript expression until it is truthy; its value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(interval)
        raise BrowserError(f"timed out after {timeout} s waiting for: {expression}")

    def screenshot(self, path: Path) -> Path:
        data = self.send("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        return path


class Chromium:
    """A headless Chromium process; `send` one DevTools command and wait for its answer."""

    def __init__(self, binary: Path, profile: Path, width: int, height: int) -> None:
        self.width, self.height = width, height
        commands_read, self._commands = os.pipe()
        self._answers, answers_write = os.pipe()

        def wire_pipes() -> None:  # in the child: DevTools reads fd 3, writes fd 4
            read, write = os.dup(commands_read), os.dup(answers_write)
            os.dup2(read, 3)
            os.dup2(write, 4)

        self.process = subprocess.Popen(
            [
                str(binary),
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(3, 4),
            preexec_fn=wire_pipes,
            start_new_session=True,
        )
        os.close(commands_read)
        os.close(answers_write)
        self._next_id = 0
        self._pending: dict[int, queue.Queue] = {}
        self._lock = threading.Lock()
        self.events: list[dict] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        buffer = b""
        with os.fdopen(self._answers, "rb", buffering=0) as answers:
            while chunk := answers.read(65536):
                buffer += chunk
                while b"\0" in buffer:
                    raw, buffer = buffer.split(b"\0", 1)
                    message = json.loads(raw)
                    if "id" in message:
                        with self._lock:
                            waiter = self._pending.pop(message["id"], None)
                        if waiter:
                            waiter.put(message)
                    else:
                        self.events.append(message)

    def send(
        self, method: str, params: dict | None = None, session_id: str | None = None, timeout=30
    ) -> dict:
        with self._lock:
            self._next_id += 1
            message_id = self._next_id
            waiter: queue.Queue = queue.Queue()
            self._pending[message_id] = waiter
        message = {"id": message_id, "method": method, "params": params or {}}
        if session_id:
            message["sessionId"] = session_id
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        try:
            answer = waiter.get(timeout=timeout)
        except queue.Empty:
            raise BrowserError(f"no answer to {method} within {timeout} s") from None
        if "error" in answer:
            raise BrowserError(f"{method}: {answer['error']}")
        return answer.get("result", {})

    def new_page(self) -> Page:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})
        page = Page(self, session["sessionId"])
        page.send("Page.enable")
        page.send("Network.enable")
        page.send(
            "Emulation.setDeviceMetricsOverride",
            width=self.width,
            height=self.height,
            deviceScaleFactor=1,
            mobile=False,
        )
        return page

    def requested_urls(self) -> list[str]:
        return [
            event["params"]["request"]["url"]
            for event in list(self.events)
            if event.get("method") == "Network.requestWillBeSent"
        ]

    def close(self) -> None:
        """Ask it to close, then end its own process group if it lingers."""
        with suppress(BrowserError, OSError):
            self.send("Browser.close", timeout=5)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        finally:
            os.close(self._commands)


@contextmanager
def chromium(profile: Path, width: int = 1400, height: int = 1000) -> Iterator[Chromium]:
    binary = chromium_path()
    if binary is None:
        raise BrowserError("chromium is not installed")
    profile.mkdir(parents=True, exist_ok=False)  # an empty profile, every time
    browser = Chromium(binary, profile, width, height)
    try:
        yield browser
    finally:
        browser.close()
