"""Many planners at once against one ``make run``-style server, in real headless chromium.

Each session is its own browser context (its own cookies and websocket, so its own Streamlit
session) and does what a planner does: load the map, switch indicators, upload its own facility
register on the Data tab, name its own scenario and add a facility to it, download the scenario
and the gap list.  Every session's register, scenario name and added site are different, and
each download is checked to hold its own session's data and no other's.

Used by ``tests/test_browser_sessions.py`` (3 sessions, in ``make test``) and
``benchmarks/bench_sessions.py`` (10 sessions).  Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import asyncio
import contextlib
import io as _io
import re
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .browser_support import CHROMIUM_ARGS, MAP_FRAME, REPO

STREET = "110101001"  # 东华门街道: every session's care home stands here
LEGEND = ".geo-coverage-legend"


@dataclass
class SessionResult:
    index: int
    steps: dict[str, float] = field(default_factory=dict)  # step -> seconds
    problems: list[str] = field(default_factory=list)


def street_point() -> tuple[float, float]:
    from geo_coverage.dataset import load_dataset

    street = load_dataset().units["street"].loc[[STREET]]
    point = street.representative_point().to_crs(4326).iloc[0]
    return float(point.x), float(point.y)


def register_for(index: int, lon: float, lat: float) -> bytes:
    """Session ``index``'s register: one care home of ``index + 1`` beds (so the street stays a
    gap and its numerator names the session)."""
    return (
        f"编号,名称,经度,纬度,床位,护理型床位,医养结合\n"
        f"S{index},会话{index}养老院,{lon:.6f},{lat:.6f},{index + 1},0,否\n"
    ).encode()


def scenario_name(index: int) -> str:
    return f"会话{index}的情景"


class PeakMemory:
    """The server's peak resident memory: VmHWM of its process, sampled until stopped (the
    kernel's high-water mark, so no spike between samples is missed)."""

    def __init__(self, pid: int):
        self.pid = pid
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _read(self) -> int:
        try:
            text = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return 0
        match = re.search(r"VmHWM:\s+(\d+) kB", text)
        return int(match.group(1)) if match else 0

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            self.peak_kb = max(self.peak_kb, self._read())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.peak_kb = max(self.peak_kb, self._read())
        self._stop.set()
        self._thread.join()


async def _timed(result: SessionResult, step: str, action):
    start = time.perf_counter()
    value = await action()
    result.steps[step] = time.perf_counter() - start
    return value


async def _polygons(page, minimum: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    frame = page.frame_locator(f"{MAP_FRAME} >> nth=-1")
    while time.monotonic() < deadline:
        try:
            if await frame.locator("path.leaflet-interactive").count() >= minimum:
                return
        except Exception:  # noqa: BLE001 - the iframe may be re-mounting
            pass
        await page.wait_for_timeout(250)
    raise TimeoutError(f"fewer than {minimum} polygons after {timeout_s:.0f} s")


async def _choose_indicator(page, option: str, legend_text: str, timeout_s: float) -> None:
    await page.get_by_label("指标").first.click()
    await page.get_by_role("option", name=re.compile(re.escape(option))).first.click()
    frame = page.frame_locator(f"{MAP_FRAME} >> nth=-1")
    await frame.locator(LEGEND, has_text=legend_text).wait_for(timeout=timeout_s * 1000)
    await _polygons(page, 300, timeout_s)


async def _download(page, name: str, timeout_s: float) -> bytes:
    async with page.expect_download(timeout=timeout_s * 1000) as info:
        await page.get_by_role("button", name=name, exact=True).click()
    download = await info.value
    path = await download.path()
    return Path(path).read_bytes()


async def run_session(
    browser, url: str, index: int, *, lon: float, lat: float, work: Path, timeout_s: float = 240.0
) -> SessionResult:
    result = SessionResult(index)
    context = await browser.new_context(
        viewport={"width": 1500, "height": 1900}, locale="zh-CN", accept_downloads=True
    )
    blocked: list[str] = []

    async def route(route):
        address = route.request.url
        host = address.split("/")[2].split(":")[0] if "://" in address else ""
        if address.startswith(("data:", "blob:", "about:")) or host in ("127.0.0.1", "localhost"):
            await route.continue_()
        else:
            blocked.append(address)
            await route.abort()

    await context.route("**/*", route)
    page = await context.new_page()
    page.set_default_timeout(timeout_s * 1000)
    try:

        async def load():
            await page.goto(url, wait_until="domcontentloaded")
            await _polygons(page, 300, timeout_s)

        await _timed(result, "load map", load)
        await _timed(
            result,
            "switch indicator",
            lambda: _choose_indicator(
                page, "每千人口拥有3岁以下婴幼儿托位数", "婴幼儿托位数", timeout_s
            ),
        )
        await _timed(
            result,
            "switch back",
            lambda: _choose_indicator(page, "千人常住人口养老床位数", "养老床位", timeout_s),
        )

        register = work / f"register_{index}.csv"
        register.write_bytes(register_for(index, lon, lat))

        async def upload():
            await page.get_by_role("tab", name="数据 · Data").click()
            await page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
                str(register)
            )
            await page.get_by_role("button", name="校验并载入").click()
            await page.get_by_text("校验通过", exact=False).first.wait_for()

        await _timed(result, "upload register", upload)

        async def add_facility():
            await page.get_by_role("tab", name="情景 · Scenario").click()
            name_box = page.get_by_label("情景名称", exact=True).first
            await name_box.fill(scenario_name(index))
            await name_box.press("Enter")
            await page.wait_for_timeout(300)
            for label, value in (("经度", lon + 0.001 * (index + 1)), ("纬度", lat)):
                box = page.get_by_label(label, exact=True).first
                await box.fill(f"{value:.6f}")
                await box.press("Enter")
                await page.wait_for_timeout(300)
            await page.get_by_role("button", name="添加", exact=True).click()
            await page.get_by_text("情景中的修改", exact=False).first.wait_for()
            await page.get_by_text("新增养老机构", exact=False).first.wait_for(state="attached")
            await page.get_by_text("保存与导入", exact=True).first.click()  # the files expander
            await page.get_by_role("button", name="下载情景 YAML").wait_for()

        await _timed(result, "add facility", add_facility)
        scenario = await _timed(
            result, "download scenario", lambda: _download(page, "下载情景 YAML", timeout_s)
        )

        async def gap_list():
            await page.get_by_role("tab", name="覆盖与缺口 · Coverage").click()
            await page.get_by_text("缺口排名").first.wait_for()
            return await _download(page, "下载 CSV", timeout_s)

        gaps = await _timed(result, "download gap list", gap_list)
        result.problems += check_isolation(index, scenario, gaps, lon=lon)
    except Exception as exc:  # noqa: BLE001 - a failed session is a finding to report, not a crash
        result.problems.append(
            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        )
        with contextlib.suppress(Exception):  # the screenshot is a courtesy; the finding is reported
            await page.screenshot(path=str(work / f"session_{index}_failed.png"), full_page=True)
    finally:
        await context.close()
    if blocked:
        result.problems.append(f"requests outside localhost: {blocked[:3]}")
    return result


