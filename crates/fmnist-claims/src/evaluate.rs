//! Evaluating claims on stored runs: each check's two sides per seed (read
//! through the metrics store's one accessor), its test over seeds, and the
//! claim's verdict.

use std::collections::{BTreeMap, BTreeSet};

use fmnist_metrics::StoredRun;

use crate::grammar::{Check, Claim, Expr, Op, Operand, Term, Verdict};
use crate::inference::{self, Side, Statistics, Tested};

/// The runs of each experiment, sorted by seed.
pub type RunIndex<'a> = BTreeMap<&'a str, Vec<&'a StoredRun>>;

pub fn index(runs: &[StoredRun]) -> RunIndex<'_> {
    let mut map: RunIndex<'_> = BTreeMap::new();
    for r in runs {
        map.entry(r.manifest.experiment.as_str())
            .or_default()
            .push(r);
    }
    for v in map.values_mut() {
        v.sort_by_key(|r| r.manifest.seed);
        // The caller passes the runs of one plan; should a seed still appear
        // twice, the first run counts, so that each seed weighs once.
        v.dedup_by_key(|r| r.manifest.seed);
    }
    map
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    pub left: f64,
    pub right: f64,
    pub holds: bool,
}

#[derive(Debug, Clone)]
pub struct CheckResult {
    pub per_seed: Vec<(u64, Result<Comparison, String>)>,
    /// The check on the seed means; `None` unless every seed could be evaluated.
    pub on_means: Option<Comparison>,
    /// The statistical test that decides the check, or why there is none.
    pub test: Result<Tested, String>,
}

#[derive(Debug, Clone)]
pub struct ClaimResult<'c> {
    pub claim: &'c Claim,
    pub verdict: Verdict,
    /// Why, in one sentence.
    pub reason: String,
    /// The seeds every experiment of the claim ran (the per-seed detail).
    pub seeds: Vec<u64>,
    /// One per check; empty when the claim could not be evaluated at all.
    pub checks: Vec<CheckResult>,
}

/// `term`'s value for one run, read through the store's one accessor.
fn term_value(term: &Term, run: &StoredRun) -> Result<f64, String> {
    run.value(term.split, term.quantity, term.epoch.at())
        .map_err(|why| {
            format!(
                "`{term}`: {} seed {} {why}",
                term.experiment, run.manifest.seed
            )
        })
}

fn expr_value(expr: &Expr, runs: &RunIndex<'_>, seed: u64) -> Result<f64, String> {
    let value = |t: &Term| {
        let run = runs
            .get(t.experiment.as_str())
            .and_then(|rs| rs.iter().find(|r| r.manifest.seed == seed))
            .ok_or_else(|| format!("no run of {} with seed {seed}", t.experiment))?;
        term_value(t, run)
    };
    let a = value(&expr.term)?;
    match &expr.minus {
        None => Ok(a),
        Some(b) => Ok(a - value(b)?),
    }
}

fn operand_value(op: &Operand, runs: &RunIndex<'_>, seed: u64) -> Result<f64, String> {
    match op {
        Operand::Number(x) => Ok(*x),
        Operand::Expr(e) => expr_value(e, runs, seed),
    }
}

/// The seeds every experiment of `expr` ran.
fn seeds_of(expr: &Expr, runs: &RunIndex<'_>) -> Vec<u64> {
    let of = |t: &Term| -> BTreeSet<u64> {
        runs.get(t.experiment.as_str())
            .map(|rs| rs.iter().map(|r| r.manifest.seed).collect())
            .unwrap_or_default()
    };
    let mut seeds = of(&expr.term);
    if let Some(m) = &expr.minus {
        seeds = seeds.intersection(&of(m)).copied().collect();
    }
    seeds.into_iter().collect()
}

/// `expr` for each seed all its experiments ran.
fn side_values(expr: &Expr, runs: &RunIndex<'_>) -> Result<Vec<(u64, f64)>, String> {
    seeds_of(expr, runs)
        .into_iter()
        .map(|seed| expr_value(expr, runs, seed).map(|v| (seed, v)))
        .collect()
}

/// The region of `left − right` the check claims.
fn region(check: &Check) -> fmnist_stats::Region {
    use fmnist_stats::Region;
    match check.op {
        Op::Gt | Op::Ge => Region::Greater(check.margin),
        Op::Lt | Op::Le => Region::Less(0.0 - check.margin),
        Op::Approx => Region::Within(check.tol.unwrap_or(0.0)),
    }
}

