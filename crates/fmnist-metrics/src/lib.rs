//! The metrics store: per run, a tidy Parquet table of its learning curves,
//! its confusion matrix (Parquet too), a JSON manifest of every setting, and
//! its final weights; see [`Store`] for the layout.
//!
//! Each file reaches its final name by an atomic rename, the run directory
//! before the table files (see `publish`), so a reader (polars, pandas,
//! DuckDB, or this crate) never sees a half-written file nor a table of a run
//! that is not stored, and a run killed mid-way leaves nothing that looks
//! complete. A stored part that cannot be read is moved aside (`examine`). Runs are locked with lock
//! files carrying a lease, so that several processes (or a cluster's nodes)
//! can share one results directory.

mod access;
mod atomic;
mod classes;
mod error;
mod examine;
pub mod fixture;
mod lock;
mod manifest;
mod publish;
mod run_index;
mod store;
mod table;
mod time;

pub use access::{At, Missing};
pub use atomic::atomic_write;
pub use classes::{ConfusionCell, Mistake};
pub use error::MetricsError;
pub use examine::RunState;
pub use fmnist_experiments::{Measures, Quantity, Split};
pub use lock::{LockOutcome, RunLock};
pub use manifest::{Architecture, DataFile, Provenance, RunManifest, RunStatus, StoppedEarly};
pub use run_index::{IndexRow, RUN_INDEX, run_index, status_word};
pub use store::{RunRecord, Store, StoredRun};
pub use table::MetricRow;
pub use time::{rfc3339, unix_seconds};
