//! Evaluating claims on stored runs: each check's two sides per seed (read
//! through the metrics store's one accessor), its stages as the seed design
//! says (`stage`), the claim's checks decided together with Holm's
//! correction and their flip points (`family`), and the claim's verdict,
//! which follows from the adjusted decisions.

use std::collections::{BTreeMap, BTreeSet};

use fmnist_metrics::StoredRun;
use fmnist_stats::Decision;

use crate::design::Design;
use crate::family::{self, Staged};
use crate::grammar::{Check, Claim, Expr, Operand, Term, Verdict};
use crate::inference::{NEAR_FLIP, Tested};
use crate::stage::{self, Prepared, Right, Sample};

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

/// A check on one seed alone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    pub left: f64,
    pub right: f64,
    pub holds: bool,
}

#[derive(Debug, Clone)]
pub struct CheckResult {
    /// The check on each seed of its decisive stage alone (paired or
    /// one-sample; none for Welch's t), as supporting detail.
    pub per_seed: Vec<(u64, Comparison)>,
    /// The statistical test that decides the check, or why there is none.
    pub test: Result<Tested, String>,
}

#[derive(Debug, Clone)]
pub struct ClaimResult<'c> {
    pub claim: &'c Claim,
    pub verdict: Verdict,
    /// Why, in one sentence.
    pub reason: String,
    /// The seeds every experiment of the claim ran.
    pub seeds: Vec<u64>,
    /// One per check; empty when the claim could not be evaluated at all.
    pub checks: Vec<CheckResult>,
    /// The family-wise α its checks were corrected at.
    pub alpha: f64,
}

/// Whether `check`'s adjusted decision would flip if its bound, a number
/// this repository chose, moved by less than [`NEAR_FLIP`] of itself.
pub fn near_flip(check: &Check, tested: &Tested) -> bool {
    let (_, value) = check.bound();
    let flip = check.bound_at(tested.flip_point(true));
    check.threshold.is_ours()
        && value != 0.0
        && flip.is_finite()
        && (flip - value).abs() < NEAR_FLIP * value.abs()
}

impl ClaimResult<'_> {
    /// The checks (indices) whose chosen thresholds the verdict turns on:
    /// for "reproduced" any check near its flip (each must hold); for "not
    /// reproduced" the failing checks, when every one of them is near its
    /// flip (one robust failure decides alone); for "undecided" the
    /// undecided checks near theirs. See [`near_flip`].
    pub fn turns_on_ours(&self) -> Vec<usize> {
        let with = |d: Decision| -> Vec<(usize, bool)> {
            (self.claim.checks.iter().zip(&self.checks).enumerate())
                .filter_map(|(i, (c, r))| {
                    let t = r.test.as_ref().ok()?;
                    (t.adjusted() == d).then(|| (i, near_flip(c, t)))
                })
                .collect()
        };
        let near = |v: Vec<(usize, bool)>| v.into_iter().filter(|p| p.1).map(|p| p.0).collect();
        match self.verdict {
            Verdict::Reproduced => near(with(Decision::Holds)),
            Verdict::NotReproduced => {
                let failing = with(Decision::Fails);
                if failing.iter().all(|p| p.1) {
                    near(failing)
                } else {
                    Vec::new()
                }
            }
            Verdict::Undecided => near(with(Decision::Undecided)),
        }
    }
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

/// A check's left side per seed (for a prediction interval) and its
/// stages, or why it cannot be tested.
type PreparedCheck = Result<(Vec<(u64, f64)>, Prepared), String>;

/// A check's sides per seed and its stages.
fn prepare(check: &Check, runs: &RunIndex<'_>, design: &Design, claim: &Claim) -> PreparedCheck {
    let left = side_values(&check.left, runs)?;
    let right = match &check.right {
        Operand::Number(x) => Right::Number(*x),
        Operand::Expr(e) => Right::Values(side_values(e, runs)?),
    };
    let prepared = stage::prepare(check, &left, &right, design, claim.stats)?;
    Ok((left, prepared))
}

