//! The one error type of the runner; each variant says what was being done
//! to which run, and keeps the cause.

use fmnist_experiments::ExperimentError;
use fmnist_metrics::MetricsError;
use fmnist_train::TrainError;

#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    /// Reading or writing the store (a run, a checkpoint, a lock).
    #[error("{doing}: {source}")]
    Store {
        doing: String,
        #[source]
        source: MetricsError,
    },
    /// Training, evaluating or serialising a run.
    #[error("{doing}: {source}")]
    Train {
        doing: String,
        #[source]
        source: TrainError,
    },
    /// A run or checkpoint in a state the runner cannot continue from.
    #[error("{0}")]
    State(String),
    /// Proposing a round of a `mode = "tpe"` sweep (reading its file).
    #[error("{doing}: {source}")]
    Search {
        doing: String,
        /// Boxed: an experiment error is large, and this one is rare.
        #[source]
        source: Box<ExperimentError>,
    },
    /// An executor other than the local pool (Slurm) failed; its message
    /// says how.
    #[error("{0}")]
    Executor(String),
}

impl RunnerError {
    pub(crate) fn store(doing: impl Into<String>, source: MetricsError) -> RunnerError {
        RunnerError::Store {
            doing: doing.into(),
            source,
        }
    }

    pub(crate) fn train(doing: impl Into<String>, source: TrainError) -> RunnerError {
        RunnerError::Train {
            doing: doing.into(),
            source,
        }
    }
}
