"""Writes src/ldntrial/stats/reference/nof1_power.json (`make nof1-power`, a few minutes).

How often each built-in N-of-1 design gives a right answer, for the page a
physician reads before her patient starts (ldntrial.stats.nof1_outlook): 400
simulated patients per design and scenario, 3 pairs of blocks, seed 16, as
`ldntrial power ID --pairs 3 --sims 400 --seed 16 --scenario S` prints it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ldntrial.stats.nof1_outlook import POWER_FILE
from ldntrial.planning.power import estimate_power

DESIGNS = ("nof1", "nof1-titration", "nof1-dose")
SIMS, SEED, PAIRS = 400, 16, 3


def main() -> None:
    designs = {}
    for design in DESIGNS:
        figures: dict[str, object] = {
            "command": f"ldntrial power {design} --pairs {PAIRS} --sims {SIMS} --seed {SEED}"
        }
        for scenario in ("stanford", "null"):
            result = estimate_power(
                design,
                sizes=[PAIRS],
                sims=SIMS,
                seed=SEED,
                scenario=scenario,
                workers=os.cpu_count() or 1,
            )
            row = result.table.iloc[0]
            figures[scenario] = {
                "patients": int(row["patients"]),
                "p_correct": float(row["p_correct"]),
                "p_cannot_tell": float(row["p_cannot_tell"]),
                "p_wrong": float(row["wrong"] / row["patients"]),
                # Under null no one truly benefits: every wrong answer is "probably helped".
                "p_helped": float(row["wrong"] / row["patients"]) if scenario == "null" else None,
                "share_truly_meaningful": float(row["share_truly_meaningful"]),
            }
        designs[design] = figures
        print(design, figures)
    POWER_FILE.write_text(json.dumps({"designs": designs}, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {Path(POWER_FILE)}")


if __name__ == "__main__":
    main()