/// The check on each seed of `stage` alone.
fn per_seed(check: &Check, stage: &stage::Stage) -> Vec<(u64, Comparison)> {
    let pairs: Vec<(f64, f64)> = match &stage.sample {
        Sample::OneSample { values, against } => values.iter().map(|v| (*v, *against)).collect(),
        Sample::Paired { a, b } => a.iter().copied().zip(b.iter().copied()).collect(),
        Sample::Welch { .. } => Vec::new(),
    };
    (stage.seeds.iter().zip(pairs))
        .map(|(&seed, (left, right))| {
            let holds = check.holds(left, right);
            (seed, Comparison { left, right, holds })
        })
        .collect()
}

/// The claim's checks decided together (see `family`).
fn decide_checks(claim: &Claim, prepared: Vec<PreparedCheck>, alpha: f64) -> Vec<CheckResult> {
    let staged: Vec<Option<Staged<'_>>> = prepared
        .iter()
        .map(|p| {
            let (_, p) = p.as_ref().ok()?;
            Some(Staged {
                region: p.region,
                first: (&p.first.diff, p.first.alpha),
                confirm: p.confirm.as_ref().map(|c| (&c.diff, c.alpha)),
            })
        })
        .collect();
    let decided = family::decide(&staged, alpha).map_err(|e| e.to_string());
    (claim.checks.iter().zip(&prepared).enumerate())
        .map(|(i, (check, p))| {
            let test = match (p, &decided) {
                (Err(e), _) | (_, Err(e)) => Err(e.clone()),
                (Ok((left, p)), Ok(d)) => Ok(Tested {
                    region: p.region,
                    first: p.first.clone(),
                    confirm: p.confirm.clone(),
                    confirm_note: p.confirm_note.clone(),
                    decided: d[i].expect("a prepared check is decided"),
                    seeds_needed: p.seeds_needed,
                    prediction: check
                        .single_run
                        .then(|| {
                            let v: Vec<f64> = left.iter().map(|p| p.1).collect();
                            fmnist_stats::prediction_interval(&v, 0.95).ok()
                        })
                        .flatten(),
                }),
            };
            let per_seed = test
                .as_ref()
                .map_or(Vec::new(), |t| per_seed(check, t.decisive()));
            CheckResult { per_seed, test }
        })
        .collect()
}

/// "after Holm's correction over its 4 checks (family-wise α = 0.05)".
fn family_words(claim: &Claim, alpha: f64) -> String {
    match claim.checks.len() {
        1 => format!("at α = {alpha:.2} (one check: no correction)"),
        m => format!("after Holm's correction over its {m} checks (family-wise α = {alpha:.2})"),
    }
}

/// The verdict and its reason from the checks' adjusted decisions.
fn verdict_of(claim: &Claim, checks: &[CheckResult], alpha: f64) -> (Verdict, String) {
    let family = family_words(claim, alpha);
    let with = |d: Decision| -> Vec<String> {
        (claim.checks.iter().zip(checks))
            .filter_map(|(c, r)| {
                let t = r.test.as_ref().ok()?;
                (t.adjusted() == d).then(|| match (d, t.raw()) {
                    (Decision::Undecided, raw @ (Decision::Holds | Decision::Fails)) => {
                        format!("{} ({} before the correction)", c.what, raw.name())
                    }
                    _ => c.what.clone(),
                })
            })
            .collect()
    };
    let failing = with(Decision::Fails);
    if !failing.is_empty() {
        return (
            Verdict::NotReproduced,
            format!(
                "{family}, the interval lies outside the claimed region for: {}",
                failing.join("; ")
            ),
        );
    }
    if let Some(e) = checks.iter().find_map(|c| c.test.as_ref().err()) {
        return (Verdict::Undecided, format!("cannot be tested: {e}"));
    }
    let undecided = with(Decision::Undecided);
    if undecided.is_empty() {
        (Verdict::Reproduced, format!("every check holds {family}"))
    } else {
        (
            Verdict::Undecided,
            format!(
                "{family}, the interval straddles the claimed boundary for: {}",
                undecided.join("; ")
            ),
        )
    }
}

