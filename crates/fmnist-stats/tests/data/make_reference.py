#!/usr/bin/env python3
"""Reference values for fmnist-stats, computed with scipy and numpy.

Run from anywhere: `python3 make_reference.py` rewrites reference.json beside
this script. The Rust tests (tests/scipy.rs) compare the crate against it.
Intervals and p-values come from scipy's own t-test results
(ttest_1samp / ttest_rel / ttest_ind(equal_var=False) and their
confidence_interval), not from re-typed formulas, so a mistake in the
crate's formulas shows up as a mismatch.
"""

import json
import pathlib

import numpy as np
import scipy
from scipy import stats

OUT = pathlib.Path(__file__).with_name("reference.json")

SAMPLES = [
    [0.8812, 0.8790, 0.8835],
    [0.8601, 0.8655, 0.8589, 0.8630],
    [0.91, 0.90],
    [0.8123, 0.8456, 0.8011, 0.8399, 0.8240, 0.8302, 0.8188],
    [1.25, 1.31, 1.19, 1.40, 1.22],
]

# (a, b): same length pairs are also tested paired; the rest Welch only.
PAIRS = [
    ([0.8812, 0.8790, 0.8835], [0.8650, 0.8702, 0.8671]),
    ([0.8601, 0.8655, 0.8589, 0.8630], [0.8610, 0.8640, 0.8602, 0.8622]),
    ([0.8812, 0.8790, 0.8835], [0.8601, 0.8655, 0.8589, 0.8630, 0.8677]),
    ([0.752, 0.781, 0.769], [0.770, 0.779, 0.790]),
    ([0.9012, 0.8987, 0.9031, 0.9003, 0.8995], [0.8870, 0.8912, 0.8856, 0.8901, 0.8893]),
]

MARGINS = [0.0, 0.005, 0.02, -0.01]


def t_quantiles():
    out = []
    for df in [1, 2, 3, 4, 5, 9, 29, 2.7, 7.31, 150]:
        for p in [0.5, 0.9, 0.95, 0.975, 0.995, 0.025, 0.05, 0.8]:
            out.append({"p": p, "df": df, "value": float(stats.t.ppf(p, df))})
    return out


def t_cdfs():
    out = []
    for df in [1, 2, 4, 3.3, 29]:
        for x in [-3.1, -1.0, 0.0, 0.4, 2.2, 6.0]:
            out.append({"x": x, "df": df, "value": float(stats.t.cdf(x, df))})
    return out


def mean_intervals():
    out = []
    for values in SAMPLES:
        for level in [0.95, 0.9, 0.99]:
            res = stats.ttest_1samp(values, 0.0)
            lo, hi = res.confidence_interval(level)
            out.append({
                "values": values,
                "level": level,
                "mean": float(np.mean(values)),
                "sd": float(np.std(values, ddof=1)),
                "df": float(res.df),
                "lo": float(lo),
                "hi": float(hi),
            })
    return out


def test_result(a, b, paired, shift=0.0, alternative="two-sided"):
    """The t-test of mean(a - b) against `shift`, by shifting b."""
    b = np.asarray(b) + shift
    if paired:
        return stats.ttest_rel(a, b, alternative=alternative)
    return stats.ttest_ind(a, b, equal_var=False, alternative=alternative)


def differences():
    out = []
    for a, b in PAIRS:
        for paired in ([True, False] if len(a) == len(b) else [False]):
            res = test_result(a, b, paired)
            lo, hi = res.confidence_interval(0.95)
            entry = {
                "a": a,
                "b": b,
                "paired": paired,
                "estimate": float(np.mean(np.subtract(a, b)) if paired else np.mean(a) - np.mean(b)),
                "df": float(res.df),
                "lo95": float(lo),
                "hi95": float(hi),
                "p_two_sided": float(res.pvalue),
                "one_sided": [],
            }
            for m in MARGINS:
                entry["one_sided"].append({
                    "margin": m,
                    "p_greater": float(test_result(a, b, paired, m, "greater").pvalue),
                    "p_less": float(test_result(a, b, paired, m, "less").pvalue),
                })
            out.append(entry)
    return out


