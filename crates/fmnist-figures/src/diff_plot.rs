//! The figure of `fmnist diff`: one experiment's validation loss and
//! accuracy per epoch on both sides of a diff, A dashed and B solid, each
//! with its band, on shared axes. Drawn with the two-panel routine of
//! [`plot`](crate::plot), so it looks like the report's figures.

use std::path::{Path, PathBuf};

use crate::error::FiguresError;
use crate::plot::write_panels;
use fmnist_report::aggregate::BandPoint;
use fmnist_report::panels::{Corner, Curve, PALETTE, Panel, PanelFigure};

/// One epoch of a curve: the mean over seeds and the band drawn around it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiffPoint {
    pub epoch: u32,
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
    /// Seeds behind the point.
    pub n: usize,
}

/// One side of the diff: its validation loss and accuracy (a fraction) curves.
#[derive(Debug, Clone, PartialEq)]
pub struct DiffSide {
    pub label: String,
    pub loss: Vec<DiffPoint>,
    pub accuracy: Vec<DiffPoint>,
}

fn points(p: &[DiffPoint]) -> Vec<BandPoint> {
    p.iter()
        .map(|p| BandPoint {
            epoch: p.epoch,
            mean: p.mean,
            min: p.lo,
            max: p.hi,
            n: p.n,
        })
        .collect()
}

/// Writes `<stem>.png` and `<stem>.svg`: `title` over validation loss (left)
/// and validation accuracy (right), side A dashed, side B solid. Returns
/// the two paths.
pub fn write_diff_figure(
    title: &str,
    a: &DiffSide,
    b: &DiffSide,
    stem: &Path,
) -> Result<Vec<PathBuf>, FiguresError> {
    let (ca, cb) = (PALETTE[0], PALETTE[1]);
    let curves = |loss: bool| {
        [(a, ca, true), (b, cb, false)]
            .into_iter()
            .map(|(side, color, dashed)| Curve {
                label: side.label.clone(),
                color,
                dashed,
                points: points(if loss { &side.loss } else { &side.accuracy }),
            })
            .collect()
    };
    let fig = PanelFigure {
        title: title.to_string(),
        panels: vec![
            Panel {
                title: "Validation loss".into(),
                y_desc: "cross-entropy loss".into(),
                percent: false,
                curves: curves(true),
                legend: Corner::UpperRight,
            },
            Panel {
                title: "Validation accuracy".into(),
                y_desc: "accuracy (%)".into(),
                percent: true,
                curves: curves(false),
                legend: Corner::LowerRight,
            },
        ],
    };
    // Appended, not `with_extension`: names such as `lr-0.01` hold dots.
    let png = PathBuf::from(format!("{}.png", stem.display()));
    let svg = PathBuf::from(format!("{}.svg", stem.display()));
    write_panels(&fig, &png, &svg)?;
    Ok(vec![png, svg])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(label: &str, shift: f64) -> DiffSide {
        let p = |e: u32, v: f64| DiffPoint {
            epoch: e,
            mean: v,
            lo: v - 0.01,
            hi: v + 0.01,
            n: 3,
        };
        DiffSide {
            label: label.into(),
            loss: (1..=3)
                .map(|e| p(e, 0.6 - 0.1 * f64::from(e) + shift))
                .collect(),
            accuracy: (1..=3)
                .map(|e| p(e, 0.8 + 0.02 * f64::from(e) + shift))
                .collect(),
        }
    }

    #[test]
    fn both_sides_are_drawn_to_png_and_svg() {
        let dir = tempfile::tempdir().unwrap();
        let files = write_diff_figure(
            "lr-0.01: A dashed, B solid",
            &side("A (HEAD)", 0.0),
            &side("B (results)", 0.01),
            &dir.path().join("diff-lr-0.01"),
        )
        .unwrap();
        assert_eq!(files.len(), 2);
        assert!(files[0].ends_with("diff-lr-0.01.png"), "{files:?}");
        let svg = std::fs::read_to_string(&files[1]).unwrap();
        assert!(svg.contains("A (HEAD)") && svg.contains("B (results)"));
        assert!(std::fs::metadata(&files[0]).unwrap().len() > 1000);
    }
}
