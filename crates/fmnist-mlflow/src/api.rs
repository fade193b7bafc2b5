//! The MLflow REST calls the export makes (experiments/get-by-name and
//! create, runs/search, create, log-batch, update and delete, and an
//! artifact upload), with their answers read into the few fields used: an
//! answer without them is an error, not a default.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::batch::{LogBatch, pair};
use crate::client::{ARTIFACTS_API, Client};
use crate::error::MlflowError;

/// Runs asked for per page of `runs/search` (MLflow allows up to 50,000;
/// its clients ask for 1,000 at most).
const SEARCH_PAGE: usize = 1000;

#[derive(Deserialize)]
struct GetExperiment {
    experiment: ExperimentInfo,
}

#[derive(Deserialize)]
struct ExperimentInfo {
    experiment_id: String,
    lifecycle_stage: String,
}

#[derive(Deserialize)]
struct CreatedExperiment {
    experiment_id: String,
}

#[derive(Deserialize)]
struct SearchAnswer {
    #[serde(default)]
    runs: Vec<RunAnswer>,
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
struct CreatedRun {
    run: RunAnswer,
}

#[derive(Deserialize)]
struct RunAnswer {
    info: RunInfo,
    #[serde(default)]
    data: RunData,
}

#[derive(Deserialize)]
struct RunInfo {
    run_id: String,
    #[serde(default)]
    artifact_uri: String,
}

#[derive(Deserialize, Default)]
struct RunData {
    #[serde(default)]
    tags: Vec<TagAnswer>,
}

#[derive(Deserialize)]
struct TagAnswer {
    key: String,
    #[serde(default)]
    value: String,
}

/// An MLflow run as the export sees it.
#[derive(Debug, Clone)]
pub(crate) struct FoundRun {
    /// MLflow's run id.
    pub(crate) id: String,
    pub(crate) artifact_uri: String,
    pub(crate) tags: HashMap<String, String>,
}

impl From<RunAnswer> for FoundRun {
    fn from(run: RunAnswer) -> FoundRun {
        FoundRun {
            id: run.info.run_id,
            artifact_uri: run.info.artifact_uri,
            tags: run
                .data
                .tags
                .into_iter()
                .map(|t| (t.key, t.value))
                .collect(),
        }
    }
}

/// The id of the MLflow experiment `name`, created (with `note` as its
/// description) when absent; and whether it was created.
pub(crate) fn experiment(
    client: &Client,
    name: &str,
    note: Option<&str>,
) -> Result<(String, bool), MlflowError> {
    if let Some(id) = experiment_by_name(client, name)? {
        return Ok((id, false));
    }
    // MLflow's own mark of a model-training experiment (as opposed to a
    // GenAI one); UIs of MLflow 3 that read it open the runs view.
    let mut tags = vec![pair("mlflow.experimentKind", "custom_model_development")];
    tags.extend(note.map(|n| pair("mlflow.note.content", n)));
    let created = client
        .post::<CreatedExperiment>("experiments/create", &json!({ "name": name, "tags": tags }));
    match created {
        Ok(c) => Ok((c.experiment_id, true)),
        // Another export created it since the lookup.
        Err(e) if error_code(&e) == Some("RESOURCE_ALREADY_EXISTS") => {
            experiment_by_name(client, name)?
                .map(|id| (id, false))
                .ok_or(e)
        }
        Err(e) => Err(e),
    }
}

fn experiment_by_name(client: &Client, name: &str) -> Result<Option<String>, MlflowError> {
    match client.get::<GetExperiment>("experiments/get-by-name", &[("experiment_name", name)]) {
        Ok(got) if got.experiment.lifecycle_stage == "deleted" => {
            Err(MlflowError::DeletedExperiment {
                uri: client.uri().to_string(),
                name: name.to_string(),
                id: got.experiment.experiment_id,
            })
        }
        Ok(got) => Ok(Some(got.experiment.experiment_id)),
        Err(e) if error_code(&e) == Some("RESOURCE_DOES_NOT_EXIST") => Ok(None),
        Err(e) => Err(e),
    }
}

fn error_code(e: &MlflowError) -> Option<&str> {
    match e {
        MlflowError::Refused { error_code, .. } => error_code.as_deref(),
        _ => None,
    }
}

/// Every active run of the experiment that carries the tag `tag`.
pub(crate) fn search(
    client: &Client,
    experiment_id: &str,
    tag: &str,
) -> Result<Vec<FoundRun>, MlflowError> {
    let mut runs = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut body = json!({
            "experiment_ids": [experiment_id],
            "filter": format!("tags.`{tag}` != ''"),
            "max_results": SEARCH_PAGE,
            "run_view_type": "ACTIVE_ONLY",
        });
        if let Some(t) = &token {
            body["page_token"] = json!(t);
        }
        let page: SearchAnswer = client.post("runs/search", &body)?;
        runs.extend(page.runs.into_iter().map(FoundRun::from));
        match page.next_page_token.filter(|t| !t.is_empty()) {
            Some(t) => token = Some(t),
            None => return Ok(runs),
        }
    }
}

/// A new run, RUNNING, with the tags that find it again.
pub(crate) fn create_run(
    client: &Client,
    experiment_id: &str,
    name: &str,
    start_ms: i64,
    identity: &[(String, String)],
) -> Result<FoundRun, MlflowError> {
    let tags: Vec<Value> = identity.iter().map(|(k, v)| pair(k, v)).collect();
    let body = json!({
        "experiment_id": experiment_id,
        "run_name": name,
        "start_time": start_ms,
        "tags": tags,
    });
    let created: CreatedRun = client.post("runs/create", &body)?;
    Ok(created.run.into())
}

