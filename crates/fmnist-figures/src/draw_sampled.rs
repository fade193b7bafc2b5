//! The figure of a sampled sweep (random, Sobol, TPE): one panel per swept
//! setting, each point's final validation accuracy against that setting,
//! coloured by the accuracy (with a colour bar) so that one point can be
//! followed across the panels; points that successive halving stopped
//! drawn with a marker of their own per epoch reached. What it shows is
//! `fmnist_report::sweep_figure::SampledFigure`.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::draw_sweeps::{KeyedAxis, ResponseChart, sig};
use crate::error::FiguresError;
use crate::font::ensure_fonts;
use crate::marks::{Shape, marker, viridis};
use crate::output::with_ext;
use crate::plot::{
    AXIS_DESC_FONT, LEGEND_FONT, PANEL_TITLE_FONT, TICK_FONT, TITLE_FONT, Written, bold, decimals,
    font, render_png, render_svg,
};
use fmnist_report::sweep_figure::{SampledFigure, ScatterPoint, pruned_label};
use fmnist_report::sweeps::Axis;
use fmnist_report::tables::setting;

const PANEL_W: u32 = 880;
const BAR_W: u32 = 300;
const FIG_H: u32 = 1100;
const MARKER_R: i32 = 11;
const RING_R: i32 = 22;
/// Height of one legend row, and the legend's first row.
const LEGEND_ROW: i32 = 50;
const LEGEND_Y: i32 = 150;

fn size(fig: &SampledFigure, legend_rows: usize) -> (u32, u32) {
    let w = 40 + PANEL_W * fig.panels.len().max(1) as u32 + BAR_W;
    (
        w,
        FIG_H + LEGEND_ROW as u32 * (legend_rows.max(1) as u32 - 1),
    )
}

/// The legend's entries: the finished points, each pruning epoch, the ring.
fn legend_items(fig: &SampledFigure) -> Vec<(Option<Shape>, String)> {
    let mut items = vec![(
        Some(Shape::Circle),
        match fig.full_epochs {
            Some(e) => format!("trained to the end (epoch {e})"),
            None => "trained to the end".to_string(),
        },
    )];
    for (k, e) in fig.pruned_epochs.iter().enumerate() {
        items.push((Some(Shape::Pruned(k)), pruned_label(*e)));
    }
    items.push((None, "best point trained to the end".into()));
    items
}

fn text_w(s: &str) -> i32 {
    font(LEGEND_FONT)
        .layout_box(s)
        .map_or(s.len() as i32 * 17, |((a, _), (b, _))| b - a)
}

/// The legend's entries in rows that fit `width`.
fn legend_rows(fig: &SampledFigure, width: i32) -> Vec<Vec<(Option<Shape>, String)>> {
    crate::plot::wrap_legend(legend_items(fig), width, |item| 60 + text_w(&item.1) + 50)
}

fn draw_legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    rows: &[Vec<(Option<Shape>, String)>],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (w, _) = root.dim_in_pixel();
    let left = TextStyle::from(font(LEGEND_FONT)).pos(Pos::new(HPos::Left, VPos::Center));
    let grey = RGBColor(170, 170, 170);
    for (r, row) in rows.iter().enumerate() {
        let y = LEGEND_Y + LEGEND_ROW * r as i32;
        let total: i32 = row.iter().map(|(_, s)| 60 + text_w(s) + 50).sum::<i32>() - 50;
        let mut x = (w as i32 - total) / 2;
        for (shape, label) in row {
            match shape {
                Some(s) => root.draw(&marker((x + 24, y), *s, MARKER_R, grey))?,
                None => root.draw(&Circle::new((x + 24, y), RING_R, BLACK.stroke_width(3)))?,
            }
            root.draw_text(label, &left, (x + 60, y))?;
            x += 60 + text_w(label) + 50;
        }
    }
    Ok(())
}

