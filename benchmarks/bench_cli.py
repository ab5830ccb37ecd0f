"""The command line as a user runs it: ``benchcast forecast`` on one simulated benchmark of 100,000 and
1,000,000 items, with intervals, plus the start-up of ``benchcast --help``.

Not a test. Each command runs in a fresh process, as a user would start it; the table gives its wall time,
the CPU time of that process and of the workers it reaped (as ``wait4`` reports them), and the peak resident
memory of the main process. The simulated ladders are written once into ``--workdir`` (``benchcast simulate --seed 1``)
and reused.

Targets of issue #14 on the 2-core machine: 100k items under 10 s with the default method (``auto``) and under
15 s with ``--method cod``; 1M items under 90 s.

Usage::

    python benchmarks/bench_cli.py [--sizes 100000 1000000] [--repeats 1] [--workdir DIR] [--cod-max 100000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGETS = {("auto", 100_000): 10.0, ("cod", 100_000): 15.0, ("auto", 1_000_000): 90.0}


def _benchcast() -> list[str]:
    found = shutil.which("benchcast")
    return [found] if found else [sys.executable, "-c", "from benchcast.cli import main; main()"]


def _run(command: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (the command and the workers it reaped) and its peak memory in MiB."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    # wait4 already reaped the child; Popen must not wait again
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read() if process.stderr else ""
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}): {stderr.strip()[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def _simulate(workdir: Path, items: int) -> Path:
    folder = workdir / f"sim{items}"
    if not (folder / "results.csv").exists():
        command = [*_benchcast(), "simulate", "--out", str(folder), "--n-items", str(items), "--seed", "1"]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "benchcast-bench-cli")
    parser.add_argument("--cod-max", type=int, default=100_000, help="largest size run with --method cod")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0]
    print(f"cpus: {os.cpu_count()}, load average: {load:.1f}")
    rows = []
    wall, cpu, peak = _run([*_benchcast(), "--help"])
    rows.append(("`benchcast --help`", "", wall, cpu, peak, None))
    for items in args.sizes:
        folder = _simulate(args.workdir, items)
        for method in ("auto", "cod"):
            if method == "cod" and items > args.cod_max:
                continue
            command = [
                *_benchcast(),
                "forecast",
                str(folder / "results.csv"),
                "--models",
                str(folder / "models.csv"),
                "--target",
                "sim-target",
                "--method",
                method,
                "--json",
                str(folder / f"{method}.json"),
                "--quiet",
            ]
            for _ in range(args.repeats):
                wall, cpu, peak = _run(command)
                rows.append(
                    (f"`forecast --method {method}`", f"{items:,}", wall, cpu, peak, TARGETS.get((method, items)))
                )
    print("\n| command | items | wall | CPU | peak memory (main process) | target |")
    print("|---|---|---|---|---|---|")
    for name, items, wall, cpu, peak, target in rows:
        verdict = "" if target is None else f"< {target:g} s: {'met' if wall < target else 'not met'}"
        print(f"| {name} | {items} | {wall:.1f} s | {cpu:.1f} s | {peak:,.0f} MiB | {verdict} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
