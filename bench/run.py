"""`make bench`: every measurement of issue 9, then docs/benchmarks.md and its plots from their results.

Each bench writes bench/results/<name>.json; bench/report.py renders them all (and bench/results/local_load.json,
written by bench/local_load.py, when it is there). About 10 minutes on 2 cores; `--quick` (smaller rooms, fewer
runs) about 3. The older benches (contended_sends.py, flood_ping.py) print figures for docs/architecture.md and
run with `--all`.

    .venv/bin/python bench/run.py [--quick] [--all]
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
MEASUREMENTS = ("message_cost.py", "fanout_time.py", "cold_start.py", "local_load.py", "feature_cost.py")
OLDER = ("contended_sends.py", "flood_ping.py")

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--quick", action="store_true", help="each bench's --quick")
parser.add_argument("--all", action="store_true", help="also the benches that only print")
args = parser.parse_args()
started = time.monotonic()
for name in MEASUREMENTS + (OLDER if args.all else ()):
    script = BENCH / name
    if not script.is_file():
        continue
    print(f"\n=== {name}", flush=True)
    quick = ["--quick"] if args.quick and name in MEASUREMENTS else []
    if name == "cold_start.py" and not args.quick:
        quick = ["--runs", "5"]  # 10 runs take 10 minutes here; 5 move the ratios by about 0.1x
    subprocess.run([sys.executable, str(script), *quick], check=True)
    print(f"({time.monotonic() - started:.0f} s so far)", flush=True)
subprocess.run([sys.executable, str(BENCH / "report.py")], check=True)
