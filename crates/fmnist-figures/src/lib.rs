//! Figures, tables, claim verdicts and `REPORT.md` from the experiments and
//! their stored runs, drawn with plotters.
//!
//! This crate reads results only through `fmnist-metrics` and knows nothing
//! of training. [`write_report`] writes, under an output directory:
//!
//! - `figures/fig1-examples.{png,svg}`: FIG. 1, example training images;
//! - `figures/<experiment>.{png,svg}`: loss and accuracy per epoch of every
//!   experiment (mean over seeds, min-max band), and the gradient norm of
//!   an experiment with a diverged run that recorded it;
//! - `figures/compare-<study>.{png,svg}`: validation curves of each study's
//!   experiments beside the baseline;
//! - `figures/confusion-<experiment>.{png,svg}`: the confusion matrix of the
//!   baseline and of the best experiment; `figures/mistakes-baseline.{png,svg}`:
//!   the validation images the baseline gets most confidently wrong;
//! - `figures/sweep-<sweep>.{png,svg}`: each sweep's response to its swept
//!   setting;
//! - `tables/{table1,results,per-class,claims}.{md,tex}` and
//!   `tables/sweep-<sweep>.{md,tex}`;
//! - `REPORT.md`, which shows all of it with provenance and verdicts.
//!
//! Regenerating it from the same inputs changes no file, and figures or
//! tables it no longer produces are removed from `figures/` and `tables/`.
//!
//! The paper's claims, and what the report says about the paper, are data
//! (`experiments/claims/paper.toml`); the header of that file documents its
//! keys and the term grammar, and the [`claims`](mod@claims) module the
//! verdict rules.
//!
//! # Layers
//!
//! The modules run one way, each using only those above it:
//!
//! 1. base: `error`, `input` ([`ReportInput`]), [`text`] (phrases shared with
//!    the binary), `font` (the shipped fonts), `output` (writing only what
//!    changed, removing stale files);
//! 2. analysis: `stats` (every number out of runs and every aggregate over
//!    seeds), `inference` (the statistical test of one claim check, over
//!    seeds), [`claims`](mod@claims) (the claims file and verdicts), `paper`
//!    (the claims file's `[paper]` table: baseline, learning rate, target),
//!    `seeds` (the number of seeds chosen once by a power analysis, kept in
//!    `experiments/claims/seeds.toml`);
//! 3. content, what the report says as data: `tables` (tables as cells),
//!    `classes` (per class), `sweeps` (sweep series, best points, findings),
//!    `pruning` (what successive halving kept, saved and missed), `panels`
//!    (what the curve figures show), `content` (the whole report: facts,
//!    figures still to draw, verdicts, hypotheses);
//! 4. rendering: `plot` (FIG. 1, two-panel figures, PNG and SVG),
//!    `draw_classes`, `draw_sweeps`, `diff_plot` (the figure of `fmnist
//!    diff`), `markdown` (`REPORT.md` and the list of
//!    artefacts it shows), `report` (`write_report`: draws and writes exactly
//!    that list).
//!
//! A new figure is its builder in `content` (a `Drawing`), its drawing in a
//! rendering module (an arm of `report`'s `match` on `Drawing`, which the
//! compiler requires) and its place in `markdown`; the file writer walks the
//! artefacts the Markdown shows, so REPORT.md cannot link a figure that is
//! never drawn.

pub mod claims;
mod classes;
mod content;
pub mod diff_plot;
mod draw_classes;
mod draw_sweeps;
mod error;
#[cfg(test)]
mod fixture;
mod font;
mod inference;
mod input;
mod markdown;
mod output;
mod panels;
mod paper;
mod plot;
mod pruning;
mod report;
mod seeds;
mod stats;
mod sweeps;
mod tables;
pub mod text;

pub use claims::Verdict;
pub use error::FiguresError;
pub use input::ReportInput;
pub use panels::keep_only_shown_images;
pub use report::{ReportSummary, write_report};
pub use seeds::{SeedDecision, apply_seeds, choose_seeds, read_seeds_file, write_seeds_file};

#[cfg(test)]
mod tests {
    /// The layers of the module docs, bottom first.
    const LAYERS: [&[&str]; 4] = [
        &["error", "input", "text", "font", "output", "fixture"],
        &["stats", "inference", "claims", "paper", "seeds"],
        &[
            "tables", "classes", "sweeps", "pruning", "panels", "content",
        ],
        &[
            "plot",
            "draw_classes",
            "draw_sweeps",
            "diff_plot",
            "markdown",
            "report",
        ],
    ];

    fn layer(module: &str) -> usize {
        LAYERS
            .iter()
            .position(|l| l.contains(&module))
            .unwrap_or_else(|| panic!("module `{module}` is in no layer of lib.rs"))
    }

    /// No module uses one of a higher layer, so imports run one way and
    /// cannot form a cycle across layers; within a layer, the order of
    /// `LAYERS` (a module uses only those before it) rules out cycles too.
    #[test]
    fn modules_use_only_lower_layers() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        for entry in std::fs::read_dir(&src).unwrap() {
            let path = entry.unwrap().path();
            let module = path.file_stem().unwrap().to_str().unwrap().to_string();
            if module == "lib" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // Its own unit tests may use the shared fixture.
            let code = text.split("#[cfg(test)]\nmod tests").next().unwrap();
            let flat: Vec<&str> = LAYERS.iter().flat_map(|l| l.iter().copied()).collect();
            let rank = |m: &str| flat.iter().position(|x| *x == m).unwrap();
            for used in code.split("crate::").skip(1) {
                let name: String = used
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                if name.is_empty() || name == module {
                    continue;
                }
                assert!(
                    layer(&name) < layer(&module)
                        || (layer(&name) == layer(&module) && rank(&name) < rank(&module)),
                    "{}: `{module}` uses `{name}`, which is not below it",
                    path.display()
                );
            }
        }
    }
}
