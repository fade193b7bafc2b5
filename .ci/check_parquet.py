"""Reads the metrics store as one table with polars and with DuckDB, as a user would."""
import sys

import duckdb
import polars as pl

root = sys.argv[1] if len(sys.argv) > 1 else "results"
pattern = f"{root}/metrics/**/*.parquet"

df = pl.scan_parquet(pattern).collect()
expected = {"experiment": pl.String, "run_id": pl.String, "seed": pl.Int64, "epoch": pl.Int64,
            "split": pl.String, "loss": pl.Float64, "accuracy": pl.Float64, "seconds": pl.Float64}
for name, dtype in expected.items():
    assert df.schema[name] == dtype, (name, df.schema.get(name))
dupes = df.group_by(["run_id", "epoch", "split"]).len().filter(pl.col("len") > 1)
assert dupes.height == 0, dupes
assert set(df["split"].unique()) == {"train", "val"}

con = duckdb.connect()
n = con.execute(f"select count(*) from read_parquet('{pattern}')").fetchone()[0]
assert n == df.height, (n, df.height)
best = con.execute(
    f"select experiment, max(accuracy) from read_parquet('{pattern}') where split = 'val' group by 1 order by 1"
).fetchall()
print(f"polars and DuckDB read {df.height} rows of {df['run_id'].n_unique()} runs; best val accuracy:")
for exp, acc in best:
    print(f"  {exp:<28} {acc:.4f}")
