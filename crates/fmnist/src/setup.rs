//! What every command that trains or reads data sets up first: which data set
//! (the pinned Fashion-MNIST or a manifest given with `--dataset`), where its
//! files live, fetching and loading them, the thread count, Ctrl-C, and the
//! plan: the experiments, their jobs, and the TPE trials known from the store.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;
use fmnist_data::{Dataset, FetchOptions, Manifest, Source};
use fmnist_metrics::DataFile;

use fmnist_experiments::{Experiment, Overrides, RunSpec};
use fmnist_train::TRAINING_CODE_VERSION;

use crate::cli::{DataArgs, PlanArgs};

/// A data set: its manifest and its data directory.
#[derive(Debug, Clone)]
pub struct DataSet {
    pub manifest: Manifest,
    pub dir: PathBuf,
}

impl DataSet {
    /// `--dataset FILE` (a manifest) or the pinned Fashion-MNIST, with its
    /// files in `--data-dir` or `data/<name of the manifest file>`.
    pub fn choose(dataset: Option<&Path>, data_dir: Option<PathBuf>) -> anyhow::Result<DataSet> {
        let (manifest, default_dir) = match dataset {
            None => (Manifest::pinned(), PathBuf::from("data/fashion-mnist")),
            Some(path) => {
                let manifest = Manifest::from_path(path)
                    .with_context(|| format!("reading the data set manifest {}", path.display()))?;
                let stem = path
                    .file_stem()
                    .map_or_else(|| "dataset".into(), |s| s.to_string_lossy().into_owned());
                (manifest, PathBuf::from("data").join(stem))
            }
        };
        Ok(DataSet {
            manifest,
            dir: data_dir.unwrap_or(default_dir),
        })
    }

    /// Fills the data directory from the sources in order (what is there;
    /// `--mirror`s, then `$FMNIST_MIRROR`'s, in the order given; the data
    /// set's local directories; its public URLs), verifying every file.
    pub fn fetch(&self, args: &DataArgs) -> anyhow::Result<()> {
        let mut opts = FetchOptions::new(&self.dir);
        opts.extra_mirrors = args
            .mirrors
            .iter()
            .filter(|m| !m.trim().is_empty())
            .map(|m| m.trim().parse::<Source>().expect("infallible"))
            .collect();
        opts.use_public = !args.offline;
        let report = crate::progress::FetchProgress::new();
        fmnist_data::fetch(&self.manifest, &opts, &|e| report.event(e)).with_context(|| {
            format!(
                "fetching {} into {}",
                self.manifest.name,
                self.dir.display()
            )
        })?;
        Ok(())
    }

    /// Reads the data into memory, checking every file's hash again.
    pub fn load(&self) -> anyhow::Result<Dataset> {
        fmnist_data::load(&self.manifest, &self.dir)
            .with_context(|| format!("loading the data in {}", self.dir.display()))
    }

    /// [`DataSet::fetch`] then [`DataSet::load`].
    pub fn fetch_and_load(&self, args: &DataArgs) -> anyhow::Result<Dataset> {
        self.fetch(args)?;
        self.load()
    }

    /// The BLAKE3 of each payload: part of every run's identity.
    pub fn hashes(&self) -> Vec<String> {
        self.manifest.data_hashes()
    }

    /// What each run manifest records about the data.
    pub fn files(&self) -> Vec<DataFile> {
        self.manifest
            .files
            .iter()
            .map(|f| DataFile {
                name: f.name.clone(),
                blake3: f.raw_blake3.clone(),
            })
            .collect()
    }
}

/// The data set of the invocation, fetched (from local mirrors or the public
/// URLs) and loaded: what `bench` and `gpu-check` run on.
pub fn dataset_for_measuring(
    dataset: Option<&Path>,
    data_dir: Option<PathBuf>,
) -> anyhow::Result<Dataset> {
    DataSet::choose(dataset, data_dir.clone())?.fetch_and_load(&DataArgs {
        data_dir,
        mirrors: env_mirrors(),
        offline: false,
    })
}

/// The mirrors of `$FMNIST_MIRROR` (comma-separated directories or URLs),
/// tried after those given with `--mirror`.
pub fn env_mirrors() -> Vec<String> {
    std::env::var("FMNIST_MIRROR")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(str::to_string)
        .collect()
}

/// `experiments/baseline.toml`, the configuration of Table I.
pub fn baseline() -> anyhow::Result<fmnist_experiments::Experiment> {
    let path = Path::new("experiments/baseline.toml");
    let mut experiments = fmnist_experiments::load_file(path)
        .with_context(|| format!("loading {}", path.display()))?;
    Ok(experiments.remove(0))
}

/// Ctrl-C (or SIGTERM, as Slurm sends before a time limit) once: stop after
/// the current batch, keep finished runs and the checkpoints of unfinished
/// ones. Twice: exit at once.
pub fn install_interrupt() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let result = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            eprintln!("\ninterrupted again: exiting now");
            std::process::exit(130);
        }
        eprintln!(
            "\ninterrupt: stopping after this batch; finished runs are kept, unfinished ones \
             resume from their last epoch next time (Ctrl-C again to exit at once)"
        );
    });
    if let Err(e) = result {
        eprintln!("warning: cannot install the Ctrl-C handler: {e}");
    }
    stop
}

