//! `fmnist export mlflow`: the stored runs of the current plan (or of the
//! experiments named), one (experiment, run) pair each, handed to
//! `fmnist-mlflow`, which chooses the experiments, maps each pair and sends
//! them to an MLflow tracking server; here only the plan mapped onto the
//! store, the progress and the summary line.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use fmnist_metrics::Store;
use fmnist_mlflow::{ExportOptions, ExportProgress, ExportRun, RunOutcome};
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::MlflowArgs;
use crate::report::read_store;
use crate::setup::{DataSet, Global, known_trials, load_experiments, plan, relative, results_dir};

/// Without a terminal, a line every this many pairs.
const PLAIN_EVERY: usize = 25;

pub fn mlflow(global: &Global, args: &MlflowArgs) -> anyhow::Result<ExitCode> {
    let data_set = DataSet::choose(global.dataset.as_deref(), None)?;
    let store = Store::new(results_dir(args.results.clone(), args.quick));
    // A TPE sweep's trials: every round proposed so far.
    let (all, _) = known_trials(
        &load_experiments()?,
        &store,
        &args.plan,
        args.quick,
        &data_set,
    )?;
    let experiments = fmnist_mlflow::choose(all, &args.experiments)?;
    let specs = plan(&experiments, &args.plan, args.quick, &data_set);
    let stored = read_store(&store)?;
    let pairs: Vec<ExportRun<'_>> = specs
        .iter()
        .filter_map(|spec| {
            let run = stored.get(&spec.run_id)?;
            let exp = experiments.iter().find(|e| e.name == spec.experiment)?;
            Some(ExportRun::new(exp, run, relative(&exp.path)))
        })
        .collect();
    let skipped = specs.len() - pairs.len();
    if pairs.is_empty() {
        bail!(
            "none of the {} planned runs is stored in {}: run `cargo xtask reproduce{}` first",
            specs.len(),
            store.root().display(),
            if args.quick { " --quick" } else { "" }
        );
    }
    let uri = &args.tracking_uri;
    let options = ExportOptions {
        artifacts: args.artifacts,
        ..ExportOptions::default()
    };
    let mut bar = Bar::new(pairs.len());
    let result = fmnist_mlflow::export(uri, &pairs, &options, &mut |p| bar.step(p));
    bar.finish();
    let summary = result.with_context(|| {
        format!(
            "exporting {} runs to {uri} (an export stopped part-way is finished by running the \
             same command again)",
            pairs.len()
        )
    })?;
    println!(
        "exported to {uri}: {} runs created, {} found, {skipped} skipped{}",
        summary.created,
        summary.found,
        details(&summary, skipped)
    );
    Ok(ExitCode::SUCCESS)
}

/// What the summary line adds when there is more to say.
fn details(s: &fmnist_mlflow::ExportSummary, skipped: usize) -> String {
    let mut parts = Vec::new();
    if s.replaced > 0 {
        parts.push(format!(
            "{} replacing an interrupted or outdated export",
            s.replaced
        ));
    }
    if s.updated > 0 {
        parts.push(format!("{} found with tags updated", s.updated));
    }
    if s.weights > 0 {
        parts.push(format!("{} weights uploaded", s.weights));
    }
    if s.deleted > s.replaced {
        let n = s.deleted - s.replaced;
        let plural = if n == 1 { "" } else { "s" };
        parts.push(format!("{n} duplicate MLflow run{plural} deleted"));
    }
    if skipped > 0 {
        parts.push("the skipped runs are planned but not stored yet".to_string());
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join("; "))
    }
}

/// A bar on a terminal; otherwise a line every [`PLAIN_EVERY`] pairs.
struct Bar {
    bar: Option<ProgressBar>,
}

impl Bar {
    fn new(total: usize) -> Bar {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix:>8.bold} [{bar:30.cyan/blue}] {pos}/{len} runs  {elapsed_precise}  {msg}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.set_prefix("mlflow");
            bar
        });
        Bar { bar }
    }

    fn step(&mut self, p: &ExportProgress<'_>) {
        let what = match p.outcome {
            RunOutcome::Created => "created",
            RunOutcome::Replaced => "replaced",
            RunOutcome::Found { .. } => "found",
        };
        match &self.bar {
            Some(bar) => {
                bar.set_position(p.done as u64);
                bar.set_message(format!("{}: {} ({what})", p.experiment, p.run_name));
            }
            None if p.done.is_multiple_of(PLAIN_EVERY) || p.done == p.total => {
                eprintln!(
                    "mlflow: {}/{} runs ({}: {what})",
                    p.done, p.total, p.run_name
                );
            }
            None => {}
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_line_says_more_only_when_there_is_more() {
        let mut s = fmnist_mlflow::ExportSummary::default();
        assert_eq!(details(&s, 0), "");
        s.replaced = 1;
        s.deleted = 3;
        s.weights = 4;
        assert_eq!(
            details(&s, 2),
            " (1 replacing an interrupted or outdated export; 4 weights uploaded; \
             2 duplicate MLflow runs deleted; the skipped runs are planned but not stored yet)"
        );
    }
}