/// The check's test over each side's seeds (see `inference`).
fn check_test(check: &Check, runs: &RunIndex<'_>, stats: Statistics) -> Result<Tested, String> {
    let left = side_values(&check.left, runs)?;
    let right_values;
    let right = match &check.right {
        Operand::Number(x) => Side::Number(*x),
        Operand::Expr(e) => {
            right_values = side_values(e, runs)?;
            Side::Values(&right_values)
        }
    };
    inference::test(&left, right, region(check), stats)
}

/// One check evaluated for each of `seeds`, on the seed means when every
/// seed has a number, and as a test.
fn check_result(
    check: &Check,
    runs: &RunIndex<'_>,
    seeds: &[u64],
    stats: Statistics,
) -> CheckResult {
    let per_seed: Vec<(u64, Result<Comparison, String>)> = seeds
        .iter()
        .map(|&seed| {
            let left = expr_value(&check.left, runs, seed);
            let right = operand_value(&check.right, runs, seed);
            (
                seed,
                left.and_then(|l| {
                    right.map(|r| Comparison {
                        left: l,
                        right: r,
                        holds: check.holds(l, r),
                    })
                }),
            )
        })
        .collect();
    let done: Vec<Comparison> = per_seed
        .iter()
        .filter_map(|(_, c)| c.as_ref().ok().copied())
        .collect();
    let on_means = if done.len() == per_seed.len() {
        mean(done.iter().map(|c| c.left))
            .zip(mean(done.iter().map(|c| c.right)))
            .map(|(left, right)| Comparison {
                left,
                right,
                holds: check.holds(left, right),
            })
    } else {
        None
    };
    CheckResult {
        per_seed,
        on_means,
        test: check_test(check, runs, stats),
    }
}

/// The verdict and its reason from the checks' tests.
fn verdict_of(claim: &Claim, checks: &[CheckResult]) -> (Verdict, String) {
    use fmnist_stats::Decision;
    let level = format!("{:.0}%", 100.0 * claim.stats.level);
    let with = |d: Decision| -> Vec<&str> {
        claim
            .checks
            .iter()
            .zip(checks)
            .filter(|(_, r)| r.test.as_ref().is_ok_and(|t| t.check.decision == d))
            .map(|(c, _)| c.what.as_str())
            .collect()
    };
    let failing = with(Decision::Fails);
    if !failing.is_empty() {
        return (
            Verdict::NotReproduced,
            format!(
                "at the {level} level the interval lies outside the claimed region for: {}",
                failing.join("; ")
            ),
        );
    }
    if let Some(e) = checks.iter().find_map(|c| c.test.as_ref().err()) {
        return (Verdict::Undecided, format!("cannot be tested: {e}"));
    }
    let undecided = with(Decision::Undecided);
    if undecided.is_empty() {
        (
            Verdict::Reproduced,
            format!("every check holds at the {level} level"),
        )
    } else {
        (
            Verdict::Undecided,
            format!(
                "at the {level} level the interval straddles the claimed boundary for: {}",
                undecided.join("; ")
            ),
        )
    }
}

pub fn evaluate<'c>(claim: &'c Claim, runs: &RunIndex<'_>) -> ClaimResult<'c> {
    let undecided = |reason: String, seeds: Vec<u64>| ClaimResult {
        claim,
        verdict: Verdict::Undecided,
        reason,
        seeds,
        checks: Vec::new(),
    };
    let experiments = claim.experiments();
    let missing: Vec<&str> = experiments
        .iter()
        .copied()
        .filter(|e| runs.get(e).is_none_or(|r| r.is_empty()))
        .collect();
    if !missing.is_empty() {
        let names = missing.join(", ");
        let noun = if missing.len() == 1 {
            "experiment"
        } else {
            "experiments"
        };
        return undecided(format!("no runs for {noun} {names}"), vec![]);
    }
    let mut seeds: Option<BTreeSet<u64>> = None;
    for e in &experiments {
        let these: BTreeSet<u64> = runs[e].iter().map(|r| r.manifest.seed).collect();
        seeds = Some(match seeds {
            None => these,
            Some(s) => s.intersection(&these).copied().collect(),
        });
    }
    let seeds: Vec<u64> = seeds.unwrap_or_default().into_iter().collect();
    let checks: Vec<CheckResult> = claim
        .checks
        .iter()
        .map(|check| check_result(check, runs, &seeds, claim.stats))
        .collect();
    let (verdict, reason) = verdict_of(claim, &checks);
    ClaimResult {
        claim,
        verdict,
        reason,
        seeds,
        checks,
    }
}

