"""Print simple statistics of the bundled CSV (standard library only: the base image has no
scikit-learn). Shows the run id the runner hands over through the environment."""

import argparse
import csv
import os
import statistics

parser = argparse.ArgumentParser()
parser.add_argument("--rows", type=int, default=5)
args = parser.parse_args()

with open("wine_sample.csv") as handle:
    rows = list(csv.DictReader(handle))[: args.rows]
alcohol = [float(r["alcohol"]) for r in rows]
print(os.environ.get("GREETING", ""))
print(
    f"run {os.environ.get('MLFLOWX_RUN_ID')}: mean alcohol of {len(rows)} rows = "
    f"{statistics.mean(alcohol):.3f}"
)
