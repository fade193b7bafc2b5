//! What one stored run becomes in MLflow: its run name, times and status,
//! params (every resolved setting by its dotted name, the seed, the run
//! id), tags (our identity, status, commit, data, claims) and metrics (every
//! quantity of the vocabulary on every split it is measured on, step =
//! epoch). Pure: no request is made here.

use std::collections::BTreeMap;

use fmnist_experiments::{Quantity, Split};
use fmnist_metrics::{RunManifest, RunStatus, StoredRun};

use crate::error::MlflowError;
use crate::time::unix_millis;

/// Our run id: with [`TAG_EXPERIMENT`], what finds an exported run again.
pub const TAG_RUN_ID: &str = "fmnist.run_id";
/// The experiment's full name (a sweep point's includes the point).
pub const TAG_EXPERIMENT: &str = "fmnist.experiment";
/// Written last, once everything else of the run is on the server: an
/// exported run without it was interrupted and is exported again.
pub const TAG_EXPORT: &str = "fmnist.export";
/// The value of [`TAG_EXPORT`] on a finished export.
pub const EXPORT_COMPLETE: &str = "complete";
/// How the run ended: `complete`, `stopped at epoch K`, `pruned at epoch K`,
/// `diverged at epoch K`.
pub const TAG_STATUS: &str = "fmnist.status";
/// The number of epochs the run recorded.
pub const TAG_EPOCHS: &str = "fmnist.epochs";
/// Set, to the artifact's path, once the weights are uploaded.
pub const TAG_WEIGHTS: &str = "fmnist.weights";
/// The artifact path of the weights, as in the store.
pub const WEIGHTS_FILE: &str = "model.safetensors";

/// One (experiment, stored run) pair to export: a run that several
/// experiments plan is given once for each, and appears in each.
#[derive(Debug, Clone)]
pub struct ExportRun<'a> {
    /// The MLflow experiment: the experiment file's stem (every point of a
    /// sweep file lands in one MLflow experiment, where they compare).
    pub experiment: String,
    /// The experiment's full name, `lr-sweep[optimizer.lr=0.003]` for a point.
    pub name: String,
    /// The experiment file, as the user would type it (`experiments/adam.toml`).
    pub experiment_file: String,
    pub run: &'a StoredRun,
    /// The paper's claims the experiment bears on (`C1`, ...).
    pub claims: Vec<String>,
    /// The experiment's description: the MLflow run's note (and the MLflow
    /// experiment's, when the export creates it).
    pub note: Option<String>,
}

/// One point of a metric's history.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Metric {
    pub(crate) key: String,
    pub(crate) value: f64,
    /// Milliseconds since 1970: when the epoch ended.
    pub(crate) timestamp: i64,
    pub(crate) step: u32,
}

/// Everything a run sends, computed before any request.
#[derive(Debug, Clone)]
pub(crate) struct Content {
    pub(crate) run_name: String,
    pub(crate) start_ms: i64,
    pub(crate) end_ms: i64,
    /// MLflow's run status: FINISHED, KILLED (pruned) or FAILED (diverged).
    pub(crate) mlflow_status: &'static str,
    /// The tags written when the run is created: what finds it again.
    pub(crate) identity: Vec<(String, String)>,
    pub(crate) params: Vec<(String, String)>,
    /// Every other tag; [`TAG_EXPORT`] and [`TAG_WEIGHTS`] are not among them.
    pub(crate) tags: Vec<(String, String)>,
    pub(crate) metrics: Vec<Metric>,
}

/// `val_accuracy`, `train_loss`, ...: the metric of `quantity` on `split`.
pub fn metric_key(split: Split, quantity: Quantity) -> String {
    format!("{}_{}", split.as_str(), quantity.name())
}

/// How the run ended, as [`TAG_STATUS`] says it.
pub fn status_text(manifest: &RunManifest) -> String {
    match (&manifest.status, &manifest.stopped_early) {
        (RunStatus::Complete, None) => "complete".into(),
        (RunStatus::Complete, Some(stop)) => format!("stopped at epoch {}", stop.epoch),
        (RunStatus::Pruned { epoch }, _) => format!("pruned at epoch {epoch}"),
        (RunStatus::Diverged { epoch, .. }, _) => format!("diverged at epoch {epoch}"),
    }
}

