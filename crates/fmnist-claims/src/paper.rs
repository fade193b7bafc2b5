//! What the report knows about the paper, read from the `[paper]` table of
//! the claims file (`experiments/claims/paper.toml`) and checked against the
//! experiments and the claims: the paper's citation, the experiment whose
//! settings are its Table I (the baseline every study is compared to), the
//! learning rate it states, and the claim that states its accuracy.
//!
//! Nothing about the paper is written in code: a reworded claim changes the
//! report's sentences with it, or the report stops with the file and line of
//! the inconsistency.

use std::ops::Range;
use std::path::Path;

use fmnist_experiments::Experiment;
use fmnist_metrics::Split;
use serde::Deserialize;
use toml::Spanned;

use crate::error::{ClaimsError, io};
use crate::grammar::{Claim, EpochRef, Op, Operand};
use crate::load::position;
use fmnist_experiments::nearest;
use fmnist_metrics::Quantity;

/// The `[paper]` table, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Paper {
    pub title: String,
    pub author: String,
    pub year: u32,
    /// The experiment whose resolved settings are Table I.
    pub baseline: String,
    /// The learning rate the paper states (for every experiment but its
    /// learning-rate study).
    pub learning_rate: f64,
    /// The paper's accuracy of the baseline, from the claim `target` names.
    pub target: Target,
}

/// A claim's check that the baseline's final validation accuracy is within
/// `tol` of `accuracy`.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The claim's id.
    pub claim: String,
    pub accuracy: f64,
    pub tol: f64,
}

#[derive(Deserialize)]
struct FileDoc {
    paper: Option<Spanned<PaperDoc>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PaperDoc {
    title: String,
    author: String,
    year: u32,
    baseline: Spanned<String>,
    learning_rate: Spanned<f64>,
    target: Spanned<String>,
}

/// Reads the `[paper]` table of the claims file at `path` and checks it
/// against `experiments` and the file's `claims`.
pub fn load(
    path: &Path,
    experiments: &[Experiment],
    claims: &[Claim],
) -> Result<Paper, ClaimsError> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    parse(path, &text, experiments, claims)
}

/// [`load`] of the file's `text`; `path` only names it in errors.
pub fn parse(
    path: &Path,
    text: &str,
    experiments: &[Experiment],
    claims: &[Claim],
) -> Result<Paper, ClaimsError> {
    let doc: FileDoc = toml::from_str(text).map_err(|e| ClaimsError::Syntax {
        path: path.to_path_buf(),
        message: e.to_string().trim_end().to_string(),
    })?;
    let invalid = |span: Range<usize>, message: String| {
        let (line, column) = position(text, span.start);
        ClaimsError::Invalid {
            path: path.to_path_buf(),
            line,
            column,
            message,
        }
    };
    let Some(doc) = doc.paper else {
        return Err(invalid(
            0..0,
            "no [paper] table: it names the baseline experiment, the paper's learning rate \
             and the claim that states its accuracy"
                .into(),
        ));
    };
    let doc = doc.into_inner();
    let name = doc.baseline.get_ref();
    let Some(baseline) = experiments.iter().find(|e| &e.name == name) else {
        let names: Vec<&str> = experiments.iter().map(|e| e.name.as_str()).collect();
        let (line, column) = position(text, doc.baseline.span().start + 1);
        return Err(ClaimsError::UnknownExperiment {
            path: path.to_path_buf(),
            line,
            column,
            nearest: nearest(name, &names).map(str::to_string),
            name: name.clone(),
        });
    };
    let lr = *doc.learning_rate.get_ref();
    let file_lr = baseline.config.optimizer.lr();
    if !(lr > 0.0 && lr.is_finite() && same_value(lr, file_lr)) {
        return Err(invalid(
            doc.learning_rate.span(),
            format!(
                "`learning_rate = {lr}`, but the baseline `{name}` ({}) trains at lr {file_lr}",
                baseline.path.display()
            ),
        ));
    }
    let id = doc.target.get_ref();
    let claim = claims.iter().find(|c| &c.id == id).ok_or_else(|| {
        invalid(
            doc.target.span(),
            format!("`target`: no claim `{id}` in this file"),
        )
    })?;
    let target = target_of(claim, name).ok_or_else(|| {
        invalid(
            doc.target.span(),
            format!(
                "`target`: claim `{id}` has no check `{name}:val:accuracy@last` approx a number \
                 with a `tol`, which states the paper's accuracy"
            ),
        )
    })?;
    Ok(Paper {
        title: doc.title,
        author: doc.author,
        year: doc.year,
        baseline: name.clone(),
        learning_rate: lr,
        target,
    })
}

