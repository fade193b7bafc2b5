//! The seeds file, `experiments/claims/seeds.toml`: how many seeds each
//! experiment runs beyond its file's, decided once (`reproduce --decide`,
//! from a power analysis of the claims) and kept as data. This module reads,
//! writes and applies it, so that planning runs needs nothing but this
//! crate; choosing the numbers belongs with the claims.
//!
//! Added seeds come in a fixed order: the lowest integers the experiment
//! does not run yet (3, 4, 5, ... after 0, 1, 2).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::ExperimentError;
use crate::experiment::Experiment;
use crate::suggest::explain_toml_error;

/// One experiment's decided number of seeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedDecision {
    /// The experiment's name (a file stem in experiments/).
    pub experiment: String,
    /// How many seeds it runs in all.
    pub seeds: usize,
    /// Why: the checks and their seed estimates.
    pub reason: String,
}

/// How `--decide` chose the seeds (the claims crate's seed design), kept
/// beside the decisions so that the claims are tested as the design says.
/// Plain numbers: this crate only reads and writes them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedsDesign {
    /// The design's name, e.g. "two-stage".
    pub kind: String,
    /// The total significance level of a check.
    pub alpha: f64,
    /// The part of `alpha` spent on the pilot.
    pub alpha_pilot: f64,
    /// The pilot's seeds: those the experiment files list.
    pub pilot_seeds: Vec<u64>,
    /// The power the number of new seeds aims at.
    pub power: f64,
    /// The most new seeds (per experiment) the design may ask for.
    pub max_new_seeds: usize,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedsDoc {
    /// The cap the decision was taken with: the most seeds in all.
    max_seeds: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    design: Option<SeedsDesign>,
    #[serde(default)]
    decision: Vec<SeedDecision>,
}

const HEADER: &str = "\
# Seeds decided by `cargo xtask reproduce -- --decide`: the design that chose
# them ([design], when recorded) and, for each experiment of a claim left
# undecided by its pilot seeds (those the experiment files list), how many
# seeds it runs in all. Chosen once from the pilot seeds alone; a later
# --decide keeps this file. Every reproduction runs these seeds. Delete the
# file to decide again from scratch.
";

/// The decisions of `path` and the cap they were taken with; `None` when
/// there is no file.
pub fn read_seeds_file(path: &Path) -> Result<Option<(usize, Vec<SeedDecision>)>, ExperimentError> {
    Ok(read_doc(path)?.map(|doc| (doc.max_seeds, doc.decision)))
}

/// The design recorded in `path`; `None` when there is no file, or a file
/// of a design that recorded none.
pub fn read_seeds_design(path: &Path) -> Result<Option<SeedsDesign>, ExperimentError> {
    Ok(read_doc(path)?.and_then(|doc| doc.design))
}

fn read_doc(path: &Path) -> Result<Option<SeedsDoc>, ExperimentError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ExperimentError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let doc: SeedsDoc = toml::from_str(&text).map_err(|e| ExperimentError::Parse {
        path: path.to_path_buf(),
        message: explain_toml_error(&e.to_string()),
    })?;
    Ok(Some(doc))
}

/// Writes the decisions to `path`, with a header saying what they are.
pub fn write_seeds_file(
    path: &Path,
    max_seeds: usize,
    decisions: &[SeedDecision],
) -> Result<(), ExperimentError> {
    write_seeds_file_with_design(path, max_seeds, None, decisions)
}

/// [`write_seeds_file`] with the design that chose the seeds.
pub fn write_seeds_file_with_design(
    path: &Path,
    max_seeds: usize,
    design: Option<&SeedsDesign>,
    decisions: &[SeedDecision],
) -> Result<(), ExperimentError> {
    let doc = SeedsDoc {
        max_seeds,
        design: design.cloned(),
        decision: decisions.to_vec(),
    };
    let body = toml::to_string(&doc).expect("seed decisions serialise");
    std::fs::write(path, format!("{HEADER}\n{body}")).map_err(|source| ExperimentError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Gives each decided experiment its number of seeds: its own, then the
/// lowest integers it does not run yet. Returns the names decided for but
/// not among `experiments`.
pub fn apply_seeds(experiments: &mut [Experiment], decisions: &[SeedDecision]) -> Vec<String> {
    let mut unknown = Vec::new();
    for d in decisions {
        let Some(e) = experiments.iter_mut().find(|e| e.name == d.experiment) else {
            unknown.push(d.experiment.clone());
            continue;
        };
        let mut next = 0u64;
        while e.seeds.len() < d.seeds {
            if !e.seeds.contains(&next) {
                e.seeds.push(next);
            }
            next += 1;
        }
    }
    unknown
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata::shipped;

    fn decision(experiment: &str, seeds: usize) -> SeedDecision {
        SeedDecision {
            experiment: experiment.into(),
            seeds,
            reason: format!("X1 needs about {seeds}"),
        }
    }

    fn experiments() -> Vec<Experiment> {
        let mut e = crate::load_file(&shipped().join("baseline.toml")).unwrap();
        e.extend(crate::load_file(&shipped().join("adam.toml")).unwrap());
        e[0].name = "a".into();
        e[1].name = "b".into();
        e
    }

    #[test]
    fn decisions_round_trip_and_add_the_lowest_seeds_not_run() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("seeds.toml");
        let d = vec![decision("a", 5), decision("zz", 5)];
        write_seeds_file(&path, 10, &d).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# Seeds decided by"), "{text}");
        let (cap, back) = read_seeds_file(&path).unwrap().unwrap();
        assert_eq!((cap, &back), (10, &d));

        let mut exps = experiments();
        exps[0].seeds = vec![0, 2, 7];
        let unknown = apply_seeds(&mut exps, &back);
        assert_eq!(exps[0].seeds, [0, 2, 7, 1, 3]);
        assert_eq!(exps[1].seeds, [0, 1, 2], "undecided: as its file says");
        assert_eq!(unknown, ["zz"]);
        // Fewer than it has: nothing removed.
        apply_seeds(&mut exps, &[decision("b", 1)]);
        assert_eq!(exps[1].seeds, [0, 1, 2]);
        assert_eq!(
            read_seeds_file(&tmp.path().join("none.toml")).unwrap(),
            None
        );
        assert_eq!(read_seeds_design(&path).unwrap(), None, "written without");
        let design = SeedsDesign {
            kind: "two-stage".into(),
            alpha: 0.05,
            alpha_pilot: 0.01,
            pilot_seeds: vec![0, 1, 2],
            power: 0.8,
            max_new_seeds: 30,
        };
        write_seeds_file_with_design(&path, 33, Some(&design), &d).unwrap();
        assert_eq!(read_seeds_design(&path).unwrap(), Some(design));
        assert_eq!(read_seeds_file(&path).unwrap(), Some((33, d.clone())));
    }

    #[test]
    fn a_broken_seeds_file_names_the_file_and_the_key() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("seeds.toml");
        std::fs::write(
            &path,
            "max_seeds = 10\n[[decision]]\nexperiment = \"a\"\nseed = 4\nreason = \"\"\n",
        )
        .unwrap();
        let err = read_seeds_file(&path).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, ExperimentError::Parse { .. }), "{msg}");
        assert!(msg.contains("seeds.toml"), "{msg}");
        assert!(msg.contains("line 4"), "{msg}");
        assert!(msg.contains("did you mean `seeds`?"), "{msg}");
    }
}
