//! The crate against scipy, statsmodels and exact enumerations:
//! `tests/data/reference_extra.json`, written by
//! `tests/data/make_reference_extra.py` (rerun it to regenerate).

use fmnist_stats::{
    Bootstrap, Difference, HolmStep, Region, Spread, TestKind, expected_max, holm, nct_cdf,
    normal_cdf, normal_quantile, p_fails, p_holds, power, prediction_interval, seeds_to_decide,
    wilson_interval,
};
use serde_json::Value;

fn reference() -> Value {
    serde_json::from_str(include_str!("data/reference_extra.json")).expect("JSON parses")
}

/// |got − want| <= rel · max(|want|, floor).
fn close(what: &str, got: f64, want: f64, rel: f64, floor: f64) {
    let tol = rel * want.abs().max(floor);
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got:e}, reference {want:e} (diff {:e})",
        got - want
    );
}

fn f(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or_else(|| panic!("{key} in {v}"))
}

fn floats(v: &Value, key: &str) -> Vec<f64> {
    let a = v[key].as_array().unwrap_or_else(|| panic!("{key} in {v}"));
    a.iter().map(|x| x.as_f64().unwrap()).collect()
}

fn cases<'a>(r: &'a Value, key: &str, at_least: usize) -> &'a [Value] {
    let c = r[key].as_array().unwrap();
    assert!(c.len() >= at_least, "{key}: too few reference cases");
    c
}

fn region(c: &Value) -> Region {
    let bound = f(c, "bound");
    match c["region"].as_str().unwrap() {
        "greater" => Region::Greater(bound),
        "less" => Region::Less(bound),
        "within" => Region::Within(bound),
        other => panic!("region {other}"),
    }
}

#[test]
fn the_noncentral_t_cdf_matches_scipy_within_1e_9_over_the_grid() {
    let r = reference();
    let mut worst = 0.0f64;
    for c in cases(&r, "nct", 1000) {
        let (x, df, nc) = (f(c, "x"), f(c, "df"), f(c, "nc"));
        let got = nct_cdf(x, df, nc);
        close(
            &format!("nct.cdf({x}, {df}, {nc})"),
            got,
            f(c, "value"),
            1e-9,
            1.0,
        );
        worst = worst.max((got - f(c, "value")).abs());
    }
    // Measured: about 8e-13.
    assert!(worst < 1e-11, "worst absolute error {worst:e}");
}

#[test]
fn the_normal_cdf_and_quantile_match_scipy() {
    let r = reference();
    for c in cases(&r, "normal", 5) {
        close(
            "norm.cdf",
            normal_cdf(f(c, "x")),
            f(c, "cdf"),
            1e-14,
            1e-300,
        );
        close(
            "norm.ppf",
            normal_quantile(f(c, "p")),
            f(c, "ppf"),
            1e-14,
            1e-300,
        );
    }
}

fn difference(c: &Value) -> Difference {
    let a = floats(c, "a");
    match c["test"].as_str().unwrap() {
        "one-sample" => Difference::one_sample(&a, f(c, "b")).unwrap(),
        "paired" => Difference::paired(&a, &floats(c, "b")).unwrap(),
        "welch" => Difference::welch(&a, &floats(c, "b")).unwrap(),
        other => panic!("test {other}"),
    }
}

#[test]
fn holds_and_fails_p_values_match_scipy_for_each_test() {
    let r = reference();
    let mut kinds = Vec::new();
    for c in cases(&r, "p_values", 60) {
        let d = difference(c);
        let want = match c["test"].as_str().unwrap() {
            "one-sample" => TestKind::OneSample,
            "paired" => TestKind::Paired,
            _ => TestKind::Welch,
        };
        assert_eq!(d.test, want);
        kinds.push(d.test);
        let reg = region(c);
        let what = format!("{} {reg}", d.describe());
        close(
            &format!("p_holds {what}"),
            p_holds(&d, reg),
            f(c, "p_holds"),
            1e-9,
            1e-12,
        );
        close(
            &format!("p_fails {what}"),
            p_fails(&d, reg),
            f(c, "p_fails"),
            1e-9,
            1e-12,
        );
    }
    for k in [TestKind::OneSample, TestKind::Paired, TestKind::Welch] {
        assert!(kinds.contains(&k), "{k} is exercised");
    }
}

#[test]
fn holm_matches_statsmodels_multipletests() {
    let r = reference();
    for c in cases(&r, "holm", 10) {
        let p = floats(c, "p");
        let steps: Vec<HolmStep> = holm(&p, f(c, "alpha")).unwrap();
        let reject: Vec<bool> = c["reject"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_bool().unwrap())
            .collect();
        let got: Vec<bool> = steps.iter().map(|s| s.rejected).collect();
        assert_eq!(got, reject, "{c}");
        for (s, want) in steps.iter().zip(floats(c, "adjusted")) {
            close(&format!("adjusted {c}"), s.adjusted, want, 1e-14, 1e-14);
            // The adjusted decision, said with the rank: rejected exactly
            // when the adjusted p-value is at most α.
            assert_eq!(s.rejected, s.adjusted <= f(c, "alpha"), "{c}");
        }
    }
}

