//! The metrics store: one tidy Parquet table and one JSON manifest per run,
//! under `RESULTS/metrics/<experiment>/<run_id>/`.
//!
//! Every file reaches its final name by an atomic rename of a whole run
//! directory, so a reader (polars, pandas, DuckDB, or this crate) never sees a
//! half-written run, and a run killed mid-way leaves nothing that looks
//! complete. Runs are claimed with lock files so that several processes can
//! share one results directory.

mod classes;
mod error;
mod lock;
mod manifest;
mod store;
mod table;
mod time;

pub use classes::{ConfusionCell, Mistake};
pub use error::MetricsError;
pub use lock::{LockOutcome, RunLock};
pub use manifest::{DataFile, Provenance, RunManifest, RunStatus};
pub use store::{Store, StoredRun, atomic_write};
pub use table::{MetricRow, Split};
pub use time::{rfc3339, unix_seconds};
