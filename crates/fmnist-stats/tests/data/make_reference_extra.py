#!/usr/bin/env python3
"""More reference values for fmnist-stats: scipy, statsmodels and exact
enumerations (issue 29: the tests named, Holm, flip points, power with the
noncentral t, prediction and Wilson intervals, the bootstrap; issue 32: the
expected best of n trials).

Run from anywhere: `python3 make_reference_extra.py` rewrites
reference_extra.json beside this script; tests/references.rs compares the
crate against it. Needs scipy, numpy and statsmodels (`pip install scipy
statsmodels`). Every value comes from a library call or an exact
enumeration, not from the crate's formulas typed again, except where said
(the Welch and TOST power, whose approximations are the crate's own
definitions, and the expected-maximum estimators, transcribed from their
papers and from castorini/meanmax, then checked here against brute force).
"""

import itertools
import json
import math
import pathlib
from fractions import Fraction

import numpy as np
import scipy
import statsmodels
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import TTestPower
from statsmodels.stats.proportion import proportion_confint

OUT = pathlib.Path(__file__).with_name("reference_extra.json")


def nct_grid():
    """scipy.stats.nct.cdf over df 2..200, noncentrality -5..10. scipy
    answers NaN at a few points far in the lower tail (values below about
    1e-20); those points are left out."""
    out = []
    for df in [2, 3, 4.5, 7, 12, 30, 75, 200]:
        for nc in [-5, -2.5, -0.7, 0.3, 1, 2, 3.5, 5, 7.5, 10]:
            for x in [-8, -3, -1, -0.2, 0, 0.2, 0.8, 1.7, 2.5, 4, 6, 9, 14, 25]:
                value = float(stats.nct.cdf(x, df, nc))
                if math.isfinite(value):
                    out.append({"x": x, "df": df, "nc": nc, "value": value})
    return out


def normal():
    return [{"x": x, "cdf": float(stats.norm.cdf(x)), "p": p, "ppf": float(stats.norm.ppf(p))}
            for x, p in [(-8.0, 1e-10), (-3.1, 0.001), (-1.0, 0.025), (-0.2, 0.3),
                         (0.0, 0.5), (0.7, 0.8), (1.96, 0.975), (4.5, 0.9999)]]


# One-sample (values, number), paired and Welch (a, b).
ONE_SAMPLE = [
    ([0.7921, 0.7893, 0.7955, 0.7902, 0.7938], 0.85),
    ([0.8812, 0.8790, 0.8835], 0.87),
    ([0.0251, 0.0262, 0.0240, 0.0255, 0.0249, 0.0258, 0.0247], 0.0),
]
TWO_SAMPLE = [
    ([0.8812, 0.8790, 0.8835, 0.8801], [0.8650, 0.8702, 0.8671, 0.8690]),
    ([0.9012, 0.8987, 0.9031, 0.9003, 0.8995], [0.8870, 0.8912, 0.8856, 0.8901, 0.8893]),
    ([0.752, 0.781, 0.769], [0.770, 0.779, 0.790]),
]
WELCH_ONLY = [
    ([0.8812, 0.8790, 0.8835], [0.8601, 0.8655, 0.8589, 0.8630, 0.8677, 0.8612, 0.8644]),
]
REGIONS = [("greater", 0.0), ("greater", 0.01), ("greater", 0.03), ("less", 0.02),
           ("less", -0.005), ("within", 0.02), ("within", 0.005), ("within", 0.06)]


def one_sided(kind, a, b, null, alternative):
    """The p-value of the t-test of the difference against `null`."""
    if kind == "one-sample":
        return float(stats.ttest_1samp(a, b + null, alternative=alternative).pvalue)
    b = np.asarray(b) + null
    if kind == "paired":
        return float(stats.ttest_rel(a, b, alternative=alternative).pvalue)
    return float(stats.ttest_ind(a, b, equal_var=False, alternative=alternative).pvalue)


