//! `write_report`: evaluates the claims, computes the report's content,
//! draws its figures, writes its tables and `REPORT.md`, and removes what an
//! earlier report left that this one no longer has.
//!
//! The report is derived from the experiments, the runs and the claims file
//! only: rerunning it on the same inputs gives the same bytes and rewrites
//! no file, and an experiment added to `experiments/` appears in it without
//! code changes (one deleted disappears, figures included).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use fmnist_data::Dataset;
use fmnist_experiments::Experiment;
use fmnist_metrics::{Provenance, StoredRun};

use crate::claims::{self, ClaimResult, Verdict};
use crate::classes;
use crate::content::{self, Drawing, Figure};
use crate::error::FiguresError;
use crate::markdown;
use crate::output::{remove_stale, write_if_changed};
use crate::plot;
use crate::sweeps;
use crate::tables::Table;

/// Everything the report is made from.
#[derive(Debug, Clone, Copy)]
pub struct ReportInput<'a> {
    /// Every experiment, in report order (the files in `experiments/`):
    /// `experiments[i].name` matches `StoredRun::manifest.experiment`, and the
    /// claims file may name only these.
    pub experiments: &'a [Experiment],
    /// The runs of the current plan only; several seeds per experiment. The
    /// report's date and data hashes are taken from their manifests.
    pub runs: &'a [StoredRun],
    /// For FIG. 1; `None` skips it with a note.
    pub dataset: Option<&'a Dataset>,
    /// The data set's class names, in label order (`fmnist_data::CLASS_NAMES`).
    pub class_names: &'a [String],
    /// `experiments/claims/paper.toml`.
    pub claims_file: &'a Path,
    /// The code and machine writing the report (the runs carry their own).
    pub provenance: &'a Provenance,
    /// The command that produced the report, shown in it, e.g. `cargo xtask figures`.
    pub command: &'a str,
    /// A smoke run (few epochs, data subset): the report says so loudly.
    pub quick: bool,
}

#[derive(Debug, Clone)]
pub struct ReportSummary {
    /// Every file of the report, in the order produced, whether rewritten
    /// or already holding the same bytes.
    pub files: Vec<PathBuf>,
    /// Files of an earlier report that this one no longer has, removed.
    pub removed: Vec<PathBuf>,
    /// (claim id, verdict), in the claims file's order; a verdict's
    /// `Display` is its name in words (`C1: not reproduced`).
    pub verdicts: Vec<(String, Verdict)>,
}

/// The report's files, as they are produced.
struct Out {
    dir: PathBuf,
    files: Vec<PathBuf>,
}

impl Out {
    fn text(&mut self, rel: &str, text: &str) -> Result<(), FiguresError> {
        let path = self.dir.join(rel);
        write_if_changed(&path, text.as_bytes())?;
        self.files.push(path);
        Ok(())
    }

    fn table(&mut self, stem: &str, table: &Table) -> Result<(), FiguresError> {
        self.text(&format!("tables/{stem}.md"), &table.markdown())?;
        self.text(&format!("tables/{stem}.tex"), &table.latex())
    }

    fn figure(&mut self, figure: &Figure<'_>) -> Result<(), FiguresError> {
        let dir = self.dir.join("figures");
        let png = dir.join(format!("{}.png", figure.stem));
        let svg = dir.join(format!("{}.svg", figure.stem));
        let stem = dir.join(&figure.stem);
        match &figure.drawing {
            Drawing::Examples {
                dataset,
                class_names,
            } => plot::write_examples(dataset, class_names, &png, &svg)?,
            Drawing::TwoPanel(fig) => plot::write_two_panel(fig, &png, &svg)?,
            // `content` makes these figures only where there is something
            // to draw; a figure that draws nothing is a bug there.
            Drawing::Confusion {
                runs,
                class_names,
                title,
            } => {
                let drawn = classes::confusion_figure(runs, class_names, title, &stem)?;
                debug_assert!(drawn.is_some(), "{}: nothing to draw", figure.stem);
            }
            Drawing::Mistakes {
                runs,
                validation,
                class_names,
                title,
            } => {
                let shown = classes::mistakes_figure(runs, validation, class_names, title, &stem)?;
                debug_assert!(shown > 0, "{}: nothing to draw", figure.stem);
            }
            Drawing::Response(series) => {
                sweeps::response_figure(series, &stem)?;
            }
        }
        self.files.push(png);
        self.files.push(svg);
        Ok(())
    }
}

/// Writes the report into `out_dir`: `REPORT.md`, `figures/` and `tables/`.
///
/// A file whose bytes are unchanged is not rewritten. Afterwards every
/// figure or table in `figures/` and `tables/` that this report did not
/// produce (e.g. of a deleted experiment) is removed; nothing else is.
pub fn write_report(
    input: &ReportInput<'_>,
    out_dir: &Path,
) -> Result<ReportSummary, FiguresError> {
    // The claims file first: a typo in it should stop the report before any
    // file is replaced.
    let names: Vec<&str> = input.experiments.iter().map(|e| e.name.as_str()).collect();
    let claims = claims::load(input.claims_file, &names)?;
    let runs = claims::index(input.runs);
    let results: Vec<ClaimResult<'_>> = claims.iter().map(|c| claims::evaluate(c, &runs)).collect();
    let report = content::build(input, &runs, &results);

    let mut out = Out {
        dir: out_dir.to_path_buf(),
        files: Vec::new(),
    };
    let figures = report
        .fig1
        .iter()
        .chain(report.experiments.iter().filter_map(|e| e.figure.as_ref()))
        .chain(report.comparisons.iter().map(|c| &c.figure))
        .chain(
            report
                .per_class
                .iter()
                .flat_map(|p| p.confusions.iter().chain(p.mistakes.as_ref())),
        )
        .chain(report.sweeps.iter().filter_map(|s| s.figure.as_ref()));
    for figure in figures {
        out.figure(figure)?;
    }
    if let Some(t) = &report.table1 {
        out.table("table1", t)?;
    }
    out.table("results", &report.results)?;
    if let Some(p) = &report.per_class {
        out.table("per-class", &p.table)?;
    }
    for s in &report.sweeps {
        if let Some(t) = &s.table {
            out.table(&s.table_stem, t)?;
        }
    }
    out.table("claims", &report.claims_table)?;
    out.text("REPORT.md", &markdown::render(&report))?;

    let keep: BTreeSet<PathBuf> = out.files.iter().cloned().collect();
    let removed = remove_stale(out_dir, &keep)?;
    Ok(ReportSummary {
        files: out.files,
        removed,
        verdicts: report
            .claims
            .iter()
            .map(|c| (c.id.clone(), c.verdict))
            .collect(),
    })
}