/// Candle's CPU matrix products read RAYON_NUM_THREADS at each call; runs
/// are parallel across workers, so each run gets `threads` threads.
#[allow(unsafe_code)]
pub fn set_threads(threads: usize) {
    // SAFETY: called from the main thread before any other thread exists
    // (the Ctrl-C handler thread and the workers start later).
    unsafe { std::env::set_var("RAYON_NUM_THREADS", threads.max(1).to_string()) };
}

/// Settings that hold for the whole invocation.
#[derive(Debug, Clone)]
pub struct Global {
    /// `--dataset`, absolute.
    pub dataset: Option<PathBuf>,
}

pub fn results_dir(given: Option<PathBuf>, quick: bool) -> PathBuf {
    given.unwrap_or_else(|| PathBuf::from(if quick { "results-quick" } else { "results" }))
}

pub fn reports_dir(given: Option<PathBuf>, quick: bool) -> PathBuf {
    given.unwrap_or_else(|| PathBuf::from(if quick { "reports-quick" } else { "reports" }))
}

pub fn overrides(plan: &PlanArgs, quick: bool) -> Overrides {
    let mut o = if quick {
        Overrides::quick()
    } else {
        Overrides::default()
    };
    if plan.seeds.is_some() {
        o.seeds = plan.seeds.clone();
    }
    if plan.epochs.is_some() {
        o.epochs = plan.epochs;
    }
    o
}

/// Where `reproduce --decide` records the seeds it chose (beside the
/// claims file: every file directly in experiments/ is an experiment).
pub const SEEDS_FILE: &str = "experiments/claims/seeds.toml";

/// Every experiment of `experiments/`, with the seeds [`SEEDS_FILE`]
/// decided, so that every command (list, run, reproduce, figures, Slurm)
/// plans the same runs.
pub fn load_experiments() -> anyhow::Result<Vec<Experiment>> {
    let dir = Path::new("experiments");
    let mut experiments = fmnist_experiments::load_dir(dir)
        .with_context(|| format!("loading the experiments in {}", dir.display()))?;
    apply_decided_seeds(&mut experiments, true)?;
    Ok(experiments)
}

/// Gives `experiments` the seeds [`SEEDS_FILE`] decided for them. With
/// `all`, a decision for an experiment that no file defines is an error
/// (the file is stale); without, `experiments` may be a few files only.
pub fn apply_decided_seeds(experiments: &mut [Experiment], all: bool) -> anyhow::Result<()> {
    let Some((_, decisions)) = fmnist_experiments::read_seeds_file(Path::new(SEEDS_FILE))? else {
        return Ok(());
    };
    let unknown = fmnist_experiments::apply_seeds(experiments, &decisions);
    if all && !unknown.is_empty() {
        anyhow::bail!(
            "{SEEDS_FILE} decides seeds for {}, which no file in experiments/ defines; \
             delete those decisions (or the file) and run `cargo xtask reproduce -- --decide` again",
            unknown.join(", ")
        );
    }
    Ok(())
}

pub fn plan(
    experiments: &[Experiment],
    plan: &PlanArgs,
    quick: bool,
    data: &DataSet,
) -> Vec<RunSpec> {
    fmnist_experiments::plan(
        experiments,
        &overrides(plan, quick),
        &data.hashes(),
        TRAINING_CODE_VERSION,
    )
}

/// `path` relative to the repository root (the working directory) when it
/// lies inside it, else as it is: what manifests and the report record.
pub fn relative(path: &Path) -> String {
    let root = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let canonical_root = root.canonicalize().unwrap_or_else(|_| root.clone());
    let abs = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    abs.strip_prefix(&canonical_root)
        .or_else(|_| path.strip_prefix(&root))
        .unwrap_or(&abs)
        .display()
        .to_string()
}

/// One job per planned run, with its experiment's file.
pub fn jobs_of(experiments: &[Experiment], runs: Vec<RunSpec>) -> Vec<fmnist_runner::Job> {
    runs.into_iter()
        .map(|spec| {
            let exp = experiments
                .iter()
                .find(|e| e.name == spec.experiment)
                .expect("planned from these experiments");
            fmnist_runner::Job {
                experiment_file: relative(&exp.path),
                spec,
                until: None,
            }
        })
        .collect()
}

/// `experiments` with each TPE sweep's trials proposed so far from the
/// runs `store` holds, in place of its round 0, planned as `plan_args` and
/// `quick` plan them (`fmnist_runner::search::expand`), and one line per
/// TPE sweep saying which of its rounds are known: every command that reads
/// the store (list, the report, the diff, the export) sees the trials the
/// runner trained.
pub fn known_trials(
    experiments: &[Experiment],
    store: &fmnist_metrics::Store,
    plan_args: &PlanArgs,
    quick: bool,
    data: &DataSet,
) -> anyhow::Result<(Vec<Experiment>, Vec<String>)> {
    let planner = |round: &[Experiment]| jobs_of(round, plan(round, plan_args, quick, data));
    fmnist_runner::search::expand(experiments, store, &planner)
        .context("proposing the rounds of the TPE sweeps from the stored runs")
}