def holds_and_fails(kind, a, b, region, bound):
    p = lambda null, alt: one_sided(kind, a, b, null, alt)
    if region == "greater":
        return p(bound, "greater"), p(bound, "less")
    if region == "less":
        return p(bound, "less"), p(bound, "greater")
    return (max(p(-bound, "greater"), p(bound, "less")),
            min(p(bound, "greater"), p(-bound, "less")))


def p_values():
    sides = [("one-sample", a, c) for a, c in ONE_SAMPLE]
    sides += [(k, a, b) for a, b in TWO_SAMPLE for k in ["paired", "welch"]]
    sides += [("welch", a, b) for a, b in WELCH_ONLY]
    out = []
    for kind, a, b in sides:
        for region, bound in REGIONS:
            ph, pf = holds_and_fails(kind, a, b, region, bound)
            out.append({"test": kind, "a": a, "b": b, "region": region, "bound": bound,
                        "p_holds": ph, "p_fails": pf})
    return out


def holm():
    rng = np.random.default_rng(29)
    vectors = [
        [0.04, 0.01, 0.03, 0.005],
        [0.02, 0.02, 0.02, 0.5],
        [1.0, 0.001, 1.0, 0.2],
        [0.05 / 4, 0.05 / 3, 0.05 / 2, 0.05],
        [0.0, 0.0125, 0.0166, 0.025, 0.05],
        [0.3, 0.6, 0.9],
        [0.04],
        [0.011, 0.011, 0.004, 0.012, 1.0, 0.013],
        [float(x) for x in rng.uniform(0, 0.08, 12)],
        [float(x) for x in rng.beta(0.3, 4.0, 9)],
    ]
    out = []
    for p in vectors:
        for alpha in [0.05, 0.1]:
            reject, corrected, _, _ = multipletests(p, alpha=alpha, method="holm")
            out.append({"p": p, "alpha": alpha, "reject": [bool(r) for r in reject],
                        "adjusted": [float(c) for c in corrected]})
    return out


def power():
    """statsmodels' TTestPower (the noncentral t) for one-sample and paired
    `>` checks: power at level alpha/2 one-sided (the two-sided 1 - alpha
    interval), the smallest n with power >= 0.8, and the power there."""
    out = []
    tp = TTestPower()
    for sd, effect, margin, alpha in [(0.0105, 0.0187, 0.0, 0.05), (0.01, 0.004, 0.0, 0.05),
                                      (0.002, 0.003, 0.0, 0.05), (0.0038, -0.006, 0.0, 0.1),
                                      (0.02, 0.03, 0.01, 0.05)]:
        d = abs(effect - margin) / sd
        pw = lambda n: float(tp.power(effect_size=d, nobs=n, alpha=alpha / 2, alternative="larger"))
        n = next(n for n in range(2, 10_001) if pw(n) >= 0.8)
        solved = tp.solve_power(effect_size=d, alpha=alpha / 2, power=0.8, alternative="larger")
        assert math.ceil(solved) == n, (solved, n)
        out.append({"sd": sd, "effect": effect, "margin": margin, "alpha": alpha,
                    "power_at": {str(k): pw(k) for k in [2, 3, 5, 10, 30]},
                    "n": n, "power_at_n": pw(n)})
    return out


def welch_power(sd_a, sd_b, n, effect, region, bound, alpha):
    """The crate's definition for Welch and TOST, on scipy's nct: the Welch
    df of n seeds per side; TOST as 1 minus the sum of the two misses."""
    va, vb = sd_a**2 / n, sd_b**2 / n
    se, df = math.sqrt(va + vb), (va + vb) ** 2 / ((va**2 + vb**2) / (n - 1))
    if sd_b == 0:
        se, df = sd_a / math.sqrt(n), n - 1
    passes = lambda crit, dist: float(stats.nct.sf(crit, df, dist / se))
    if region == "within":
        crit = stats.t.ppf(1 - alpha, df)
        if abs(effect) < bound:
            miss = (1 - passes(crit, bound - effect)) + (1 - passes(crit, bound + effect))
            return 1 - min(miss, 1.0)
        return passes(crit, abs(effect) - bound)
    return passes(stats.t.ppf(1 - alpha / 2, df), abs(effect - bound))