/// The arithmetic mean; `None` for no values.
fn mean(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let (n, sum) = values
        .into_iter()
        .fold((0usize, 0.0), |(n, sum), v| (n + 1, sum + v));
    (n > 0).then(|| sum / n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grammar::*;
    use crate::load::tests::{ONE, claims, err};
    use fmnist_metrics::fixture::simple;
    use fmnist_metrics::{Quantity, Split};

    fn verdict(runs: &[StoredRun]) -> (Verdict, String) {
        let c = claims(ONE);
        let idx = index(runs);
        let r = evaluate(&c[0], &idx);
        (r.verdict, r.reason)
    }

    fn runs_of(a: &[f64], b: &[f64]) -> Vec<StoredRun> {
        let side = |name: &str, v: &[f64]| -> Vec<StoredRun> {
            v.iter()
                .enumerate()
                .map(|(i, &x)| simple(name, i as u64, &[0.5, x]))
                .collect()
        };
        let mut runs = side("a", a);
        runs.extend(side("b", b));
        runs
    }

    #[test]
    fn verdicts_follow_from_the_tests_of_the_checks() {
        let one = claims(ONE);
        // Paired a − b: 0.10, 0.10, 0.12, interval [0.078, 0.135] > 0; a ≈ 0.8:
        // 90% interval 0.81 ± 0.0169 inside 0.8 ± 0.05.
        let runs = runs_of(&[0.80, 0.81, 0.82], &[0.70, 0.71, 0.70]);
        let r = evaluate(&one[0], &index(&runs));
        assert_eq!(r.verdict, Verdict::Reproduced, "{}", r.reason);
        assert!(r.reason.contains("every check holds at the 95% level"));
        let t = r.checks[0].test.as_ref().unwrap();
        assert_eq!(t.diff.pairing, fmnist_stats::Pairing::Paired);
        assert!((t.check.lo - 0.0780).abs() < 1e-3 && (t.check.hi - 0.1354).abs() < 1e-3);

        // a below b: the first check fails, whatever the second does.
        let (v, why) = verdict(&runs_of(&[0.60, 0.61, 0.62], &[0.70, 0.71, 0.70]));
        assert_eq!(v, Verdict::NotReproduced, "{why}");
        assert!(why.contains("higher final val accuracy"), "{why}");

        // Noisy: both intervals straddle their boundaries, though on seed
        // means a > b holds.
        let runs = runs_of(&[0.80, 0.70, 0.85], &[0.75, 0.75, 0.75]);
        let r = evaluate(&one[0], &index(&runs));
        assert_eq!(r.verdict, Verdict::Undecided, "{}", r.reason);
        assert!(r.checks[0].on_means.unwrap().holds);
        let n = r.checks[0]
            .test
            .as_ref()
            .unwrap()
            .seeds_needed
            .unwrap()
            .unwrap();
        assert!(n > 3, "{n}");

        // Different seeds: Welch.
        let mut runs = runs_of(&[0.80, 0.81, 0.82], &[0.70, 0.71, 0.70]);
        runs.push(simple("b", 7, &[0.5, 0.72]));
        let r = evaluate(&one[0], &index(&runs));
        let t = r.checks[0].test.as_ref().unwrap();
        assert_eq!(
            (t.diff.pairing, t.diff.n_b),
            (fmnist_stats::Pairing::Welch, 4)
        );
        assert_eq!(r.verdict, Verdict::Reproduced, "{}", r.reason);

        let (v, why) = verdict(&[simple("a", 0, &[0.5, 0.8])]);
        assert_eq!(v, Verdict::Undecided);
        assert_eq!(why, "no runs for experiment b");

        let (v, why) = verdict(&[simple("a", 0, &[0.8]), simple("b", 1, &[0.7])]);
        assert_eq!(v, Verdict::Undecided);
        assert!(why.contains("only 1 seed on a side"), "{why}");
    }

    #[test]
    fn terms_read_the_right_rows() {
        let runs = [simple("a", 3, &[0.5, 0.9, 0.7, 0.8])];
        let idx = index(&runs);
        let v = |s: &str| expr_value(&parse_expr(s).unwrap(), &idx, 3);
        assert_eq!(v("a:val:accuracy@last").unwrap(), 0.8);
        assert_eq!(v("a:val:accuracy@best").unwrap(), 0.9);
        assert_eq!(v("a:train:accuracy@best").unwrap(), 0.91);
        assert_eq!(v("a:val:accuracy@last-3").unwrap(), 0.5);
        assert!((v("a:val:loss@1").unwrap() - 0.55).abs() < 1e-12);
        assert!((v("a:val:accuracy@2 - a:val:accuracy@1").unwrap() - 0.4).abs() < 1e-12);
        assert!(
            v("a:val:accuracy@5")
                .unwrap_err()
                .contains("has no epoch 5")
        );
        assert!(
            v("a:val:accuracy@last-4")
                .unwrap_err()
                .contains("only 4 epochs")
        );
        // The mean of the last 3 epochs: (0.9 + 0.7 + 0.8) / 3.
        assert!((v("a:val:accuracy@last3").unwrap() - 0.8).abs() < 1e-12);
        assert!((v("a:val:accuracy@last4").unwrap() - 0.725).abs() < 1e-12);
        assert!(
            v("a:val:accuracy@last5")
                .unwrap_err()
                .contains("only 4 epochs")
        );
        assert!(v("z:val:accuracy@1").unwrap_err().contains("no run of z"));
        // A run stored before grad_norm existed has none; a later one does.
        let e = v("a:train:grad_norm@last").unwrap_err();
        assert!(e.contains("did not record grad_norm"), "{e}");
        let mut newer = simple("a", 3, &[0.5, 0.9]);
        for (k, r) in newer
            .rows
            .iter_mut()
            .filter(|r| r.split == Split::Train)
            .enumerate()
        {
            r.values.set(Quantity::GradNorm, 2.0 - k as f64);
        }
        let runs = [newer];
        let idx = index(&runs);
        let g = expr_value(&parse_expr("a:train:grad_norm@last").unwrap(), &idx, 3);
        assert_eq!(g.unwrap(), 1.0);
    }

    #[test]
    fn a_term_beyond_the_recorded_epochs_is_undecided() {
        let c = claims(&ONE.replace(
            "a:val:accuracy@last\"\nop = \">\"",
            "a:val:accuracy@30\"\nop = \">\"",
        ));
        let runs = [simple("a", 0, &[0.8]), simple("b", 0, &[0.7])];
        let r = evaluate(&c[0], &index(&runs));
        assert_eq!(r.verdict, Verdict::Undecided);
        assert!(r.reason.contains("epoch 30"), "{}", r.reason);
    }

    #[test]
    fn a_claim_can_be_moved_to_another_experiment() {
        let c = claims(ONE).remove(0).renamed("a", "h");
        assert_eq!(c.experiments().into_iter().collect::<Vec<_>>(), ["b", "h"]);
        assert_eq!(c.checks[1].right, Operand::Number(0.8));
    }

    #[test]
    fn seed_means_are_compared_too() {
        let c = claims(ONE);
        let runs = [
            simple("a", 0, &[0.78]),
            simple("a", 1, &[0.82]),
            simple("b", 0, &[0.7]),
            simple("b", 1, &[0.74]),
        ];
        let r = evaluate(&c[0], &index(&runs));
        let m = r.checks[0].on_means.unwrap();
        assert!((m.left - 0.8).abs() < 1e-12 && (m.right - 0.72).abs() < 1e-12 && m.holds);
    }

    #[test]
    fn the_statistics_table_sets_the_level_and_is_checked() {
        let c = claims(&format!("[statistics]\nlevel = 0.9\npower = 0.9\n{ONE}"));
        assert_eq!((c[0].stats.level, c[0].stats.power), (0.9, 0.9));
        assert_eq!(claims(ONE)[0].stats.level, 0.95);
        let e = err(&format!("[statistics]\nlevel = 95\n{ONE}"));
        assert!(
            e.contains("between 0.5 and 1") && e.contains("claims.toml:2:"),
            "{e}"
        );
        // At 80% the noisy case above is still undecided, at a lower level a
        // clearer one decides.
        let runs = runs_of(&[0.80, 0.78, 0.83], &[0.75, 0.76, 0.75]);
        let at = |level: f64| {
            let c = claims(&format!("[statistics]\nlevel = {level}\n{ONE}"));
            evaluate(&c[0], &index(&runs)).checks[0]
                .test
                .clone()
                .unwrap()
                .check
                .decision
        };
        assert_eq!(at(0.99), fmnist_stats::Decision::Undecided);
        assert_eq!(at(0.6), fmnist_stats::Decision::Holds);
    }
}
