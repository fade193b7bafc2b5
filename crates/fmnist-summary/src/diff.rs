//! The diff of two summaries, A (before) and B (after): what changed, by
//! experiment, with the change of each headline metric, `B − A`, and its
//! 95% t interval from both sides' seeds.

use fmnist_stats::{Difference, Pairing};

use crate::summary::{METRICS, RunRow, SIGNIFICANT, Summary, rounded};

/// The two-sided level of every interval of the diff.
pub const LEVEL: f64 = 0.95;

/// The metrics a diff reports, with their words.
pub const HEADLINE: [(&str, &str); 5] = [
    ("final_val_accuracy", "final validation accuracy"),
    ("window5_val_accuracy", "validation accuracy, last 5 epochs"),
    ("best_val_accuracy", "best validation accuracy"),
    ("final_train_accuracy", "final training accuracy"),
    ("final_val_loss", "final validation loss"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Only in B.
    Added,
    /// Only in A.
    Removed,
    /// Settings or seeds differ, and so may the numbers.
    Changed,
    /// Same settings and seeds, other numbers: the code or the data drifted.
    Drift,
    /// Same settings, seeds and numbers.
    Unchanged,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingChange {
    pub key: String,
    /// `None`: the setting does not exist on that side.
    pub a: Option<String>,
    pub b: Option<String>,
}

/// The change of one metric, `B − A`.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricChange {
    pub metric: &'static str,
    pub words: &'static str,
    pub a_mean: f64,
    pub b_mean: f64,
    pub n_a: usize,
    pub n_b: usize,
    /// `mean(B) − mean(A)` (for paired seeds, also the mean per-seed change).
    pub change: f64,
    /// The [`LEVEL`] interval, when both sides have seeds enough.
    pub interval: Option<(f64, f64)>,
    pub pairing: Option<Pairing>,
    /// The interval excludes 0.
    pub significant: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentDiff {
    pub name: String,
    pub status: Status,
    pub settings: Vec<SettingChange>,
    pub seeds_a: Vec<u64>,
    pub seeds_b: Vec<u64>,
    /// Some run's id differs (settings, seed, data or code version).
    pub run_ids_changed: bool,
    pub code_a: Vec<u32>,
    pub code_b: Vec<u32>,
    /// The [`HEADLINE`] metrics present on both sides.
    pub metrics: Vec<MetricChange>,
    /// For an experiment on one side only: its mean final validation
    /// accuracy there and the number of seeds.
    pub one_side: Option<(f64, usize)>,
}

impl ExperimentDiff {
    pub fn is_change(&self) -> bool {
        self.status != Status::Unchanged
    }

    pub fn any_significant(&self) -> bool {
        self.metrics.iter().any(|m| m.significant)
    }
}

/// What differs between the two sides' code and data.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Drift {
    /// `TRAINING_CODE_VERSION` of A and B, when they differ.
    pub code: Option<(String, String)>,
    /// (data file, A's hash, B's hash) of each file that differs.
    pub data: Vec<(String, Option<String>, Option<String>)>,
}

impl Drift {
    pub fn any(&self) -> bool {
        self.code.is_some() || !self.data.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerdictChange {
    pub claim: String,
    pub a: Option<String>,
    pub b: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Diff {
    pub a: String,
    pub b: String,
    pub drift: Drift,
    /// B's experiments in B's order, then those only A has.
    pub experiments: Vec<ExperimentDiff>,
    pub verdicts: Vec<VerdictChange>,
    /// Whether each side states verdicts at all.
    pub verdicts_known: (bool, bool),
}

fn seeds(runs: &[&RunRow]) -> Vec<u64> {
    let mut s: Vec<u64> = runs.iter().map(|r| r.seed).collect();
    s.sort_unstable();
    s
}

fn settings_diff(a: &[&RunRow], b: &[&RunRow]) -> Vec<SettingChange> {
    let empty = Vec::new();
    let sa = a.first().map_or(&empty, |r| &r.settings);
    let sb = b.first().map_or(&empty, |r| &r.settings);
    let get =
        |s: &[(String, String)], k: &str| s.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let mut keys: Vec<&str> = sa.iter().map(|(k, _)| k.as_str()).collect();
    keys.extend(
        sb.iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| !sa.iter().any(|(n, _)| n == k)),
    );
    keys.into_iter()
        .filter_map(|k| {
            let (va, vb) = (get(sa, k), get(sb, k));
            (va != vb).then(|| SettingChange {
                key: k.to_string(),
                a: va,
                b: vb,
            })
        })
        .collect()
}

fn metric_change(
    metric: &'static str,
    words: &'static str,
    a: &[&RunRow],
    b: &[&RunRow],
) -> Option<MetricChange> {
    let values = |runs: &[&RunRow]| -> Vec<(u64, f64)> {
        runs.iter()
            .filter_map(|r| Some((r.seed, r.metric(metric)?)))
            .collect()
    };
    let (va, vb) = (values(a), values(b));
    if va.is_empty() || vb.is_empty() {
        return None;
    }
    let mean = |v: &[(u64, f64)]| v.iter().map(|p| p.1).sum::<f64>() / v.len() as f64;
    let d = Difference::by_seed(&vb, &va).ok();
    let interval = d.and_then(|d| d.interval(LEVEL).ok());
    Some(MetricChange {
        metric,
        words,
        a_mean: mean(&va),
        b_mean: mean(&vb),
        n_a: va.len(),
        n_b: vb.len(),
        change: mean(&vb) - mean(&va),
        interval,
        pairing: d.map(|d| d.pairing),
        significant: interval.is_some_and(|(lo, hi)| lo > 0.0 || hi < 0.0),
    })
}

/// Whether every seed's stored numbers agree (NaN equal to NaN), at the
/// precision the files keep: a summary written before they were rounded
/// agrees with one written since from the same runs.
fn same_numbers(a: &[&RunRow], b: &[&RunRow]) -> bool {
    let eq = |x: f64, y: f64| {
        let (x, y) = (rounded(x, SIGNIFICANT), rounded(y, SIGNIFICANT));
        x == y || (x.is_nan() && y.is_nan())
    };
    a.len() == b.len()
        && a.iter().all(|ra| {
            b.iter().find(|rb| rb.seed == ra.seed).is_some_and(|rb| {
                ra.epochs_run == rb.epochs_run
                    && ra.status == rb.status
                    && ra.metrics.iter().zip(&rb.metrics).all(|(x, y)| eq(*x, *y))
                    && ra.classes.len() == rb.classes.len()
                    && ra
                        .classes
                        .iter()
                        .zip(&rb.classes)
                        .all(|(x, y)| x.0 == y.0 && eq(x.1, y.1))
            })
        })
}

fn one_side(runs: &[&RunRow]) -> Option<(f64, usize)> {
    let v: Vec<f64> = runs
        .iter()
        .filter_map(|r| r.metric("final_val_accuracy"))
        .collect();
    (!v.is_empty()).then(|| (v.iter().sum::<f64>() / v.len() as f64, v.len()))
}

fn versions(runs: &[&RunRow]) -> Vec<u32> {
    let mut v: Vec<u32> = runs.iter().map(|r| r.training_code_version).collect();
    v.sort_unstable();
    v.dedup();
    v
}

fn experiment(name: &str, a: &Summary, b: &Summary) -> ExperimentDiff {
    let (ra, rb) = (a.runs_of(name), b.runs_of(name));
    let settings = settings_diff(&ra, &rb);
    let (seeds_a, seeds_b) = (seeds(&ra), seeds(&rb));
    let status = if ra.is_empty() {
        Status::Added
    } else if rb.is_empty() {
        Status::Removed
    } else if !settings.is_empty() || seeds_a != seeds_b {
        Status::Changed
    } else if same_numbers(&ra, &rb) {
        Status::Unchanged
    } else {
        Status::Drift
    };
    let ids = |r: &[&RunRow]| {
        let mut v: Vec<(u64, String)> = r.iter().map(|x| (x.seed, x.run_id.clone())).collect();
        v.sort_unstable();
        v
    };
    debug_assert!(METRICS.len() >= HEADLINE.len());
    ExperimentDiff {
        name: name.to_string(),
        status,
        metrics: HEADLINE
            .iter()
            .filter_map(|(m, w)| metric_change(m, w, &ra, &rb))
            .collect(),
        one_side: match (ra.is_empty(), rb.is_empty()) {
            (true, _) => one_side(&rb),
            (_, true) => one_side(&ra),
            _ => None,
        },
        run_ids_changed: ids(&ra) != ids(&rb),
        code_a: versions(&ra),
        code_b: versions(&rb),
        settings,
        seeds_a,
        seeds_b,
    }
}

fn drift(a: &Summary, b: &Summary) -> Drift {
    let code = (
        a.meta("training_code_version"),
        b.meta("training_code_version"),
    );
    let code = (code.0 != code.1).then(|| {
        (
            code.0.unwrap_or("none").to_string(),
            code.1.unwrap_or("none").to_string(),
        )
    });
    let (da, db) = (a.meta_with("data."), b.meta_with("data."));
    let mut names: Vec<&str> = da.iter().map(|p| p.0).collect();
    names.extend(
        db.iter()
            .map(|p| p.0)
            .filter(|n| !da.iter().any(|p| p.0 == *n)),
    );
    let get = |d: &[(&str, &str)], n: &str| d.iter().find(|p| p.0 == n).map(|p| p.1.to_string());
    let data = names
        .into_iter()
        .filter_map(|n| {
            let (x, y) = (get(&da, n), get(&db, n));
            (x != y).then(|| (n.to_string(), x, y))
        })
        .collect();
    Drift { code, data }
}

fn verdicts(a: &Summary, b: &Summary) -> Vec<VerdictChange> {
    let (va, vb) = (a.meta_with("verdict."), b.meta_with("verdict."));
    if va.is_empty() || vb.is_empty() {
        return Vec::new();
    }
    let mut ids: Vec<&str> = va.iter().map(|p| p.0).collect();
    ids.extend(
        vb.iter()
            .map(|p| p.0)
            .filter(|n| !va.iter().any(|p| p.0 == *n)),
    );
    let get = |d: &[(&str, &str)], n: &str| d.iter().find(|p| p.0 == n).map(|p| p.1.to_string());
    ids.into_iter()
        .filter_map(|id| {
            let (x, y) = (get(&va, id), get(&vb, id));
            (x != y).then(|| VerdictChange {
                claim: id.to_string(),
                a: x,
                b: y,
            })
        })
        .collect()
}

/// The diff from `a` (before, labelled `a_label`) to `b` (after).
pub fn diff(a_label: &str, a: &Summary, b_label: &str, b: &Summary) -> Diff {
    let mut names = b.experiments();
    names.extend(
        a.experiments()
            .into_iter()
            .filter(|n| !b.experiments().contains(n)),
    );
    Diff {
        a: a_label.to_string(),
        b: b_label.to_string(),
        drift: drift(a, b),
        experiments: names.into_iter().map(|n| experiment(n, a, b)).collect(),
        verdicts: verdicts(a, b),
        verdicts_known: (
            !a.meta_with("verdict.").is_empty(),
            !b.meta_with("verdict.").is_empty(),
        ),
    }
}