def power_defined():
    out = []
    for sd_a, sd_b, effect, region, bound in [(0.004, 0.012, 0.01, "greater", 0.0),
                                              (0.003, 0.005, -0.004, "less", 0.0),
                                              (0.01, 0.0, 0.005, "within", 0.02),
                                              (0.004, 0.002, 0.001, "within", 0.005),
                                              (0.01, 0.0, 0.03, "within", 0.02)]:
        pw = lambda n: welch_power(sd_a, sd_b, n, effect, region, bound, 0.05)
        n = next(n for n in range(2, 10_001) if pw(n) >= 0.8)
        out.append({"sd_a": sd_a, "sd_b": sd_b, "paired": sd_b == 0, "effect": effect,
                    "region": region, "bound": bound, "alpha": 0.05, "n": n,
                    "power_at_n": pw(n), "power_at_3": pw(3)})
    return out


def prediction():
    """statsmodels: OLS on a constant, the interval of one new observation."""
    out = []
    for values in [[79.1, 79.4, 78.8], [0.7921, 0.7893, 0.7955, 0.7902, 0.7938, 0.7911, 0.7925,
                                        0.7948, 0.7899, 0.7930], [1.0, 2.0], [5.5, 5.25, 6.0, 5.75]]:
        for level in [0.95, 0.9]:
            y = np.asarray(values)
            fit = sm.OLS(y, np.ones((len(y), 1))).fit()
            frame = fit.get_prediction(np.ones((1, 1))).summary_frame(alpha=1 - level)
            out.append({"values": values, "level": level, "mean": float(frame["mean"].iloc[0]),
                        "lo": float(frame["obs_ci_lower"].iloc[0]),
                        "hi": float(frame["obs_ci_upper"].iloc[0])})
    return out


def wilson():
    out = []
    for count, nobs in [(0, 10), (10, 10), (1, 10), (3, 3), (50, 100), (7921, 10000),
                        (999, 1000), (1, 1), (0, 1), (326, 1000)]:
        for level in [0.95, 0.9, 0.99]:
            lo, hi = proportion_confint(count, nobs, alpha=1 - level, method="wilson")
            out.append({"successes": count, "trials": nobs, "level": level,
                        "lo": float(lo), "hi": float(hi)})
    return out


def dodge_meanmax(values, n):
    """castorini/meanmax's MeanMaxEstimator, transcribed: the mean of the
    maximum of n draws with replacement from the empirical distribution,
    min + sum over the distinct values of (1 - F(v_k)^n)(v_{k+1} - v_k)."""
    v = np.sort(np.asarray(values, dtype=float))
    distinct, counts = np.unique(v, return_counts=True)
    cdf = np.cumsum(counts) / len(v)
    return float(distinct[0] + np.sum((1 - cdf[:-1] ** n) * np.diff(distinct)))


def tang_meanmax(values, n):
    """castorini/meanmax's CorrectedMeanMaxEstimator (Tang et al. 2020),
    transcribed, with float binomials as there."""
    v = np.sort(np.asarray(values, dtype=float))
    big_n = len(v)
    coeffs = np.array([scipy.special.comb(j - 1, n - 1) for j in range(1, big_n + 1)])
    return float(np.sum(v * coeffs / scipy.special.comb(big_n, n)))