def check_isolation(index: int, scenario_yaml: bytes, gaps_csv: bytes, *, lon: float) -> list[str]:
    """What session ``index`` downloaded holds its own data and nothing of another session's."""
    from geo_coverage.scenario import scenario_from_yaml

    problems = []
    scenario = scenario_from_yaml(scenario_yaml.decode("utf-8"))
    if scenario.name != scenario_name(index):
        problems.append(f"scenario name {scenario.name!r}")
    adds = [edit for edit in scenario.edits if type(edit).__name__ == "AddFacility"]
    if len(adds) != 1 or abs(adds[0].lon - (lon + 0.001 * (index + 1))) > 1e-6:
        problems.append(f"scenario edits {[getattr(e, 'lon', None) for e in scenario.edits]}")
    # The app's gap list is in the UI's language (Chinese headers: 单位代码 unit code, 分子
    # numerator), as `geo-coverage gaps` writes it by default.
    gaps = pd.read_csv(_io.BytesIO(gaps_csv), dtype={"单位代码": str})
    row = gaps[gaps["单位代码"] == STREET]
    if row.empty or float(row["分子"].iloc[0]) != index + 1:
        problems.append(
            f"gap list numerator for {STREET}: {row['分子'].tolist()} (own: {index + 1})"
        )
    return problems


async def run_sessions_async(
    url: str, count: int, work: Path, *, stagger_s: float = 0.5, timeout_s: float = 240.0
) -> list[SessionResult]:
    from playwright.async_api import async_playwright

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    lon, lat = street_point()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:

            async def one(index: int):
                await asyncio.sleep(stagger_s * index)
                return await run_session(
                    browser, url, index, lon=lon, lat=lat, work=work, timeout_s=timeout_s
                )

            return list(await asyncio.gather(*(one(i) for i in range(count))))
        finally:
            await browser.close()


def run_sessions(url: str, count: int, work: Path, **options) -> list[SessionResult]:
    return asyncio.run(run_sessions_async(url, count, work, **options))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = share * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(results: list[SessionResult]) -> dict:
    steps = sorted({step for r in results for step in r.steps})
    out = {
        "sessions": len(results),
        "completed": sum(not r.problems for r in results),
        "problems": {r.index: r.problems for r in results if r.problems},
        "steps": {},
    }
    for step in steps:
        values = [r.steps[step] for r in results if step in r.steps]
        out["steps"][step] = {
            "n": len(values),
            "p50_s": round(percentile(values, 0.5), 2),
            "p95_s": round(percentile(values, 0.95), 2),
            "max_s": round(max(values), 2),
        }
    every = [v for r in results for v in r.steps.values()]
    out["all_steps"] = {
        "n": len(every),
        "p50_s": round(percentile(every, 0.5), 2),
        "p95_s": round(percentile(every, 0.95), 2),
    }
    return out


REPO_ROOT = REPO