#[test]
fn power_by_the_noncentral_t_matches_statsmodels() {
    let r = reference();
    for c in cases(&r, "power", 5) {
        let (sd, effect, margin, alpha) =
            (f(c, "sd"), f(c, "effect"), f(c, "margin"), f(c, "alpha"));
        let (reg, spread) = (Region::Greater(margin), Spread::Paired { sd });
        for (n, want) in c["power_at"].as_object().unwrap() {
            let n: usize = n.parse().unwrap();
            let got = power(reg, effect, spread, alpha, n);
            close(
                &format!("power n={n} {c}"),
                got,
                want.as_f64().unwrap(),
                1e-9,
                1e-9,
            );
        }
        let n = seeds_to_decide(reg, effect, spread, alpha, 0.8, 10_000);
        assert_eq!(n, c["n"].as_u64().map(|n| n as usize), "{c}");
    }
    for c in cases(&r, "power_defined", 5) {
        let reg = region(c);
        let spread = if c["paired"].as_bool().unwrap() {
            Spread::Paired { sd: f(c, "sd_a") }
        } else {
            Spread::Independent {
                sd_a: f(c, "sd_a"),
                sd_b: f(c, "sd_b"),
            }
        };
        let (effect, alpha) = (f(c, "effect"), f(c, "alpha"));
        let n = seeds_to_decide(reg, effect, spread, alpha, 0.8, 10_000);
        assert_eq!(n, c["n"].as_u64().map(|n| n as usize), "{c}");
        let got = power(reg, effect, spread, alpha, n.unwrap());
        close(&format!("power {c}"), got, f(c, "power_at_n"), 1e-9, 1e-9);
        close(
            &format!("power 3 {c}"),
            power(reg, effect, spread, alpha, 3),
            f(c, "power_at_3"),
            1e-9,
            1e-9,
        );
    }
}

#[test]
fn prediction_intervals_match_statsmodels() {
    let r = reference();
    for c in cases(&r, "prediction", 5) {
        let p = prediction_interval(&floats(c, "values"), f(c, "level")).unwrap();
        close(&format!("mean {c}"), p.mean, f(c, "mean"), 1e-12, 1e-12);
        close(&format!("lo {c}"), p.lo(), f(c, "lo"), 1e-10, 1e-3);
        close(&format!("hi {c}"), p.hi(), f(c, "hi"), 1e-10, 1e-3);
    }
}

#[test]
fn wilson_intervals_match_statsmodels() {
    let r = reference();
    for c in cases(&r, "wilson", 20) {
        let k = c["successes"].as_u64().unwrap();
        let n = c["trials"].as_u64().unwrap();
        let w = wilson_interval(k, n, f(c, "level")).unwrap();
        close(&format!("lo {c}"), w.lo, f(c, "lo"), 1e-12, 1e-12);
        close(&format!("hi {c}"), w.hi, f(c, "hi"), 1e-12, 1e-12);
        assert!((0.0..=1.0).contains(&w.lo) && (0.0..=1.0).contains(&w.hi));
    }
}

#[test]
fn expected_maxima_match_brute_force_and_the_meanmax_transcription() {
    let r = reference();
    let mut largest = 0;
    for c in cases(&r, "expected_max", 20) {
        let values = floats(c, "values");
        let n = c["n"].as_u64().unwrap() as usize;
        largest = largest.max(values.len());
        let e = expected_max(&values, n).unwrap();
        let (w, wo) = (&c["with_replacement"], &c["without_replacement"]);
        let what = format!("N={} n={n}", values.len());
        close(
            &format!("Dodge {what}"),
            e.with_replacement,
            f(w, "mean"),
            1e-11,
            1.0,
        );
        close(
            &format!("Dodge sd {what}"),
            e.sd_with_replacement,
            f(w, "sd"),
            1e-7,
            1e-3,
        );
        close(
            &format!("Tang {what}"),
            e.unbiased,
            f(wo, "mean"),
            1e-11,
            1.0,
        );
        close(
            &format!("Tang sd {what}"),
            e.sd_without_replacement,
            f(wo, "sd"),
            1e-7,
            1e-3,
        );
    }
    assert_eq!(largest, 1000, "N = 1000 is exercised");
}

#[test]
fn the_bootstrap_matches_the_exact_enumeration_of_three_seeds() {
    let r = reference();
    let ex = &r["bootstrap_exact"];
    let values = floats(ex, "values");
    let resamples = 20_000;
    let boot = Bootstrap::new(11, resamples);
    let reps = boot
        .replicates(&[&values], |d| d[0].iter().sum::<f64>() / 3.0)
        .unwrap();
    let atoms = ex["atoms"].as_array().unwrap();
    assert_eq!(atoms.len(), 10, "3 seeds have 10 distinct resamples");
    for a in atoms {
        let (mean, prob) = (f(a, "mean"), f(a, "probability"));
        let hits = reps.iter().filter(|&&m| (m - mean).abs() < 1e-12).count();
        let se = (prob * (1.0 - prob) / resamples as f64).sqrt();
        let freq = hits as f64 / resamples as f64;
        assert!(
            (freq - prob).abs() < 4.0 * se,
            "{a}: {freq} against {prob} (se {se})"
        );
    }
    // P(every draw is the smallest) = 1/27 > 2.5%: the 95% percentile
    // interval of the mean is exactly [min, max].
    let (lo, hi) = boot
        .interval(&values, 0.95, |v| v.iter().sum::<f64>() / 3.0)
        .unwrap();
    assert!(
        (lo - 0.79).abs() < 1e-15 && (hi - 0.84).abs() < 1e-15,
        "{lo} {hi}"
    );
    let (a, b) = (floats(ex, "a"), floats(ex, "b"));
    let exact = f(ex, "prob_greater");
    let got = boot.prob_greater(&a, &b).unwrap();
    let se = (exact * (1.0 - exact) / resamples as f64).sqrt();
    assert!(
        (got - exact).abs() < 4.0 * se,
        "{got} against exact {exact}"
    );
}