/// Whether two settings are the same written decimal.
pub fn same_value(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

/// The check of `claim` that `baseline`'s final validation accuracy (the
/// last epoch, or the mean of the last N) is approximately a number.
fn target_of(claim: &Claim, baseline: &str) -> Option<Target> {
    claim.checks.iter().find_map(|c| {
        let t = &c.left.term;
        let about_baseline = c.op == Op::Approx
            && c.left.minus.is_none()
            && t.experiment == baseline
            && t.split == Split::Val
            && t.quantity == Quantity::Accuracy
            && matches!(t.epoch, EpochRef::Last | EpochRef::Window(_));
        match (&c.right, c.tol) {
            (Operand::Number(accuracy), Some(tol)) if about_baseline => Some(Target {
                claim: claim.id.clone(),
                accuracy: *accuracy,
                tol,
            }),
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn experiments() -> Vec<Experiment> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/experiments");
        fmnist_experiments::load_dir(&dir).unwrap()
    }

    const CLAIM: &str = r#"
[[claim]]
id = "C1"
section = "III"
text = "Baseline reaches 85%."
[[claim.check]]
what = "within 3 pp"
left = "baseline:val:accuracy@last"
op = "approx"
right = 0.85
tol = 0.03
"#;

    const PAPER: &str = r#"[paper]
title = "T"
author = "A"
year = 2024
baseline = "baseline"
learning_rate = 0.001
target = "C1"
"#;

    fn parsed(text: &str) -> Result<Paper, ClaimsError> {
        let exps = experiments();
        let names: Vec<&str> = exps.iter().map(|e| e.name.as_str()).collect();
        let path = Path::new("paper.toml");
        let claims = crate::load::parse(path, text, &names)?;
        parse(path, text, &exps, &claims)
    }

    #[test]
    fn the_paper_table_names_the_baseline_its_lr_and_its_target() {
        let p = parsed(&format!("{PAPER}{CLAIM}")).unwrap();
        assert_eq!(p.baseline, "baseline");
        assert_eq!(p.learning_rate, 0.001);
        assert_eq!(
            p.target,
            Target {
                claim: "C1".into(),
                accuracy: 0.85,
                tol: 0.03
            }
        );
        // A reworded target moves the report's number with it.
        let reworded = CLAIM.replace("0.85", "0.9");
        let p = parsed(&format!("{PAPER}{reworded}")).unwrap();
        assert_eq!(p.target.accuracy, 0.9);
    }

    #[test]
    fn an_inconsistent_paper_table_fails_at_its_line() {
        let err = |text: String| parsed(&text).unwrap_err().to_string();
        let e = err(format!(
            "{}{CLAIM}",
            PAPER.replace("\"baseline\"", "\"baselin\"")
        ));
        assert!(
            e.starts_with("paper.toml:5:13: no experiment named `baselin`"),
            "{e}"
        );
        assert!(e.contains("`baseline`"), "{e}");
        let e = err(format!("{}{CLAIM}", PAPER.replace("0.001", "0.01")));
        assert!(
            e.starts_with("paper.toml:6:17: `learning_rate = 0.01`"),
            "{e}"
        );
        let e = err(format!("{}{CLAIM}", PAPER.replace("\"C1\"", "\"C9\"")));
        assert!(
            e.starts_with("paper.toml:7:10: `target`: no claim `C9`"),
            "{e}"
        );
        // C1 reworded so that it no longer states the accuracy.
        let e = err(format!(
            "{PAPER}{}",
            CLAIM.replace("val:accuracy", "train:accuracy")
        ));
        assert!(
            e.starts_with("paper.toml:7:10: `target`: claim `C1` has no check"),
            "{e}"
        );
        let e = err(CLAIM.to_string());
        assert!(e.starts_with("paper.toml:1:1: no [paper] table"), "{e}");
    }
}