pub(crate) fn log_batch(
    client: &Client,
    run_id: &str,
    batch: &LogBatch,
) -> Result<(), MlflowError> {
    client.post::<Map<String, Value>>("runs/log-batch", &batch.body(run_id))?;
    Ok(())
}

pub(crate) fn finish_run(
    client: &Client,
    run_id: &str,
    status: &str,
    end_ms: i64,
) -> Result<(), MlflowError> {
    let body = json!({ "run_id": run_id, "status": status, "end_time": end_ms });
    client.post::<Map<String, Value>>("runs/update", &body)?;
    Ok(())
}

/// Marks the run deleted (MLflow keeps it until `mlflow gc`).
pub(crate) fn delete_run(client: &Client, run_id: &str) -> Result<(), MlflowError> {
    client.post::<Map<String, Value>>("runs/delete", &json!({ "run_id": run_id }))?;
    Ok(())
}

/// Where a run's artifacts go, from its `artifact_uri`.
#[derive(Debug, PartialEq)]
enum ArtifactTarget {
    /// PUT to this URL followed by `/NAME`.
    Http(String),
    /// A directory on this machine (a server whose artifact root is a
    /// local path, as MLflow's own clients write it).
    Dir(PathBuf),
}

/// As MLflow's clients resolve it (`MlflowArtifactsRepository.resolve_uri`):
/// `mlflow-artifacts:/P` is the tracking server's proxy, at the tracking
/// URI's scheme, host (or the URI's own) and path, then `ARTIFACTS_API/P`.
fn artifact_target(tracking: &str, artifact_uri: &str) -> Option<ArtifactTarget> {
    if let Some(rest) = artifact_uri.strip_prefix("mlflow-artifacts:") {
        let (scheme, after) = tracking.split_once("://")?;
        let (host, prefix) = after.split_once('/').unwrap_or((after, ""));
        let (host, path) = match rest.strip_prefix("//") {
            Some(hosted) => hosted.split_once('/').unwrap_or((hosted, "")),
            None => (host, rest),
        };
        let prefix = prefix.trim_matches('/');
        let prefix = if prefix.is_empty() {
            String::new()
        } else {
            format!("/{prefix}")
        };
        return Some(ArtifactTarget::Http(format!(
            "{scheme}://{host}{prefix}{ARTIFACTS_API}/{}",
            path.trim_matches('/')
        )));
    }
    if artifact_uri.starts_with("http://") || artifact_uri.starts_with("https://") {
        return Some(ArtifactTarget::Http(
            artifact_uri.trim_end_matches('/').to_string(),
        ));
    }
    let local = artifact_uri.strip_prefix("file://").unwrap_or(artifact_uri);
    Path::new(local)
        .is_absolute()
        .then(|| ArtifactTarget::Dir(PathBuf::from(local)))
}

/// Uploads `file` as the run's artifact `name`.
pub(crate) fn upload(
    client: &Client,
    run: &FoundRun,
    our_run_id: &str,
    file: &Path,
    name: &str,
) -> Result<(), MlflowError> {
    let target = artifact_target(client.uri(), &run.artifact_uri).ok_or_else(|| {
        MlflowError::ArtifactStore {
            uri: client.uri().to_string(),
            run_id: our_run_id.to_string(),
            artifact_uri: run.artifact_uri.clone(),
        }
    })?;
    match target {
        ArtifactTarget::Http(url) => {
            let bytes = std::fs::read(file).map_err(|source| MlflowError::Weights {
                run_id: our_run_id.to_string(),
                path: file.to_path_buf(),
                source,
            })?;
            client.put(&format!("{url}/{name}"), &bytes)
        }
        ArtifactTarget::Dir(dir) => {
            let dest = dir.join(name);
            let copy_err = |source| MlflowError::ArtifactCopy {
                run_id: our_run_id.to_string(),
                path: dest.clone(),
                source,
            };
            std::fs::create_dir_all(&dir).map_err(copy_err)?;
            std::fs::copy(file, &dest).map(|_| ()).map_err(copy_err)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_locations_resolve_as_mlflow_clients_resolve_them() {
        let http = |s: &str| Some(ArtifactTarget::Http(s.to_string()));
        assert_eq!(
            artifact_target("http://127.0.0.1:5055", "mlflow-artifacts:/1/abc/artifacts"),
            http("http://127.0.0.1:5055/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts")
        );
        assert_eq!(
            artifact_target(
                "https://lab.example/mlflow",
                "mlflow-artifacts:/1/abc/artifacts"
            ),
            http("https://lab.example/mlflow/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts")
        );
        assert_eq!(
            artifact_target(
                "http://127.0.0.1:5055",
                "mlflow-artifacts://store:6000/1/abc/artifacts"
            ),
            http("http://store:6000/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts")
        );
        assert_eq!(
            artifact_target("http://h:1", "file:///srv/art/1/abc/artifacts"),
            Some(ArtifactTarget::Dir("/srv/art/1/abc/artifacts".into()))
        );
        assert_eq!(
            artifact_target("http://h:1", "/srv/art/1/abc/artifacts"),
            Some(ArtifactTarget::Dir("/srv/art/1/abc/artifacts".into()))
        );
        assert_eq!(
            artifact_target("http://h:1", "s3://bucket/1/abc/artifacts"),
            None
        );
        assert_eq!(artifact_target("http://h:1", "mlruns/1/abc"), None);
    }
}
