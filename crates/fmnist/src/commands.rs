//! One function per subcommand; the work itself lives in the library crates.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context as _, bail};
use fmnist_data::{FetchOptions, Manifest, Source};
use fmnist_experiments::{Experiment, Overrides, RunSpec};
use fmnist_metrics::{DataFile, Store, StoredRun};
use fmnist_train::{DeviceSpec, TRAINING_CODE_VERSION};

use crate::cli::{
    Cli, Command, DataArgs, Executor, FiguresArgs, ListArgs, PlanArgs, ReproduceArgs, TrainArgs,
};
use crate::runner::{self, Context, Job, Summary};

pub fn dispatch(mut cli: Cli) -> anyhow::Result<ExitCode> {
    // Paths the user typed are relative to where they typed them; everything
    // else is relative to the repository root, which becomes the working
    // directory so that manifests and the report record short, portable paths.
    let cwd = std::env::current_dir().context("reading the current directory")?;
    absolutize_args(&mut cli.command, &cwd);
    let root_abs = cwd.join(&cli.root);
    std::env::set_current_dir(&root_abs)
        .with_context(|| format!("entering the repository root {}", root_abs.display()))?;
    let root = PathBuf::from(".");
    match cli.command {
        Command::FetchData(args) => fetch_data(&root, &args).map(|_| ExitCode::SUCCESS),
        Command::VerifyData { data_dir } => verify_data(&root, data_dir),
        Command::List(args) => list(&root, &args),
        Command::Run(args) => {
            let experiments = args
                .files
                .iter()
                .map(|f| {
                    fmnist_experiments::load_file(f)
                        .with_context(|| format!("loading experiment {}", f.display()))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let summary = train_plan(&root, &experiments, &args.train)?;
            Ok(exit_code(&summary))
        }
        Command::Reproduce(args) => reproduce(&root, &args),
        Command::Figures(args) => figures(&root, &args),
        Command::Bench(args) => crate::bench::bench(&root, &args),
        Command::RunTask(args) => crate::slurm::run_task(&args),
    }
}

fn absolutize_args(command: &mut Command, cwd: &Path) {
    let abs = |p: &mut PathBuf| *p = cwd.join(&*p);
    let abs_opt = |p: &mut Option<PathBuf>| {
        if let Some(p) = p {
            *p = cwd.join(&*p);
        }
    };
    let data = |d: &mut DataArgs| {
        abs_opt(&mut d.data_dir);
        for m in &mut d.mirrors {
            if !m.starts_with("http://") && !m.starts_with("https://") {
                *m = cwd.join(&*m).display().to_string();
            }
        }
    };
    match command {
        Command::FetchData(d) => data(d),
        Command::VerifyData { data_dir } => abs_opt(data_dir),
        Command::List(l) => abs_opt(&mut l.results),
        Command::Run(r) => {
            r.files.iter_mut().for_each(abs);
            abs_opt(&mut r.train.results);
            data(&mut r.train.data);
        }
        Command::Reproduce(r) => {
            abs_opt(&mut r.train.results);
            abs_opt(&mut r.reports);
            data(&mut r.train.data);
        }
        Command::Figures(f) => {
            abs_opt(&mut f.results);
            abs_opt(&mut f.reports);
            abs_opt(&mut f.data_dir);
        }
        Command::Bench(b) => abs_opt(&mut b.data_dir),
        Command::RunTask(t) => abs(&mut t.plan),
    }
}

fn data_dir(root: &Path, given: Option<PathBuf>) -> PathBuf {
    given.unwrap_or_else(|| in_root(root, "data/fashion-mnist"))
}

fn results_dir(root: &Path, given: Option<PathBuf>, quick: bool) -> PathBuf {
    given.unwrap_or_else(|| in_root(root, if quick { "results-quick" } else { "results" }))
}

fn reports_dir(root: &Path, given: Option<PathBuf>, quick: bool) -> PathBuf {
    given.unwrap_or_else(|| in_root(root, if quick { "reports-quick" } else { "reports" }))
}

/// `root/rel`, without a leading `./` when the root is the working directory.
fn in_root(root: &Path, rel: &str) -> PathBuf {
    if root == Path::new(".") {
        PathBuf::from(rel)
    } else {
        root.join(rel)
    }
}

fn fetch_data(root: &Path, args: &DataArgs) -> anyhow::Result<PathBuf> {
    let dir = data_dir(root, args.data_dir.clone());
    let mut opts = FetchOptions::new(&dir);
    opts.extra_mirrors = args
        .mirrors
        .iter()
        .map(|m| m.parse::<Source>().expect("infallible"))
        .collect();
    opts.use_public = !args.offline;
    let report = fmnist_data::fetch(&Manifest::pinned(), &opts)
        .with_context(|| format!("fetching Fashion-MNIST into {}", dir.display()))?;
    // fmnist-data reports each file as it goes; nothing to repeat here.
    let _ = report;
    Ok(dir)
}

fn verify_data(root: &Path, data_dir_arg: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let dir = data_dir(root, data_dir_arg);
    let checks = fmnist_data::verify(&Manifest::pinned(), &dir)
        .with_context(|| format!("verifying {}", dir.display()))?;
    let mut bad = 0;
    for c in &checks {
        match &c.problem {
            None => println!("ok   {}", c.path.display()),
            Some(p) => {
                bad += 1;
                println!("BAD  {}: {p}", c.path.display());
            }
        }
    }
    if bad > 0 {
        eprintln!(
            "{bad} of {} files failed verification; `cargo xtask fetch-data` replaces them from a mirror",
            checks.len()
        );
        return Ok(ExitCode::FAILURE);
    }
    println!("all {} files match the pinned hashes", checks.len());
    Ok(ExitCode::SUCCESS)
}

fn overrides(plan: &PlanArgs, quick: bool) -> Overrides {
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

fn load_experiments(root: &Path) -> anyhow::Result<Vec<Experiment>> {
    let dir = in_root(root, "experiments");
    fmnist_experiments::load_dir(&dir)
        .with_context(|| format!("loading the experiments in {}", dir.display()))
}

fn data_hashes() -> Vec<String> {
    Manifest::pinned().data_hashes()
}

fn plan(experiments: &[Experiment], plan: &PlanArgs, quick: bool) -> Vec<RunSpec> {
    fmnist_experiments::plan(
        experiments,
        &overrides(plan, quick),
        &data_hashes(),
        TRAINING_CODE_VERSION,
    )
}

fn list(root: &Path, args: &ListArgs) -> anyhow::Result<ExitCode> {
    let experiments = load_experiments(root)?;
    let store = Store::new(results_dir(root, args.results.clone(), args.quick));
    let runs = plan(&experiments, &args.plan, args.quick);
    println!(
        "{:<26} {:<8} {:<7} {:<10} {:>6}  settings",
        "experiment", "figure", "section", "claims", "stored"
    );
    let mut stored_total = 0;
    for exp in &experiments {
        let mine: Vec<(&RunSpec, bool)> = runs
            .iter()
            .filter(|r| r.experiment == exp.name)
            .map(|r| (r, store.finished(&r.experiment, &r.run_id).is_some()))
            .collect();
        let stored = mine.iter().filter(|(_, done)| *done).count();
        stored_total += stored;
        let c = &exp.config;
        println!(
            "{:<26} {:<8} {:<7} {:<10} {:>3}/{:<2}  {} lr {} dropout {} hidden {:?} batch {} epochs {}{}",
            exp.name,
            exp.paper.figure.as_deref().unwrap_or("-"),
            exp.paper.section.as_deref().unwrap_or("-"),
            exp.paper.claims.join(","),
            stored,
            mine.len(),
            c.optimizer.name(),
            c.optimizer.lr(),
            c.model.dropout,
            c.model.hidden,
            c.batch_size,
            mine.first().map_or(c.epochs, |(r, _)| r.config.epochs),
            if exp.report.hypothesis.is_some() {
                "  (hypothesis)"
            } else {
                ""
            }
        );
        for (r, done) in mine {
            let mark = if done { "stored " } else { "missing" };
            println!("    seed {:<4} run {}  {mark}", r.seed, r.run_id);
        }
    }
    println!(
        "{} experiments, {} runs, {stored_total} stored in {}",
        experiments.len(),
        runs.len(),
        store.root().display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C once: stop after the current batch, keep finished runs, discard the
/// unfinished ones. Twice: exit at once.
pub fn install_interrupt() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let result = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            eprintln!("\ninterrupted again: exiting now");
            std::process::exit(130);
        }
        eprintln!(
            "\ninterrupt: stopping; finished runs are kept, unfinished ones discarded (Ctrl-C again to exit at once)"
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

fn train_plan(
    root: &Path,
    experiments: &[Experiment],
    args: &TrainArgs,
) -> anyhow::Result<Summary> {
    set_threads(args.threads);
    let device: DeviceSpec = args.device.parse()?;
    // Fail before loading anything if the device cannot be opened.
    device.open()?;
    let stop = install_interrupt();
    let data_dir = fetch_data(root, &args.data)?;
    let manifest = Manifest::pinned();
    let data = fmnist_data::load(&manifest, &data_dir)
        .with_context(|| format!("loading the data in {}", data_dir.display()))?;
    let runs = plan(experiments, &args.plan, args.quick);
    let jobs: Vec<Job> = runs
        .into_iter()
        .map(|spec| {
            let exp = experiments
                .iter()
                .find(|e| e.name == spec.experiment)
                .expect("planned from these experiments");
            Job {
                experiment_file: relative(root, &exp.path),
                spec,
            }
        })
        .collect();
    let workers = args.jobs.unwrap_or_else(|| match device {
        DeviceSpec::Cpu => std::thread::available_parallelism().map_or(1, |n| n.get()),
        DeviceSpec::Cuda(_) => 1,
    });
    let ctx = Context {
        store: Store::new(results_dir(root, args.results.clone(), args.quick)),
        data: Arc::new(data),
        data_files: data_files(&manifest),
        device,
        workers,
        threads: args.threads,
        force: args.force,
        stop: stop.clone(),
        provenance: crate::provenance::collect(root),
    };
    let summary = match args.executor {
        Executor::Local => runner::execute(jobs, &ctx),
        Executor::Slurm => crate::slurm::execute(jobs, &ctx, &args.slurm, &data_dir)?,
    };
    eprintln!(
        "trained {} runs, reused {} stored runs in {:.1}s{}{}",
        summary.trained,
        summary.reused,
        summary.seconds,
        if summary.interrupted > 0 {
            format!(
                "; {} interrupted (will be trained next time)",
                summary.interrupted
            )
        } else {
            String::new()
        },
        if summary.failed.is_empty() {
            String::new()
        } else {
            format!("; {} FAILED", summary.failed.len())
        }
    );
    for f in &summary.failed {
        eprintln!("  failed: {f}");
    }
    for d in &summary.diverged {
        eprintln!("  {d}");
    }
    if stop.load(Ordering::SeqCst) {
        bail!(
            "interrupted: finished runs are stored; run the same command again to train the rest"
        );
    }
    Ok(summary)
}

pub fn data_files(manifest: &Manifest) -> Vec<DataFile> {
    manifest
        .files
        .iter()
        .map(|f| DataFile {
            name: f.name.clone(),
            blake3: f.raw_blake3.clone(),
        })
        .collect()
}

fn relative(root: &Path, path: &Path) -> String {
    let abs_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let abs = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    abs.strip_prefix(&abs_root)
        .unwrap_or(&abs)
        .display()
        .to_string()
}

fn exit_code(summary: &Summary) -> ExitCode {
    if summary.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn reproduce(root: &Path, args: &ReproduceArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let experiments = load_experiments(root)?;
    let summary = train_plan(root, &experiments, &args.train)?;
    let reports = reports_dir(root, args.reports.clone(), args.train.quick);
    let figures = FiguresArgs {
        results: args.train.results.clone(),
        reports: Some(reports.clone()),
        quick: args.train.quick,
        plan: args.train.plan.clone(),
        data_dir: args.train.data.data_dir.clone(),
    };
    let written = write_report(root, &experiments, &figures, "cargo xtask reproduce")?;
    eprintln!(
        "reproduce: trained {} runs, reused {}, report of {written} files written in {:.1}s: {}",
        summary.trained,
        summary.reused,
        started.elapsed().as_secs_f64(),
        reports.join("REPORT.md").display()
    );
    Ok(exit_code(&summary))
}

fn figures(root: &Path, args: &FiguresArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let experiments = load_experiments(root)?;
    let written = write_report(root, &experiments, args, "cargo xtask figures")?;
    let reports = reports_dir(root, args.reports.clone(), args.quick);
    eprintln!(
        "figures: {written} files written in {:.1}s: {}",
        started.elapsed().as_secs_f64(),
        reports.join("REPORT.md").display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Figures, tables, claims and REPORT.md from the stored runs of the current
/// plan; runs of older settings that are still stored are left out.
fn write_report(
    root: &Path,
    experiments: &[Experiment],
    args: &FiguresArgs,
    command: &str,
) -> anyhow::Result<usize> {
    let store = Store::new(results_dir(root, args.results.clone(), args.quick));
    let runs = plan(experiments, &args.plan, args.quick);
    let stored = store
        .read_all()
        .with_context(|| format!("reading results from {}", store.root().display()))?;
    let current: Vec<StoredRun> = stored
        .into_iter()
        .filter(|s| {
            runs.iter()
                .any(|r| r.run_id == s.manifest.run_id && r.experiment == s.manifest.experiment)
        })
        .collect();
    let missing = runs.len() - current.len();
    if current.is_empty() {
        bail!(
            "no stored results for the current experiments in {}: run `cargo xtask reproduce{}` first",
            store.root().display(),
            if args.quick { " --quick" } else { "" }
        );
    }
    if missing > 0 {
        eprintln!("note: {missing} planned runs have no stored result; the report covers the rest");
    }
    let manifest = Manifest::pinned();
    let dataset = fmnist_data::load(&manifest, &data_dir(root, args.data_dir.clone())).ok();
    if dataset.is_none() {
        eprintln!(
            "note: the data is not present, so FIG. 1 is skipped (run `cargo xtask fetch-data`)"
        );
    }
    let p = crate::provenance::collect(root);
    let input = fmnist_figures::ReportInput {
        experiments,
        runs: &current,
        dataset: dataset.as_ref(),
        claims_file: &in_root(root, "experiments/claims/paper.toml"),
        provenance: fmnist_figures::Provenance {
            commit: p.git_commit.unwrap_or_else(|| "unknown".into()),
            dirty: p.git_dirty.unwrap_or(false),
            date: fmnist_metrics::rfc3339(std::time::SystemTime::now()),
            data_hashes: manifest
                .files
                .iter()
                .map(|f| (f.name.clone(), f.raw_blake3.clone()))
                .collect(),
            machine: p.machine,
            command: command.to_string(),
            quick: args.quick,
        },
    };
    let out = reports_dir(root, args.reports.clone(), args.quick);
    let summary = fmnist_figures::write_report(&input, &out)
        .with_context(|| format!("writing the report into {}", out.display()))?;
    for (id, verdict) in &summary.verdicts {
        eprintln!("  {id}: {verdict:?}");
    }
    Ok(summary.files.len())
}

pub fn load_dataset(root: &Path, dir: Option<PathBuf>) -> anyhow::Result<fmnist_data::Dataset> {
    let args = DataArgs {
        data_dir: dir,
        mirrors: vec![],
        offline: false,
    };
    let dir = fetch_data(root, &args)?;
    fmnist_data::load(&Manifest::pinned(), &dir)
        .with_context(|| format!("loading the data in {}", dir.display()))
}

pub fn set_bench_threads() {
    set_threads(1);
}
