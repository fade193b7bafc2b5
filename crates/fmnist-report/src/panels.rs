//! What the curve figures show, as data still to be drawn: panels of
//! curves with their min-max bands over seeds, for one experiment and for a
//! study's comparison, their colours, and which images FIG. 1 shows. `plot`
//! renders them.

use fmnist_data::Dataset;
use fmnist_metrics::{RunStatus, Split, StoredRun};

use crate::aggregate::{BandPoint, Quantity, band};

/// Images per class in FIG. 1.
const EXAMPLES_PER_CLASS: usize = 8;

/// Matplotlib's "tab10" minus grey: familiar to readers of papers, and
/// distinguishable in print.
/// A colour as red, green, blue: content names colours, the figures crate
/// turns them into plotters' type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

/// The corner of a panel its legend sits in (inside the frame).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Corner {
    UpperLeft,
    UpperRight,
    LowerLeft,
    LowerRight,
}

pub const PALETTE: [Rgb; 9] = [
    Rgb(31, 119, 180),
    Rgb(255, 127, 14),
    Rgb(44, 160, 44),
    Rgb(214, 39, 40),
    Rgb(148, 103, 189),
    Rgb(140, 86, 75),
    Rgb(227, 119, 194),
    Rgb(188, 189, 34),
    Rgb(23, 190, 207),
];
const TRAIN_COLOR: Rgb = PALETTE[0];
const VAL_COLOR: Rgb = PALETTE[1];
const BASELINE_COLOR: Rgb = Rgb(0, 0, 0);

/// One line of a panel, with its min-max band over seeds.
#[derive(Debug, Clone)]
pub struct Curve {
    pub label: String,
    pub color: Rgb,
    pub dashed: bool,
    pub points: Vec<BandPoint>,
}

#[derive(Debug, Clone)]
pub struct Panel {
    pub title: String,
    pub y_desc: String,
    /// Values are fractions drawn as percentages.
    pub percent: bool,
    pub curves: Vec<Curve>,
    pub legend: Corner,
}

#[derive(Debug, Clone)]
pub struct PanelFigure {
    pub title: String,
    /// Side by side, left to right.
    pub panels: Vec<Panel>,
}

/// Whether the experiment figure of `runs` shows the gradient norm: when a
/// run diverged (the norm shows the blow-up) and some run recorded it (runs
/// stored before it was measured have none, and are not drawn). A pruned
/// run did not diverge: successive halving stopped it.
pub fn shows_grad_norm(runs: &[&StoredRun]) -> bool {
    let diverged = runs.iter().any(|r| match r.manifest.status {
        RunStatus::Diverged { .. } => true,
        RunStatus::Complete | RunStatus::Pruned { .. } => false,
    });
    diverged && !band(runs, Split::Train, Quantity::GradNorm).is_empty()
}

/// What the title of an experiment figure adds for runs that successive
/// halving stopped: " — pruned at epoch 6" (or "epochs 2 and 6" when its
/// seeds stopped at different rungs); `None` when none was pruned.
pub fn pruned_title(runs: &[&StoredRun]) -> Option<String> {
    let mut epochs: Vec<usize> = (runs.iter())
        .filter_map(|r| match r.manifest.status {
            RunStatus::Pruned { epoch } => Some(epoch),
            RunStatus::Complete | RunStatus::Diverged { .. } => None,
        })
        .collect();
    epochs.sort_unstable();
    epochs.dedup();
    let shown: Vec<String> = epochs.iter().map(usize::to_string).collect();
    match shown.as_slice() {
        [] => None,
        [one] => Some(format!(" — pruned at epoch {one}")),
        many => Some(format!(
            " — pruned at epochs {}",
            crate::text::and_list(&many.iter().map(String::as_str).collect::<Vec<_>>())
        )),
    }
}

/// Whether the experiment figure of `runs` shows the learning rate: when a
/// schedule changed it during some run.
pub fn shows_learning_rate(runs: &[&StoredRun]) -> bool {
    runs.iter().any(|r| {
        let mut rates = r
            .rows
            .iter()
            .filter_map(|x| x.values.get(Quantity::LearningRate));
        let first = rates.next();
        first.is_some_and(|f| rates.any(|x| x != f))
    })
}

/// What each panel of [`experiment_figure`] shows, left to right, for its
/// caption.
pub fn experiment_panels(runs: &[&StoredRun]) -> Vec<&'static str> {
    let mut out = vec!["cross-entropy loss", "accuracy"];
    if shows_grad_norm(runs) {
        out.push(
            "the mean L2 norm of the gradient over each epoch's steps (training set only), where the divergence shows",
        );
    }
    if shows_learning_rate(runs) {
        out.push("the learning rate of each epoch, as its schedule set it");
    }
    out
}

