"""How long the command line makes you wait before it starts (`make bench`).

Each command runs in a fresh process, as a user runs it; the figure is the
CPU time (user + system) of that process, the best of a few repeats, so a
busy machine lengthens it less than it lengthens the wall clock. The
baseline is the interpreter starting and doing nothing, in the same run.
"""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

REPEATS = 3
GOAL_CPU_SECONDS = 1.0
BUILTIN = Path(__file__).parents[1] / "src/ldntrial/protocol/builtins/crossover-2013.toml"
COMMANDS = {
    "ldntrial --help": ["--help"],
    "ldntrial protocol list": ["protocol", "list"],
    "ldntrial protocol show crossover-2013": ["protocol", "show", "crossover-2013"],
    "ldntrial protocol validate crossover-2013.toml": ["protocol", "validate", str(BUILTIN)],
}
LDNTRIAL = str(Path(sys.executable).with_name("ldntrial"))  # the installed console script


def cpu_seconds(argv: list[str]) -> float:
    """CPU seconds of the child process that runs ``argv``, the best of ``REPEATS``."""
    best = float("inf")
    for _ in range(REPEATS):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        best = min(best, used)
    return best


def main() -> None:
    baseline = cpu_seconds([sys.executable, "-c", "pass"])
    print("\nStart-up of the command line (CPU seconds of a fresh process, best of 3)\n")
    print("| command | CPU seconds | ratio to baseline | goal |")
    print("|---|---:|---:|---|")
    print(f"| baseline: python -c pass | {baseline:.3f} | 1.0 |  |")
    for name, arguments in COMMANDS.items():
        seconds = cpu_seconds([LDNTRIAL, *arguments])
        verdict = "met" if seconds < GOAL_CPU_SECONDS else "MISSED"
        print(
            f"| {name} | {seconds:.3f} | {seconds / baseline:.1f} | "
            f"< {GOAL_CPU_SECONDS:g} s: {verdict} |"
        )


if __name__ == "__main__":
    main()