fn mlflow_status(status: &RunStatus) -> &'static str {
    match status {
        RunStatus::Complete => "FINISHED",
        RunStatus::Pruned { .. } => "KILLED",
        RunStatus::Diverged { .. } => "FAILED",
    }
}

impl Content {
    pub(crate) fn of(export: &ExportRun<'_>) -> Result<Content, MlflowError> {
        let m = &export.run.manifest;
        let time = |field: &'static str, value: &str| {
            unix_millis(value).ok_or_else(|| MlflowError::BadTime {
                run_id: m.run_id.clone(),
                field,
                value: value.to_string(),
            })
        };
        let start_ms = time("started_at", &m.started_at)?;
        let end_ms = time("finished_at", &m.finished_at)?;
        let mut params = m.config.settings();
        params.push(("seed".into(), m.seed.to_string()));
        params.push(("run_id".into(), m.run_id.clone()));
        Ok(Content {
            run_name: run_name(export),
            start_ms,
            end_ms,
            mlflow_status: mlflow_status(&m.status),
            identity: vec![
                (TAG_RUN_ID.into(), m.run_id.clone()),
                (TAG_EXPERIMENT.into(), export.name.clone()),
            ],
            params,
            tags: tags(export),
            metrics: metrics(export.run, start_ms),
        })
    }

    /// The value of one of [`Content::tags`].
    pub(crate) fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The number of epochs recorded: what [`TAG_EPOCHS`] says.
    pub(crate) fn epochs(&self) -> u32 {
        self.metrics.iter().map(|m| m.step).max().unwrap_or(0)
    }
}

/// What the MLflow UI lists the run as: the experiment's name, or for a
/// point of a sweep (whose MLflow experiment already names the sweep) the
/// point's settings; then the seed and the first 8 characters of our run id.
fn run_name(export: &ExportRun<'_>) -> String {
    let m = &export.run.manifest;
    let point = export
        .name
        .strip_prefix(export.experiment.as_str())
        .and_then(|rest| rest.strip_prefix('['))
        .and_then(|rest| rest.strip_suffix(']'))
        .filter(|point| !point.is_empty());
    let label = point.unwrap_or(&export.name);
    let short = &m.run_id[..m.run_id.len().min(8)];
    format!("{label} seed {} {short}", m.seed)
}

fn tags(export: &ExportRun<'_>) -> Vec<(String, String)> {
    let m = &export.run.manifest;
    let epochs = export.run.rows.iter().map(|r| r.epoch).max().unwrap_or(0);
    let mut tags: Vec<(String, String)> = vec![
        (
            "fmnist.experiment_file".into(),
            export.experiment_file.clone(),
        ),
        (TAG_STATUS.into(), status_text(m)),
        (TAG_EPOCHS.into(), epochs.to_string()),
        (
            "fmnist.training_code_version".into(),
            m.training_code_version.to_string(),
        ),
        ("fmnist.device".into(), m.device.clone()),
        (
            "fmnist.project_version".into(),
            m.provenance.project_version.clone(),
        ),
    ];
    if let Some(commit) = &m.provenance.git_commit {
        tags.push(("fmnist.commit".into(), commit.clone()));
        // MLflow's own tag: the UI shows it on the run's page.
        tags.push(("mlflow.source.git.commit".into(), commit.clone()));
    }
    if let Some(dirty) = m.provenance.git_dirty {
        tags.push(("fmnist.git_dirty".into(), dirty.to_string()));
    }
    for file in &m.data {
        tags.push((format!("fmnist.data.{}", file.name), file.blake3.clone()));
    }
    if !export.claims.is_empty() {
        tags.push(("fmnist.claims".into(), export.claims.join(",")));
    }
    if let Some(stop) = &m.stopped_early {
        tags.push(("fmnist.stopped_early".into(), stop.to_string()));
    }
    if let Some(note) = export.note.as_ref().filter(|n| !n.trim().is_empty()) {
        tags.push(("mlflow.note.content".into(), note.clone()));
    }
    tags
}

