//! The export itself: per MLflow experiment, the runs already there are
//! found by our tags (one `runs/search`), and each (experiment, run) pair
//! is then found as it is, completed, or created.
//!
//! A run is created with the tags that identify it, then sent its params,
//! metrics and tags, its weights (on request), its end, and last the tag
//! `fmnist.export = complete`. So an export stopped anywhere leaves runs
//! that are either complete or recognisably not: the next export deletes
//! the incomplete ones and creates them again, rather than appending to
//! them (MLflow appends metrics, so sending a history twice would double
//! it). A complete run whose status or epoch count no longer matches the
//! store (a pruned run trained on with `--unprune`) is replaced the same way.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::api::{self, FoundRun};
use crate::batch::batches;
use crate::client::Client;
use crate::error::MlflowError;
use crate::mapping::{
    Content, EXPORT_COMPLETE, ExportRun, TAG_EPOCHS, TAG_EXPERIMENT, TAG_EXPORT, TAG_RUN_ID,
    TAG_STATUS, TAG_WEIGHTS, WEIGHTS_FILE,
};

#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// Upload each run's weights (`model.safetensors`) as an artifact.
    pub artifacts: bool,
    /// The longest any one request may take.
    pub timeout: Duration,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            artifacts: false,
            timeout: Duration::from_secs(120),
        }
    }
}

/// What became of one (experiment, run) pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// It was not on the server: created.
    Created,
    /// An interrupted or outdated export of it was deleted and it was
    /// created again.
    Replaced,
    /// Already exported. `updated_tags` tags had changed since (claims, the
    /// note) and were written again; `weights_added` when its weights were
    /// uploaded now.
    Found {
        updated_tags: usize,
        weights_added: bool,
    },
}

/// Reported after each pair.
#[derive(Debug)]
pub struct ExportProgress<'a> {
    /// Pairs done so far, this one included.
    pub done: usize,
    pub total: usize,
    /// The MLflow experiment.
    pub experiment: &'a str,
    /// The MLflow run's name.
    pub run_name: &'a str,
    pub outcome: RunOutcome,
}

/// What an export did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportSummary {
    pub experiments_created: usize,
    /// MLflow runs created, the replaced ones included.
    pub created: usize,
    /// Of `created`, those that replaced an interrupted or outdated export.
    pub replaced: usize,
    /// Pairs already exported, left as they were but for tags and weights.
    pub found: usize,
    /// Of `found`, those whose tags were written again.
    pub updated: usize,
    /// Weights uploaded.
    pub weights: usize,
    /// MLflow runs deleted: interrupted, outdated or duplicate exports.
    pub deleted: usize,
}

