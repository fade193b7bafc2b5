//! `fmnist evaluate`: stored weights evaluated again on the validation
//! images, checked against the accuracy and confusion matrix stored with them.

use std::process::ExitCode;

use anyhow::{Context as _, bail};
use fmnist_metrics::{Quantity, RunStatus, Split, Store, StoredRun};
use fmnist_train::{DeviceSpec, Mlp};

use crate::cli::EvaluateArgs;
use crate::setup::{self, DataSet};
use crate::setup::{Global, results_dir};

pub fn evaluate(global: &Global, args: &EvaluateArgs) -> anyhow::Result<ExitCode> {
    setup::set_threads(1);
    let store = Store::new(results_dir(args.results.clone(), args.quick));
    let runs = selected_runs(&store, &args.runs)?;
    let data = DataSet::choose(global.dataset.as_deref(), args.data.data_dir.clone())?
        .fetch_and_load(&args.data)?;
    let device = DeviceSpec::Cpu.open()?;
    let (mut ok, mut bad) = (0, 0);
    for run in &runs {
        let m = &run.manifest;
        let name = format!(
            "{} seed {} ({})",
            m.experiment,
            m.seed,
            fmnist_experiments::short_run_id(&m.run_id)
        );
        if matches!(m.status, RunStatus::Diverged { .. }) {
            println!("skip {name}: diverged, its weights are not finite");
            continue;
        }
        let path = store.model_path(&m.run_id);
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let model = Mlp::from_safetensors(&bytes, &device)
            .with_context(|| format!("loading {}", path.display()))?;
        let again = fmnist_train::evaluate_run(&model, &m.config, &data, &device, 0)
            .with_context(|| format!("evaluating {name}"))?;
        // The network stored is the last epoch's, or the one early
        // stopping kept.
        let last = run.rows.iter().map(|r| r.epoch).max().unwrap_or(0);
        let kept = m
            .stopped_early
            .as_ref()
            .map_or(last, |s| s.kept_epoch as u32);
        let stored = run
            .rows
            .iter()
            .find(|r| r.split == Split::Val && r.epoch == kept)
            .map(|r| r.values[Quantity::Accuracy]);
        let confusion: Vec<u32> = run.confusion.iter().map(|c| c.count).collect();
        let same = stored == Some(again.accuracy) && confusion == again.confusion;
        println!(
            "{} {name}: val accuracy {:.2}% ({} of {} images), stored {}{}",
            if same { "ok  " } else { "BAD " },
            100.0 * again.accuracy,
            (0..again.classes).map(|c| again.count(c, c)).sum::<u32>(),
            again.confusion.iter().sum::<u32>(),
            stored.map_or("none".into(), |a| format!("{:.2}%", 100.0 * a)),
            if confusion == again.confusion {
                ""
            } else {
                "; the confusion matrix differs"
            }
        );
        if same {
            ok += 1;
        } else {
            bad += 1;
        }
    }
    println!("{ok} runs reproduce their stored accuracy, {bad} do not");
    Ok(if bad == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The stored runs whose ids start with one of `prefixes` (all without);
/// each prefix must name exactly one run.
fn selected_runs(store: &Store, prefixes: &[String]) -> anyhow::Result<Vec<StoredRun>> {
    let mut runs = store
        .read_all()
        .with_context(|| format!("reading results from {}", store.root().display()))?;
    if !prefixes.is_empty() {
        for prefix in prefixes {
            let n = runs
                .iter()
                .filter(|r| r.manifest.run_id.starts_with(prefix.as_str()))
                .count();
            if n != 1 {
                bail!(
                    "run id {prefix:?} matches {n} stored runs in {}; `cargo xtask list` shows them",
                    store.root().display()
                );
            }
        }
        runs.retain(|r| {
            prefixes
                .iter()
                .any(|p| r.manifest.run_id.starts_with(p.as_str()))
        });
    }
    if runs.is_empty() {
        bail!("no stored runs in {}", store.root().display());
    }
    Ok(runs)
}
