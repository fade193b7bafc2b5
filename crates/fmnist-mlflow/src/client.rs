//! The HTTP side: JSON requests to a tracking server's REST API
//! (`/api/2.0/mlflow/...`) and uploads through its artifact proxy
//! (`/api/2.0/mlflow-artifacts/artifacts/...`), each failure turned into an
//! [`MlflowError`] naming the server and the request.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::MlflowError;

/// The REST API's prefix.
pub(crate) const API: &str = "/api/2.0/mlflow";
/// The artifact proxy's prefix.
pub(crate) const ARTIFACTS_API: &str = "/api/2.0/mlflow-artifacts/artifacts";

/// Search answers of a thousand runs with all their data fit well within this.
const MAX_ANSWER_BYTES: u64 = 256 << 20;

#[derive(Debug)]
pub(crate) struct Client {
    /// The tracking URI, without a trailing slash.
    base: String,
    agent: ureq::Agent,
}

impl Client {
    pub(crate) fn new(uri: &str, timeout: Duration) -> Result<Client, MlflowError> {
        let base = uri.trim().trim_end_matches('/');
        let scheme_ok = ["http://", "https://"]
            .iter()
            .any(|s| base.len() > s.len() && base[..s.len()].eq_ignore_ascii_case(s));
        if !scheme_ok {
            return Err(MlflowError::NotHttp {
                uri: uri.to_string(),
            });
        }
        let agent = ureq::Agent::config_builder()
            // MLflow's errors are JSON with a message worth showing.
            .http_status_as_error(false)
            .timeout_connect(Some(timeout.min(Duration::from_secs(10))))
            .timeout_global(Some(timeout))
            .build()
            .into();
        Ok(Client {
            base: base.to_string(),
            agent,
        })
    }

    pub(crate) fn uri(&self) -> &str {
        &self.base
    }

    /// `POST {API}/{endpoint}` with a JSON body; the answer as `T`.
    pub(crate) fn post<T: DeserializeOwned>(
        &self,
        endpoint: &str,
        body: &Value,
    ) -> Result<T, MlflowError> {
        let path = format!("{API}/{endpoint}");
        let request = format!("POST {path}");
        let answer = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Content-Type", "application/json")
            .send(body.to_string());
        self.json(&request, answer)
    }

    /// `GET {API}/{endpoint}?query`; the answer as `T`.
    pub(crate) fn get<T: DeserializeOwned>(
        &self,
        endpoint: &str,
        query: &[(&str, &str)],
    ) -> Result<T, MlflowError> {
        let path = format!("{API}/{endpoint}");
        let request = format!("GET {path}");
        let answer = self
            .agent
            .get(format!("{}{path}", self.base))
            .query_pairs(query.iter().copied())
            .call();
        self.json(&request, answer)
    }

    /// `PUT` of a file's bytes to `url` (the artifact proxy, possibly on
    /// another host than the tracking URI's).
    pub(crate) fn put(&self, url: &str, bytes: &[u8]) -> Result<(), MlflowError> {
        let request = format!("PUT {url}");
        let answer = self
            .agent
            .put(url)
            .header("Content-Type", "application/octet-stream")
            .send(bytes);
        let (_, _) = self.text(&request, answer)?;
        Ok(())
    }

    fn json<T: DeserializeOwned>(
        &self,
        request: &str,
        answer: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<T, MlflowError> {
        let (text, content_type) = self.text(request, answer)?;
        serde_json::from_str(&text).map_err(|e| MlflowError::Garbage {
            uri: self.base.clone(),
            request: request.to_string(),
            what: match serde_json::from_str::<Value>(&text) {
                Ok(_) => format!("JSON of another shape ({e})"),
                Err(_) if content_type.is_empty() => format!("something that is not JSON ({e})"),
                Err(_) => format!("{content_type} that is not JSON ({e})"),
            },
            start: start_of(&text),
        })
    }

    /// The body of a 2xx answer, and its content type; any other answer
    /// is an error carrying MLflow's `error_code` and message when it gave
    /// them.
    fn text(
        &self,
        request: &str,
        answer: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<(String, String), MlflowError> {
        let unreachable = |e: ureq::Error| MlflowError::Unreachable {
            uri: self.base.clone(),
            request: request.to_string(),
            reason: e.to_string(),
        };
        let response = answer.map_err(unreachable)?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let text = response
            .into_body()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .read_to_string()
            .map_err(unreachable)?;
        if (200..300).contains(&status) {
            return Ok((text, content_type));
        }
        let error: Option<MlflowErrorBody> = serde_json::from_str(&text).ok();
        Err(MlflowError::Refused {
            uri: self.base.clone(),
            request: request.to_string(),
            status,
            error_code: error.as_ref().and_then(|e| e.error_code.clone()),
            message: match error.and_then(|e| e.message) {
                Some(m) => m,
                None => start_of(&text),
            },
        })
    }
}

/// How MLflow reports an error: `{"error_code": "...", "message": "..."}`.
#[derive(serde::Deserialize)]
struct MlflowErrorBody {
    error_code: Option<String>,
    message: Option<String>,
}

/// The first 200 characters, for a message.
fn start_of(text: &str) -> String {
    let mut s: String = text.chars().take(200).collect();
    if s.len() < text.len() {
        s.push_str("...");
    }
    s
}
