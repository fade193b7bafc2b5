//! How many seeds each experiment runs beyond its file's, decided once by
//! the two-stage design (`fmnist_stats::TwoStage`, see `design`) and kept as
//! data in `experiments/claims/seeds.toml`.
//!
//! The experiment files' seeds are the pilot. Each check the pilot leaves
//! undecided (at `alpha_pilot`, in a claim the pilot leaves undecided) asks
//! for the number of new seeds with the design's power at the pilot's
//! effect and spread, tested later at `alpha − alpha_pilot` on those new
//! seeds alone; every experiment of the check gets at least that many, so
//! the sides of a check share their new seeds and stay paired. An
//! experiment takes the largest number over its checks. The numbers depend
//! on the pilot alone, which is what keeps the design's error rate.
//!
//! Added seeds come in a fixed order: the lowest integers the experiment
//! does not run yet (3, 4, 5, ... after 0, 1, 2).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use fmnist_experiments::{Experiment, SeedDecision, SeedsDesign};
use fmnist_metrics::StoredRun;
use fmnist_stats::TwoStage;

use crate::design::{Design, Stages};
use crate::error::ClaimsError;
use crate::evaluate;
use crate::grammar::{self, Verdict};

/// The design to record and the seeds each experiment of an undecided
/// claim should run, from the pilot `runs` (see the module docs); only
/// experiments that need more seeds than they have.
pub fn choose_seeds(
    experiments: &[Experiment],
    runs: &[StoredRun],
    claims_file: &Path,
    design: &TwoStage,
) -> Result<(SeedsDesign, Vec<SeedDecision>), ClaimsError> {
    let names: Vec<&str> = experiments.iter().map(|e| e.name.as_str()).collect();
    let claims = crate::load::load(claims_file, &names)?;
    agree(&claims, claims_file, design)?;
    let index = evaluate::index(runs);
    let pilot: BTreeSet<u64> = experiments
        .iter()
        .flat_map(|e| e.seeds.iter().copied())
        .collect();
    let stages = Design::TwoStage(Stages {
        design: *design,
        pilot: pilot.clone(),
        planned: experiments
            .iter()
            .map(|e| (e.name.clone(), e.seeds.iter().copied().collect()))
            .collect(),
    });
    let mut want: BTreeMap<String, (usize, Vec<String>)> = BTreeMap::new();
    for (id, check, needed) in claims.iter().flat_map(|claim| {
        let r = evaluate::evaluate(claim, &index, &stages);
        let undecided = r.verdict == Verdict::Undecided;
        (claim.checks.iter().zip(r.checks).enumerate())
            .filter(move |_| undecided)
            .filter_map(move |(i, (check, res))| {
                let needed = res.test.ok()?.seeds_needed?;
                Some((format!("{}.{}", claim.id, i + 1), check, needed))
            })
    }) {
        let (n, why) = match needed {
            Ok(n) => (n, format!("{id} needs {n} new seeds ({})", check.what)),
            Err(()) => (
                0,
                format!(
                    "{id} would need more than {} new seeds, so none are added for it ({})",
                    design.max_seeds, check.what
                ),
            ),
        };
        for e in check_experiments(check) {
            let slot = want.entry(e).or_default();
            slot.0 = slot.0.max(n);
            slot.1.push(why.clone());
        }
    }
    let decisions = decisions(experiments, want, design);
    let pilot: Vec<u64> = pilot.into_iter().collect();
    Ok((Design::record(design, &pilot), decisions))
}

/// The claims file's `[statistics]` and the seed design agree on the
/// level and the power.
fn agree(
    claims: &[grammar::Claim],
    claims_file: &Path,
    design: &TwoStage,
) -> Result<(), ClaimsError> {
    if let Some(stats) = claims.first().map(|c| c.stats) {
        let same = |a: f64, b: f64| (a - b).abs() < 1e-12;
        if !same(stats.alpha(), design.alpha) || !same(stats.power, design.power) {
            return Err(ClaimsError::Design {
                path: claims_file.to_path_buf(),
                message: format!(
                    "[statistics] tests at level {} with power {}, but the seed design spends \
                     alpha = {} and aims at power {}: make them agree",
                    stats.level, stats.power, design.alpha, design.power
                ),
            });
        }
    }
    Ok(())
}

