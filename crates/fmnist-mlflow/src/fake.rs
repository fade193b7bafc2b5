//! A fake MLflow tracking server on 127.0.0.1, for the tests: either just
//! enough of the REST API, in memory, enforcing MLflow's log-batch limits
//! and its rule that a param never changes, or one fixed answer to every
//! request (an error status, garbage). Every request is recorded.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use serde_json::{Value, json};

use crate::batch::{MAX_BYTES, MAX_ITEMS, MAX_METRICS, MAX_PARAMS, MAX_TAGS};

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub(crate) method: String,
    /// Without the query.
    pub(crate) path: String,
    /// The JSON body, `Null` when there was none or it was not JSON.
    pub(crate) body: Value,
    pub(crate) bytes: usize,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct FakeRun {
    pub(crate) id: String,
    pub(crate) experiment_id: String,
    pub(crate) name: String,
    pub(crate) status: String,
    pub(crate) deleted: bool,
    pub(crate) end_time: Option<i64>,
    pub(crate) params: BTreeMap<String, String>,
    pub(crate) tags: BTreeMap<String, String>,
    /// (key, value, timestamp, step), in the order logged.
    pub(crate) metrics: Vec<(String, f64, i64, u64)>,
}

impl FakeRun {
    pub(crate) fn history(&self, key: &str) -> Vec<(u64, f64)> {
        let points = self.metrics.iter().filter(|m| m.0 == key);
        points.map(|m| (m.3, m.1)).collect()
    }
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) requests: Vec<Recorded>,
    /// (id, name, deleted)
    pub(crate) experiments: Vec<(String, String, bool)>,
    pub(crate) runs: Vec<FakeRun>,
    /// Artifact path under the proxy -> bytes.
    pub(crate) artifacts: BTreeMap<String, Vec<u8>>,
    /// Answer HTTP 500 to every log-batch after this many succeeded.
    pub(crate) fail_log_batch_after: Option<usize>,
    log_batches: usize,
    /// (status, content type, body) answered to every request.
    fixed: Option<(u16, String, String)>,
}

impl State {
    pub(crate) fn active_runs(&self) -> Vec<&FakeRun> {
        self.runs.iter().filter(|r| !r.deleted).collect()
    }

    pub(crate) fn count(&self, method: &str, endpoint: &str) -> usize {
        let r = self.requests.iter();
        r.filter(|r| r.method == method && r.path.ends_with(endpoint))
            .count()
    }
}

pub(crate) struct Fake {
    pub(crate) uri: String,
    pub(crate) state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    addr: std::net::SocketAddr,
    thread: Option<JoinHandle<()>>,
}

impl Fake {
    /// A fake MLflow.
    pub(crate) fn mlflow() -> Fake {
        Fake::start(State::default())
    }

    /// A server that answers every request with `status`, `content_type`, `body`.
    pub(crate) fn fixed(status: u16, content_type: &str, body: &str) -> Fake {
        Fake::start(State {
            fixed: Some((status, content_type.into(), body.into())),
            ..State::default()
        })
    }

    fn start(state: State) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(state));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (state.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    serve(stream, &s);
                }
            }
        });
        Fake {
            uri: format!("http://{addr}"),
            state,
            stop,
            addr,
            thread: Some(thread),
        }
    }

    pub(crate) fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One request per connection: read it, answer it, close.
fn serve(stream: TcpStream, state: &Mutex<State>) {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut words = line.split_whitespace();
    let method = words.next().unwrap_or_default().to_string();
    let target = words.next().unwrap_or_default().to_string();
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let (status, content_type, answer) = {
        let mut s = state.lock().unwrap();
        s.requests.push(Recorded {
            method: method.clone(),
            path: path.to_string(),
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
            bytes: body.len(),
        });
        match s.fixed.clone() {
            Some(fixed) => fixed,
            None => {
                let (status, v) = handle(&mut s, &method, path, query, &body);
                (status, "application/json".to_string(), v.to_string())
            }
        }
    };
    let mut stream = reader.into_inner();
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        answer.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(answer.as_bytes());
}

fn error(status: u16, code: &str, message: &str) -> (u16, Value) {
    (status, json!({ "error_code": code, "message": message }))
}

