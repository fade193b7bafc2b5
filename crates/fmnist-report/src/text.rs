//! The few phrases that several parts of the report (and the binary's
//! console output) write about runs: a list of seeds, a diverged run, a
//! shortened run id. Each is spelled here once so that the tables, captions,
//! claim reasons and terminal lines cannot drift apart.

use fmnist_metrics::{RunStatus, StoredRun};

pub use fmnist_experiments::{SHORT_RUN_ID_LEN, short_run_id};

/// Seeds as a reader lists them: "0, 1, 2".
pub fn seed_list<I>(seeds: I) -> String
where
    I: IntoIterator<Item = u64>,
{
    seeds
        .into_iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The seeds of `runs`, in their order, as [`seed_list`] writes them.
pub fn seeds_of(runs: &[&StoredRun]) -> String {
    seed_list(runs.iter().map(|r| r.manifest.seed))
}

/// "seed 1 diverged at epoch 3, batch 7" for a diverged run, `None` for a
/// complete or pruned one.
pub fn diverged(seed: u64, status: &RunStatus) -> Option<String> {
    match status {
        RunStatus::Diverged { .. } => Some(format!("seed {seed} {status}")),
        RunStatus::Complete | RunStatus::Pruned { .. } => None,
    }
}

/// [`diverged`] for each diverged run of `runs`, in their order.
pub fn diverged_runs(runs: &[&StoredRun]) -> Vec<String> {
    runs.iter()
        .filter_map(|r| diverged(r.manifest.seed, &r.manifest.status))
        .collect()
}

/// "seed 0 pruned at epoch 3" for each run of `runs` that successive
/// halving stopped, in their order.
pub fn pruned_runs(runs: &[&StoredRun]) -> Vec<String> {
    (runs.iter())
        .filter(|r| matches!(r.manifest.status, RunStatus::Pruned { .. }))
        .map(|r| format!("seed {} {}", r.manifest.seed, r.manifest.status))
        .collect()
}

pub use fmnist_experiments::{and_list, or_list};

/// "learning rate" -> "learning-rate".
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() { "study".into() } else { out }
}

/// Panels described left to right: "Left: a; right: b", "Left: a;
/// middle: b; right: c", "Left: a; second: b; third: c; right: d".
pub fn positions(panels: &[&str]) -> String {
    let n = panels.len();
    let place = |i: usize| match (i, n) {
        (0, _) => "Left".to_string(),
        (i, n) if i + 1 == n => "right".to_string(),
        (1, 3) => "middle".to_string(),
        (1, _) => "second".to_string(),
        (2, _) => "third".to_string(),
        (i, _) => format!("panel {}", i + 1),
    };
    (panels.iter().enumerate())
        .map(|(i, p)| format!("{}: {p}", place(i)))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_shorten_to_eight_characters() {
        assert_eq!(short_run_id("0123456789abcdef"), "01234567");
        assert_eq!(short_run_id("abc"), "abc");
        assert_eq!(short_run_id("ééééééééé"), "éééééééé");
    }

    #[test]
    fn lists_read_as_words() {
        assert_eq!(and_list(&[]), "");
        assert_eq!(and_list(&["Adam"]), "Adam");
        assert_eq!(
            and_list(&["Adam", "AdamW", "RMSprop"]),
            "Adam, AdamW and RMSprop"
        );
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("learning rate"), "learning-rate");
        assert_eq!(slug("Hidden  sizes!"), "hidden-sizes");
        assert_eq!(slug("??"), "study");
    }

    #[test]
    fn seeds_and_divergence_read_as_words() {
        assert_eq!(seed_list([0, 1, 2]), "0, 1, 2");
        assert_eq!(seed_list([]), "");
        assert_eq!(
            diverged(1, &RunStatus::Diverged { epoch: 3, batch: 7 }).as_deref(),
            Some("seed 1 diverged at epoch 3, batch 7")
        );
        assert_eq!(diverged(0, &RunStatus::Complete), None);
    }
}