def exact_moments(values, n, replace):
    """Exact mean and standard deviation of the max of n draws, as fractions:
    by enumeration when small, else by the order-statistic weights with
    integer binomials."""
    v = sorted(Fraction(x) for x in values)
    big_n = len(v)
    if replace:
        w = [Fraction(i**n - (i - 1) ** n, big_n**n) for i in range(1, big_n + 1)]
    else:
        w = [Fraction(math.comb(i - 1, n - 1), math.comb(big_n, n)) for i in range(1, big_n + 1)]
    m1 = sum(wi * x for wi, x in zip(w, v))
    m2 = sum(wi * x * x for wi, x in zip(w, v))
    return float(m1), math.sqrt(float(m2 - m1 * m1))


def brute_force(values, n, replace):
    draws = (itertools.product(values, repeat=n) if replace
             else itertools.combinations(values, n))
    maxima = np.array([max(d) for d in draws])
    return float(maxima.mean()), float(maxima.std())


def expected_max():
    rng = np.random.default_rng(32)
    small = [[0.81, 0.79, 0.84, 0.84, 0.8, 0.83, 0.77], [0.5, 0.7, 0.6], [0.9, 0.9, 0.9, 0.85],
             [0.812, 0.774, 0.843, 0.801, 0.829, 0.795]]
    out = []
    for values in small:
        for n in range(1, len(values) + 1):
            entry = {"values": values, "n": n}
            for replace, key in [(True, "with_replacement"), (False, "without_replacement")]:
                mean, sd = exact_moments(values, n, replace)
                bmean, bsd = brute_force(values, n, replace)
                assert abs(mean - bmean) < 1e-12 and abs(sd - bsd) < 1e-12, (values, n)
                entry[key] = {"mean": mean, "sd": sd}
            assert abs(dodge_meanmax(values, n) - entry["with_replacement"]["mean"]) < 1e-12
            assert abs(tang_meanmax(values, n) - entry["without_replacement"]["mean"]) < 1e-12
            out.append(entry)
    for big_n, ns in [(30, [1, 2, 5, 15, 29, 30]), (1000, [1, 2, 10, 100, 500, 999, 1000])]:
        values = [round(float(x), 4) for x in rng.normal(0.8, 0.03, big_n)]
        for n in ns:
            entry = {"values": values, "n": n}
            for replace, key in [(True, "with_replacement"), (False, "without_replacement")]:
                mean, sd = exact_moments(values, n, replace)
                entry[key] = {"mean": mean, "sd": sd}
            assert abs(dodge_meanmax(values, n) - entry["with_replacement"]["mean"]) < 1e-9
            if big_n <= 30:
                assert abs(tang_meanmax(values, n) - entry["without_replacement"]["mean"]) < 1e-9
            out.append(entry)
    return out


def bootstrap_exact():
    """Every resample of 3 seeds, with its probability: the 10 distinct
    multisets of the mean; and the exact probability that a resampled mean
    of `a` beats one of `b` (ties half)."""
    values = [0.81, 0.84, 0.79]
    dist = {}
    for draw in itertools.product(range(3), repeat=3):
        key = tuple(sorted(draw))
        dist[key] = dist.get(key, 0) + 1
    atoms = [{"indices": list(k), "mean": float(np.mean([values[i] for i in k])),
              "probability": c / 27} for k, c in sorted(dist.items())]
    a, b = [0.8, 0.9, 0.85], [0.84, 0.86, 0.85]
    means = lambda v: [np.mean(d) for d in itertools.product(v, repeat=3)]
    wins = sum((x > y) + 0.5 * (x == y) for x in means(a) for y in means(b))
    return {"values": values, "atoms": atoms, "a": a, "b": b,
            "prob_greater": float(wins / 27**2)}


def main():
    data = {
        "generator": f"make_reference_extra.py with scipy {scipy.__version__}, numpy "
                     f"{np.__version__}, statsmodels {statsmodels.__version__}",
        "nct": nct_grid(),
        "normal": normal(),
        "p_values": p_values(),
        "holm": holm(),
        "power": power(),
        "power_defined": power_defined(),
        "prediction": prediction(),
        "wilson": wilson(),
        "expected_max": expected_max(),
        "bootstrap_exact": bootstrap_exact(),
    }
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
