//! Export of the stored runs to an MLflow tracking server, through its REST
//! API (`/api/2.0/mlflow/...`), as MLflow's own clients talk to it: each
//! (experiment, stored run) pair becomes an MLflow run in the MLflow
//! experiment named after its experiment file, with every resolved setting
//! as a param, every per-epoch quantity as a metric history (step = epoch),
//! and tags saying how it ended, what code and data made it and which of
//! the paper's claims it bears on; its weights optionally as an artifact.
//!
//! The export is idempotent: runs are found again by our tags before
//! anything is created, a second export creates nothing, and an export
//! stopped anywhere is finished by the next one (see `export`). Requests
//! stay within MLflow's documented limits (see `batch`).
//!
//! This crate holds no CLI logic: the binary maps the plan onto the store,
//! choosing the experiments with [`choose`] and making each pair with
//! [`ExportRun::new`], and draws the progress that [`export`] reports.

mod api;
mod batch;
mod client;
mod error;
mod export;
mod mapping;
mod select;
mod time;

#[cfg(test)]
mod fake;

pub use batch::{MAX_BYTES, MAX_ITEMS, MAX_METRICS, MAX_PARAMS, MAX_TAGS};
pub use error::MlflowError;
pub use export::{ExportOptions, ExportProgress, ExportSummary, RunOutcome, export};
pub use mapping::{
    EXPORT_COMPLETE, ExportRun, TAG_EPOCHS, TAG_EXPERIMENT, TAG_EXPORT, TAG_RUN_ID, TAG_STATUS,
    TAG_WEIGHTS, WEIGHTS_FILE, metric_key, status_text,
};
pub use select::{choose, stem};