def decide(lo, hi, region, bound):
    if region == "greater":
        return "holds" if lo > bound else "fails" if hi <= bound else "undecided"
    if region == "less":
        return "holds" if hi < bound else "fails" if lo >= bound else "undecided"
    # within (-bound, bound)
    if -bound < lo and hi < bound:
        return "holds"
    if lo >= bound or hi <= -bound:
        return "fails"
    return "undecided"


def decisions():
    out = []
    for a, b in PAIRS:
        for paired in ([True, False] if len(a) == len(b) else [False]):
            for alpha in [0.05, 0.1]:
                for region, bound in [("greater", 0.0), ("greater", 0.01), ("less", 0.02),
                                      ("less", -0.005), ("within", 0.02), ("within", 0.005),
                                      ("within", 0.03)]:
                    # > and <: the two-sided (1 - alpha) interval; approx (TOST):
                    # the (1 - 2 alpha) interval.
                    level = 1 - 2 * alpha if region == "within" else 1 - alpha
                    lo, hi = test_result(a, b, paired).confidence_interval(level)
                    if region == "within":
                        p = max(test_result(a, b, paired, -bound, "greater").pvalue,
                                test_result(a, b, paired, bound, "less").pvalue)
                    elif region == "greater":
                        p = test_result(a, b, paired, bound, "greater").pvalue
                    else:
                        p = test_result(a, b, paired, bound, "less").pvalue
                    out.append({
                        "a": a, "b": b, "paired": paired, "alpha": alpha,
                        "region": region, "bound": bound, "level": level,
                        "lo": float(lo), "hi": float(hi), "p_value": float(p),
                        "decision": decide(lo, hi, region, bound),
                    })
    return out


def power_at(n, dist, sd_a, sd_b, region, bound, alpha, effect, paired):
    """The crate's documented approximation: the noncentral t replaced by the
    central t shifted by the noncentrality (power = 1 - T_df(t_crit - lambda))."""
    if paired:
        se = sd_a / np.sqrt(n)
        df = n - 1
    else:
        va, vb = sd_a**2 / n, sd_b**2 / n
        se = np.sqrt(va + vb)
        df = (va + vb) ** 2 / (va**2 / (n - 1) + vb**2 / (n - 1))
    if region == "within":
        crit = stats.t.ppf(1 - alpha, df)
        if abs(effect) < bound:
            miss = stats.t.cdf(crit - (bound - effect) / se, df) + stats.t.cdf(crit - (bound + effect) / se, df)
            return 1 - min(miss, 1.0)
        return 1 - stats.t.cdf(crit - (abs(effect) - bound) / se, df)
    crit = stats.t.ppf(1 - alpha / 2, df)
    return 1 - stats.t.cdf(crit - abs(effect - bound) / se, df)


def powers():
    out = []
    cases = [
        (True, 0.0187, 0.0105, 0.0, "greater", 0.0),
        (True, 0.0187, 0.0105, 0.0, "less", 0.02),
        (False, -0.004, 0.003, 0.005, "greater", 0.0),
        (False, 0.001, 0.004, 0.002, "within", 0.005),
        (True, 0.003, 0.002, 0.0, "within", 0.005),
        (True, 0.03, 0.002, 0.0, "greater", 0.0),
    ]
    for paired, effect, sd_a, sd_b, region, bound in cases:
        n = next(n for n in range(2, 10_001)
                 if power_at(n, None, sd_a, sd_b, region, bound, 0.05, effect, paired) >= 0.8)
        out.append({
            "paired": paired, "effect": effect, "sd_a": sd_a, "sd_b": sd_b,
            "region": region, "bound": bound, "alpha": 0.05, "target": 0.8, "n": n,
            "power_at_n": float(power_at(n, None, sd_a, sd_b, region, bound, 0.05, effect, paired)),
        })
    return out


def percentiles():
    out = []
    for values in SAMPLES + [[3.0], [1.0, 2.0]]:
        for q in [0.0, 0.025, 0.25, 0.5, 0.9, 0.975, 1.0]:
            out.append({"values": values, "q": q,
                        "value": float(np.percentile(values, 100 * q, method="linear"))})
    return out


def main():
    data = {
        "generator": f"make_reference.py with scipy {scipy.__version__}, numpy {np.__version__}",
        "t_quantile": t_quantiles(),
        "t_cdf": t_cdfs(),
        "mean_interval": mean_intervals(),
        "difference": differences(),
        "decision": decisions(),
        "power": powers(),
        "percentile": percentiles(),
    }
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
