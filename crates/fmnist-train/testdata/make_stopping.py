#!/usr/bin/env python3
"""Writes stopping.json: what Lightning's EarlyStopping decides on recorded sequences.

The Rust `EarlyStopper` (src/stopping.rs) is tested against this table.
Lightning itself is not needed: `LightningEarlyStopping` below transcribes the
logic of `lightning.pytorch.callbacks.EarlyStopping` (its `__init__` sign flip
of min_delta, `_evaluate_stopping_criteria` with check_finite on and no
stopping or divergence threshold), on torch float64 tensors, one check per
epoch after validation. The driver stops feeding a sequence at the first
stop, as the trainer would end the run there.

    pip install torch
    python3 crates/fmnist-train/testdata/make_stopping.py
"""

import json
import math
import os

import torch


class LightningEarlyStopping:
    mode_dict = {"min": torch.lt, "max": torch.gt}

    def __init__(self, min_delta=0.0, patience=3, mode="min"):
        self.min_delta = min_delta
        self.patience = patience
        self.mode = mode
        self.check_finite = True
        self.wait_count = 0
        self.min_delta *= 1 if self.monitor_op == torch.gt else -1
        inf = torch.tensor(torch.inf, dtype=torch.float64)
        self.best_score = inf if self.monitor_op == torch.lt else -inf

    @property
    def monitor_op(self):
        return self.mode_dict[self.mode]

    def evaluate(self, current):
        """(should_stop, reason, improved)."""
        if self.check_finite and not torch.isfinite(current):
            return True, "not_finite", False
        if self.monitor_op(current - self.min_delta, self.best_score):
            self.best_score = current
            self.wait_count = 0
            return False, None, True
        self.wait_count += 1
        if self.wait_count >= self.patience:
            return True, "no_improvement", False
        return False, None, False


def encode(v):
    return v if math.isfinite(v) else str(v)  # "nan", "inf", "-inf": JSON has none


LOSSES = [0.90, 0.70, 0.60, 0.58, 0.581, 0.579, 0.5795, 0.60, 0.62, 0.59, 0.585, 0.61, 0.63, 0.64]
ACCURACIES = [0.70, 0.78, 0.80, 0.805, 0.805, 0.804, 0.81, 0.809, 0.8095, 0.808, 0.81, 0.80]
DIVERGING = [0.9, 0.8, 2.5, float("inf"), float("nan")]
NAN_AT_ONCE = [float("nan"), 0.5, 0.4]
# Improvements of exactly min_delta (0.01) do not count: `<`, not `<=`.
STEPS = [1.0, 0.99, 0.98, 0.97, 0.96, 0.95, 0.94]

CASES = [
    ("loss defaults", "val_loss", {"patience": 3, "min_delta": 0.0, "mode": "min"}, LOSSES),
    ("loss patience 1", "val_loss", {"patience": 1, "min_delta": 0.0, "mode": "min"}, LOSSES),
    ("loss patience 0", "val_loss", {"patience": 0, "min_delta": 0.0, "mode": "min"}, LOSSES),
    ("loss min_delta 0.005", "val_loss", {"patience": 3, "min_delta": 0.005, "mode": "min"}, LOSSES),
    ("loss patience 20 never stops", "val_loss", {"patience": 20, "min_delta": 0.0, "mode": "min"}, LOSSES),
    ("accuracy defaults", "val_accuracy", {"patience": 3, "min_delta": 0.0, "mode": "max"}, ACCURACIES),
    ("accuracy min_delta 0.004", "val_accuracy", {"patience": 2, "min_delta": 0.004, "mode": "max"}, ACCURACIES),
    ("accuracy watched in min mode", "val_accuracy", {"patience": 3, "min_delta": 0.0, "mode": "min"}, ACCURACIES),
    ("diverging", "val_loss", {"patience": 3, "min_delta": 0.0, "mode": "min"}, DIVERGING),
    ("nan first", "val_loss", {"patience": 3, "min_delta": 0.0, "mode": "min"}, NAN_AT_ONCE),
    ("steps of exactly min_delta", "val_loss", {"patience": 2, "min_delta": 0.01, "mode": "min"}, STEPS),
]


def main():
    cases = []
    for name, monitor, cfg, values in CASES:
        es = LightningEarlyStopping(**cfg)
        checks = []
        for epoch, v in enumerate(values, start=1):
            stop, reason, improved = es.evaluate(torch.tensor(v, dtype=torch.float64))
            best = float(es.best_score)
            checks.append({
                "epoch": epoch, "improved": improved, "wait_count": es.wait_count,
                "best": encode(best), "stop": reason,
            })
            if stop:
                break
        cases.append({
            "name": name,
            "config": dict(cfg, monitor=monitor, keep="last"),
            "values": [encode(v) for v in values],
            "checks": checks,
        })
    out = {"about": "Lightning EarlyStopping decisions, made by make_stopping.py", "cases": cases}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "stopping.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1, allow_nan=False)
        f.write("\n")
    for c in cases:
        last = c["checks"][-1]
        print(f"{c['name']:32s} checks {len(c['checks']):2d} stop {last['stop']}")


if __name__ == "__main__":
    main()
