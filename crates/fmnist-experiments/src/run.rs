//! From experiments to runs: command-line overrides, the plan of runs, and the
//! identity of each run.

use serde::{Deserialize, Serialize};

use crate::config::RunConfig;
use crate::experiment::Experiment;

/// One training run: an experiment's settings with one seed. Serialisable so
/// that a plan can be frozen to a file and run elsewhere (Slurm).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    pub experiment: String,
    pub config: RunConfig,
    pub seed: u64,
    pub run_id: String,
}

/// Settings given on the command line, applied on top of every experiment.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub seeds: Option<Vec<u64>>,
    pub epochs: Option<usize>,
    pub train_limit: Option<usize>,
    pub val_limit: Option<usize>,
}

impl Overrides {
    /// A smoke test: two epochs, one seed, on a subset of the data.
    pub fn quick() -> Self {
        Overrides {
            seeds: Some(vec![0]),
            epochs: Some(2),
            train_limit: Some(6_000),
            val_limit: Some(2_000),
        }
    }

    pub fn apply(&self, exp: &Experiment) -> (RunConfig, Vec<u64>) {
        let mut config = exp.config.clone();
        if let Some(e) = self.epochs {
            config.epochs = e;
        }
        if let Some(n) = self.train_limit {
            config.train_limit = Some(config.train_limit.map_or(n, |m| m.min(n)));
            config.batch_size = config.batch_size.min(n);
        }
        if let Some(n) = self.val_limit {
            config.val_limit = Some(config.val_limit.map_or(n, |m| m.min(n)));
        }
        let seeds = self.seeds.clone().unwrap_or_else(|| exp.seeds.clone());
        (config, seeds)
    }
}

/// Every run of `experiments`, in order, with its id.
pub fn plan(
    experiments: &[Experiment],
    overrides: &Overrides,
    data_hashes: &[String],
    code_version: u32,
) -> Vec<RunSpec> {
    let mut runs = Vec::new();
    for exp in experiments {
        let (config, seeds) = overrides.apply(exp);
        for seed in seeds {
            runs.push(RunSpec {
                experiment: exp.name.clone(),
                run_id: run_id(&config, seed, data_hashes, code_version),
                config: config.clone(),
                seed,
            });
        }
    }
    runs
}

/// BLAKE3 of the canonical JSON of everything that determines a run's numbers:
/// the resolved settings, the seed, the data and the training code's version.
/// Names, descriptions and paper references are left out on purpose, so that
/// renaming or re-describing an experiment does not retrain it.
pub fn run_id(config: &RunConfig, seed: u64, data_hashes: &[String], code_version: u32) -> String {
    #[derive(Serialize)]
    struct Identity<'a> {
        config: &'a RunConfig,
        seed: u64,
        data: &'a [String],
        training_code_version: u32,
    }
    let canonical = serde_json::to_vec(&Identity {
        config,
        seed,
        data: data_hashes,
        training_code_version: code_version,
    })
    .expect("a RunConfig always serialises");
    blake3::hash(&canonical).to_hex()[..16].to_string()
}

/// How many hex digits of a run id identify it for a reader; the full id is
/// in the run's manifest.
pub const SHORT_RUN_ID_LEN: usize = 8;

/// The first [`SHORT_RUN_ID_LEN`] characters of a run id (all of a shorter one).
pub fn short_run_id(run_id: &str) -> &str {
    match run_id.char_indices().nth(SHORT_RUN_ID_LEN) {
        Some((i, _)) => &run_id[..i],
        None => run_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load_dir;
    use crate::testdata::{baseline_text, shipped};

    /// The frozen copy of the shipped experiments (never the repository's
    /// `experiments/`: a user's own file there, with a `train_limit` say,
    /// must not fail these tests).
    fn experiments() -> Vec<Experiment> {
        load_dir(&shipped()).unwrap()
    }

    #[test]
    fn run_ids_depend_on_settings_seed_data_and_code_only() {
        let exps = experiments();
        let base = &exps[0].config;
        let data = vec!["d1".to_string()];
        let id = run_id(base, 0, &data, 1);
        assert_eq!(id.len(), 16);
        assert_eq!(id, run_id(&base.clone(), 0, &data, 1), "stable");
        assert_ne!(id, run_id(base, 1, &data, 1), "seed");
        assert_ne!(id, run_id(base, 0, &["d2".to_string()], 1), "data");
        assert_ne!(id, run_id(base, 0, &data, 2), "code version");
        let mut other = base.clone();
        other.optimizer.set_lr(0.002);
        assert_ne!(id, run_id(&other, 0, &data, 1), "lr");
    }

    #[test]
    fn the_plan_has_one_run_per_seed_and_equal_ids_exactly_for_equal_runs() {
        let exps = experiments();
        let plan = plan(&exps, &Overrides::default(), &[], 1);
        let expected: usize = exps.iter().map(|e| e.seeds.len()).sum();
        assert_eq!(plan.len(), expected);
        // The lr sweep repeats some of the paper's experiments: same settings
        // and seed, same id; anything else, another id.
        let mut shared = 0;
        for (i, a) in plan.iter().enumerate() {
            for b in &plan[i + 1..] {
                let same = a.config == b.config && a.seed == b.seed;
                assert_eq!(a.run_id == b.run_id, same, "{a:?} / {b:?}");
                shared += usize::from(same);
            }
        }
        assert!(
            shared > 0,
            "the shipped sweep shares runs with the paper's experiments"
        );
    }

    #[test]
    fn two_files_with_equal_settings_have_equal_run_ids() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.toml"), baseline_text()).unwrap();
        // Another name, description, paper reference and report entry, and
        // the same settings reached through `extends` and written otherwise.
        std::fs::write(
            dir.path().join("b.toml"),
            "extends = \"a.toml\"\ndescription = \"another\"\n[report]\nlabel = \"b\"\n[optimizer]\nlr = 1e-3\n",
        )
        .unwrap();
        let exps = load_dir(dir.path()).unwrap();
        let runs = plan(&exps, &Overrides::default(), &["d".to_string()], 7);
        assert_eq!(runs.len(), 6);
        let ids = |name: &str| -> Vec<&str> {
            runs.iter()
                .filter(|r| r.experiment == name)
                .map(|r| r.run_id.as_str())
                .collect()
        };
        assert_eq!(ids("a"), ids("b"));
        assert_eq!(ids("a").len(), 3);

        let spec = &runs[0];
        let json = serde_json::to_string(spec).unwrap();
        assert_eq!(&serde_json::from_str::<RunSpec>(&json).unwrap(), spec);
    }

    #[test]
    fn overrides_change_seeds_epochs_and_subset() {
        let exps = experiments();
        let quick = plan(&exps, &Overrides::quick(), &[], 1);
        assert_eq!(quick.len(), exps.len());
        for run in &quick {
            assert_eq!(run.config.epochs, 2);
            assert_eq!(run.config.train_limit, Some(6_000));
            assert_eq!(run.seed, 0);
        }
        let full = plan(&exps, &Overrides::default(), &[], 1);
        assert_ne!(quick[0].run_id, full[0].run_id);
    }
}
