//! The metrics store: per run, a tidy Parquet table of its learning curves,
//! its confusion matrix (Parquet too), a JSON manifest of every setting, and
//! its final weights; see [`Store`] for the layout.
//!
//! A run becomes visible only once all its files are in place, each having
//! reached its final name by an atomic rename, so a reader (polars, pandas,
//! DuckDB, or this crate) never sees a half-written run, and a run killed
//! mid-way leaves nothing that looks complete. Runs are locked with lock
//! files carrying a lease, so that several processes (or a cluster's nodes)
//! can share one results directory.

mod classes;
mod error;
mod lock;
mod manifest;
mod store;
mod table;
mod time;

pub use classes::{ConfusionCell, Mistake};
pub use error::MetricsError;
pub use fmnist_experiments::{Measures, Quantity, Split};
pub use lock::{LockOutcome, RunLock};
pub use manifest::{Architecture, DataFile, Provenance, RunManifest, RunStatus};
pub use store::{RunRecord, Store, StoredRun, atomic_write};
pub use table::MetricRow;
pub use time::{rfc3339, unix_seconds};