/// Tick positions and labels of a panel's x axis over `range`.
fn ticks(axis: &Axis, range: (f64, f64)) -> Vec<(f64, String)> {
    match axis {
        Axis::Categorical(labels) => labels
            .iter()
            .enumerate()
            .map(|(i, l)| (i as f64, l.clone()))
            .collect(),
        Axis::Log10 => {
            let (lo, hi) = (range.0.ceil() as i32, range.1.floor() as i32);
            let mut out: Vec<(f64, String)> = (lo..=hi)
                .map(|k| (f64::from(k), setting(sig(10f64.powi(k)))))
                .collect();
            if out.len() < 4 {
                // Few decades: 3 × 10^k too.
                let third = 3f64.log10();
                for k in range.0.floor() as i32..=hi {
                    let x = f64::from(k) + third;
                    if x >= range.0 && x <= range.1 {
                        out.push((x, setting(sig(3.0 * 10f64.powi(k)))));
                    }
                }
                out.sort_by(|a, b| a.0.total_cmp(&b.0));
            }
            out
        }
        Axis::Linear => {
            let span = range.1 - range.0;
            let raw = span / 6.0;
            let mag = 10f64.powf(raw.log10().floor());
            let step = [1.0, 2.0, 2.5, 5.0, 10.0]
                .iter()
                .map(|m| m * mag)
                .find(|s| *s >= raw)
                .unwrap_or(10.0 * mag);
            let first = (range.0 / step).ceil() as i64;
            let last = (range.1 / step).floor() as i64;
            (first..=last)
                .map(|k| {
                    let x = sig(k as f64 * step);
                    (x, setting(x))
                })
                .collect()
        }
    }
}

/// The x range of panel `k`: its points with a margin, or the categories.
fn x_range(fig: &SampledFigure, k: usize) -> (f64, f64) {
    if let Axis::Categorical(labels) = &fig.panels[k].axis {
        return (-0.5, labels.len() as f64 - 0.5);
    }
    let xs = fig.points.iter().map(|p| p.xs[k]);
    let lo = xs.clone().fold(f64::INFINITY, f64::min);
    let hi = xs.fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = if hi > lo { (hi - lo) * 0.07 } else { 0.5 };
    (lo - pad, hi + pad)
}

/// The accuracy range (%) of the points' whiskers, with room for the ring.
fn y_range(fig: &SampledFigure) -> (f64, f64) {
    let lo = fig
        .points
        .iter()
        .map(|p| 100.0 * p.final_acc.min)
        .fold(f64::INFINITY, f64::min);
    let hi = fig
        .points
        .iter()
        .map(|p| 100.0 * p.final_acc.max)
        .fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() {
        return (0.0, 100.0);
    }
    let pad = ((hi - lo) * 0.09).max(0.5);
    ((lo - pad).max(0.0), (hi + pad).min(100.0).max(lo + pad))
}

/// The colour range (%) of the point means.
fn colour_range(fig: &SampledFigure) -> (f64, f64) {
    let means = fig.points.iter().map(|p| 100.0 * p.final_acc.mean);
    let lo = means.clone().fold(f64::INFINITY, f64::min);
    let hi = means.fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() {
        (0.0, 1.0)
    } else if hi > lo {
        (lo, hi)
    } else {
        (lo - 0.5, hi + 0.5)
    }
}

fn colour(fig: &SampledFigure, p: &ScatterPoint) -> RGBColor {
    let (lo, hi) = colour_range(fig);
    viridis((100.0 * p.final_acc.mean - lo) / (hi - lo))
}

/// Each point's x on panel `k`: on a categorical axis, the points of one
/// category spread across ±0.25 in order of accuracy, so none hides another.
fn panel_xs(fig: &SampledFigure, k: usize) -> Vec<f64> {
    let base: Vec<f64> = fig.points.iter().map(|p| p.xs[k]).collect();
    if !matches!(fig.panels[k].axis, Axis::Categorical(_)) {
        return base;
    }
    let mut out = base.clone();
    for &c in &base {
        let mut members: Vec<usize> = (0..base.len()).filter(|&i| base[i] == c).collect();
        members.sort_by(|&a, &b| {
            (fig.points[a].final_acc.mean).total_cmp(&fig.points[b].final_acc.mean)
        });
        let n = members.len() as f64;
        for (rank, &i) in members.iter().enumerate() {
            out[i] = c + if n > 1.0 {
                0.5 * (rank as f64 / (n - 1.0)) - 0.25
            } else {
                0.0
            };
        }
    }
    out
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    fig: &SampledFigure,
    k: usize,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let panel = &fig.panels[k];
    let range = x_range(fig, k);
    let ticks = ticks(&panel.axis, range);
    let (y0, y1) = y_range(fig);
    let title = match panel.axis {
        Axis::Log10 => format!("{} (log scale)", panel.key),
        _ => panel.key.clone(),
    };
    let mut chart = ChartBuilder::on(area)
        .margin(20)
        .margin_right(40)
        .caption(&panel.key, bold(PANEL_TITLE_FONT))
        .x_label_area_size(110)
        .y_label_area_size(140)
        .build_cartesian_2d(
            KeyedAxis {
                range,
                keys: ticks.iter().map(|t| t.0).collect(),
            },
            y0..y1,
        )?;
    let x_fmt = |x: &f64| {
        (ticks.iter())
            .find(|t| (t.0 - x).abs() < 1e-9)
            .map(|t| t.1.clone())
            .unwrap_or_default()
    };
    let y_decimals = decimals(y1 - y0);
    let y_fmt = |y: &f64| format!("{y:.y_decimals$}");
    chart
        .configure_mesh()
        .x_desc(&title)
        .y_desc("final validation accuracy (%)")
        .axis_desc_style(font(AXIS_DESC_FONT))
        .label_style(font(TICK_FONT))
        .y_labels(8)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .bold_line_style(BLACK.mix(0.12).stroke_width(1))
        .light_line_style(TRANSPARENT)
        .axis_style(BLACK.stroke_width(2))
        .set_all_tick_mark_size(10)
        .draw()?;
    draw_points(&mut chart, fig, k)
}