/// The family-wise α of the claims' checks: the design's, which must be
/// the claims file's (`Design::from_record` checks it), or the file's.
pub fn family_alpha(claim: &Claim, design: &Design) -> f64 {
    match design {
        Design::Single => claim.stats.alpha(),
        Design::TwoStage(s) => s.design.alpha,
    }
}

/// Evaluates `claim` on `runs` as `design` says.
pub fn evaluate<'c>(claim: &'c Claim, runs: &RunIndex<'_>, design: &Design) -> ClaimResult<'c> {
    let alpha = family_alpha(claim, design);
    let undecided = |reason: String| ClaimResult {
        claim,
        verdict: Verdict::Undecided,
        reason,
        seeds: Vec::new(),
        checks: Vec::new(),
        alpha,
    };
    let experiments = claim.experiments();
    let missing: Vec<&str> = experiments
        .iter()
        .copied()
        .filter(|e| runs.get(e).is_none_or(|r| r.is_empty()))
        .collect();
    if !missing.is_empty() {
        let noun = if missing.len() == 1 {
            "experiment"
        } else {
            "experiments"
        };
        return undecided(format!("no runs for {noun} {}", missing.join(", ")));
    }
    let mut seeds: Option<BTreeSet<u64>> = None;
    for e in &experiments {
        let these: BTreeSet<u64> = runs[e].iter().map(|r| r.manifest.seed).collect();
        seeds = Some(match seeds {
            None => these,
            Some(s) => s.intersection(&these).copied().collect(),
        });
    }
    let prepared = (claim.checks.iter())
        .map(|c| prepare(c, runs, design, claim))
        .collect();
    let checks = decide_checks(claim, prepared, alpha);
    let (verdict, reason) = verdict_of(claim, &checks, alpha);
    ClaimResult {
        claim,
        verdict,
        reason,
        seeds: seeds.unwrap_or_default().into_iter().collect(),
        checks,
        alpha,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::design::Stages;
    use crate::grammar::*;
    use crate::load::tests::{ONE, claims, err};
    use fmnist_metrics::fixture::simple;
    use fmnist_metrics::{Quantity, Split};
    use fmnist_stats::{Difference, TestKind, TwoStage};

    fn verdict(runs: &[StoredRun]) -> (Verdict, String) {
        let c = claims(ONE);
        let r = evaluate(&c[0], &index(runs), &Design::Single);
        (r.verdict, r.reason)
    }

    /// Runs of a and b, one final validation accuracy per seed from 0.
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
        let r = evaluate(&one[0], &index(&runs), &Design::Single);
        assert_eq!(r.verdict, Verdict::Reproduced, "{}", r.reason);
        assert!(
            r.reason
                .contains("every check holds after Holm's correction over its 2 checks"),
            "{}",
            r.reason
        );
        let t = r.checks[0].test.as_ref().unwrap();
        assert_eq!(t.diff().test, TestKind::Paired);
        let (lo, hi) = (t.decisive().check.lo, t.decisive().check.hi);
        assert!((lo - 0.0780).abs() < 1e-3 && (hi - 0.1354).abs() < 1e-3);
        assert_eq!(r.checks[0].per_seed.len(), 3);
        // The number on the right: a one-sample t, named so.
        let t1 = r.checks[1].test.as_ref().unwrap();
        assert_eq!(t1.first.describe(), "one-sample t, n = 3");
        assert_eq!(
            *t1.diff(),
            Difference::one_sample(&[0.8, 0.81, 0.82], 0.8).unwrap()
        );

        // a below b: the first check fails, whatever the second does.
        let (v, why) = verdict(&runs_of(&[0.60, 0.61, 0.62], &[0.70, 0.71, 0.70]));
        assert_eq!(v, Verdict::NotReproduced, "{why}");
        assert!(why.contains("higher final val accuracy"), "{why}");

        // Noisy: both intervals straddle their boundaries.
        let runs = runs_of(&[0.80, 0.70, 0.85], &[0.75, 0.75, 0.75]);
        let r = evaluate(&one[0], &index(&runs), &Design::Single);
        assert_eq!(r.verdict, Verdict::Undecided, "{}", r.reason);
        let n = r.checks[0]
            .test
            .as_ref()
            .unwrap()
            .seeds_needed
            .unwrap()
            .unwrap();
        assert!(n > 3, "{n}");

        let (v, why) = verdict(&[simple("a", 0, &[0.5, 0.8])]);
        assert_eq!(
            (v, why.as_str()),
            (Verdict::Undecided, "no runs for experiment b")
        );
        let (v, why) = verdict(&[simple("a", 0, &[0.8]), simple("b", 1, &[0.7])]);
        assert_eq!(v, Verdict::Undecided);
        assert!(why.contains("only 1 seed on a side"), "{why}");
    }

    #[test]
    fn two_experiments_pair_on_the_seeds_both_ran_and_welch_only_without_them() {
        let one = claims(ONE);
        // b has a fourth seed a lacks: the test pairs seeds 0-2, exactly
        // the paired t of those values.
        let mut runs = runs_of(&[0.80, 0.81, 0.82], &[0.70, 0.71, 0.70]);
        runs.push(simple("b", 7, &[0.5, 0.72]));
        let r = evaluate(&one[0], &index(&runs), &Design::Single);
        let t = r.checks[0].test.as_ref().unwrap();
        let want = Difference::paired(&[0.80, 0.81, 0.82], &[0.70, 0.71, 0.70]).unwrap();
        assert_eq!(
            (*t.diff(), t.decisive().seeds.clone()),
            (want, vec![0, 1, 2])
        );
        // No seed in common: Welch, and it says why.
        let runs: Vec<StoredRun> = [("a", 0, 0.8), ("a", 1, 0.82), ("b", 5, 0.7), ("b", 6, 0.71)]
            .iter()
            .map(|&(e, s, v)| simple(e, s, &[0.5, v]))
            .collect();
        let r = evaluate(&one[0], &index(&runs), &Design::Single);
        let t = r.checks[0].test.as_ref().unwrap();
        assert_eq!(t.diff().test, TestKind::Welch);
        assert!(
            t.first
                .describe()
                .contains("share 0 seeds: cannot be paired")
        );
    }

    const THREE: &str = r#"
[[claim]]
id = "X3"
section = "III"
text = "a beats b, c and d"
[[claim.check]]
what = "above b"
left = "a:val:accuracy@last"
op = ">"
right = "b:val:accuracy@last"
[[claim.check]]
what = "above 0.7"
left = "a:val:accuracy@last"
op = ">"
right = 0.7
threshold = "ours"
why = "test"
[[claim.check]]
what = "above 0.5"
left = "a:val:accuracy@last"
op = ">"
right = 0.5
threshold = "paper"
[[claim.check]]
what = "above 0.82"
left = "a:val:accuracy@last"
op = ">"
right = 0.82
threshold = "ours"
why = "test"
"#;

    #[test]
    fn holm_applies_to_the_verdict_and_its_flip_is_exact_in_the_file() {
        let c = claims(THREE);
        // a − b narrowly above 0 (holds raw); a far above 0.5 and 0.7.
        let runs = runs_of(&[0.80, 0.83, 0.79, 0.84, 0.81], &[0.785; 5]);
        let r = evaluate(&c[0], &index(&runs), &Design::Single);
        let t = r.checks[0].test.as_ref().unwrap();
        // The family is that of fmnist_stats::decide_family.
        let diffs: Vec<(Difference, fmnist_stats::Region)> = (r.checks.iter().zip(&c[0].checks))
            .map(|(x, k)| (*x.test.as_ref().unwrap().diff(), k.region()))
            .collect();
        let want = fmnist_stats::decide_family(&diffs, 0.05).unwrap();
        assert_eq!(
            (t.raw(), t.adjusted()),
            (want[0].raw.decision, want[0].adjusted)
        );
        assert_eq!(
            (t.raw(), t.adjusted()),
            (Decision::Holds, Decision::Undecided)
        );
        assert_eq!(r.verdict, Verdict::Undecided);
        // Undecided: "above b" after the correction, "above 0.82" (mean
        // 0.814) before it too.
        assert!(
            r.reason
                .contains("above b (holds before the correction); above 0.82"),
            "{}",
            r.reason
        );
        // Move the number of the second check (ours) just past its adjusted
        // flip point in the file: its decision changes there (to the
        // rounding of `mean − number`, which moving the number changes).
        let t2 = r.checks[1].test.as_ref().unwrap();
        let flip = c[0].checks[1].bound_at(t2.flip_point(true));
        let at = |x: f64| {
            let text = THREE.replace("right = 0.7\n", &format!("right = {x:?}\n"));
            let c = claims(&text);
            let r = evaluate(&c[0], &index(&runs), &Design::Single);
            r.checks[1].test.as_ref().unwrap().adjusted()
        };
        assert_eq!(t2.adjusted(), Decision::Holds);
        assert_eq!(at(flip - 1e-12), Decision::Holds);
        assert_ne!(at(flip + 1e-12), Decision::Holds);
    }

    #[test]
    fn a_verdict_turns_on_a_chosen_threshold_only_near_its_flip() {
        let text = THREE.replace("right = 0.7\n", "right = 0.815\n");
        let c = claims(&text);
        let runs = runs_of(&[0.80, 0.83, 0.79, 0.84, 0.81], &[0.70; 5]);
        let r = evaluate(&c[0], &index(&runs), &Design::Single);
        // a − 0.815 straddles 0: undecided, its flip within 50% of 0.815.
        let t = r.checks[1].test.as_ref().unwrap();
        assert_eq!(t.adjusted(), Decision::Undecided);
        assert!(near_flip(&c[0].checks[1], t));
        assert_eq!(
            (r.verdict, r.turns_on_ours()),
            (Verdict::Undecided, vec![1, 3])
        );
        // The paper's threshold never counts.
        let paper = claims(&text.replace(
            "threshold = \"ours\"\nwhy = \"test\"",
            "threshold = \"paper\"",
        ));
        let r = evaluate(&paper[0], &index(&runs), &Design::Single);
        assert!(r.turns_on_ours().is_empty());
    }

    /// Seeds 0-2 are the pilot; a and b were given new seeds 3.. in `planned`.
    fn stages(a: &[u64], b: &[u64]) -> Design {
        Design::TwoStage(Stages {
            design: TwoStage::STANDARD,
            pilot: [0, 1, 2].into(),
            planned: [("a", a), ("b", b)]
                .into_iter()
                .map(|(e, s)| (e.to_string(), s.iter().copied().collect()))
                .collect(),
        })
    }

    #[test]
    fn the_two_stage_design_tests_the_pilot_then_the_new_seeds_alone() {
        let c = claims(
            THREE
                .replace(
                    "threshold = \"ours\"\nwhy = \"test\"",
                    "threshold = \"paper\"",
                )
                .as_str(),
        );
        // Pilot undecided at 99% (a − b about +0.012 over 3 seeds); 8 new
        // seeds with a clear effect.
        let a = [
            0.81, 0.84, 0.83, 0.84, 0.85, 0.84, 0.86, 0.85, 0.84, 0.845, 0.85,
        ];
        let b = [
            0.80, 0.815, 0.82, 0.81, 0.82, 0.812, 0.83, 0.82, 0.81, 0.815, 0.82,
        ];
        let runs = runs_of(&a, &b);
        let all: Vec<u64> = (0..11).collect();
        let design = stages(&all, &all);
        let r = evaluate(&c[0], &index(&runs), &design);
        let t = r.checks[0].test.as_ref().unwrap();
        assert_eq!(t.first.check.decision, Decision::Undecided);
        assert_eq!(t.first.check.level, 0.99);
        let confirm = t.confirm.as_ref().unwrap();
        assert_eq!(confirm.seeds, (3..11).collect::<Vec<u64>>());
        assert_eq!(confirm.diff, Difference::paired(&a[3..], &b[3..]).unwrap());
        assert!((confirm.check.level - 0.96).abs() < 1e-15);
        assert_eq!(t.decisive().kind, crate::stage::StageKind::Confirm);
        assert_eq!(t.raw(), confirm.check.decision);
        // What the statistics crate's design says, with these new seeds.
        let out = TwoStage::STANDARD
            .finish(
                fmnist_stats::Region::Greater(0.0),
                fmnist_stats::Pilot {
                    new_seeds: Some(8),
                    ..TwoStage::STANDARD
                        .pilot(
                            fmnist_stats::Region::Greater(0.0),
                            fmnist_stats::Observed::Paired {
                                a: &a[..3],
                                b: &b[..3],
                            },
                        )
                        .unwrap()
                },
                Some(fmnist_stats::Observed::Paired {
                    a: &a[3..],
                    b: &b[3..],
                }),
            )
            .unwrap();
        assert_eq!(t.raw(), out.decision);
        // The number checks decided at the pilot stand: no new seed counts.
        let t2 = r.checks[2].test.as_ref().unwrap();
        assert_eq!(
            (t2.first.check.decision, t2.decisive().kind),
            (Decision::Holds, crate::stage::StageKind::Pilot)
        );
        // Planned seeds not all stored: the confirmation waits.
        let more: Vec<u64> = (0..12).collect();
        let r = evaluate(&c[0], &index(&runs), &stages(&more, &more));
        let t = r.checks[0].test.as_ref().unwrap();
        assert!(t.confirm.is_none() && t.raw() == Decision::Undecided);
        assert!(
            t.confirm_note
                .as_deref()
                .unwrap()
                .contains("8 of the 9 planned new seeds")
        );
        let n = t.seeds_needed.unwrap();
        assert!(matches!(n, Ok(2..=30)), "{n:?}");
    }

    #[test]
    fn a_single_run_check_shows_where_one_run_falls() {
        let c = claims(&ONE.replace("tol = 0.05", "tol = 0.05\nsingle_run = true"));
        let runs = runs_of(&[0.80, 0.81, 0.82, 0.815], &[0.70, 0.71, 0.70, 0.7]);
        let r = evaluate(&c[0], &index(&runs), &Design::Single);
        let p = r.checks[1].test.as_ref().unwrap().prediction.unwrap();
        let want = fmnist_stats::prediction_interval(&[0.80, 0.81, 0.82, 0.815], 0.95).unwrap();
        assert_eq!((p.lo(), p.hi(), p.n), (want.lo(), want.hi(), 4));
        assert!(r.checks[0].test.as_ref().unwrap().prediction.is_none());
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
        let r = evaluate(&c[0], &index(&runs), &Design::Single);
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
    fn the_statistics_table_sets_the_level_and_is_checked() {
        let c = claims(&format!("[statistics]\nlevel = 0.9\npower = 0.9\n{ONE}"));
        assert_eq!((c[0].stats.level, c[0].stats.power), (0.9, 0.9));
        assert_eq!(claims(ONE)[0].stats.level, 0.95);
        let e = err(&format!("[statistics]\nlevel = 95\n{ONE}"));
        assert!(
            e.contains("between 0.5 and 1") && e.contains("claims.toml:2:"),
            "{e}"
        );
        // At 99% the noisy case is undecided; at a lower level it decides.
        let runs = runs_of(&[0.80, 0.78, 0.83], &[0.75, 0.76, 0.75]);
        let at = |level: f64| {
            let c = claims(&format!("[statistics]\nlevel = {level}\n{ONE}"));
            evaluate(&c[0], &index(&runs), &Design::Single).checks[0]
                .test
                .clone()
                .unwrap()
                .raw()
        };
        assert_eq!(at(0.99), Decision::Undecided);
        assert_eq!(at(0.6), Decision::Holds);
    }
}
