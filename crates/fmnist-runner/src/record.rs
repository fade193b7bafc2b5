//! Turning a training result into what the store keeps: one conversion,
//! [`record`], used for every way a run ends (complete, stopped early,
//! diverged, pruned at a rung), so that a stored run's manifest, metrics
//! table, confusion matrix and mistakes are always made the same way.

use std::time::SystemTime;

use fmnist_metrics::{
    Architecture, ConfusionCell, MetricRow, Mistake, RunManifest, RunRecord, RunStatus, rfc3339,
};
use fmnist_train::{Mlp, RunResult, describe_device};

use crate::error::RunnerError;
use crate::job::Job;
use crate::pool::Context;

/// How many of the validation images a run gets most confidently wrong are kept.
const MISTAKES_KEPT: usize = 32;

/// The stored record of `result`: weights, manifest (with `status`; the
/// caller sets when it started, its wall time, the epoch it resumed from and
/// why it stopped early), metrics rows, and the final network's confusion
/// matrix and mistakes on the validation images.
pub(crate) fn record(
    ctx: &Context,
    job: &Job,
    result: &RunResult,
    status: RunStatus,
    device: &candle_core::Device,
) -> Result<RunRecord, RunnerError> {
    let (confusion, mistakes) = evaluate(ctx, job, &result.model, device)?;
    Ok(RunRecord {
        model: result.model.to_safetensors().map_err(|e| {
            RunnerError::train(format!("serialising the weights of {}", job.name()), e)
        })?,
        manifest: manifest(ctx, job, result, status, device),
        rows: MetricRow::of_reports(&result.epochs),
        confusion,
        mistakes,
    })
}

/// The final network's confusion matrix on the validation images, and the
/// images it gets most confidently wrong.
fn evaluate(
    ctx: &Context,
    job: &Job,
    model: &Mlp,
    device: &candle_core::Device,
) -> Result<(Vec<ConfusionCell>, Vec<Mistake>), RunnerError> {
    let evaluation =
        fmnist_train::evaluate_run(model, &job.spec.config, &ctx.data, device, MISTAKES_KEPT)
            .map_err(|e| RunnerError::train(format!("evaluating {} per class", job.name()), e))?;
    let classes = evaluation.classes;
    let confusion = (0..classes)
        .flat_map(|t| (0..classes).map(move |p| (t, p)))
        .map(|(t, p)| ConfusionCell {
            true_class: t as u8,
            predicted_class: p as u8,
            count: evaluation.confusion[t * classes + p],
        })
        .collect();
    let mistakes = evaluation
        .mistakes
        .iter()
        .map(|m| Mistake {
            index: m.index,
            true_class: m.true_class,
            predicted_class: m.predicted_class,
            confidence: m.confidence,
        })
        .collect();
    Ok((confusion, mistakes))
}

/// The run's manifest, timed as if it started and ended now.
fn manifest(
    ctx: &Context,
    job: &Job,
    result: &RunResult,
    status: RunStatus,
    device: &candle_core::Device,
) -> RunManifest {
    let spec = &job.spec;
    let sizes = result.model.sizes();
    let now = rfc3339(SystemTime::now());
    RunManifest {
        run_id: spec.run_id.clone(),
        experiment: spec.experiment.clone(),
        experiment_file: job.experiment_file.clone(),
        seed: spec.seed,
        config: spec.config.clone(),
        status,
        data: ctx.data_files.clone(),
        classes: ctx.data.classes.clone(),
        architecture: Architecture {
            torch: fmnist_train::torch_architecture(&sizes, spec.config.model.dropout),
            layer_sizes: sizes,
        },
        started_at: now.clone(),
        finished_at: now,
        wall_seconds: 0.0,
        epoch_seconds: result.epochs.iter().map(|e| e.seconds).collect(),
        device: describe_device(device),
        threads: ctx.threads,
        training_code_version: fmnist_train::TRAINING_CODE_VERSION,
        resumed_from_epoch: None,
        stopped_early: None,
        provenance: ctx.provenance.clone(),
    }
}