/// Exports `runs` to the tracking server at `uri` (`http://host:port`);
/// see the module documentation. Every run's content is checked before the
/// first request; `on_progress` hears of each pair as it is done.
pub fn export(
    uri: &str,
    runs: &[ExportRun<'_>],
    options: &ExportOptions,
    on_progress: &mut dyn FnMut(&ExportProgress<'_>),
) -> Result<ExportSummary, MlflowError> {
    let client = Client::new(uri, options.timeout)?;
    let contents = runs
        .iter()
        .map(Content::of)
        .collect::<Result<Vec<_>, _>>()?;
    if options.artifacts {
        for run in runs {
            let path = weights(run);
            if !path.is_file() {
                return Err(MlflowError::Weights {
                    run_id: run.run.manifest.run_id.clone(),
                    source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
                    path,
                });
            }
        }
    }
    let groups = group(runs);
    let total = groups.iter().map(|(_, members)| members.len()).sum();
    let mut summary = ExportSummary::default();
    let mut done = 0;
    for (experiment, members) in groups {
        let note = runs[members[0]].note.as_deref();
        let (id, created) = api::experiment(&client, experiment, note)?;
        summary.experiments_created += usize::from(created);
        let mut existing = index(api::search(&client, &id, TAG_RUN_ID)?);
        for i in members {
            let (run, content) = (&runs[i], &contents[i]);
            let found = existing.remove(&key(run)).unwrap_or_default();
            let outcome = export_run(&client, &id, run, content, found, options, &mut summary)?;
            done += 1;
            on_progress(&ExportProgress {
                done,
                total,
                experiment,
                run_name: &content.run_name,
                outcome,
            });
        }
    }
    Ok(summary)
}

fn weights(run: &ExportRun<'_>) -> PathBuf {
    run.run.dir.join(WEIGHTS_FILE)
}

/// What finds a pair on the server: the experiment's full name and our run id.
fn key(run: &ExportRun<'_>) -> (String, String) {
    (run.name.clone(), run.run.manifest.run_id.clone())
}

/// The pairs by MLflow experiment, in order of first appearance, each pair once.
fn group<'r>(runs: &'r [ExportRun<'_>]) -> Vec<(&'r str, Vec<usize>)> {
    let mut groups: Vec<(&str, Vec<usize>)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, run) in runs.iter().enumerate() {
        if !seen.insert((run.experiment.as_str(), key(run))) {
            continue;
        }
        match groups.iter_mut().find(|(e, _)| *e == run.experiment) {
            Some((_, members)) => members.push(i),
            None => groups.push((&run.experiment, vec![i])),
        }
    }
    groups
}

fn index(found: Vec<FoundRun>) -> HashMap<(String, String), Vec<FoundRun>> {
    let mut by_key: HashMap<(String, String), Vec<FoundRun>> = HashMap::new();
    for run in found {
        if let (Some(name), Some(id)) = (run.tags.get(TAG_EXPERIMENT), run.tags.get(TAG_RUN_ID)) {
            let key = (name.clone(), id.clone());
            by_key.entry(key).or_default().push(run);
        }
    }
    by_key
}

/// Whether an exported run is finished and still says what the store says.
fn current(found: &FoundRun, content: &Content) -> bool {
    let tag = |k: &str| found.tags.get(k).map(String::as_str);
    tag(TAG_EXPORT) == Some(EXPORT_COMPLETE)
        && tag(TAG_STATUS) == content.tag(TAG_STATUS)
        && tag(TAG_EPOCHS) == Some(content.epochs().to_string().as_str())
}

fn export_run(
    client: &Client,
    experiment_id: &str,
    run: &ExportRun<'_>,
    content: &Content,
    found: Vec<FoundRun>,
    options: &ExportOptions,
    summary: &mut ExportSummary,
) -> Result<RunOutcome, MlflowError> {
    // The first current export is kept; every other one is deleted.
    let keep = found.iter().position(|f| current(f, content));
    let mut replaced = false;
    for (i, old) in found.iter().enumerate() {
        if Some(i) != keep {
            api::delete_run(client, &old.id)?;
            summary.deleted += 1;
            replaced = true;
        }
    }
    if let Some(i) = keep {
        summary.found += 1;
        return refresh(client, run, content, &found[i], options, summary);
    }
    create(client, experiment_id, run, content, options, summary)?;
    summary.created += 1;
    summary.replaced += usize::from(replaced);
    Ok(if replaced {
        RunOutcome::Replaced
    } else {
        RunOutcome::Created
    })
}

/// A complete export: the tags that changed are written again (tags may be
/// overwritten; params and metrics are the run's own and cannot change
/// under the same run id), and the weights uploaded if asked for and absent.
fn refresh(
    client: &Client,
    run: &ExportRun<'_>,
    content: &Content,
    found: &FoundRun,
    options: &ExportOptions,
    summary: &mut ExportSummary,
) -> Result<RunOutcome, MlflowError> {
    let changed: Vec<(String, String)> = content
        .tags
        .iter()
        .filter(|(k, v)| found.tags.get(k) != Some(v))
        .cloned()
        .collect();
    for batch in batches(&[], &changed, &[]) {
        api::log_batch(client, &found.id, &batch)?;
    }
    summary.updated += usize::from(!changed.is_empty());
    let weights_added = options.artifacts && !found.tags.contains_key(TAG_WEIGHTS);
    if weights_added {
        upload_weights(client, run, found)?;
        let tag = vec![(TAG_WEIGHTS.to_string(), WEIGHTS_FILE.to_string())];
        for batch in batches(&[], &tag, &[]) {
            api::log_batch(client, &found.id, &batch)?;
        }
        summary.weights += 1;
    }
    Ok(RunOutcome::Found {
        updated_tags: changed.len(),
        weights_added,
    })
}

/// A new run, sent whole; the completion tag goes last, alone.
fn create(
    client: &Client,
    experiment_id: &str,
    run: &ExportRun<'_>,
    content: &Content,
    options: &ExportOptions,
    summary: &mut ExportSummary,
) -> Result<(), MlflowError> {
    let new = api::create_run(
        client,
        experiment_id,
        &content.run_name,
        content.start_ms,
        &content.identity,
    )?;
    for batch in batches(&content.params, &content.tags, &content.metrics) {
        api::log_batch(client, &new.id, &batch)?;
    }
    let mut last = Vec::new();
    if options.artifacts {
        upload_weights(client, run, &new)?;
        last.push((TAG_WEIGHTS.to_string(), WEIGHTS_FILE.to_string()));
        summary.weights += 1;
    }
    api::finish_run(client, &new.id, content.mlflow_status, content.end_ms)?;
    // Within one request MLflow writes tags in the order given, so the
    // completion tag is written after the weights' tag, or not at all.
    last.push((TAG_EXPORT.to_string(), EXPORT_COMPLETE.to_string()));
    for batch in batches(&[], &last, &[]) {
        api::log_batch(client, &new.id, &batch)?;
    }
    Ok(())
}

fn upload_weights(client: &Client, run: &ExportRun<'_>, to: &FoundRun) -> Result<(), MlflowError> {
    api::upload(
        client,
        to,
        &run.run.manifest.run_id,
        &weights(run),
        WEIGHTS_FILE,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::MAX_ITEMS;
    use crate::fake::Fake;
    use crate::mapping::tests::{export_run, stored_run};
    use fmnist_experiments::{Quantity, Split};
    use fmnist_metrics::{RunStatus, StoredRun};

    fn quiet() -> impl FnMut(&ExportProgress<'_>) {
        |_| {}
    }

    fn run(
        uri: &str,
        runs: &[ExportRun<'_>],
        artifacts: bool,
    ) -> Result<ExportSummary, MlflowError> {
        let options = ExportOptions {
            artifacts,
            timeout: Duration::from_secs(10),
        };
        export(uri, runs, &options, &mut quiet())
    }

    /// The quantities a run records per epoch, over every split.
    fn per_epoch() -> usize {
        Split::ALL
            .iter()
            .map(|&s| Quantity::ALL.iter().filter(|q| q.measured_on(s)).count())
            .sum()
    }

    /// Three seeds of `baseline`, and two points of `lr-sweep`, the first
    /// of which is the baseline's seed 0 (a shared run); one run long enough
    /// that its metrics take two requests.
    fn store(dir: &std::path::Path) -> Vec<StoredRun> {
        vec![
            stored_run("aaaa0000aaaa0000", 0, 3, dir),
            stored_run("bbbb1111bbbb1111", 1, 3, dir),
            stored_run("cccc2222cccc2222", 2, 200, dir),
            stored_run("dddd3333dddd3333", 0, 4, dir),
        ]
    }

    fn pairs(runs: &[StoredRun]) -> Vec<ExportRun<'_>> {
        vec![
            export_run("baseline", "baseline", &runs[0]),
            export_run("baseline", "baseline", &runs[1]),
            export_run("baseline", "baseline", &runs[2]),
            export_run("lr-sweep", "lr-sweep[optimizer.lr=0.001]", &runs[0]),
            export_run("lr-sweep", "lr-sweep[optimizer.lr=0.01]", &runs[3]),
        ]
    }

    #[test]
    fn a_server_that_is_not_there_is_named_with_the_request() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let dir = tempfile::tempdir().unwrap();
        let runs = store(dir.path());
        let uri = format!("http://127.0.0.1:{port}");
        let err = run(&uri, &pairs(&runs), false).unwrap_err();
        assert!(matches!(err, MlflowError::Unreachable { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.starts_with(&format!(
            "no answer from the MLflow server at {uri} to GET /api/2.0/mlflow/experiments/get-by-name: "
        )), "{text}");
    }

    #[test]
    fn an_error_status_is_named_with_the_request_and_the_servers_message() {
        let fake = Fake::fixed(500, "text/html", "<h1>Internal Server Error</h1>");
        let dir = tempfile::tempdir().unwrap();
        let runs = store(dir.path());
        let err = run(&fake.uri, &pairs(&runs), false).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "the MLflow server at {} refused GET /api/2.0/mlflow/experiments/get-by-name: \
                 HTTP 500: <h1>Internal Server Error</h1>",
                fake.uri
            )
        );
        // Nothing was attempted after the first refusal.
        assert_eq!(fake.state().requests.len(), 1);
        let fake = Fake::fixed(
            403,
            "application/json",
            r#"{"error_code": "PERMISSION_DENIED", "message": "no"}"#,
        );
        let err = run(&fake.uri, &pairs(&runs), false).unwrap_err();
        assert!(
            err.to_string().ends_with("HTTP 403 PERMISSION_DENIED: no"),
            "{err}"
        );
    }

    #[test]
    fn garbage_is_named_with_the_request_and_how_it_began() {
        let dir = tempfile::tempdir().unwrap();
        let runs = store(dir.path());
        let fake = Fake::fixed(200, "text/html", "<html>a proxy login page</html>");
        let err = run(&fake.uri, &pairs(&runs), false).unwrap_err();
        assert!(matches!(err, MlflowError::Garbage { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.starts_with(&format!(
            "the MLflow server at {} answered GET /api/2.0/mlflow/experiments/get-by-name with text/html that is not JSON",
            fake.uri
        )), "{text}");
        assert!(
            text.ends_with("the answer began: \"<html>a proxy login page</html>\""),
            "{text}"
        );
        // JSON, but not MLflow's.
        let fake = Fake::fixed(200, "application/json", r#"{"experiment": 3}"#);
        let err = run(&fake.uri, &pairs(&runs), false).unwrap_err();
        assert!(
            err.to_string().contains("with JSON of another shape"),
            "{err}"
        );
    }

    #[test]
    fn a_tracking_uri_that_is_not_a_server_is_refused_before_any_request() {
        let dir = tempfile::tempdir().unwrap();
        let runs = store(dir.path());
        for uri in ["sqlite:///mlflow.db", "./mlruns", "databricks", "http://"] {
            let err = run(uri, &pairs(&runs), false).unwrap_err();
            assert!(matches!(err, MlflowError::NotHttp { .. }), "{uri}: {err:?}");
        }
    }

    /// One MLflow run holds the whole of its stored run: status, every
    /// param, every metric's history, the completion tag, the weights.
    fn check_exported(r: &crate::fake::FakeRun, runs: &[StoredRun], s: &crate::fake::State) {
        assert_eq!(r.status, "FINISHED");
        assert_eq!(r.tags[TAG_EXPORT], EXPORT_COMPLETE);
        assert_eq!(r.tags[TAG_WEIGHTS], WEIGHTS_FILE);
        let stored = runs
            .iter()
            .find(|s| s.manifest.run_id == r.tags[TAG_RUN_ID])
            .unwrap();
        let epochs = stored.rows.iter().map(|row| row.epoch).max().unwrap() as u64;
        assert_eq!(r.history("val_accuracy").len() as u64, epochs);
        assert_eq!(r.metrics.len(), epochs as usize * per_epoch());
        assert_eq!(r.params["seed"], stored.manifest.seed.to_string());
        assert_eq!(r.params.len(), stored.manifest.config.settings().len() + 2);
        assert_eq!(r.tags["fmnist.epochs"], epochs.to_string());
        assert_eq!(
            r.end_time,
            Some(crate::time::unix_millis("2026-01-01T00:01:00Z").unwrap())
        );
        let artifact = format!("{}/{}/artifacts/{WEIGHTS_FILE}", r.experiment_id, r.id);
        let want = format!("weights of {}", stored.manifest.run_id);
        assert_eq!(s.artifacts[&artifact], want.as_bytes());
    }

    #[test]
    fn every_pair_is_exported_whole_within_the_limits_and_once() {
        let fake = Fake::mlflow();
        let dir = tempfile::tempdir().unwrap();
        let runs = store(dir.path());
        let pairs = pairs(&runs);
        let mut seen = Vec::new();
        let options = ExportOptions {
            artifacts: true,
            timeout: Duration::from_secs(10),
        };
        let summary = export(&fake.uri, &pairs, &options, &mut |p: &ExportProgress<
            '_,
        >| {
            seen.push((p.done, p.total, p.experiment.to_string(), p.outcome));
        })
        .unwrap();
        assert_eq!(summary.created, 5);
        assert_eq!(
            (summary.found, summary.replaced, summary.deleted),
            (0, 0, 0)
        );
        assert_eq!((summary.experiments_created, summary.weights), (2, 5));
        assert_eq!(seen.len(), 5);
        assert_eq!(seen[4], (5, 5, "lr-sweep".to_string(), RunOutcome::Created));
        let s = fake.state();
        // The long run's 1,600 metrics took two requests; every request was
        // within the limits (the fake refuses any other).
        assert_eq!(200 * per_epoch(), 1600);
        assert_eq!(s.count("POST", "runs/log-batch"), 5 + 1 + 5);
        let items = |r: &&crate::fake::Recorded| {
            ["params", "tags", "metrics"]
                .iter()
                .map(|k| r.body[k].as_array().unwrap().len())
                .sum::<usize>()
        };
        let batches = s.requests.iter().filter(|r| r.path.ends_with("log-batch"));
        assert_eq!(batches.clone().map(|r| items(&r)).max(), Some(MAX_ITEMS));
        assert!(batches.map(|r| r.bytes).max().unwrap() < crate::batch::MAX_BYTES);
        let create = s
            .requests
            .iter()
            .find(|r| r.path.ends_with("experiments/create"));
        let create = &create.unwrap().body;
        assert_eq!(create["name"], "baseline");
        let note = serde_json::json!({ "key": "mlflow.note.content", "value": "Table I." });
        assert!(
            create["tags"].as_array().unwrap().contains(&note),
            "{create}"
        );
        let active = s.active_runs();
        assert_eq!(active.len(), 5);
        // The shared run is in both experiments.
        let shared: Vec<_> = active
            .iter()
            .filter(|r| r.tags[TAG_RUN_ID] == "aaaa0000aaaa0000")
            .collect();
        assert_eq!(shared.len(), 2);
        assert_ne!(shared[0].experiment_id, shared[1].experiment_id);
        for r in &active {
            check_exported(r, &runs, &s);
        }
        assert!(
            active
                .iter()
                .any(|r| r.name == "optimizer.lr=0.01 seed 0 dddd3333")
        );
        let long = active
            .iter()
            .find(|r| r.tags[TAG_RUN_ID] == "cccc2222cccc2222")
            .unwrap();
        let steps: Vec<u64> = long.history("train_loss").iter().map(|p| p.0).collect();
        assert_eq!(steps, (1..=200).collect::<Vec<_>>());
    }

    #[test]
    fn a_second_export_creates_nothing_and_a_new_run_is_added() {
        let fake = Fake::mlflow();
        let dir = tempfile::tempdir().unwrap();
        let mut runs = store(dir.path());
        run(&fake.uri, &pairs(&runs), false).unwrap();
        let before = fake.state().requests.len();
        let again = run(&fake.uri, &pairs(&runs), false).unwrap();
        assert_eq!(
            again,
            ExportSummary {
                found: 5,
                ..ExportSummary::default()
            }
        );
        {
            let s = fake.state();
            let new: Vec<&str> = s.requests[before..]
                .iter()
                .map(|r| r.path.as_str())
                .collect();
            // A lookup of each experiment and a search of its runs (paged: the
            // fake answers two runs a page), nothing written.
            assert!(
                new.iter()
                    .all(|p| p.ends_with("get-by-name") || p.ends_with("runs/search")),
                "{new:?}"
            );
            let searches = new.iter().filter(|p| p.ends_with("runs/search")).count();
            assert_eq!(searches, 2 + 1);
            assert_eq!(s.active_runs().len(), 5);
        }
        runs.push(stored_run("eeee4444eeee4444", 3, 3, dir.path()));
        let mut more = pairs(&runs[..4]);
        more.push(export_run("baseline", "baseline", &runs[4]));
        more.push(export_run(
            "lr-sweep",
            "lr-sweep[optimizer.lr=0.01]",
            &runs[3],
        ));
        let third = run(&fake.uri, &more, false).unwrap();
        assert_eq!((third.created, third.found), (1, 5));
        assert_eq!(fake.state().active_runs().len(), 6);
        // Weights asked for later are added to the runs already there.
        let fourth = run(&fake.uri, &more, true).unwrap();
        assert_eq!((fourth.created, fourth.found, fourth.weights), (0, 6, 6));
        assert_eq!(fake.state().artifacts.len(), 6);
    }

    #[test]
    fn an_interrupted_export_is_finished_by_the_next_without_doubling_a_history() {
        let fake = Fake::mlflow();
        let dir = tempfile::tempdir().unwrap();
        let runs = store(dir.path());
        // Two requests a short run, then the long run's second fails: it is half-sent.
        fake.state().fail_log_batch_after = Some(5);
        let err = run(&fake.uri, &pairs(&runs), false).unwrap_err();
        assert!(
            err.to_string()
                .contains("refused POST /api/2.0/mlflow/runs/log-batch: HTTP 500 INTERNAL_ERROR"),
            "{err}"
        );
        {
            let s = fake.state();
            let half = s
                .active_runs()
                .into_iter()
                .find(|r| !r.tags.contains_key(TAG_EXPORT))
                .unwrap();
            assert_eq!(half.tags[TAG_RUN_ID], "cccc2222cccc2222");
            assert!(half.metrics.len() < 200 * per_epoch());
        }
        fake.state().fail_log_batch_after = None;
        let summary = run(&fake.uri, &pairs(&runs), false).unwrap();
        assert_eq!(
            (
                summary.found,
                summary.created,
                summary.replaced,
                summary.deleted
            ),
            (2, 3, 1, 1)
        );
        let s = fake.state();
        let active = s.active_runs();
        assert_eq!(active.len(), 5);
        for r in &active {
            assert_eq!(r.tags[TAG_EXPORT], EXPORT_COMPLETE);
            let epochs: u64 = r.tags[TAG_EPOCHS].parse().unwrap();
            assert_eq!(r.history("val_loss").len() as u64, epochs, "{}", r.name);
        }
        assert_eq!(s.runs.iter().filter(|r| r.deleted).count(), 1);
    }

    #[test]
    fn an_outdated_export_is_replaced_and_changed_tags_are_rewritten() {
        let fake = Fake::mlflow();
        let dir = tempfile::tempdir().unwrap();
        let mut runs = store(dir.path());
        runs[3].manifest.status = RunStatus::Pruned { epoch: 2 };
        runs[3].rows.retain(|r| r.epoch <= 2);
        run(&fake.uri, &pairs(&runs), false).unwrap();
        // Trained on to the end (`--unprune`): the same run id, two more epochs.
        let dir2 = tempfile::tempdir().unwrap();
        runs[3] = stored_run("dddd3333dddd3333", 0, 4, dir2.path());
        let mut edited = pairs(&runs);
        edited[1].claims = vec!["C1".into(), "C2".into(), "C9".into()];
        let summary = run(&fake.uri, &edited, false).unwrap();
        assert_eq!(
            (
                summary.created,
                summary.replaced,
                summary.found,
                summary.updated
            ),
            (1, 1, 4, 1)
        );
        let s = fake.state();
        let unpruned = s
            .active_runs()
            .into_iter()
            .find(|r| r.tags[TAG_RUN_ID] == "dddd3333dddd3333")
            .unwrap();
        assert_eq!(unpruned.tags[TAG_STATUS], "complete");
        assert_eq!(unpruned.history("val_accuracy").len(), 4);
        let seed1 = s
            .active_runs()
            .into_iter()
            .find(|r| r.tags[TAG_RUN_ID] == "bbbb1111bbbb1111")
            .unwrap();
        assert_eq!(seed1.tags["fmnist.claims"], "C1,C2,C9");
    }

    #[test]
    fn two_copies_of_a_run_are_reduced_to_one() {
        let fake = Fake::mlflow();
        let dir = tempfile::tempdir().unwrap();
        let runs = store(dir.path());
        run(&fake.uri, &pairs(&runs), false).unwrap();
        {
            // As two exports at once would leave it.
            let mut s = fake.state();
            let mut copy = s.runs[1].clone();
            copy.id = "copy".into();
            s.runs.push(copy);
        }
        let again = run(&fake.uri, &pairs(&runs), false).unwrap();
        assert_eq!((again.found, again.created, again.deleted), (5, 0, 1));
        assert_eq!(fake.state().active_runs().len(), 5);
    }

    #[test]
    fn a_deleted_experiment_is_not_written_into() {
        let fake = Fake::mlflow();
        fake.state()
            .experiments
            .push(("7".into(), "baseline".into(), true));
        let dir = tempfile::tempdir().unwrap();
        let runs = store(dir.path());
        let err = run(&fake.uri, &pairs(&runs), false).unwrap_err();
        assert!(
            err.to_string().contains("experiment \"baseline\"")
                && err.to_string().contains("--experiment-id 7"),
            "{err}"
        );
        assert_eq!(fake.state().runs.len(), 0);
    }

    #[test]
    fn missing_weights_stop_the_export_before_any_request() {
        let fake = Fake::mlflow();
        let dir = tempfile::tempdir().unwrap();
        let runs = store(dir.path());
        std::fs::remove_file(runs[1].dir.join(WEIGHTS_FILE)).unwrap();
        let err = run(&fake.uri, &pairs(&runs), true).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("run bbbb1111bbbb1111: reading its weights"),
            "{err}"
        );
        assert!(fake.state().requests.is_empty());
    }
}
