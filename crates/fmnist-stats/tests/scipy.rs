//! The crate against scipy: `tests/data/reference.json`, written by
//! `tests/data/make_reference.py` (rerun it to regenerate).

use fmnist_stats::{
    Difference, MeanInterval, PowerMethod, Region, Spread, decide, mean_interval, percentile,
    power_with, seeds_to_decide_with, t_cdf, t_quantile,
};
use serde_json::Value;

const REL: f64 = 1e-9;

fn reference() -> Value {
    let text = include_str!("data/reference.json");
    serde_json::from_str(text).expect("reference.json parses")
}

fn close(what: &str, got: f64, want: f64) {
    let tol = REL * want.abs().max(1e-6);
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got:e}, scipy {want:e} (diff {:e})",
        got - want
    );
}

fn f(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or_else(|| panic!("{key} in {v}"))
}

fn floats(v: &Value, key: &str) -> Vec<f64> {
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn cases<'a>(r: &'a Value, key: &str) -> &'a [Value] {
    let c = r[key].as_array().unwrap();
    assert!(c.len() >= 5, "{key}: too few reference cases");
    c
}

#[test]
fn t_quantiles_and_cdf_match_scipy() {
    let r = reference();
    for c in cases(&r, "t_quantile") {
        let (p, df) = (f(c, "p"), f(c, "df"));
        close(
            &format!("t.ppf({p}, {df})"),
            t_quantile(p, df),
            f(c, "value"),
        );
    }
    for c in cases(&r, "t_cdf") {
        let (x, df) = (f(c, "x"), f(c, "df"));
        close(&format!("t.cdf({x}, {df})"), t_cdf(x, df), f(c, "value"));
    }
}

#[test]
fn mean_intervals_match_scipy() {
    let r = reference();
    for c in cases(&r, "mean_interval") {
        let m: MeanInterval = mean_interval(&floats(c, "values"), f(c, "level")).unwrap();
        close("mean", m.mean, f(c, "mean"));
        close("sd", m.sd, f(c, "sd"));
        close("df", m.df, f(c, "df"));
        close("lo", m.lo(), f(c, "lo"));
        close("hi", m.hi(), f(c, "hi"));
    }
}

fn difference(c: &Value) -> Difference {
    let (a, b) = (floats(c, "a"), floats(c, "b"));
    if c["paired"].as_bool().unwrap() {
        Difference::paired(&a, &b).unwrap()
    } else {
        Difference::welch(&a, &b).unwrap()
    }
}

#[test]
fn paired_and_welch_differences_match_scipy() {
    let r = reference();
    for c in cases(&r, "difference") {
        let d = difference(c);
        let what = format!("{} {c}", d.pairing.name());
        close(&format!("estimate {what}"), d.estimate, f(c, "estimate"));
        close(&format!("df {what}"), d.df, f(c, "df"));
        let (lo, hi) = d.interval(0.95).unwrap();
        close(&format!("lo {what}"), lo, f(c, "lo95"));
        close(&format!("hi {what}"), hi, f(c, "hi95"));
        close(&format!("p {what}"), d.p_two_sided(), f(c, "p_two_sided"));
        for o in c["one_sided"].as_array().unwrap() {
            let m = f(o, "margin");
            close(&format!("p> {m} {what}"), d.p_greater(m), f(o, "p_greater"));
            close(&format!("p< {m} {what}"), d.p_less(m), f(o, "p_less"));
        }
    }
}

#[test]
fn decisions_match_the_rule_applied_to_scipy_intervals() {
    let r = reference();
    let mut seen = [0usize; 3];
    for c in cases(&r, "decision") {
        let d = difference(c);
        let bound = f(c, "bound");
        let region = match c["region"].as_str().unwrap() {
            "greater" => Region::Greater(bound),
            "less" => Region::Less(bound),
            "within" => Region::Within(bound),
            other => panic!("region {other}"),
        };
        let check = decide(&d, region, f(c, "alpha")).unwrap();
        let what = format!("{region} {c}");
        close(&format!("level {what}"), check.level, f(c, "level"));
        close(&format!("lo {what}"), check.lo, f(c, "lo"));
        close(&format!("hi {what}"), check.hi, f(c, "hi"));
        close(&format!("p {what}"), check.p_value, f(c, "p_value"));
        assert_eq!(
            check.decision.name(),
            c["decision"].as_str().unwrap(),
            "{what}"
        );
        seen[check.decision as usize] += 1;
    }
    assert!(
        seen.iter().all(|&n| n > 0),
        "every decision is exercised: {seen:?}"
    );
}

#[test]
fn seed_estimates_match_the_same_approximation_in_scipy() {
    let r = reference();
    for c in cases(&r, "power") {
        let bound = f(c, "bound");
        let region = match c["region"].as_str().unwrap() {
            "greater" => Region::Greater(bound),
            "less" => Region::Less(bound),
            _ => Region::Within(bound),
        };
        let spread = if c["paired"].as_bool().unwrap() {
            Spread::Paired { sd: f(c, "sd_a") }
        } else {
            Spread::Independent {
                sd_a: f(c, "sd_a"),
                sd_b: f(c, "sd_b"),
            }
        };
        let (effect, alpha) = (f(c, "effect"), f(c, "alpha"));
        // The reference is the shifted central t, the crate's method before
        // the noncentral t (tests/references.rs checks that one).
        let method = PowerMethod::ShiftedCentralT;
        let n = seeds_to_decide_with(
            method,
            region,
            effect,
            spread,
            alpha,
            f(c, "target"),
            10_000,
        );
        assert_eq!(n, c["n"].as_u64().map(|n| n as usize), "{c}");
        let n = n.unwrap();
        close(
            &format!("power {c}"),
            power_with(method, region, effect, spread, alpha, n),
            f(c, "power_at_n"),
        );
    }
}

#[test]
fn percentiles_match_numpy() {
    let r = reference();
    for c in cases(&r, "percentile") {
        let q = f(c, "q");
        close(
            &format!("percentile {q} {c}"),
            percentile(&floats(c, "values"), q),
            f(c, "value"),
        );
    }
}