/// Loss (left) and accuracy (right) of one experiment, train and validation,
/// mean over `runs` with the min-max band; and the gradient norm on the
/// right where [`shows_grad_norm`]; the title says at which epoch
/// successive halving stopped the runs, if it did.
pub fn experiment_figure(title: String, runs: &[&StoredRun]) -> PanelFigure {
    let title = title + &pruned_title(runs).unwrap_or_default();
    let curves = |q: Quantity| {
        [
            (Split::Train, "training", TRAIN_COLOR),
            (Split::Val, "validation", VAL_COLOR),
        ]
        .into_iter()
        .filter(|(split, _, _)| q.measured_on(*split))
        .map(|(split, label, color)| Curve {
            // A quantity of one split is named by itself, not by its split.
            label: match q.splits() {
                [_] => q.name().replace('_', " "),
                _ => label.to_string(),
            },
            color,
            dashed: false,
            points: band(runs, split, q),
        })
        .collect()
    };
    let mut panels = vec![
        Panel {
            title: "Loss".into(),
            y_desc: "cross-entropy loss".into(),
            percent: false,
            curves: curves(Quantity::Loss),
            legend: Corner::UpperRight,
        },
        Panel {
            title: "Accuracy".into(),
            y_desc: "accuracy (%)".into(),
            percent: true,
            curves: curves(Quantity::Accuracy),
            legend: Corner::LowerRight,
        },
    ];
    if shows_grad_norm(runs) {
        panels.push(Panel {
            title: "Gradient norm".into(),
            y_desc: "mean L2 norm of the gradient".into(),
            percent: false,
            curves: curves(Quantity::GradNorm),
            legend: Corner::UpperLeft,
        });
    }
    if shows_learning_rate(runs) {
        panels.push(Panel {
            title: "Learning rate".into(),
            y_desc: "learning rate".into(),
            percent: false,
            curves: curves(Quantity::LearningRate),
            legend: Corner::UpperRight,
        });
    }
    PanelFigure { title, panels }
}

/// One entry of a comparison figure.
#[derive(Debug, Clone)]
pub struct Variant<'a> {
    pub label: String,
    pub runs: Vec<&'a StoredRun>,
    pub dashed: bool,
    pub baseline: bool,
}

