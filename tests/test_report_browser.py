"""End to end: the demo's HTML report opened in a real headless Chromium, driven over the DevTools protocol.

Checks that every chart was drawn by Plotly (each figure holds a ``.js-plotly-plot`` with its ``svg.main-svg``),
that no script error or console error happened, that the page asked for nothing from the network, and that the
print view shows the static drawings; saves a screenshot and a PDF under ``test-artifacts/``. Negative tests
make sure broken pages are caught: an uncaught exception, a console error, a plotly.js that fails to load.

Needs Debian's ``chromium`` (or $BENCHCAST_CHROMIUM) and the ``websockets`` package; skips without them.
"""

from __future__ import annotations

import base64
import inspect
import json
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
    "--window-size=1400,1000",
]
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")


def _chromium() -> str | None:
    for name in (os.environ.get("BENCHCAST_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


class Page:
    """One Chromium tab over the DevTools protocol; records errors, console errors and network requests."""

    def __init__(self, executable: str, profile: Path) -> None:
        from websockets.sync.client import connect

        self.resources = ExitStack()
        self.log = (profile.parent / "chromium.log").open("wb")
        self.process = subprocess.Popen(
            [executable, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"chromium did not start; see {profile.parent / 'chromium.log'}")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
            targets = json.load(answer)
        url = next(t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page")
        self.socket = self.resources.enter_context(connect(url, max_size=None, open_timeout=20))
        self.events: list[dict[str, Any]] = []
        self.next_id = 0
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")

    def call(self, method: str, timeout: float = 60, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self.socket.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"evaluating {expression!r}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, path: Path, *, ready: str = "document.readyState === 'complete'", timeout: float = 90) -> None:
        url = path.resolve().as_uri()
        self.call("Page.navigate", url=url)
        # the old document answers until the new one exists, and the new one has no body at first
        check = (
            f"(() => {{ try {{ return location.href === {json.dumps(url)} && Boolean({ready}); }} "
            "catch { return false; } })()"
        )
        deadline = time.monotonic() + timeout
        while not self.evaluate(check):
            if time.monotonic() > deadline:
                raise TimeoutError(f"page not ready ({ready}) after {timeout} s")
            time.sleep(0.2)
        self.settle()

    def settle(self, seconds: float = 0.5) -> None:
        """Collect the events that arrive for a moment (late console messages, exceptions)."""
        self.evaluate(f"new Promise(r => setTimeout(r, {int(seconds * 1000)}))")

    def errors(self) -> list[str]:
        """Uncaught exceptions, console.error/assert calls and browser log entries at level error."""
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                found.append(details.get("exception", {}).get("description") or details.get("text", "exception"))
            elif method == "Runtime.consoleAPICalled" and params.get("type") in {"error", "assert"}:
                found.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                found.append(params["entry"].get("text", "log error"))
        return found

    def remote_requests(self) -> list[str]:
        urls = [e["params"]["request"]["url"] for e in self.events if e.get("method") == "Network.requestWillBeSent"]
        return [url for url in urls if not url.startswith(LOCAL_SCHEMES)]

    def screenshot(self, path: Path, width: int = 1400) -> None:
        height = int(self.evaluate("document.documentElement.scrollHeight"))
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        self.settle(1.0)  # responsive charts redraw at the new size
        shot = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True, timeout=120)
        path.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        try:
            self.resources.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.log.close()


@pytest.fixture()
def page(tmp_path: Path) -> Iterator[Page]:
    executable = _chromium()
    if executable is None:
        pytest.skip("headless Chromium not found: apt-get install chromium (or set BENCHCAST_CHROMIUM)")
    pytest.importorskip("websockets", reason="the browser tests talk to Chromium with the websockets package")
    browser = Page(executable, tmp_path / "profile")
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``benchcast demo --report``, run once through the real CLI."""
    if _chromium() is None:
        pytest.skip("headless Chromium not found: apt-get install chromium (or set BENCHCAST_CHROMIUM)")
    from typer.testing import CliRunner

    from benchcast.cli import _register, app
    from benchcast.cli.forecasting import demo

    _register()
    out = tmp_path_factory.mktemp("report") / "demo.html"
    args = ["demo", "--report", str(out)]
    # bootstrap intervals cost a refit per replicate; the report's own tests cover intervals
    if "bootstrap" in inspect.signature(demo).parameters:
        args += ["--bootstrap", "0", "--quiet"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert out.exists()
    return out


RENDER_STATE = """(() => {
  const figures = [...document.querySelectorAll("figure.chart")];
  return {
    expected: Number(document.body.dataset.chartsTotal),
    figures: figures.length,
    plotted: figures.filter(f => f.querySelector(".js-plotly-plot svg.main-svg")).length,
    interactive: figures.filter(f => f.classList.contains("is-interactive")).length,
    staticHidden: figures.filter(f => getComputedStyle(f.querySelector(".chart-static")).display === "none").length,
    traces: figures.map(f => f.querySelectorAll(".js-plotly-plot .scatterlayer .trace").length),
    kinds: figures.map(f => f.dataset.kind),
    sections: document.querySelectorAll("section.benchmark").length,
  };
})()"""

CHARTS_DONE = "document.body.dataset.chartsDone === 'true'"


def test_demo_report_renders_every_chart_without_errors(page: Page, demo_report: Path) -> None:
    page.open(demo_report, ready=CHARTS_DONE)
    state = page.evaluate(RENDER_STATE)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(ARTIFACTS / "report-demo.png")
    assert page.errors() == []
    assert page.remote_requests() == [], "the report must open offline"
    assert state["sections"] == 10
    assert state["figures"] == state["expected"] > 0
    assert state["plotted"] == state["figures"], state
    assert state["interactive"] == state["figures"]
    assert state["staticHidden"] == state["figures"], "on screen the static drawings give way to Plotly's"
    assert all(n > 0 for n in state["traces"]), "every chart has drawn data"
    assert {"overview", "forecast", "clusters", "mapping", "items"} <= set(state["kinds"])
    assert int(page.evaluate("Number(document.body.dataset.chartsRendered)")) == state["figures"]


def test_demo_report_prints_its_static_charts(page: Page, demo_report: Path) -> None:
    page.open(demo_report, ready=CHARTS_DONE)
    page.call("Emulation.setEmulatedMedia", media="print")
    shown = page.evaluate(
        """[...document.querySelectorAll("figure.chart")].map(f => [
             getComputedStyle(f.querySelector(".chart-static")).display,
             getComputedStyle(f.querySelector(".chart-interactive")).display])"""
    )
    assert shown and all(static != "none" and interactive == "none" for static, interactive in shown)
    pdf = page.call("Page.printToPDF", printBackground=True, timeout=120)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "report-demo.pdf").write_bytes(base64.b64decode(pdf["data"]))
    assert page.errors() == []


# negative tests: the checks above must really see a broken page


def test_an_uncaught_exception_is_detected(page: Page, tmp_path: Path) -> None:
    broken = tmp_path / "broken.html"
    broken.write_text("<!DOCTYPE html><html><body><p>hi</p><script>throw new Error('deliberately broken');</script>")
    page.open(broken)
    assert any("deliberately broken" in error for error in page.errors())


def test_a_console_error_is_detected(page: Page, tmp_path: Path) -> None:
    noisy = tmp_path / "noisy.html"
    noisy.write_text("<!DOCTYPE html><html><body><script>console.error('something went wrong')</script>")
    page.open(noisy)
    assert any("something went wrong" in error for error in page.errors())


def test_a_report_whose_plotly_fails_is_detected_and_keeps_its_static_charts(
    page: Page, demo_report: Path, tmp_path: Path
) -> None:
    html = demo_report.read_text()
    start = html.index("<script>", html.index("</footer>"))
    end = html.index("</script>", start)
    broken = tmp_path / "broken-report.html"
    broken.write_text(html[: start + len("<script>")] + "var Plotly = ; // truncated bundle" + html[end:])
    page.open(broken, ready=CHARTS_DONE)
    errors = page.errors()
    assert any("SyntaxError" in error for error in errors), errors
    assert any("plotly.js did not load" in error for error in errors), errors
    state = page.evaluate(RENDER_STATE)
    assert state["plotted"] == 0
    assert state["staticHidden"] == 0, "without Plotly every static drawing stays visible"


def test_a_chart_that_fails_to_draw_is_detected(page: Page, demo_report: Path, tmp_path: Path) -> None:
    html = demo_report.read_text()
    marker = '<script type="application/json" class="chart-data">'
    start = html.index(marker) + len(marker)
    broken = tmp_path / "bad-chart.html"
    broken.write_text(html[:start] + "{not json" + html[start:])
    page.open(broken, ready=CHARTS_DONE)
    errors = page.errors()
    assert any("could not be drawn" in error for error in errors), errors
    state = page.evaluate(RENDER_STATE)
    assert state["plotted"] == state["figures"] - 1