fn handle(s: &mut State, method: &str, path: &str, query: &str, body: &[u8]) -> (u16, Value) {
    if let Some(artifact) = path.strip_prefix("/api/2.0/mlflow-artifacts/artifacts/") {
        assert_eq!(method, "PUT");
        s.artifacts.insert(artifact.to_string(), body.to_vec());
        return (200, json!({}));
    }
    let Some(endpoint) = path.strip_prefix("/api/2.0/mlflow/") else {
        return error(404, "ENDPOINT_NOT_FOUND", path);
    };
    let b: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    match (method, endpoint) {
        ("GET", "experiments/get-by-name") => {
            let name = decode(query.strip_prefix("experiment_name=").unwrap_or_default());
            match s.experiments.iter().find(|e| e.1 == name) {
                Some((id, name, deleted)) => (
                    200,
                    json!({ "experiment": {
                    "experiment_id": id, "name": name,
                    "lifecycle_stage": if *deleted { "deleted" } else { "active" } } }),
                ),
                None => error(404, "RESOURCE_DOES_NOT_EXIST", "Could not find experiment"),
            }
        }
        ("POST", "experiments/create") => {
            let id = (s.experiments.len() + 1).to_string();
            s.experiments
                .push((id.clone(), b["name"].as_str().unwrap().to_string(), false));
            (200, json!({ "experiment_id": id }))
        }
        ("POST", "runs/search") => search(s, &b),
        ("POST", "runs/create") => {
            let run = FakeRun {
                id: format!("mlrun{:04}", s.runs.len()),
                experiment_id: b["experiment_id"].as_str().unwrap().to_string(),
                name: b["run_name"].as_str().unwrap().to_string(),
                status: "RUNNING".into(),
                tags: pairs(&b["tags"]).into_iter().collect(),
                ..FakeRun::default()
            };
            let answer = json!({ "run": run_json(&run) });
            s.runs.push(run);
            (200, answer)
        }
        ("POST", "runs/log-batch") => log_batch(s, &b, body.len()),
        ("POST", "runs/update") => {
            let run = find(s, &b);
            run.status = b["status"].as_str().unwrap().to_string();
            run.end_time = b["end_time"].as_i64();
            (200, json!({}))
        }
        ("POST", "runs/delete") => {
            find(s, &b).deleted = true;
            (200, json!({}))
        }
        _ => error(404, "ENDPOINT_NOT_FOUND", endpoint),
    }
}

fn find<'s>(s: &'s mut State, body: &Value) -> &'s mut FakeRun {
    let id = body["run_id"].as_str().unwrap();
    s.runs.iter_mut().find(|r| r.id == id).expect("a known run")
}

fn pairs(list: &Value) -> Vec<(String, String)> {
    let items = list.as_array().cloned().unwrap_or_default();
    items
        .iter()
        .map(|p| {
            (
                p["key"].as_str().unwrap().into(),
                p["value"].as_str().unwrap().into(),
            )
        })
        .collect()
}

fn run_json(run: &FakeRun) -> Value {
    let tags: Vec<Value> = run
        .tags
        .iter()
        .map(|(k, v)| json!({ "key": k, "value": v }))
        .collect();
    json!({
        "info": {
            "run_id": run.id, "run_uuid": run.id, "experiment_id": run.experiment_id,
            "run_name": run.name, "status": run.status, "lifecycle_stage": "active",
            "artifact_uri": format!("mlflow-artifacts:/{}/{}/artifacts", run.experiment_id, run.id),
        },
        "data": { "tags": tags },
    })
}

/// Only the filter the export sends, ``tags.`KEY` != ''``; at most two runs
/// a page whatever was asked, so that paging is exercised.
fn search(s: &State, b: &Value) -> (u16, Value) {
    let filter = b["filter"].as_str().unwrap();
    let key = filter
        .strip_prefix("tags.`")
        .and_then(|f| f.strip_suffix("` != ''"))
        .expect("the export's filter");
    let ids: Vec<String> = serde_json::from_value(b["experiment_ids"].clone()).unwrap();
    let matching: Vec<&FakeRun> = s
        .runs
        .iter()
        .filter(|r| !r.deleted && ids.contains(&r.experiment_id) && r.tags.contains_key(key))
        .collect();
    let start: usize = b["page_token"].as_str().map_or(0, |t| t.parse().unwrap());
    let page = b["max_results"].as_u64().unwrap().min(2) as usize;
    let runs: Vec<Value> = matching
        .iter()
        .skip(start)
        .take(page)
        .map(|r| run_json(r))
        .collect();
    let mut answer = json!({ "runs": runs });
    if start + page < matching.len() {
        answer["next_page_token"] = json!((start + page).to_string());
    }
    (200, answer)
}

/// MLflow's checks: the limits, and a param written once never changes.
fn log_batch(s: &mut State, b: &Value, bytes: usize) -> (u16, Value) {
    if s.fail_log_batch_after.is_some_and(|n| s.log_batches >= n) {
        return (
            500,
            json!({ "error_code": "INTERNAL_ERROR", "message": "injected failure" }),
        );
    }
    s.log_batches += 1;
    let len = |k: &str| b[k].as_array().map_or(0, Vec::len);
    let (params, tags, metrics) = (len("params"), len("tags"), len("metrics"));
    if params > MAX_PARAMS
        || tags > MAX_TAGS
        || metrics > MAX_METRICS
        || params + tags + metrics > MAX_ITEMS
        || bytes > MAX_BYTES
    {
        return error(
            400,
            "INVALID_PARAMETER_VALUE",
            "A batch logging request can contain at most ...",
        );
    }
    let new_params = pairs(&b["params"]);
    let run = find(s, b);
    for (k, v) in new_params {
        if run.params.get(&k).is_some_and(|old| *old != v) {
            return error(
                400,
                "INVALID_PARAMETER_VALUE",
                "Changing param values is not allowed",
            );
        }
        run.params.insert(k, v);
    }
    for m in b["metrics"].as_array().cloned().unwrap_or_default() {
        let value = match &m["value"] {
            Value::String(s) => s.parse().unwrap(),
            v => v.as_f64().unwrap(),
        };
        let key = m["key"].as_str().unwrap().to_string();
        run.metrics.push((
            key,
            value,
            m["timestamp"].as_i64().unwrap(),
            m["step"].as_u64().unwrap(),
        ));
    }
    run.tags.extend(pairs(&b["tags"]));
    (200, json!({}))
}

/// `a%20b+c` -> `a b c`.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}
