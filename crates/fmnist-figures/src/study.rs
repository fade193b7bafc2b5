//! The figures of the opt-in studies (`fmnist study`): what they show is
//! `fmnist_report::search_study`'s; this draws it with the report's
//! panel routine, so it looks like the report's figures.

use std::path::{Path, PathBuf};

use crate::error::FiguresError;
use crate::plot::write_panels;
use fmnist_report::panels::PanelFigure;

/// Writes `<stem>.png` and `<stem>.svg` of `fig`; returns the two paths.
pub fn write_study_figure(fig: &PanelFigure, stem: &Path) -> Result<Vec<PathBuf>, FiguresError> {
    let png = PathBuf::from(format!("{}.png", stem.display()));
    let svg = PathBuf::from(format!("{}.svg", stem.display()));
    write_panels(fig, &png, &svg)?;
    Ok(vec![png, svg])
}

#[cfg(test)]
mod tests {
    use super::*;
    use fmnist_report::search_study::{Method, Step, figure};

    #[test]
    fn every_method_is_drawn_with_its_label() {
        let curve = |a: f64| {
            vec![
                Step { epochs: 3, best: a },
                Step {
                    epochs: 9,
                    best: a + 0.05,
                },
            ]
        };
        let methods: Vec<Method> = ["random", "random + halving", "tpe"]
            .iter()
            .enumerate()
            .map(|(i, l)| Method {
                label: (*l).into(),
                curves: vec![curve(0.7 + 0.01 * i as f64), curve(0.72)],
                seeds: vec![0, 1],
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let files =
            write_study_figure(&figure(&methods, 0.8, "study"), &dir.path().join("s")).unwrap();
        let svg = std::fs::read_to_string(&files[1]).unwrap();
        assert!(
            svg.contains("random + halving") && svg.contains("\ntpe\n"),
            "labels"
        );
        assert!(std::fs::metadata(&files[0]).unwrap().len() > 1000);
    }
}