/// One decision per experiment that `want`s new seeds (how many at most,
/// and why), its seeds counted from its pilot's.
fn decisions(
    experiments: &[Experiment],
    want: BTreeMap<String, (usize, Vec<String>)>,
    design: &TwoStage,
) -> Vec<SeedDecision> {
    want.into_iter()
        .filter_map(|(experiment, (n, why))| {
            let have = experiments
                .iter()
                .find(|e| e.name == experiment)?
                .seeds
                .len();
            (n > 0).then(|| SeedDecision {
                reason: format!(
                    "its {have} pilot seeds left undecided: {}; new seeds for power {} at the \
                     pilot's effect and spread, tested alone at alpha = {}",
                    why.join("; "),
                    design.power,
                    design.alpha_confirm()
                ),
                experiment,
                seeds: have + n,
            })
        })
        .collect()
}

/// The experiments a check names, each once, sorted.
fn check_experiments(check: &grammar::Check) -> Vec<String> {
    let set: BTreeSet<String> = check.terms().map(|t| t.experiment.clone()).collect();
    set.into_iter().collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use fmnist_experiments::{apply_seeds, read_seeds_design, read_seeds_file};
    use fmnist_metrics::fixture::simple;
    use fmnist_stats::{Observed, Region};

    const FILE: &str = r#"
[[claim]]
id = "X1"
section = "III"
text = "a beats b"
[[claim.check]]
what = "higher"
left = "a:val:accuracy@last"
op = ">"
right = "b:val:accuracy@last"
"#;

    /// Two experiments, `a` and `b`, each with the pilot seeds 0, 1, 2.
    pub(crate) fn experiments() -> Vec<Experiment> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/experiments");
        let mut e = fmnist_experiments::load_dir(&dir).unwrap();
        e.truncate(2);
        for (x, name) in e.iter_mut().zip(["a", "b"]) {
            x.name = name.into();
            x.seeds = vec![0, 1, 2];
        }
        e
    }

    fn pilot(values: &[(u64, f64, f64)]) -> Vec<StoredRun> {
        values
            .iter()
            .flat_map(|&(s, a, b)| [simple("a", s, &[a]), simple("b", s, &[b])])
            .collect()
    }

    #[test]
    fn an_undecided_pilot_gives_both_sides_the_new_seeds_its_power_asks_for() {
        let tmp = tempfile::tempdir().unwrap();
        let claims = tmp.path().join("claims.toml");
        std::fs::write(&claims, FILE).unwrap();
        let (a, b) = ([0.81, 0.84, 0.83], [0.80, 0.815, 0.82]);
        let runs = pilot(&[(0, a[0], b[0]), (1, a[1], b[1]), (2, a[2], b[2])]);
        let mut exps = experiments();
        let d = TwoStage::STANDARD;
        let (design, decided) = choose_seeds(&exps, &runs, &claims, &d).unwrap();
        // The statistics crate's design, on the same pilot, asks for n.
        let n = d
            .pilot(Region::Greater(0.0), Observed::Paired { a: &a, b: &b })
            .unwrap()
            .new_seeds
            .unwrap();
        assert_eq!(decided.len(), 2, "{decided:?}");
        assert!(decided.iter().all(|x| x.seeds == 3 + n), "{decided:?} {n}");
        assert!(
            decided[0]
                .reason
                .contains(&format!("X1.1 needs {n} new seeds (higher)"))
        );
        assert_eq!(
            (design.pilot_seeds.clone(), design.alpha_pilot),
            (vec![0, 1, 2], 0.01)
        );
        // Recorded and applied: both sides run the same new seeds.
        let path = tmp.path().join("seeds.toml");
        fmnist_experiments::write_seeds_file_with_design(
            &path,
            3 + d.max_seeds,
            Some(&design),
            &decided,
        )
        .unwrap();
        assert_eq!(read_seeds_design(&path).unwrap(), Some(design));
        let (_, back) = read_seeds_file(&path).unwrap().unwrap();
        assert!(apply_seeds(&mut exps, &back).is_empty());
        let want: Vec<u64> = (0..3 + n as u64).collect();
        assert_eq!((&exps[0].seeds, &exps[1].seeds), (&want, &want));
        // A pilot that decides asks for nothing.
        let clear = pilot(&[(0, 0.80, 0.70), (1, 0.81, 0.71), (2, 0.82, 0.72)]);
        let exps = experiments();
        assert!(
            choose_seeds(&exps, &clear, &claims, &d)
                .unwrap()
                .1
                .is_empty()
        );
        // One on the boundary would need more than 30: nothing added, said so.
        let flat = pilot(&[(0, 0.80, 0.81), (1, 0.81, 0.80), (2, 0.80, 0.80)]);
        assert!(
            choose_seeds(&exps, &flat, &claims, &d)
                .unwrap()
                .1
                .is_empty()
        );
    }
}
