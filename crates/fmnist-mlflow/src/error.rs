//! The one error type of the export: every variant that comes from a request
//! names the tracking server's URI and the request (method and endpoint), so
//! that a failed export says where it stopped.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum MlflowError {
    #[error(
        "the tracking URI {uri:?} is not the http(s) URL of an MLflow tracking server: the export \
         talks to a server through its REST API (start one with `mlflow server --backend-store-uri \
         sqlite:///mlflow.db --port 5000` and give `--tracking-uri http://127.0.0.1:5000`)"
    )]
    NotHttp { uri: String },

    #[error(
        "no answer from the MLflow server at {uri} to {request}: {reason} (is the server running \
         at that address?)"
    )]
    Unreachable {
        uri: String,
        request: String,
        reason: String,
    },

    #[error("the MLflow server at {uri} refused {request}: HTTP {status}{}: {message}",
        error_code.as_deref().map(|c| format!(" {c}")).unwrap_or_default())]
    Refused {
        uri: String,
        request: String,
        status: u16,
        /// MLflow's `error_code` (`RESOURCE_DOES_NOT_EXIST`, ...) when the
        /// answer carried one.
        error_code: Option<String>,
        message: String,
    },

    #[error(
        "the MLflow server at {uri} answered {request} with {what}, not the JSON an MLflow \
         server answers (is it an MLflow server?); the answer began: {start:?}"
    )]
    Garbage {
        uri: String,
        request: String,
        what: String,
        start: String,
    },

    #[error(
        "the MLflow experiment {name:?} at {uri} is deleted: restore it (`mlflow experiments \
         restore --experiment-id {id}`) or remove it for good (`mlflow gc`), then export again"
    )]
    DeletedExperiment {
        uri: String,
        name: String,
        id: String,
    },

    #[error(
        "run {run_id}: its manifest's {field} {value:?} is not a UTC time such as \
         2026-11-28T15:04:05Z"
    )]
    BadTime {
        run_id: String,
        field: &'static str,
        value: String,
    },

    #[error("run {run_id}: reading its weights {path}: {source}")]
    Weights {
        run_id: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "run {run_id}: the MLflow server at {uri} keeps its artifacts at {artifact_uri}, which \
         this export cannot write (it writes through the server's artifact proxy, \
         `mlflow-artifacts:` locations, or into a local directory): start the server with \
         `--artifacts-destination DIR`, or export without --artifacts"
    )]
    ArtifactStore {
        uri: String,
        run_id: String,
        artifact_uri: String,
    },

    #[error("run {run_id}: copying its weights to {path}: {source}")]
    ArtifactCopy {
        run_id: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// `export mlflow NAME`: names that are neither an experiment's full
    /// name nor an experiment file's stem.
    #[error(
        "no experiment is named {}; the experiment files are: {}",
        unknown.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", "),
        stems.join(", ")
    )]
    UnknownExperiment {
        unknown: Vec<String>,
        /// The experiment files' stems, sorted, each once.
        stems: Vec<String>,
    },
}
