"""Reads the metrics table with polars, pandas and DuckDB, each in the one line the README shows."""
import sys

import duckdb
import pandas as pd
import polars as pl

root = sys.argv[1] if len(sys.argv) > 1 else "results"

# The README's lines, with `results` replaced by the directory checked.
df = pl.read_parquet(f"{root}/metrics/*.parquet")
pdf = pd.read_parquet(f"{root}/metrics")
con = duckdb.connect()
n = con.execute(f"select count(*) from '{root}/metrics/*.parquet'").fetchone()[0]

expected = {"experiment": pl.String, "run_id": pl.String, "seed": pl.Int64, "epoch": pl.Int64,
            "split": pl.String, "loss": pl.Float64, "accuracy": pl.Float64}
for name, dtype in expected.items():
    assert df.schema[name] == dtype, (name, df.schema.get(name))
dupes = df.group_by(["run_id", "epoch", "split"]).len().filter(pl.col("len") > 1)
assert dupes.height == 0, dupes
# `test`: runs that hold a validation split out measure the official test set apart.
assert {"train", "val"} <= set(df["split"].unique()) <= {"train", "val", "test"}, df["split"].unique()
assert n == df.height == len(pdf), (n, df.height, len(pdf))

confusion = pd.read_parquet(f"{root}/confusion")
per_run = confusion.groupby("run_id")["count"].sum()
val = df.filter(pl.col("split") == "val").sort("epoch").group_by("run_id").last()
for run_id, acc in zip(val["run_id"], val["accuracy"]):
    c = confusion[confusion.run_id == run_id]
    right = c[c.true_class == c.predicted_class]["count"].sum()
    assert right / per_run[run_id] == acc, (run_id, right, per_run[run_id], acc)

# The run index: every stored run of the plan under each experiment that
# plans it, with its status, the epochs it reached and its settings.
runs = pl.read_parquet(f"{root}/runs.parquet")
for name, dtype in {"experiment": pl.String, "point": pl.String, "run_id": pl.String, "seed": pl.Int64,
                    "status": pl.String, "epochs": pl.Int64, "model.hidden": pl.String,
                    "optimizer.kind": pl.String, "optimizer.lr": pl.Float64, "schedule.kind": pl.String}.items():
    assert runs.schema[name] == dtype, (name, runs.schema.get(name))
assert set(runs["status"].unique()) <= {"complete", "stopped", "pruned", "diverged"}, runs["status"].unique()
assert runs.group_by("point", "seed").len().filter(pl.col("len") > 1).height == 0
# metrics/ may also hold runs of older settings, which the plan no longer names.
assert set(runs["run_id"]) <= set(df["run_id"]), "the index names runs metrics/ lacks"
assert runs["model.hidden"].str.contains(r"^\d+(x\d+)*$").all(), runs["model.hidden"].unique()
assert set(df["hidden"].unique()) <= set(runs["model.hidden"].unique()), "one spelling of the widths"
reached = df.group_by("run_id").agg(pl.col("epoch").max().alias("last"))
joined = runs.join(reached, on="run_id")
assert (joined["last"] == joined["epochs"]).all(), joined.filter(pl.col("last") != pl.col("epochs"))
shared = runs.group_by("run_id").len().filter(pl.col("len") > 1).height
# The documented one line: an experiment's runs, shared ones included.
for name in runs["experiment"].unique():
    planned = runs.filter(pl.col("experiment") == name)
    sweep = planned.join(df, on="run_id")
    assert set(sweep["run_id"]) == set(planned["run_id"]), name
print(f"runs.parquet: {runs.height} rows ({runs['experiment'].n_unique()} experiment files, "
      f"{shared} runs shared by several experiments), status {dict(runs.group_by('status').len().iter_rows())}")

best = con.execute(
    f"select experiment, max(accuracy) from '{root}/metrics/*.parquet' where split = 'val' group by 1 order by 1"
).fetchall()
print(f"polars, pandas and DuckDB read {df.height} rows of {df['run_id'].n_unique()} runs;"
      f" the confusion matrices agree with the accuracies; best val accuracy:")
for exp, acc in best:
    print(f"  {exp:<28} {acc:.4f}")