/// Panel `k`'s points: whiskers, markers (pruned ones first, so that a
/// finished point is never hidden) and the best point's ring.
fn draw_points<DB: DrawingBackend>(
    chart: &mut ResponseChart<'_, DB>,
    fig: &SampledFigure,
    k: usize,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let xs = panel_xs(fig, k);
    let mut order: Vec<usize> = (0..fig.points.len()).collect();
    order.sort_by_key(|&i| (fig.points[i].pruned.is_none(), fig.points[i].pruned));
    for &i in &order {
        let p = &fig.points[i];
        let c = colour(fig, p);
        let s = p.final_acc;
        if s.max > s.min {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(xs[i], 100.0 * s.min), (xs[i], 100.0 * s.max)],
                c.stroke_width(3),
            )))?;
        }
        let shape = match p.pruned {
            Some(e) => Shape::Pruned(fig.pruned_epochs.iter().position(|&x| x == e).unwrap_or(0)),
            None => Shape::Circle,
        };
        chart.draw_series(std::iter::once(marker(
            (xs[i], 100.0 * s.mean),
            shape,
            MARKER_R,
            c,
        )))?;
    }
    for (i, p) in fig.points.iter().enumerate().filter(|(_, p)| p.best) {
        chart.draw_series(std::iter::once(Circle::new(
            (xs[i], 100.0 * p.final_acc.mean),
            RING_R,
            BLACK.stroke_width(3),
        )))?;
    }
    Ok(())
}

/// The colour bar in `area`: the accuracy range of the point means.
fn draw_colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    fig: &SampledFigure,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (_, h) = area.dim_in_pixel();
    let (top, bottom) = (100, h as i32 - 150);
    let (bx, bw) = (30, 50);
    let steps = 200;
    for s in 0..steps {
        let t0 = f64::from(s) / f64::from(steps);
        let t1 = f64::from(s + 1) / f64::from(steps);
        let y = |t: f64| bottom - (t * f64::from(bottom - top)).round() as i32;
        area.draw(&Rectangle::new(
            [(bx, y(t1)), (bx + bw, y(t0))],
            viridis(t0).filled(),
        ))?;
    }
    area.draw(&Rectangle::new(
        [(bx, top), (bx + bw, bottom)],
        BLACK.stroke_width(2),
    ))?;
    let (lo, hi) = colour_range(fig);
    let tick = TextStyle::from(font(TICK_FONT)).pos(Pos::new(HPos::Left, VPos::Center));
    let d = decimals(hi - lo);
    for (v, _) in ticks(&Axis::Linear, (lo, hi)) {
        let y = bottom - ((v - lo) / (hi - lo) * f64::from(bottom - top)).round() as i32;
        area.draw(&PathElement::new(
            vec![(bx + bw, y), (bx + bw + 10, y)],
            BLACK.stroke_width(2),
        ))?;
        area.draw_text(&format!("{v:.d$}"), &tick, (bx + bw + 16, y))?;
    }
    area.draw_text(
        "colour: final validation accuracy (%)",
        &TextStyle::from(font(AXIS_DESC_FONT))
            .pos(Pos::new(HPos::Center, VPos::Center))
            .transform(FontTransform::Rotate90),
        (bx + bw + 150, (top + bottom) / 2),
    )?;
    Ok(())
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    fig: &SampledFigure,
    rows: &[Vec<(Option<Shape>, String)>],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let (w, _) = root.dim_in_pixel();
    let center =
        |f: FontDesc<'static>| TextStyle::from(f).pos(Pos::new(HPos::Center, VPos::Center));
    root.draw_text(&fig.title, &center(bold(TITLE_FONT)), (w as i32 / 2, 45))?;
    root.draw_text(
        &fig.subtitle,
        &center(font(LEGEND_FONT)),
        (w as i32 / 2, 97),
    )?;
    draw_legend(root, rows)?;
    let head = LEGEND_Y + LEGEND_ROW * rows.len() as i32;
    let (_, body) = root.split_vertically(head as u32);
    let (plots, bar) = body.split_horizontally(w - BAR_W);
    let panels = plots.split_evenly((1, fig.panels.len().max(1)));
    for (k, area) in panels.iter().enumerate().take(fig.panels.len()) {
        draw_panel(area, fig, k)?;
    }
    draw_colour_bar(&bar, fig)
}

