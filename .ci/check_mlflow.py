"""Reads an MLflow tracking server back with MLflow's own client and checks
what `fmnist export mlflow` sent there against the store it came from.

    python check_mlflow.py URI RESULTS IDS [--artifacts]

IDS is the output of `fmnist list --ids` for the same plan (experiment,
seed, run id, state per planned run). Checks: the MLflow runs are exactly
the stored (experiment, run) pairs, once each, every export complete, in
the MLflow experiment named after the experiment file; one run's params
against its manifest.json; its metric histories (length and values)
against its metrics table; with --artifacts, every run's weights. Prints
the number of MLflow runs last.
"""

import json
import math
import os
import sys

import pandas as pd
from mlflow import MlflowClient
from mlflow.entities import ViewType


def flatten(config):
    """The manifest's resolved settings by the dotted names the params use
    (`RunConfig::settings`): model.*, input.*, optimizer.*, schedule.*,
    training.* (batch_size, epochs, limits, early_stopping.*)."""
    out = {}
    for table in ("model", "input", "optimizer", "schedule"):
        for key, value in (config.get(table) or {}).items():
            out[f"{table}.{key}"] = value
    for key in ("batch_size", "epochs", "train_limit", "val_limit"):
        if config.get(key) is not None:
            out[f"training.{key}"] = config[key]
    for key, value in (config.get("early_stopping") or {}).items():
        out[f"training.early_stopping.{key}"] = value
    return out


def same(param, value):
    """A param (text) says the manifest's value."""
    if isinstance(value, bool):
        return param == str(value).lower()
    if isinstance(value, (int, float)):
        return math.isclose(float(param), float(value), rel_tol=1e-9)
    if isinstance(value, list):
        # Hidden widths have one spelling, `128x64`; other lists read `[a, b]`.
        text = param.strip("[]")
        parts = text.split(",") if param.startswith("[") or "," in text else text.split("x")
        items = [x.strip() for x in parts if x.strip()]
        return len(items) == len(value) and all(same(p, v) for p, v in zip(items, value))
    return param == str(value)


def all_runs(client):
    experiments = client.search_experiments()
    runs = []
    for e in experiments:
        token = None
        while True:
            page = client.search_runs([e.experiment_id], run_view_type=ViewType.ACTIVE_ONLY,
                                      max_results=1000, page_token=token)
            runs.extend((e.name, r) for r in page)
            token = page.token
            if not token:
                break
    return runs


def check_params(run, manifest):
    params = run.data.params
    settings = flatten(manifest["config"])
    for key, value in settings.items():
        assert key in params, f"param {key} missing: {sorted(params)}"
        assert same(params[key], value), f"param {key} = {params[key]!r}, manifest {value!r}"
    assert params["seed"] == str(manifest["seed"]), params["seed"]
    assert params["run_id"] == manifest["run_id"], params["run_id"]
    return len(settings)


def check_metrics(client, run, table):
    """Every quantity of every split: one point per epoch, the stored values."""
    # The quantities are the numeric columns besides the keys and settings
    # (`images`, which says which images a split measured, is text).
    quantities = [c for c in table.columns
                  if c not in ("experiment", "run_id", "seed", "epoch", "split", "images",
                               "optimizer", "lr", "dropout", "hidden", "batch_size")
                  and table[c].dtype.kind == "f"]
    checked = 0
    for split, rows in table.groupby("split"):
        for q in quantities:
            rows_q = rows[rows[q].notna()].sort_values("epoch")
            if rows_q.empty:
                continue
            history = sorted(client.get_metric_history(run.info.run_id, f"{split}_{q}"),
                             key=lambda m: m.step)
            assert [m.step for m in history] == list(rows_q["epoch"]), (split, q, history)
            assert [m.value for m in history] == list(rows_q[q]), (split, q)
            checked += 1
    return checked


def main():
    uri, results, ids = sys.argv[1:4]
    artifacts = "--artifacts" in sys.argv[4:]
    with open(ids) as f:
        planned = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    pairs = {(exp, run_id) for exp, _seed, run_id, state in planned if state != "missing"}
    client = MlflowClient(uri)
    runs = all_runs(client)
    found = [(r.data.tags.get("fmnist.experiment"), r.data.tags.get("fmnist.run_id")) for _, r in runs]
    assert len(found) == len(set(found)), "a pair was exported twice"
    assert set(found) == pairs, (f"{len(set(found) - pairs)} MLflow runs not in the store, "
                                 f"{len(pairs - set(found))} stored pairs not exported")
    for name, r in runs:
        tags = r.data.tags
        assert tags.get("fmnist.export") == "complete", (r.info.run_id, tags)
        stem = os.path.splitext(os.path.basename(tags["fmnist.experiment_file"]))[0]
        assert name == stem, (name, stem)
        assert r.info.status in ("FINISHED", "KILLED", "FAILED"), r.info.status
        if artifacts:
            files = {a.path: a.file_size for a in client.list_artifacts(r.info.run_id)}
            weights = os.path.join(results, "runs", tags["fmnist.run_id"], "model.safetensors")
            assert files.get("model.safetensors") == os.path.getsize(weights), (r.info.run_id, files)
    # One run in detail: the baseline's first, or else the first.
    name, run = next(((n, r) for n, r in runs if n == "baseline"), runs[0])
    run_id = run.data.tags["fmnist.run_id"]
    with open(os.path.join(results, "runs", run_id, "manifest.json")) as f:
        manifest = json.load(f)
    settings = check_params(run, manifest)
    table = pd.read_parquet(os.path.join(results, "metrics", f"{run_id}.parquet"))
    histories = check_metrics(client, run, table)
    epochs = int(table["epoch"].max())
    print(f"mlflow: {len(runs)} runs in {len({n for n, _ in runs})} experiments are the "
          f"{len(pairs)} stored (experiment, run) pairs, every export complete"
          f"{', every run with its weights' if artifacts else ''}; run {run_id} ({name}): "
          f"{settings} settings, seed and run id match its manifest, {histories} metric "
          f"histories of {epochs} epochs match its table")
    print(len(runs))


if __name__ == "__main__":
    main()
