"""Checks that two results directories hold the same metrics, run for run (e.g. Slurm vs local)."""
import sys

import polars as pl

a, b = sys.argv[1], sys.argv[2]
keys = ["experiment", "run_id", "seed", "epoch", "split"]
left = pl.scan_parquet(f"{a}/metrics/**/*.parquet").collect().select(keys + ["loss", "accuracy"])
right = pl.scan_parquet(f"{b}/metrics/**/*.parquet").collect().select(keys + ["loss", "accuracy"])
assert left.height == right.height, (left.height, right.height)
joined = left.join(right, on=keys, how="inner", suffix="_b")
assert joined.height == left.height, f"runs differ: {left.height} rows vs {joined.height} matched"
diff = joined.filter((pl.col("loss") != pl.col("loss_b")) | (pl.col("accuracy") != pl.col("accuracy_b")))
assert diff.height == 0, diff
print(f"{a} and {b}: {left['run_id'].n_unique()} runs, {left.height} rows, identical metrics")
