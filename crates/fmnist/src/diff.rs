//! `fmnist diff [A] [B]`: what changed between two reproductions. Each side
//! is a git revision (its committed `reports/summary/`), a report directory,
//! or `results` (the stored runs of the current experiments, summarised as
//! the report would). The default, HEAD against `results`, answers "what
//! did my change do". The comparison itself lives in `fmnist-summary`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context as _, bail};
use fmnist_metrics::{Store, StoredRun};
use fmnist_summary::render::{self, Options};
use fmnist_summary::{DIR, FILES, Status, Summary, SummaryTexts};

use crate::cli::DiffArgs;
use crate::setup::{
    DataSet, Global, known_trials, load_experiments, plan, reports_dir, results_dir,
};

/// The keyword for the current results.
const RESULTS: &str = "results";

/// One side of the diff, loaded.
struct Side {
    label: String,
    summary: Summary,
}

/// Paths typed by the user are relative to where they typed them; a side
/// that names an existing directory there becomes absolute.
pub fn absolutize(args: &mut DiffArgs, cwd: &Path) {
    for p in [&mut args.results, &mut args.md, &mut args.figures]
        .into_iter()
        .flatten()
    {
        *p = cwd.join(&*p);
    }
    for side in [&mut args.a, &mut args.b] {
        if side != RESULTS && cwd.join(&*side).is_dir() {
            *side = cwd.join(&*side).display().to_string();
        }
    }
}