/// Every measured value, keyed `SPLIT_QUANTITY`, at the end of its epoch:
/// the start plus the epochs' wall times so far (MLflow's "relative time"
/// axis then reads as training time).
fn metrics(run: &StoredRun, start_ms: i64) -> Vec<Metric> {
    let ends: BTreeMap<u32, i64> = {
        let mut elapsed = 0.0;
        let mut ends = BTreeMap::new();
        for (i, seconds) in run.manifest.epoch_seconds.iter().enumerate() {
            elapsed += seconds;
            ends.insert(i as u32 + 1, start_ms + (elapsed * 1000.0).round() as i64);
        }
        ends
    };
    let mut out = Vec::new();
    for row in &run.rows {
        let timestamp = ends.get(&row.epoch).copied().unwrap_or(start_ms);
        for &quantity in Quantity::ALL {
            if !quantity.measured_on(row.split) {
                continue;
            }
            if let Some(value) = row.values.get(quantity) {
                out.push(Metric {
                    key: metric_key(row.split, quantity),
                    value,
                    timestamp,
                    step: row.epoch,
                });
            }
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use fmnist_experiments::{Measures, RunConfig};
    use fmnist_metrics::{Architecture, DataFile, MetricRow, Provenance, StoppedEarly};

    /// A stored run of `epochs` epochs, with every quantity of the
    /// vocabulary on every split it is measured on, and its weights in `dir`.
    pub(crate) fn stored_run(
        run_id: &str,
        seed: u64,
        epochs: u32,
        dir: &std::path::Path,
    ) -> StoredRun {
        let mut rows = Vec::new();
        for epoch in 1..=epochs {
            for split in Split::ALL {
                let mut values = Measures::default();
                for (i, &q) in Quantity::ALL.iter().enumerate() {
                    if q.measured_on(split) {
                        values.set(q, seed as f64 + epoch as f64 / 100.0 + i as f64 / 10.0);
                    }
                }
                rows.push(MetricRow {
                    epoch,
                    split,
                    values,
                    seconds: 0.5,
                });
            }
        }
        let manifest = RunManifest {
            run_id: run_id.into(),
            experiment: "baseline".into(),
            experiment_file: "experiments/baseline.toml".into(),
            seed,
            config: RunConfig {
                epochs: epochs as usize,
                ..RunConfig::table_one()
            },
            status: RunStatus::Complete,
            data: vec![DataFile {
                name: "train-images-idx3-ubyte.gz".into(),
                blake3: "ab12".into(),
            }],
            classes: vec!["a".into()],
            architecture: Architecture {
                layer_sizes: vec![784, 128, 64, 10],
                torch: "nn".into(),
            },
            started_at: "2026-01-01T00:00:00Z".into(),
            finished_at: "2026-01-01T00:01:00Z".into(),
            wall_seconds: 60.0,
            epoch_seconds: vec![0.5; epochs as usize],
            device: "cpu".into(),
            threads: 1,
            training_code_version: 7,
            resumed_from_epoch: None,
            stopped_early: None,
            provenance: Provenance {
                git_commit: Some("0123abc".into()),
                git_dirty: Some(false),
                project_version: "0.0.0".into(),
                rustc_version: "rustc".into(),
                host: "h".into(),
                machine: String::new(),
            },
        };
        let dir = dir.join(run_id);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(WEIGHTS_FILE), format!("weights of {run_id}")).unwrap();
        StoredRun {
            manifest,
            rows,
            confusion: vec![],
            mistakes: vec![],
            dir,
        }
    }

    pub(crate) fn export_run<'a>(
        experiment: &str,
        name: &str,
        run: &'a StoredRun,
    ) -> ExportRun<'a> {
        ExportRun {
            experiment: experiment.into(),
            name: name.into(),
            experiment_file: format!("experiments/{experiment}.toml"),
            run,
            claims: vec!["C1".into(), "C2".into()],
            note: Some("Table I.".into()),
        }
    }

    fn get<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn params_are_every_setting_the_seed_and_the_run_id() {
        let dir = tempfile::tempdir().unwrap();
        let run = stored_run("0123456789abcdef", 3, 2, dir.path());
        let c = Content::of(&export_run("baseline", "baseline", &run)).unwrap();
        let settings = run.manifest.config.settings();
        assert!(settings.len() >= 10, "{settings:?}");
        assert_eq!(c.params.len(), settings.len() + 2);
        for (key, value) in &settings {
            assert_eq!(get(&c.params, key), Some(value.as_str()), "{key}");
        }
        assert_eq!(get(&c.params, "optimizer.lr"), Some("0.001"));
        assert_eq!(get(&c.params, "seed"), Some("3"));
        assert_eq!(get(&c.params, "run_id"), Some("0123456789abcdef"));
        assert_eq!(c.run_name, "baseline seed 3 01234567");
        assert_eq!(get(&c.identity, TAG_RUN_ID), Some("0123456789abcdef"));
        assert_eq!(get(&c.identity, TAG_EXPERIMENT), Some("baseline"));
        let point = export_run(
            "lr-sweep",
            "lr-sweep[optimizer.kind=adam,optimizer.lr=0.01]",
            &run,
        );
        let c = Content::of(&point).unwrap();
        assert_eq!(
            c.run_name,
            "optimizer.kind=adam,optimizer.lr=0.01 seed 3 01234567"
        );
        assert_eq!(
            get(&c.identity, TAG_EXPERIMENT),
            Some("lr-sweep[optimizer.kind=adam,optimizer.lr=0.01]")
        );
    }

    #[test]
    fn metrics_are_every_quantity_of_every_split_by_epoch() {
        let dir = tempfile::tempdir().unwrap();
        let run = stored_run("r1", 0, 3, dir.path());
        let c = Content::of(&export_run("baseline", "baseline", &run)).unwrap();
        let pairs: usize = Split::ALL
            .iter()
            .map(|&s| Quantity::ALL.iter().filter(|q| q.measured_on(s)).count())
            .sum();
        assert_eq!(c.metrics.len(), 3 * pairs);
        assert_eq!(c.epochs(), 3);
        let val_acc: Vec<&Metric> = c
            .metrics
            .iter()
            .filter(|m| m.key == "val_accuracy")
            .collect();
        assert_eq!(
            val_acc.iter().map(|m| m.step).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        // Accuracy is the second quantity: seed + epoch / 100 + 0.1.
        assert!((val_acc[1].value - 0.12).abs() < 1e-12);
        // Each epoch ends 0.5 s after the one before; the run started at 2026-01-01.
        let start = unix_millis("2026-01-01T00:00:00Z").unwrap();
        assert_eq!(val_acc[2].timestamp - start, 1500);
        assert!(c.metrics.iter().any(|m| m.key == "train_grad_norm"));
        assert!(!c.metrics.iter().any(|m| m.key == "val_grad_norm"));
    }

    #[test]
    fn tags_say_how_the_run_ended_and_what_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let mut run = stored_run("r1", 0, 2, dir.path());
        let c = Content::of(&export_run("baseline", "baseline", &run)).unwrap();
        assert_eq!(get(&c.tags, TAG_STATUS), Some("complete"));
        assert_eq!(c.mlflow_status, "FINISHED");
        assert_eq!(get(&c.tags, "fmnist.claims"), Some("C1,C2"));
        assert_eq!(get(&c.tags, "fmnist.commit"), Some("0123abc"));
        assert_eq!(
            get(&c.tags, "fmnist.data.train-images-idx3-ubyte.gz"),
            Some("ab12")
        );
        assert_eq!(
            get(&c.tags, "fmnist.experiment_file"),
            Some("experiments/baseline.toml")
        );
        assert_eq!(get(&c.tags, "mlflow.note.content"), Some("Table I."));
        assert_eq!(get(&c.tags, TAG_EXPORT), None);
        run.manifest.status = RunStatus::Pruned { epoch: 2 };
        assert_eq!(status_text(&run.manifest), "pruned at epoch 2");
        assert_eq!(mlflow_status(&run.manifest.status), "KILLED");
        run.manifest.status = RunStatus::Diverged { epoch: 1, batch: 7 };
        assert_eq!(status_text(&run.manifest), "diverged at epoch 1");
        assert_eq!(mlflow_status(&run.manifest.status), "FAILED");
        run.manifest.status = RunStatus::Complete;
        run.manifest.stopped_early = Some(StoppedEarly {
            epoch: 2,
            reason: "no improvement".into(),
            kept_epoch: 1,
        });
        assert_eq!(status_text(&run.manifest), "stopped at epoch 2");
    }

    #[test]
    fn a_manifest_time_that_does_not_parse_names_the_run_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let mut run = stored_run("r1", 0, 2, dir.path());
        run.manifest.finished_at = "yesterday".into();
        let err = Content::of(&export_run("baseline", "baseline", &run)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "run r1: its manifest's finished_at \"yesterday\" is not a UTC time such as 2026-11-28T15:04:05Z"
        );
    }
}