/// Draws `fig` as `<stem>.png` and `<stem>.svg`.
pub(crate) fn sampled_figure(fig: &SampledFigure, stem: &Path) -> Result<Written, FiguresError> {
    ensure_fonts()?;
    let width = size(fig, 1).0;
    let rows = legend_rows(fig, width as i32);
    let size = size(fig, rows.len());
    let png = render_png(&with_ext(stem, "png"), size, |root| {
        draw(root, fig, &rows).map_err(|e| e.to_string())
    })?;
    let svg = render_svg(&with_ext(stem, "svg"), size, |root| {
        draw(root, fig, &rows).map_err(|e| e.to_string())
    })?;
    Ok([png, svg])
}

#[cfg(test)]
mod tests {
    use super::*;
    use fmnist_metrics::{RunStatus, StoredRun};
    use fmnist_report::fixture::{look, simple, svg_texts};
    use fmnist_report::sweep_figure;
    use fmnist_report::sweeps::{SweepInput, SweepSeries, SweepX};

    /// Twelve sampled points over two seeds: the four worst pruned at epoch
    /// 1, the next four at epoch 2, the rest trained to epoch 3.
    fn pruned_sample() -> Vec<StoredRun> {
        let mut out = Vec::new();
        for i in 0..12 {
            for seed in 0..2 {
                let a = 0.3 + 0.05 * i as f64 + 0.01 * seed as f64;
                let mut r = simple(&format!("p{i}"), seed, &[a - 0.1, a - 0.05, a]);
                let stop = match i {
                    0..4 => Some(1),
                    4..8 => Some(2),
                    _ => None,
                };
                if let Some(e) = stop {
                    r.rows.retain(|x| x.epoch <= e);
                    r.manifest.status = RunStatus::Pruned { epoch: e as usize };
                }
                out.push(r);
            }
        }
        out
    }

    #[test]
    fn a_sampled_sweep_has_a_panel_per_setting_and_marks_its_pruned_points() {
        let runs = pruned_sample();
        let inputs = (0..12)
            .map(|i| SweepInput {
                experiment: format!("p{i}"),
                values: vec![
                    ("optimizer.lr".into(), SweepX::Number(1e-4 * 1.8f64.powi(i))),
                    (
                        "model.dropout".into(),
                        SweepX::Number(0.04 * f64::from((i * 7) % 12)),
                    ),
                    (
                        "model.hidden".into(),
                        SweepX::Text(["256x128", "64x32", "128x64"][(i % 3) as usize].into()),
                    ),
                ],
                runs: runs
                    .iter()
                    .filter(|r| r.manifest.experiment == format!("p{i}"))
                    .collect(),
            })
            .collect();
        let series = SweepSeries::from_inputs("random-search", inputs);
        assert!(sweep_figure::sampled(&series));
        let fig = sweep_figure::sampled_figure(&series);
        assert_eq!(fig.pruned_epochs, [1, 2]);
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("sweep-random-search");
        let written = sampled_figure(&fig, &stem).unwrap();
        assert_eq!(written, [true, true]);
        look(&with_ext(&stem, "png"), "sweep-sampled-pruned");
        let texts = svg_texts(&std::fs::read_to_string(with_ext(&stem, "svg")).unwrap());
        for needle in [
            "trained to the end (epoch 3)",
            "pruned at epoch 1 (value there)",
            "pruned at epoch 2 (value there)",
            "optimizer.lr (log scale)",
            "model.hidden",
            "64x32",
        ] {
            assert!(texts.iter().any(|t| t == needle), "{needle}: {texts:?}");
        }
        // Redrawn from the same runs: the same bytes, nothing written.
        assert_eq!(sampled_figure(&fig, &stem).unwrap(), [false, false]);
    }

    #[test]
    fn log_ticks_are_decades_and_linear_ticks_round() {
        let t = ticks(&Axis::Log10, (-4.1, -0.9));
        let labels: Vec<&str> = t.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(labels, ["1e-4", "0.001", "0.01", "0.1"]);
        let t = ticks(&Axis::Log10, (-3.2, -1.8));
        let labels: Vec<&str> = t.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(labels, ["0.001", "0.003", "0.01"]);
        let t = ticks(&Axis::Linear, (-0.03, 0.53));
        let labels: Vec<&str> = t.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(labels, ["0", "0.1", "0.2", "0.3", "0.4", "0.5"]);
    }
}