pub fn diff(global: &Global, args: &DiffArgs) -> anyhow::Result<ExitCode> {
    let store = Store::new(results_dir(args.results.clone(), args.quick));
    let needs_store = args.a == RESULTS || args.b == RESULTS || args.figures.is_some();
    let stored: HashMap<String, StoredRun> = if needs_store && store.root().is_dir() {
        store
            .read_all()
            .with_context(|| format!("reading results from {}", store.root().display()))?
            .into_iter()
            .map(|r| (r.manifest.run_id.clone(), r))
            .collect()
    } else {
        HashMap::new()
    };
    let a = load(&args.a, global, args, &store, &stored).context("side A")?;
    let b = load(&args.b, global, args, &store, &stored).context("side B")?;
    let d = fmnist_summary::diff(&a.label, &a.summary, &b.label, &b.summary);
    let opts = Options {
        changed_only: args.changed,
    };
    print!("{}", render::text(&d, opts));
    if let Some(md) = &args.md {
        fmnist_metrics::atomic_write(md, render::markdown(&d, opts).as_bytes())?;
        eprintln!("wrote {}", md.display());
    }
    if let Some(dir) = &args.figures {
        // The folder exists after the command whatever it drew, so that a
        // script can list it.
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        match figures(&d, [a, b], &stored, dir)? {
            0 => eprintln!(
                "no figure drawn into {}: no experiment changed or drifted",
                dir.display()
            ),
            1 => eprintln!("drew 1 figure into {}", dir.display()),
            n => eprintln!("drew {n} figures into {}", dir.display()),
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn load(
    spec: &str,
    global: &Global,
    args: &DiffArgs,
    store: &Store,
    stored: &HashMap<String, StoredRun>,
) -> anyhow::Result<Side> {
    if spec == RESULTS {
        return results(global, args, store, stored);
    }
    let path = PathBuf::from(spec);
    if path.is_dir() {
        return directory(&path);
    }
    revision(spec, args.quick)
}

/// A report directory, or its `summary/` directory itself.
fn directory(path: &Path) -> anyhow::Result<Side> {
    let dir = if path.join(DIR).join(FILES[0]).is_file() {
        path.join(DIR)
    } else if path.join(FILES[0]).is_file() {
        path.to_path_buf()
    } else {
        bail!(
            "{} is not a report: it has no {DIR}/{} (a report written by `cargo xtask figures` has one)",
            path.display(),
            FILES[0]
        );
    };
    let summary = Summary::read_dir(&dir)
        .with_context(|| format!("reading the summary in {}", dir.display()))?;
    Ok(Side {
        label: dir.display().to_string(),
        summary,
    })
}

fn git(args: &[&str]) -> anyhow::Result<Option<String>> {
    let out = Command::new("git")
        .args(args)
        .output()
        .context("running git (needed to read a revision's summary)")?;
    Ok(out
        .status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned()))
}

/// The summary committed at `rev`, read with `git show`.
fn revision(rev: &str, quick: bool) -> anyhow::Result<Side> {
    let Some(commit) = git(&[
        "rev-parse",
        "--verify",
        "--quiet",
        &format!("{rev}^{{commit}}"),
    ])?
    else {
        bail!(
            "{rev:?} is neither a git revision of this repository, nor a directory, nor `{RESULTS}`"
        );
    };
    let commit = commit.trim().to_string();
    let base = format!("{}/{DIR}", reports_dir(None, quick).display());
    let mut texts = Vec::new();
    for file in FILES {
        let Some(text) = git(&["show", &format!("{commit}:{base}/{file}")])? else {
            bail!(
                "revision {rev} ({}) has no summary: {base}/{file} is not committed there \
                 (reports before the summary existed have none; `cargo xtask figures` writes it)",
                &commit[..commit.len().min(10)]
            );
        };
        texts.push(text);
    }
    let [meta, runs, curves]: [String; 3] = texts.try_into().expect("three files");
    let label = format!("{rev}:{base} ({})", &commit[..commit.len().min(10)]);
    let summary = Summary::parse(
        &format!("{rev}:{base}"),
        &SummaryTexts { meta, runs, curves },
    )?;
    Ok(Side { label, summary })
}

/// The stored runs of the current plan, summarised as the report would;
/// the claims' verdicts are those of the written report when it was made
/// from exactly these runs (the diff does not evaluate claims itself).
fn results(
    global: &Global,
    args: &DiffArgs,
    store: &Store,
    stored: &HashMap<String, StoredRun>,
) -> anyhow::Result<Side> {
    let data_set = DataSet::choose(global.dataset.as_deref(), None)?;
    // A TPE sweep's trials: every round proposed so far.
    let (experiments, _) = known_trials(
        &load_experiments()?,
        store,
        &args.plan,
        args.quick,
        &data_set,
    )?;
    let planned = plan(&experiments, &args.plan, args.quick, &data_set);
    let current = crate::report::planned_runs(&planned, stored);
    if current.is_empty() {
        bail!(
            "no stored results for the current experiments in {}: run `cargo xtask reproduce{}` first",
            store.root().display(),
            if args.quick { " --quick" } else { "" }
        );
    }
    if current.len() < planned.len() {
        eprintln!(
            "note: {} planned runs have no stored result in {}; the diff leaves them out",
            planned.len() - current.len(),
            store.root().display()
        );
    }
    let mut summary = Summary::from_runs(&current, &[], args.quick);
    summary.retain_for(&experiments);
    let written = reports_dir(None, args.quick).join(DIR);
    if let Ok(report) = Summary::read_dir(&written) {
        let ids = |s: &Summary| {
            let mut v: Vec<(String, String)> = s
                .runs
                .iter()
                .map(|r| (r.experiment.clone(), r.run_id.clone()))
                .collect();
            v.sort();
            v
        };
        if ids(&report) == ids(&summary) {
            summary.meta.extend(
                report
                    .meta
                    .iter()
                    .filter(|(k, _)| k.starts_with("verdict."))
                    .cloned(),
            );
        }
    }
    Ok(Side {
        label: format!("{RESULTS} ({})", store.root().display()),
        summary,
    })
}

/// Validation curves of every changed experiment, A dashed and B solid. An
/// experiment's curves come from its stored runs when the store still holds
/// all of them (full precision), otherwise from the summary.
fn figures(
    d: &fmnist_summary::Diff,
    sides: [Side; 2],
    stored: &HashMap<String, StoredRun>,
    dir: &Path,
) -> anyhow::Result<usize> {
    use fmnist_figures::diff_plot::{DiffPoint, DiffSide, write_diff_figure};
    let [mut a, mut b] = sides;
    let mut drawn = 0;
    for e in d
        .experiments
        .iter()
        .filter(|e| matches!(e.status, Status::Changed | Status::Drift))
    {
        for side in [&mut a, &mut b] {
            let runs: Option<Vec<&StoredRun>> = side
                .summary
                .runs_of(&e.name)
                .iter()
                .map(|r| stored.get(&r.run_id))
                .collect();
            if let Some(runs) = runs.filter(|r| !r.is_empty()) {
                let rows = fmnist_summary::curve_rows(&e.name, &runs);
                side.summary.replace_curves(&e.name, rows);
            }
        }
        let curve = |side: &Side, quantity: &str| {
            fmnist_summary::band(&side.summary.curves_of(&e.name), "val", quantity, 0.95)
                .into_iter()
                .map(|p| DiffPoint {
                    epoch: p.epoch,
                    mean: p.mean,
                    lo: p.lo,
                    hi: p.hi,
                    n: p.n,
                })
                .collect::<Vec<_>>()
        };
        let side = |s: &Side, label: &str| DiffSide {
            label: label.to_string(),
            loss: curve(s, "loss"),
            accuracy: curve(s, "accuracy"),
        };
        let (da, db) = (side(&a, "A"), side(&b, "B"));
        if da.loss.is_empty() && db.loss.is_empty() {
            // Neither the store nor either summary holds its curves (the
            // summary keeps only those a figure of the paper or a claim needs).
            continue;
        }
        let title = format!(
            "{}: A dashed, B solid (bands: 95% t interval of the mean over seeds)",
            e.name
        );
        write_diff_figure(
            &title,
            &DiffSide {
                label: format!("A: {}", short(&a.label)),
                ..da
            },
            &DiffSide {
                label: format!("B: {}", short(&b.label)),
                ..db
            },
            &dir.join(format!("diff-{}", fmnist_experiments::file_slug(&e.name))),
        )
        .with_context(|| format!("drawing the diff figure of {}", e.name))?;
        drawn += 1;
    }
    Ok(drawn)
}

/// A side's label without its details in parentheses, for a legend.
fn short(label: &str) -> &str {
    label.split(" (").next().unwrap_or(label)
}
