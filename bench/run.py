"""Every benchmark, one after the other: `make bench`. Each prints figures; none passes or fails."""

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent

for script in sorted(BENCH.glob("*.py")):
    if script.name != "run.py":
        print(f"\n=== {script.name}", flush=True)
        subprocess.run([sys.executable, str(script)], check=True)
