//! Splitting a run's params, tags and metrics into `runs/log-batch`
//! requests within MLflow's documented limits (REST API, "Log LogBatch":
//! a request of at most 1 MB holds at most 1,000 metrics, 100 params,
//! 100 tags and 1,000 items in all; `mlflow/utils/validation.py` enforces
//! the same numbers on the server).

use serde_json::{Value, json};

use crate::mapping::Metric;

/// At most this many metrics in one `runs/log-batch`.
pub const MAX_METRICS: usize = 1000;
/// At most this many params in one `runs/log-batch`.
pub const MAX_PARAMS: usize = 100;
/// At most this many tags in one `runs/log-batch`.
pub const MAX_TAGS: usize = 100;
/// At most this many metrics, params and tags together in one `runs/log-batch`.
pub const MAX_ITEMS: usize = 1000;
/// At most this many bytes of JSON in one `runs/log-batch`; the batches
/// stay under 90% of it, leaving room for the run id and the punctuation.
pub const MAX_BYTES: usize = 1_000_000;

/// One `runs/log-batch` body, less the run id.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct LogBatch {
    pub(crate) params: Vec<Value>,
    pub(crate) tags: Vec<Value>,
    pub(crate) metrics: Vec<Value>,
    bytes: usize,
}

impl LogBatch {
    fn items(&self) -> usize {
        self.params.len() + self.tags.len() + self.metrics.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.items() == 0
    }

    pub(crate) fn body(&self, run_id: &str) -> Value {
        json!({
            "run_id": run_id,
            "params": self.params,
            "tags": self.tags,
            "metrics": self.metrics,
        })
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Param,
    Tag,
    Metric,
}

/// A key-value pair as MLflow's `Param` and `RunTag` take it.
pub(crate) fn pair(key: &str, value: &str) -> Value {
    json!({ "key": key, "value": value })
}

/// A metric as MLflow's `Metric` takes it. JSON has no NaN or infinity, so
/// those travel as the strings protobuf's JSON mapping reads ("NaN",
/// "Infinity", "-Infinity").
pub(crate) fn metric(m: &Metric) -> Value {
    let value = if m.value.is_finite() {
        json!(m.value)
    } else if m.value.is_nan() {
        json!("NaN")
    } else if m.value > 0.0 {
        json!("Infinity")
    } else {
        json!("-Infinity")
    };
    json!({ "key": m.key, "value": value, "timestamp": m.timestamp, "step": m.step })
}

/// Params, then metrics, then tags, in order, packed into as few batches as
/// the limits allow.
pub(crate) fn batches(
    params: &[(String, String)],
    tags: &[(String, String)],
    metrics: &[Metric],
) -> Vec<LogBatch> {
    let items = params
        .iter()
        .map(|(k, v)| (Kind::Param, pair(k, v)))
        .chain(metrics.iter().map(|m| (Kind::Metric, metric(m))))
        .chain(tags.iter().map(|(k, v)| (Kind::Tag, pair(k, v))));
    let mut out = Vec::new();
    let mut current = LogBatch::default();
    for (kind, item) in items {
        let bytes = item.to_string().len() + 1;
        if !fits(&current, kind, bytes) {
            out.push(std::mem::take(&mut current));
        }
        current.bytes += bytes;
        match kind {
            Kind::Param => current.params.push(item),
            Kind::Tag => current.tags.push(item),
            Kind::Metric => current.metrics.push(item),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn fits(batch: &LogBatch, kind: Kind, bytes: usize) -> bool {
    let room = match kind {
        Kind::Param => batch.params.len() < MAX_PARAMS,
        Kind::Tag => batch.tags.len() < MAX_TAGS,
        Kind::Metric => batch.metrics.len() < MAX_METRICS,
    };
    room && batch.items() < MAX_ITEMS && batch.bytes + bytes <= MAX_BYTES * 9 / 10
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(prefix: &str, n: usize, value_len: usize) -> Vec<(String, String)> {
        (0..n)
            .map(|i| (format!("{prefix}{i}"), "v".repeat(value_len)))
            .collect()
    }

    fn metrics(n: usize) -> Vec<Metric> {
        (0..n)
            .map(|i| Metric {
                key: format!("m{}", i % 7),
                value: i as f64,
                timestamp: 1,
                step: i as u32,
            })
            .collect()
    }

    /// Every batch within every limit, and every item sent once, in order.
    fn check(params: &[(String, String)], tags: &[(String, String)], metrics: &[Metric]) -> usize {
        let out = batches(params, tags, metrics);
        for b in &out {
            assert!(b.params.len() <= MAX_PARAMS);
            assert!(b.tags.len() <= MAX_TAGS);
            assert!(b.metrics.len() <= MAX_METRICS);
            assert!(b.items() <= MAX_ITEMS);
            assert!(!b.is_empty());
            assert!(b.body("0123456789abcdef0123456789abcdef").to_string().len() < MAX_BYTES);
        }
        let keys = |pick: fn(&LogBatch) -> &Vec<Value>| -> Vec<String> {
            out.iter()
                .flat_map(|b| {
                    pick(b)
                        .iter()
                        .map(|v| v["key"].as_str().unwrap().to_string())
                })
                .collect()
        };
        let want = |p: &[(String, String)]| p.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
        assert_eq!(keys(|b| &b.params), want(params));
        assert_eq!(keys(|b| &b.tags), want(tags));
        let steps: Vec<u64> = out
            .iter()
            .flat_map(|b| b.metrics.iter().map(|m| m["step"].as_u64().unwrap()))
            .collect();
        assert_eq!(steps, (0..metrics.len() as u64).collect::<Vec<_>>());
        out.len()
    }

    #[test]
    fn a_small_run_is_one_request() {
        assert_eq!(
            check(&pairs("p", 20, 5), &pairs("t", 15, 40), &metrics(180)),
            1
        );
        assert_eq!(check(&[], &[], &[]), 0);
    }

    #[test]
    fn each_limit_splits_the_batch() {
        // 100 params fit, 101 do not.
        assert_eq!(check(&pairs("p", 100, 1), &[], &[]), 1);
        assert_eq!(check(&pairs("p", 101, 1), &[], &[]), 2);
        assert_eq!(check(&[], &pairs("t", 250, 1), &[]), 3);
        assert_eq!(check(&[], &[], &metrics(1000)), 1);
        assert_eq!(check(&[], &[], &metrics(2500)), 3);
        // 1,000 items in all: 950 metrics and 100 tags are two requests.
        assert_eq!(check(&[], &pairs("t", 100, 1), &metrics(950)), 2);
        // Long values: the 1 MB budget splits them before any count does.
        assert!(check(&pairs("p", 99, 6000), &pairs("t", 99, 8000), &[]) >= 2);
    }

    #[test]
    fn values_json_cannot_hold_travel_as_protobuf_strings() {
        let m = |value| {
            metric(&Metric {
                key: "k".into(),
                value,
                timestamp: 5,
                step: 2,
            })
        };
        assert_eq!(m(f64::NAN)["value"], "NaN");
        assert_eq!(m(f64::INFINITY)["value"], "Infinity");
        assert_eq!(m(f64::NEG_INFINITY)["value"], "-Infinity");
        assert_eq!(m(0.25)["value"], 0.25);
        assert_eq!(m(0.25)["step"], 2);
        assert_eq!(m(0.25)["timestamp"], 5);
    }
}
