//! `write_report`: asks `fmnist-report` for the pages (the claims
//! evaluated, the content computed, the Markdown rendered), draws their
//! figures, writes their tables, the detail pages and `REPORT.md`, and
//! removes what an earlier report left that this one no longer has.
//!
//! The report is derived from the experiments, the runs and the claims file
//! only: rerunning it on the same inputs gives the same bytes and rewrites
//! no file, and an experiment added to `experiments/` appears in it without
//! code changes (one deleted disappears, figures included).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use fmnist_report::content::{Drawing, Figure};
use fmnist_report::sweep_figure;
use fmnist_report::tables::Table;
use fmnist_report::{Artefact, Page, ReportInput, Verdict};

use crate::draw_classes;
use crate::draw_sampled;
use crate::draw_sweeps;
use crate::error::FiguresError;
use crate::output::{remove_stale, with_ext, write_if_changed};
use crate::plot;

#[derive(Debug, Clone)]
pub struct ReportSummary {
    /// Every file of the report, in the order produced, whether rewritten
    /// or already holding the same bytes.
    pub files: Vec<PathBuf>,
    /// The files of `files` that were written: new, or with other bytes
    /// than before.
    pub written: Vec<PathBuf>,
    /// Files of an earlier report that this one no longer has, removed.
    pub removed: Vec<PathBuf>,
    /// (claim id, verdict), in the claims file's order; a verdict's
    /// `Display` is its name in words (`C1: not reproduced`).
    pub verdicts: Vec<(String, Verdict)>,
}

/// The report's files, as they are produced.
struct Out {
    dir: PathBuf,
    /// Every file of the report.
    files: Vec<PathBuf>,
    /// Those whose bytes changed, so were written.
    written: Vec<PathBuf>,
}

impl Out {
    fn record(&mut self, path: PathBuf, changed: bool) {
        if changed {
            self.written.push(path.clone());
        }
        self.files.push(path);
    }

    fn text(&mut self, rel: &str, text: &str) -> Result<(), FiguresError> {
        let path = self.dir.join(rel);
        let changed = write_if_changed(&path, text.as_bytes())?;
        self.record(path, changed);
        Ok(())
    }

    fn table(&mut self, table: &Table) -> Result<(), FiguresError> {
        self.text(&format!("tables/{}.md", table.label), &table.markdown())?;
        self.text(&format!("tables/{}.tex", table.label), &table.latex())
    }

    fn figure(&mut self, figure: &Figure<'_>) -> Result<(), FiguresError> {
        let dir = self.dir.join("figures");
        let stem = dir.join(&figure.stem);
        let [png, svg] = ["png", "svg"].map(|ext| with_ext(&stem, ext));
        let changed = match &figure.drawing {
            Drawing::Examples {
                dataset,
                class_names,
                title,
            } => plot::write_examples(dataset, class_names, title, &png, &svg)?,
            Drawing::PanelFigure(fig) => plot::write_panels(fig, &png, &svg)?,
            // `content` makes these figures only where there is something
            // to draw; a figure that draws nothing is a bug there.
            Drawing::Confusion {
                runs,
                class_names,
                title,
            } => draw_classes::confusion_figure(runs, class_names, title, &stem)?
                .map(|(_, w)| w)
                .ok_or_else(|| nothing_drawn(&png))?,
            Drawing::Mistakes {
                runs,
                validation,
                class_names,
                title,
            } => {
                match draw_classes::mistakes_figure(runs, validation, class_names, title, &stem)? {
                    (0, _) => return Err(nothing_drawn(&png)),
                    (_, w) => w,
                }
            }
            Drawing::Response(series) if sweep_figure::sampled(series) => {
                draw_sampled::sampled_figure(&sweep_figure::sampled_figure(series), &stem)?
            }
            Drawing::Response(series) => draw_sweeps::response_figure(series, &stem)?.1,
        };
        self.record(png, changed[0]);
        self.record(svg, changed[1]);
        Ok(())
    }
}

fn nothing_drawn(path: &std::path::Path) -> FiguresError {
    FiguresError::Draw {
        path: path.to_path_buf(),
        message: "nothing to draw".into(),
    }
}

/// Writes the report into `out_dir`: `REPORT.md`, its detail pages in
/// `details/`, `figures/` and `tables/` (with the machine-readable
/// `tables/checks.csv`).
///
/// A file whose bytes are unchanged is not rewritten. Afterwards every
/// figure or table in `figures/` and `tables/` that this report did not
/// produce (e.g. of a deleted experiment), and every detail page it no
/// longer writes, is removed; nothing else is.
pub fn write_report(
    input: &ReportInput<'_>,
    out_dir: &Path,
) -> Result<ReportSummary, FiguresError> {
    fmnist_report::with_page(input, |page, verdicts| write_page(page, verdicts, out_dir))?
}

fn write_page(
    page: &Page<'_, '_>,
    verdicts: &[(String, Verdict)],
    out_dir: &Path,
) -> Result<ReportSummary, FiguresError> {
    let mut out = Out {
        dir: out_dir.to_path_buf(),
        files: Vec::new(),
        written: Vec::new(),
    };
    for artefact in &page.artefacts {
        match artefact {
            Artefact::Figure(f) => out.figure(f)?,
            Artefact::Table(t) => out.table(t)?,
            Artefact::Data(d) => out.text(&d.path, &d.text)?,
        }
    }
    for d in &page.details {
        out.text(&d.path, &d.text)?;
    }
    out.text("REPORT.md", &page.text)?;

    let keep: BTreeSet<PathBuf> = out.files.iter().cloned().collect();
    let removed = remove_stale(out_dir, &keep)?;
    Ok(ReportSummary {
        files: out.files,
        written: out.written,
        removed,
        verdicts: verdicts.to_vec(),
    })
}