/// Validation loss (left) and validation accuracy (right) of several
/// experiments on shared axes; the baseline black, hypotheses dashed.
pub fn comparison_figure(title: String, variants: &[Variant<'_>]) -> PanelFigure {
    let mut palette = PALETTE.iter().cycle();
    let colors: Vec<Rgb> = variants
        .iter()
        .map(|v| {
            if v.baseline {
                BASELINE_COLOR
            } else {
                *palette.next().expect("a cycle never ends")
            }
        })
        .collect();
    let curves = |q: Quantity| {
        variants
            .iter()
            .zip(&colors)
            .map(|(v, c)| Curve {
                label: v.label.clone(),
                color: *c,
                dashed: v.dashed,
                points: band(&v.runs, Split::Val, q),
            })
            .collect()
    };
    PanelFigure {
        title,
        panels: vec![
            Panel {
                title: "Validation loss".into(),
                y_desc: "cross-entropy loss".into(),
                percent: false,
                curves: curves(Quantity::Loss),
                legend: Corner::UpperRight,
            },
            Panel {
                title: "Validation accuracy".into(),
                y_desc: "accuracy (%)".into(),
                percent: true,
                curves: curves(Quantity::Accuracy),
                legend: Corner::LowerRight,
            },
        ],
    }
}

/// The first images of each class in the training split, as (label, indices).
pub fn examples(ds: &Dataset, classes: usize) -> Vec<(usize, Vec<usize>)> {
    let split = &ds.train;
    (0..classes)
        .map(|c| {
            let idx = (0..split.len)
                .filter(|&i| usize::from(split.labels[i]) == c)
                .take(EXAMPLES_PER_CLASS)
                .collect::<Vec<_>>();
            (c, idx)
        })
        .filter(|(_, idx)| !idx.is_empty())
        .collect()
}

/// Drops the training images no figure shows: FIG. 1 shows the first few of
/// each of `classes`, so only the training split's prefix up to the last of
/// them is kept. A caller that trained on the whole split need not hold it
/// (47 MB for Fashion-MNIST) while the figures are drawn; they are the same.
pub fn keep_only_shown_images(ds: &mut Dataset, classes: usize) {
    let shown = examples(ds, classes)
        .iter()
        .flat_map(|(_, indices)| indices.iter().copied())
        .max()
        .map_or(0, |last| last + 1);
    ds.train = ds.train.truncated(shown);
}

/// How many images per class FIG. 1 shows: up to a fixed number, fewer when
/// the training split holds fewer of some class.
pub fn examples_per_class(ds: &Dataset, classes: usize) -> usize {
    examples(ds, classes)
        .iter()
        .map(|(_, i)| i.len())
        .max()
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::simple;

    #[test]
    fn a_diverged_run_with_a_gradient_norm_gets_a_third_panel() {
        let complete = simple("x", 0, &[0.5, 0.6]);
        let mut diverged = simple("x", 1, &[0.5, 0.1]);
        diverged.manifest.status = RunStatus::Diverged { epoch: 2, batch: 3 };
        // Stored before grad_norm existed: nothing to draw.
        assert_eq!(
            experiment_figure("t".into(), &[&complete, &diverged])
                .panels
                .len(),
            2
        );
        for (k, r) in diverged
            .rows
            .iter_mut()
            .filter(|r| r.split == Split::Train)
            .enumerate()
        {
            r.values.set(Quantity::GradNorm, 1.0 + 10.0 * k as f64);
        }
        let fig = experiment_figure("t".into(), &[&complete, &diverged]);
        assert_eq!(fig.panels.len(), 3);
        let g = &fig.panels[2];
        assert_eq!(g.curves.len(), 1, "measured on the training set only");
        let means: Vec<f64> = g.curves[0].points.iter().map(|p| p.mean).collect();
        assert_eq!(means, [1.0, 11.0], "the complete run has none");
        // A run that completed shows no gradient panel, even with a norm.
        let mut fine = complete.clone();
        fine.rows
            .iter_mut()
            .for_each(|r| r.values.set(Quantity::GradNorm, 1.0));
        assert_eq!(experiment_figure("t".into(), &[&fine]).panels.len(), 2);
    }

    #[test]
    fn a_pruned_run_has_no_gradient_panel_and_says_where_it_stopped() {
        let mut pruned = simple("x", 0, &[0.5, 0.6]);
        pruned.manifest.status = RunStatus::Pruned { epoch: 2 };
        pruned
            .rows
            .iter_mut()
            .for_each(|r| r.values.set(Quantity::GradNorm, 1.0));
        let fig = experiment_figure("lr-sweep".into(), &[&pruned]);
        assert_eq!(fig.panels.len(), 2, "no gradient norm panel");
        assert_eq!(fig.title, "lr-sweep — pruned at epoch 2");
        assert!(
            !experiment_panels(&[&pruned])
                .iter()
                .any(|p| p.contains("divergence"))
        );
        let mut later = simple("x", 1, &[0.5, 0.6]);
        later.manifest.status = RunStatus::Pruned { epoch: 6 };
        assert_eq!(
            pruned_title(&[&pruned, &later]).as_deref(),
            Some(" — pruned at epochs 2 and 6")
        );
        let complete = simple("x", 2, &[0.5, 0.6]);
        assert_eq!(pruned_title(&[&complete]), None);
    }

    #[test]
    fn keeping_only_shown_images_keeps_fig_1_and_frees_the_rest() {
        // Labels 0, 1, 2 in turn, with class 2 absent after image 40: the
        // last image FIG. 1 shows is the 8th of class 2, image 23.
        let labels: Vec<u8> = (0..200)
            .map(|i| if i > 40 { (i % 2) as u8 } else { (i % 3) as u8 })
            .collect();
        let split = |n: usize| fmnist_data::ImageSet {
            images: (0..n * 4).map(|v| (v % 251) as u8).collect(),
            labels: labels[..n].to_vec(),
            len: n,
            rows: 2,
            cols: 2,
        };
        let mut ds = Dataset {
            train: split(200),
            test: split(10),
            classes: vec!["a".into(), "b".into(), "c".into()],
        };
        let before = examples(&ds, 3);
        keep_only_shown_images(&mut ds, 3);
        assert_eq!(ds.train.len, 24);
        assert_eq!(ds.train.images.len(), 24 * 4);
        assert_eq!(examples(&ds, 3), before);
        assert_eq!(ds.test.len, 10, "the validation images are all kept");
    }

    #[test]
    fn comparison_gives_the_baseline_black_and_others_distinct_colours() {
        let a = simple("a", 0, &[0.5, 0.9]);
        let b = simple("b", 0, &[0.6, 0.8]);
        let c = simple("c", 0, &[0.6, 0.8]);
        let v = |label: &str, r: &'static StoredRun, baseline, dashed| Variant {
            label: label.into(),
            runs: vec![r],
            dashed,
            baseline,
        };
        let (a, b, c) = (
            Box::leak(Box::new(a)),
            Box::leak(Box::new(b)),
            Box::leak(Box::new(c)),
        );
        let fig = comparison_figure(
            "t".into(),
            &[
                v("b", b, false, false),
                v("base", a, true, false),
                v("c", c, false, true),
            ],
        );
        let curves = &fig.panels[1].curves;
        assert_eq!(curves[1].color, BASELINE_COLOR);
        assert_ne!(curves[0].color, curves[2].color);
        assert!(curves[2].dashed && !curves[0].dashed);
        assert_eq!(curves[0].points[1].mean, 0.8);
    }
}
