//! Draws the report's figures with plotters and writes the report's files.
//! What the report says, and so which figures there are and what they show,
//! is `fmnist-report`'s; this crate only renders it.
//!
//! [`write_report`] writes, under an output directory:
//!
//! - `figures/fig1-examples.{png,svg}`: FIG. 1, example training images;
//! - `figures/<experiment>.{png,svg}` (the experiment's name as a file
//!   name, `fmnist_experiments::file_slug`): loss and accuracy per epoch of every
//!   experiment (mean over seeds, min-max band), and the gradient norm of
//!   an experiment with a diverged run that recorded it;
//! - `figures/compare-<study>.{png,svg}`: validation curves of each study's
//!   experiments beside the baseline;
//! - `figures/confusion-<experiment>.{png,svg}` and
//!   `figures/mistakes-baseline.{png,svg}`;
//! - `figures/sweep-<sweep>.{png,svg}`: each sweep's response to its swept
//!   setting, or for a sampled sweep one panel per swept setting;
//! - `tables/*.{md,tex}`, `REPORT.md` (the answer first, then a table of
//!   contents) and the detail pages it links, `details/*.md`.
//!
//! Regenerating it from the same inputs changes no file, and figures or
//! tables it no longer produces are removed from `figures/`, `tables/` and
//! `details/`.
//!
//! # Layers
//!
//! 1. base: `error`, `font` (the shipped fonts), `output` (writing only what
//!    changed, removing stale files), `color` (the report's colours in
//!    plotters' types), `marks` (the sweep figures' markers, one shape per
//!    epoch that successive halving stopped points at, and their colour
//!    scale);
//! 2. drawing: `plot` (FIG. 1, two-panel figures, PNG and SVG),
//!    `draw_classes`, `draw_sweeps`, `draw_sampled` (a sampled sweep: one
//!    panel per setting), `diff_plot` (the figure of `fmnist diff`),
//!    `study` (the figures of the opt-in studies, `fmnist study`);
//! 3. `report`: `write_report`, which draws and writes exactly the artefacts
//!    the page shows (a `match` on `fmnist_report::content::Drawing`).

mod color;
pub mod diff_plot;
mod draw_classes;
mod draw_sampled;
mod draw_sweeps;
mod error;
mod font;
mod marks;
mod output;
mod plot;
mod report;
pub mod study;

pub use error::FiguresError;
pub use fmnist_report::panels::keep_only_shown_images;
pub use fmnist_report::{ReportInput, Verdict, search_study};
pub use report::{ReportSummary, write_report};

#[cfg(test)]
mod tests {
    /// The layers of the module docs, bottom first.
    const LAYERS: [&[&str]; 3] = [
        &["error", "font", "output", "color", "marks"],
        &[
            "plot",
            "draw_classes",
            "draw_sweeps",
            "draw_sampled",
            "diff_plot",
            "study",
        ],
        &["report"],
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
