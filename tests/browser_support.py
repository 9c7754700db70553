"""Helpers for the real-browser test: a `streamlit run` server and a headless chromium.

"The rerun caused by my click has finished" is read from the app's own websocket:
`RunTracker` decodes the server's frames (`read_frame`, tests/streamlit_internals.py) and
counts the runs they say finished. A fixed sleep is too short on a busy machine and too long
on an idle one, and the `data-test-script-state` attribute on the page can skip a running -> notRunning
flip when the browser handles both messages in one render.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Browser, Page, Playwright, WebSocket, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.streamlit_internals import read_frame

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]

# True once no element is a placeholder or left over from the previous run, every plotly chart
# has drawn its SVG and every image has decoded.
RENDERED_JS = """
() => {
  const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
  const images = [...document.querySelectorAll('[data-testid="stMain"] img')];
  return document.querySelectorAll('[data-testid="stSkeleton"], [data-stale="true"]').length === 0
    && charts.every((c) => c.querySelector('.main-svg') !== null)
    && images.every((i) => i.complete && i.naturalWidth > 0);
}
"""

# What the waits above look at, for a readable timeout message.
PAGE_STATE_JS = """
() => ({
  script: document.querySelector('[data-testid="stApp"]')?.getAttribute('data-test-script-state'),
  connection: document.querySelector('[data-testid="stApp"]')?.getAttribute('data-test-connection-state'),
  skeletons: document.querySelectorAll('[data-testid="stSkeleton"]').length,
  stale: document.querySelectorAll('[data-stale="true"]').length,
  charts_undrawn: [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
    .filter((c) => c.querySelector('.main-svg') === null).length,
  images_unloaded: [...document.querySelectorAll('[data-testid="stMain"] img')]
    .filter((i) => !(i.complete && i.naturalWidth > 0)).map((i) => i.src),
})
"""


# A fingerprint of the live explorer's digit, read from its canvas inside the component's shadow root
# ('' before the canvas exists): the benchmarks compare it before and after an action.
LIVE_DIGIT_HASH_JS = """() => {
  const host = [...document.querySelectorAll('*')].find((e) => e.shadowRoot?.querySelector('.vae-live.explorer'));
  const canvas = host?.shadowRoot.querySelector('.vae-live.explorer canvas.digit');
  if (!canvas) return '';
  const data = canvas.getContext('2d').getImageData(0, 0, 28, 28).data;
  let hash = 0;
  for (let i = 0; i < data.length; i += 4) hash = (hash * 31 + data[i]) | 0;
  return String(hash);
}"""


def percentiles(samples: list[float]) -> str:
    """'p50 … ms  p95 … ms  (n = …)' of latencies given in seconds, as the browser benchmarks print them."""
    import numpy as np

    values = np.asarray(samples) * 1000
    return f"p50 {np.percentile(values, 50):6.1f} ms  p95 {np.percentile(values, 95):6.1f} ms  (n = {len(values)})"


def free_port() -> int:
    """A localhost TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class StreamlitServer:
    """`streamlit run <script>` on 127.0.0.1:<free port>, its output kept in log files."""

    def __init__(self, script: Path, log_dir: Path, env: dict[str, str]):
        self.checkpoint_dir = env.get("VAE_CHECKPOINT_DIR")  # whose Train workers ``stop`` ends too
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.stdout_path, self.stderr_path = log_dir / "streamlit.out", log_dir / "streamlit.err"
        command = [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(self.port),
                   "--server.address", "127.0.0.1", "--server.headless", "true",
                   # No file watcher (saves a core's worth of polling) and no usage statistics (no network).
                   "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            # A process group of its own: ``interrupt`` reaches the server and its children, as Ctrl-C does.
            self.process = subprocess.Popen(command, cwd=script.parent.parent, env=env, stdout=out, stderr=err,
                                            start_new_session=True)

    def logs(self) -> str:
        return "".join(path.read_text(errors="replace")[-4000:] for path in (self.stdout_path, self.stderr_path))

    def wait_healthy(self, timeout_s: float) -> None:
        """Poll /_stcore/health until it answers ok; raise with the server's output otherwise."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited with code {self.process.returncode}:\n{self.logs()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.read().strip() == b"ok":
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"streamlit did not answer {self.url}/_stcore/health within {timeout_s:.0f} s:\n"
                           f"{self.logs()}")

    def interrupt(self, timeout_s: float = 30) -> None:
        """Ctrl-C in the server's terminal: SIGINT to its whole process group; wait for the server to exit."""
        os.killpg(self.process.pid, signal.SIGINT)
        self.process.wait(timeout=timeout_s)

    def stop(self) -> None:
        """Terminate, then kill if it does not exit within 10 s; then end what it started (a Train worker)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):  # the group is empty when nothing was left
            os.killpg(self.process.pid, signal.SIGKILL)
        if self.checkpoint_dir:  # its Train workers run in sessions of their own: ended here, not left behind
            stop_workers(Path(self.checkpoint_dir))

    def kill_group(self) -> None:
        """SIGKILL to the server's whole process group, as when its terminal is killed; the server is gone."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


def worker_pids(checkpoint_dir: Path) -> list[int]:
    """The `vae-explorer worker` processes of ``checkpoint_dir`` (the Train page starts them detached)."""
    wanted = ["-m", "vae_core", "worker", "--checkpoint-dir", str(checkpoint_dir)]
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdecimal():
            try:
                arguments = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
            except OSError:
                continue
            if any(arguments[k:k + len(wanted)] == wanted for k in range(len(arguments))):
                pids.append(int(entry.name))
    return pids


def stop_workers(checkpoint_dir: Path) -> None:
    """SIGKILL the Train workers of ``checkpoint_dir`` that a test's server started."""
    for pid in worker_pids(checkpoint_dir):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def running_server(script: Path, log_dir: Path, env: dict[str, str]):
    """A `streamlit run` of ``script`` that answers its health check, stopped afterwards; a test fails with
    the server's own words when it never comes up."""
    import pytest

    server = StreamlitServer(script, log_dir, env)
    try:
        server.wait_healthy(timeout_s=60)
    except RuntimeError as error:
        server.stop()
        pytest.fail(str(error))
    try:
        yield server
    finally:
        server.stop()


def launch_chromium(playwright: Playwright) -> Browser:
    """Debian's chromium, headless, with background networking off (Playwright's own builds are not used)."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)


@contextlib.contextmanager
def dashboard_in_chromium(checkpoint_dir: Path):
    """For a benchmark: `streamlit run dashboard/app.py` on ``checkpoint_dir`` and a chromium; yields
    (server URL, browser). The load average is printed before and after: the machine is shared."""
    env = {**os.environ, "VAE_CHECKPOINT_DIR": str(checkpoint_dir.resolve())}
    repo = Path(__file__).resolve().parent.parent
    server = StreamlitServer(repo / "dashboard" / "app.py", Path(os.environ.get("TMPDIR", "/tmp")), env)
    try:
        server.wait_healthy(60)
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            print(f"load average before: {os.getloadavg()[0]:.2f}")
            yield server.url, browser
            print(f"\nload average after: {os.getloadavg()[0]:.2f}")
            browser.close()
    finally:
        server.stop()


class RunTracker:
    """Counts the script runs (whole page or fragment) the server reports finished to one tab,
    and the live decoder's weight payloads it sends."""

    def __init__(self, page: Page):
        self.page = page
        self.finished = 0
        self.compile_errors = 0
        self.weights_sent: list[int] = []  # sizes of the live decoder's weight payloads received
        page.on("websocket", self._watch)

    def _watch(self, socket: WebSocket) -> None:
        if socket.url.endswith("/_stcore/stream"):
            socket.on("framereceived", self._on_frame)

    def _on_frame(self, payload: bytes | str) -> None:
        if isinstance(payload, str):
            return
        frame = read_frame(payload)
        if frame.component_bytes and frame.component == "vae_live_decoder":  # not the maps' sprite sheets
            self.weights_sent.append(frame.component_bytes)
        self.compile_errors += frame.compile_error
        self.finished += frame.run_finished

    def wait_quiet(self, quiet_ms: float, timeout_ms: float) -> None:
        """Wait until no run has finished for ``quiet_ms`` and the page has drawn the last one:
        a report a component sends after a click (its weights, its last value) has had its rerun."""
        deadline = time.monotonic() + timeout_ms / 1000
        seen, since = self.finished, time.monotonic()
        while time.monotonic() - since < quiet_ms / 1000:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.page.url} kept rerunning for {timeout_ms / 1000:.0f} s")
            self.page.wait_for_timeout(50)
            if self.finished != seen:
                seen, since = self.finished, time.monotonic()
        self.wait_after(seen - 1, max(1000.0, (deadline - time.monotonic()) * 1000))

    def wait_after(self, finished_before: int, timeout_ms: float) -> None:
        """Wait for a run that finished after `finished_before` was read, then for the page to draw it."""
        deadline = time.monotonic() + timeout_ms / 1000
        try:
            while self.finished <= finished_before:
                if time.monotonic() > deadline:
                    raise PlaywrightTimeoutError("no script_finished message")
                self.page.wait_for_timeout(50)  # lets Playwright deliver websocket frames to _on_frame
            assert self.compile_errors == 0, f"{self.page.url}: the page script does not compile"
            remaining_ms = max(1000.0, (deadline - time.monotonic()) * 1000)
            self.page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(
                timeout=remaining_ms)
            self.page.wait_for_function(RENDERED_JS, timeout=remaining_ms)
        except PlaywrightTimeoutError as error:
            state = self.page.evaluate(PAGE_STATE_JS)
            raise AssertionError(f"{self.page.url} did not finish drawing within {timeout_ms / 1000:.0f} s: "
                                 f"{self.finished} runs finished, {state}") from error


def full_page_screenshot(page: Page, path: Path, max_height: int = 8000) -> None:
    """Screenshot the whole page.

    Streamlit scrolls inside `stMain`, not the document, so Playwright's `full_page`
    would stop at the viewport: grow the viewport to the content height, shoot, restore.
    """
    viewport = page.viewport_size
    page.mouse.move(viewport["width"] // 2, 2)  # rest on the empty header: no hover effects in the picture
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": viewport["width"], "height": min(max(height, viewport["height"]), max_height)})
    page.wait_for_function(RENDERED_JS)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    page.set_viewport_size(viewport)


def screenshot_dir(repo_root: Path) -> Path:
    return Path(os.environ.get("VAE_SCREENSHOT_DIR") or repo_root / "artifacts" / "screenshots")
