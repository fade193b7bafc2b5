//! How many seeds each experiment runs beyond its file's, decided once from
//! a power analysis and kept as data in `experiments/claims/seeds.toml`.
//!
//! The design is fixed-n: for each check that is undecided on the seeds an
//! experiment has, the seed estimate of `inference` (the smallest n with the
//! declared power at the observed effect and spread) gives the number of
//! seeds its experiments should run, capped at `max_seeds`; an experiment
//! takes the largest over its checks. That number is chosen once, written
//! down, and the claims are tested once at it: a second decision is never
//! taken from the new seeds, so the test's error rate is not inflated by
//! adding seeds until it passes (optional stopping).
//!
//! Added seeds come in a fixed order: the lowest integers the experiment
//! does not run yet (3, 4, 5, ... after 0, 1, 2).

use std::collections::BTreeMap;
use std::path::Path;

use fmnist_experiments::Experiment;
use fmnist_experiments::SeedDecision;
use fmnist_metrics::StoredRun;

use crate::error::ClaimsError;
use crate::evaluate;
use crate::grammar::{self, Verdict};

/// The seeds each experiment of an undecided claim should run, from the
/// power analysis of its undecided checks on `runs` (see the module docs);
/// only experiments that need more seeds than they have.
pub fn choose_seeds(
    experiments: &[Experiment],
    runs: &[StoredRun],
    claims_file: &Path,
    max_seeds: usize,
) -> Result<Vec<SeedDecision>, ClaimsError> {
    let names: Vec<&str> = experiments.iter().map(|e| e.name.as_str()).collect();
    let claims = crate::load::load(claims_file, &names)?;
    let index = evaluate::index(runs);
    let power = claims.first().map_or(0.8, |c| c.stats.power);
    let mut want: BTreeMap<String, (usize, Vec<String>)> = BTreeMap::new();
    for claim in &claims {
        let r = evaluate::evaluate(claim, &index);
        if r.verdict != Verdict::Undecided {
            continue;
        }
        for (check, res) in claim.checks.iter().zip(&r.checks) {
            let Some(needed) = res.test.as_ref().ok().and_then(|t| t.seeds_needed) else {
                continue;
            };
            let (n, why) = match needed {
                Ok(n) if n <= max_seeds => (n, format!("{} needs about {n}", claim.id)),
                Ok(n) => (max_seeds, format!("{} needs about {n}, capped", claim.id)),
                Err(()) => (max_seeds, format!("{} cannot be decided, capped", claim.id)),
            };
            let why = format!("{why} ({})", check.what);
            let mut exps: Vec<String> = check_experiments(check);
            exps.dedup();
            for e in exps {
                let slot = want.entry(e).or_default();
                slot.0 = slot.0.max(n);
                slot.1.push(why.clone());
            }
        }
    }
    Ok(want
        .into_iter()
        .filter_map(|(experiment, (n, why))| {
            let have = index.get(experiment.as_str()).map_or(0, Vec::len);
            (n > have).then(|| SeedDecision {
                reason: format!(
                    "{have} seeds left undecided: {}; seed estimates at {:.0}% power, the \
                     observed effect and spread",
                    why.join("; "),
                    100.0 * power
                ),
                experiment,
                seeds: n,
            })
        })
        .collect())
}

fn check_experiments(check: &grammar::Check) -> Vec<String> {
    let mut v: Vec<String> = check
        .terms()
        .map(|t| t.experiment.clone())
        .collect::<Vec<_>>();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use fmnist_experiments::{apply_seeds, read_seeds_file, write_seeds_file};
    use fmnist_metrics::fixture::simple;

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

    fn experiments() -> Vec<Experiment> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/experiments");
        let mut e = fmnist_experiments::load_dir(&dir).unwrap();
        e.truncate(2);
        e[0].name = "a".into();
        e[1].name = "b".into();
        e
    }

    #[test]
    fn an_undecided_check_asks_for_seeds_once_and_they_are_added_in_order() {
        let tmp = tempfile::tempdir().unwrap();
        let claims = tmp.path().join("claims.toml");
        std::fs::write(&claims, FILE).unwrap();
        let runs: Vec<StoredRun> = [(0, 0.80, 0.79), (1, 0.78, 0.775), (2, 0.82, 0.80)]
            .iter()
            .flat_map(|&(s, a, b)| [simple("a", s, &[a]), simple("b", s, &[b])])
            .collect();
        let mut exps = experiments();
        let d = choose_seeds(&exps, &runs, &claims, 10).unwrap();
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d[0].seeds > 3 && d[0].seeds <= 10, "{d:?}");
        assert!(d[0].reason.contains("X1 needs about"), "{}", d[0].reason);
        let path = tmp.path().join("seeds.toml");
        write_seeds_file(&path, 10, &d).unwrap();
        let (cap, back) = read_seeds_file(&path).unwrap().unwrap();
        assert_eq!((cap, &back), (10, &d));
        exps[0].seeds = vec![0, 1, 2];
        let unknown = apply_seeds(
            &mut exps,
            &[
                SeedDecision {
                    experiment: "a".into(),
                    seeds: 5,
                    reason: String::new(),
                },
                SeedDecision {
                    experiment: "zz".into(),
                    seeds: 5,
                    reason: String::new(),
                },
            ],
        );
        assert_eq!(exps[0].seeds, [0, 1, 2, 3, 4]);
        assert_eq!(unknown, ["zz"]);
        // A decided claim asks for nothing.
        let clear: Vec<StoredRun> = [(0, 0.80, 0.70), (1, 0.81, 0.71), (2, 0.82, 0.72)]
            .iter()
            .flat_map(|&(s, a, b)| [simple("a", s, &[a]), simple("b", s, &[b])])
            .collect();
        assert!(choose_seeds(&exps, &clear, &claims, 10).unwrap().is_empty());
        assert_eq!(
            read_seeds_file(&tmp.path().join("none.toml")).unwrap(),
            None
        );
    }
}
