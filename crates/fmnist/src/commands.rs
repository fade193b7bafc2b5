//! One function per subcommand; the work itself lives in the library crates
//! (training a plan in `fmnist-runner`) and in the modules `setup` (data,
//! threads, Ctrl-C), `slurm`, `report` and `evaluate`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::{Context as _, bail};
use fmnist_experiments::Experiment;
use fmnist_metrics::Store;
use fmnist_train::DeviceSpec;

use crate::cli::{
    Cli, Command, DataArgs, DataManifestArgs, ExecutorKind, ExportCommand, FiguresArgs,
    ReproduceArgs, StudyCommand, TrainArgs,
};
use fmnist_runner::{self as runner, Context, Job, Tally};

use crate::progress::Bars;
use crate::setup::{
    self, DataSet, Global, jobs_of, load_experiments, plan, reports_dir, results_dir,
};

pub fn dispatch(mut cli: Cli) -> anyhow::Result<ExitCode> {
    // Paths the user typed are relative to where they typed them; everything
    // else is relative to the repository root, which becomes the working
    // directory so that manifests and the report record short, portable paths.
    let cwd = std::env::current_dir().context("reading the current directory")?;
    absolutize_args(&mut cli.command, &cwd);
    let global = Global {
        dataset: cli.dataset.as_ref().map(|p| cwd.join(p)),
    };
    let root_abs = cwd.join(&cli.root);
    std::env::set_current_dir(&root_abs)
        .with_context(|| format!("entering the repository root {}", root_abs.display()))?;
    match cli.command {
        Command::FetchData(args) => {
            DataSet::choose(global.dataset.as_deref(), args.data_dir.clone())?.fetch(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::VerifyData { data_dir } => verify_data(&global, data_dir),
        Command::DataManifest(args) => data_manifest(&args),
        Command::Evaluate(args) => crate::evaluate::evaluate(&global, &args),
        Command::List(args) => crate::list::list(&global, &args),
        Command::Run(args) => {
            let experiments = args
                .files
                .iter()
                .map(|f| {
                    fmnist_experiments::load_file(f)
                        .with_context(|| format!("loading experiment {}", f.display()))
                })
                .collect::<anyhow::Result<Vec<_>>>()?
                .into_iter()
                .flatten()
                .collect::<Vec<_>>();
            let mut experiments = experiments;
            crate::setup::apply_decided_seeds(&mut experiments, false)?;
            let (summary, _) = train_plan(&global, &experiments, &args.train)?;
            Ok(exit_code(&summary))
        }
        Command::Reproduce(args) => reproduce(&global, &args),
        Command::Figures(args) => figures(&global, &args),
        Command::Bench(args) => crate::bench::bench(&global, &args),
        Command::GpuCheck(args) => crate::gpu_check::gpu_check(&global, &args),
        Command::Diff(args) => crate::diff::diff(&global, &args),
        Command::RunTask(args) => crate::slurm::run_task(&args),
        Command::Export(ExportCommand::Mlflow(args)) => crate::export::mlflow(&global, &args),
        Command::Study(StudyCommand::Search(args)) => crate::study::search(&global, &args),
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
        d.mirrors.extend(setup::env_mirrors());
        for m in &mut d.mirrors {
            if !m.starts_with("http://") && !m.starts_with("https://") && !m.trim().is_empty() {
                *m = cwd.join(m.trim()).display().to_string();
            }
        }
    };
    match command {
        Command::FetchData(d) => data(d),
        Command::VerifyData { data_dir } => abs_opt(data_dir),
        Command::DataManifest(m) => {
            abs(&mut m.dir);
            abs_opt(&mut m.output);
        }
        Command::Evaluate(e) => {
            abs_opt(&mut e.results);
            data(&mut e.data);
        }
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
        Command::GpuCheck(g) => abs_opt(&mut g.data_dir),
        Command::Diff(d) => crate::diff::absolutize(d, cwd),
        Command::RunTask(t) => abs(&mut t.plan),
        Command::Export(ExportCommand::Mlflow(m)) => abs_opt(&mut m.results),
        Command::Study(StudyCommand::Search(s)) => {
            abs_opt(&mut s.files);
            abs_opt(&mut s.reports);
            abs_opt(&mut s.train.results);
            data(&mut s.train.data);
        }
    }
}

fn verify_data(global: &Global, data_dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let set = DataSet::choose(global.dataset.as_deref(), data_dir)?;
    let checks = fmnist_data::verify(&set.manifest, &set.dir)
        .with_context(|| format!("verifying {}", set.dir.display()))?;
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

fn data_manifest(args: &DataManifestArgs) -> anyhow::Result<ExitCode> {
    let classes = args
        .classes
        .clone()
        .unwrap_or_else(|| (0..10).map(|c| c.to_string()).collect());
    let files: [&str; 4] = [0, 1, 2, 3].map(|i| args.files[i].as_str());
    let manifest = fmnist_data::Manifest::describe(&args.name, classes, &args.dir, files)
        .with_context(|| format!("describing the data set in {}", args.dir.display()))?;
    let text = format!(
        "# The data set {:?}, described by `fmnist data-manifest`: the digests of each\n\
         # decompressed IDX payload, checked whenever the data is fetched or loaded.\n{}",
        args.name,
        manifest.to_toml()
    );
    match &args.output {
        Some(path) => {
            fmnist_metrics::atomic_write(path, text.as_bytes())?;
            eprintln!(
                "wrote {}; use it with `--dataset {}`",
                path.display(),
                path.display()
            );
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn train_plan(
    global: &Global,
    experiments: &[Experiment],
    args: &TrainArgs,
) -> anyhow::Result<(Tally, Arc<fmnist_data::Dataset>)> {
    setup::set_threads(args.threads);
    let device: DeviceSpec = args.device.parse()?;
    // Fail before loading anything if the device cannot be opened.
    device.open()?;
    let stop = setup::install_interrupt();
    let data_set = DataSet::choose(global.dataset.as_deref(), args.data.data_dir.clone())?;
    let data = Arc::new(data_set.fetch_and_load(&args.data)?);
    let runs = plan(experiments, &args.plan, args.quick, &data_set);
    let jobs = jobs_of(experiments, runs);
    let workers = args.jobs.unwrap_or_else(|| match device {
        DeviceSpec::Cpu => std::thread::available_parallelism().map_or(1, |n| n.get()),
        DeviceSpec::Cuda(_) => 1,
    });
    let ctx = Context {
        store: Store::new(results_dir(args.results.clone(), args.quick)),
        data: data.clone(),
        data_files: data_set.files(),
        device,
        workers,
        threads: args.threads,
        force: args.force,
        stop: stop.clone(),
        provenance: crate::provenance::collect(Path::new(".")),
        observer: Arc::new(Bars::default()),
    };
    let moved = ctx
        .store
        .move_legacy()
        .context("moving results of an earlier layout aside")?;
    if moved > 0 {
        eprintln!(
            "note: moved {moved} runs stored by an earlier version (without weights) to {}; \
             they are trained again",
            ctx.store.root().join("legacy").display()
        );
    }
    let mut exec = |jobs: Vec<Job>| match args.executor {
        ExecutorKind::Local => runner::execute(jobs, &ctx),
        ExecutorKind::Slurm => crate::slurm::execute(
            jobs,
            &ctx,
            &args.slurm,
            &data_set,
            global.dataset.as_deref(),
        )
        .map_err(|e| runner::RunnerError::Executor(crate::errors::describe(&e))),
    };
    // Each round of a TPE sweep is planned as the command planned the rest.
    let planner =
        |round: &[Experiment]| jobs_of(round, plan(round, &args.plan, args.quick, &data_set));
    let summary =
        runner::search::execute(jobs, experiments, &ctx, args.unprune, &mut exec, &planner)?;
    print_summary(&summary);
    if stop.load(Ordering::SeqCst) {
        bail!(
            "interrupted: finished runs are stored; run the same command again to train the rest"
        );
    }
    // The data goes back to the caller, so that the report reuses it rather
    // than holding a second copy.
    drop(ctx);
    Ok((summary, data))
}

/// What was trained and reused, and every failure and divergence.
fn print_summary(summary: &Tally) {
    eprintln!(
        "trained {}{}, reused {} in {:.1}s{}{}{}",
        runner::runs(summary.trained_runs()),
        match summary.rung_passes {
            0 => String::new(),
            1 => " (1 rung pass of successive halving)".into(),
            n => format!(" ({n} rung passes of successive halving)"),
        },
        runner::stored_runs(summary.reused_runs()),
        summary.seconds,
        if summary.resumed > 0 {
            format!("; {} resumed from a checkpoint", summary.resumed)
        } else {
            String::new()
        },
        if summary.interrupted > 0 {
            format!(
                "; {} interrupted (they resume from their last epoch next time)",
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
}

fn exit_code(summary: &Tally) -> ExitCode {
    if summary.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn reproduce(global: &Global, args: &ReproduceArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let mut experiments = load_experiments()?;
    if args.decide {
        crate::decide::decide(global, &mut experiments, &args.train, args.max_seeds)?;
    }
    let (summary, data) = train_plan(global, &experiments, &args.train)?;
    // Training is over: of the training images, the report needs only those
    // it shows, so the rest is freed before the figures are drawn.
    let mut data = Arc::try_unwrap(data).unwrap_or_else(|shared| (*shared).clone());
    let classes = data.classes.len();
    fmnist_figures::keep_only_shown_images(&mut data, classes);
    let reports = reports_dir(args.reports.clone(), args.train.quick);
    let figures = FiguresArgs {
        results: args.train.results.clone(),
        reports: args.reports.clone(),
        quick: args.train.quick,
        plan: args.train.plan.clone(),
        data_dir: args.train.data.data_dir.clone(),
    };
    let written = crate::report::write(global, &experiments, &figures, Some(&data))?;
    eprintln!(
        "reproduce: trained {}, reused {}, report of {written} file{} written in {:.1}s: {}",
        runner::runs(summary.trained_runs()),
        runner::stored_runs(summary.reused_runs()),
        if written == 1 { "" } else { "s" },
        started.elapsed().as_secs_f64(),
        reports.join("REPORT.md").display()
    );
    Ok(exit_code(&summary))
}

fn figures(global: &Global, args: &FiguresArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let experiments = load_experiments()?;
    let written = crate::report::write(global, &experiments, args, None)?;
    let reports = reports_dir(args.reports.clone(), args.quick);
    eprintln!(
        "figures: {written} file{} written in {:.1}s: {}",
        if written == 1 { "" } else { "s" },
        started.elapsed().as_secs_f64(),
        reports.join("REPORT.md").display()
    );
    Ok(ExitCode::SUCCESS)
}
