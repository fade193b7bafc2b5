//! The response figure of a sweep: final and best validation accuracy and
//! final validation loss against the swept value, one line per value of the
//! other swept settings, drawn from a [`SweepSeries`].

use std::path::Path;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::color::rgb;
use crate::error::FiguresError;
use crate::font::ensure_fonts;
use crate::marks::{Shape, marker};
use crate::output::with_ext;
use crate::plot::{
    AXIS_DESC_FONT, LEGEND_FONT, LINE_WIDTH, PANEL_TITLE_FONT, TICK_FONT, TITLE_FONT, Written,
    bold, decimals, font, render_png, render_svg,
};
use fmnist_report::aggregate::{self as stats, SeedStats};
use fmnist_report::panels::PALETTE;
use fmnist_report::sweep_figure::{self, pruned_label};
use fmnist_report::sweeps::{
    Axis, Best, SweepSeries, axis, best_point, describe, position, pruned_at,
};
use fmnist_report::tables::setting;

struct Line {
    label: Option<String>,
    color: RGBColor,
    /// (x position, [final acc, best acc, final loss], the epoch successive
    /// halving stopped the point at).
    points: Vec<(f64, [Option<SeedStats>; 3], Option<usize>)>,
    /// It repeats an earlier line number for number: drawn dashed over it.
    dashed: bool,
}

struct Response {
    title: String,
    subtitle: String,
    x_desc: String,
    legend_title: Option<String>,
    lines: Vec<Line>,
    /// Tick positions and labels; an empty label keeps the tick unlabelled.
    ticks: Vec<(f64, String)>,
    x_range: (f64, f64),
    /// (line, x position) of the overall best point.
    best: Option<(usize, f64)>,
    /// Text values have no order: points get whiskers, not lines and bands.
    categorical: bool,
    /// The epochs successive halving stopped points at, ascending.
    pruned_epochs: Vec<usize>,
}

const PANELS: [(&str, &str, bool); 3] = [
    ("Final validation accuracy", "accuracy (%)", true),
    ("Best validation accuracy", "accuracy (%)", true),
    ("Final validation loss", "cross-entropy loss", false),
];

/// Pixel size of a three-panel response figure with a one-row legend.
const RESPONSE_SIZE: (u32, u32) = (2700, 1050);
const TITLE_H: u32 = 175;
/// The first legend row's centre, and the height each further row adds.
const LEGEND_Y: i32 = 145;
const LEGEND_ROW: i32 = 50;
const PANEL_Y_LABEL_W: u32 = 140;
const PANEL_MARGINS: u32 = 20 + 50;

/// One line per line label, its points sorted by x position.
fn response_lines(
    series: &SweepSeries<'_>,
    axis: &Axis,
    lines_labels: &[Option<String>],
) -> Vec<Line> {
    let mut palette = PALETTE.iter().map(|c| rgb(*c)).cycle();
    let shown = sweep_figure::line_labels(series);
    let twins = sweep_figure::identical_lines(series);
    (lines_labels.iter().enumerate())
        .map(|(i, label)| {
            let mut points: Vec<(f64, [Option<SeedStats>; 3], Option<usize>)> = series
                .points
                .iter()
                .filter(|p| p.line == *label)
                .map(|p| {
                    let s = stats::point_stats(&p.runs);
                    (
                        position(axis, &p.x),
                        [s.final_acc, s.best_acc, s.final_loss],
                        pruned_at(&p.runs),
                    )
                })
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            Line {
                label: shown.get(i).cloned().unwrap_or_else(|| label.clone()),
                color: palette.next().expect("a cycle never ends"),
                points,
                dashed: twins.get(i).is_some_and(Option::is_some),
            }
        })
        .collect()
}

/// Ticks at the swept values; a label that would overlap its left
/// neighbour is dropped (its tick stays).
fn response_ticks(axis: &Axis, xs: &[f64], x_range: (f64, f64)) -> Vec<(f64, String)> {
    let label_of = |x: f64| match axis {
        Axis::Log10 => setting(sig(10f64.powf(x))),
        Axis::Linear => setting(sig(x)),
        Axis::Categorical(labels) => labels.get(x.round() as usize).cloned().unwrap_or_default(),
    };
    let plot_w = f64::from(RESPONSE_SIZE.0 / 3 - PANEL_Y_LABEL_W - PANEL_MARGINS);
    let px = |x: f64| (x - x_range.0) / (x_range.1 - x_range.0) * plot_w;
    let tick_font = font(TICK_FONT);
    let mut ticks = Vec::new();
    let mut right_edge = f64::NEG_INFINITY;
    for &x in xs {
        let label = label_of(x);
        let w = tick_font
            .layout_box(&label)
            .map_or(label.len() as f64 * 17.0, |((a, _), (b, _))| {
                f64::from(b - a)
            });
        let left = px(x) - w / 2.0;
        if left > right_edge + 12.0 {
            right_edge = px(x) + w / 2.0;
            ticks.push((x, label));
        } else {
            ticks.push((x, String::new()));
        }
    }
    ticks
}

fn build_response(series: &SweepSeries<'_>) -> Response {
    let axis = axis(series);
    let lines_labels = series.lines();
    let lines = response_lines(series, &axis, &lines_labels);
    let xs: Vec<f64> = {
        let mut xs: Vec<f64> = lines
            .iter()
            .flat_map(|l| l.points.iter().map(|p| p.0))
            .collect();
        xs.sort_by(f64::total_cmp);
        xs.dedup();
        xs
    };
    let (lo, hi) = (
        xs.first().copied().unwrap_or(0.0),
        xs.last().copied().unwrap_or(1.0),
    );
    let pad = match axis {
        Axis::Categorical(_) => 0.5,
        _ if hi > lo => (hi - lo) * 0.06,
        _ => 0.5_f64.max(lo.abs() * 0.1),
    };
    let x_range = (lo - pad, hi + pad);
    let ticks = response_ticks(&axis, &xs, x_range);
    let best = best_point(series);
    let best_at = best.overall.as_ref().map(|b| {
        let line = lines_labels.iter().position(|l| *l == b.line).unwrap_or(0);
        (line, position(&axis, &b.x))
    });
    let x_desc = match axis {
        Axis::Log10 => format!("{} (log scale)", series.x_key),
        _ => series.x_key.clone(),
    };
    let seeds = {
        let mut s: Vec<u64> = series
            .points
            .iter()
            .flat_map(|p| p.runs.iter().map(|r| r.manifest.seed))
            .collect();
        s.sort_unstable();
        s.dedup();
        s.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
    };
    let spread = if matches!(axis, Axis::Categorical(_)) {
        "bars"
    } else {
        "band"
    };
    let subtitle = match &best.overall {
        Some(b) => format!(
            "mean over seeds {seeds} with min–max {spread}; best final validation accuracy {:.2} % at {}",
            100.0 * b.final_acc.mean,
            describe(series, b)
        ),
        None => "no finished runs".into(),
    };
    let mut pruned_epochs: Vec<usize> = (lines.iter())
        .flat_map(|l| l.points.iter().filter_map(|p| p.2))
        .collect();
    pruned_epochs.sort_unstable();
    pruned_epochs.dedup();
    Response {
        title: format!("Sweep {}: response to {}", series.sweep, series.x_key),
        subtitle,
        x_desc,
        legend_title: (!series.line_keys.is_empty()).then(|| series.line_keys.join(", ")),
        lines,
        ticks,
        x_range,
        best: best_at,
        categorical: matches!(axis, Axis::Categorical(_)),
        pruned_epochs,
    }
}

/// `x` rounded to 6 significant digits, so that 10^log10(0.003) prints as 0.003.
pub(crate) fn sig(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(5 - x.abs().log10().floor() as i32);
    (x * scale).round() / scale
}

fn y_range(lines: &[Line], k: usize, percent: bool) -> (f64, f64) {
    let scale = if percent { 100.0 } else { 1.0 };
    let (lo, hi) = lines
        .iter()
        .flat_map(|l| &l.points)
        .filter_map(|p| p.1[k])
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), s| {
            (lo.min(s.min * scale), hi.max(s.max * scale))
        });
    if !lo.is_finite() {
        return if percent { (0.0, 100.0) } else { (0.0, 1.0) };
    }
    let pad = if hi > lo {
        (hi - lo) * 0.08
    } else {
        (hi.abs() * 0.05).max(0.01)
    };
    let lo = if lo >= 0.0 {
        (lo - pad).max(0.0)
    } else {
        lo - pad
    };
    let hi = if percent {
        (hi + pad).min(100.0)
    } else {
        hi + pad
    };
    (lo, hi)
}

fn draw_response<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    r: &Response,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let (w, _) = root.dim_in_pixel();
    let center =
        |f: FontDesc<'static>| TextStyle::from(f).pos(Pos::new(HPos::Center, VPos::Center));
    root.draw_text(&r.title, &center(bold(TITLE_FONT)), (w as i32 / 2, 45))?;
    root.draw_text(&r.subtitle, &center(font(LEGEND_FONT)), (w as i32 / 2, 95))?;
    let rows = legend_rows(r, w as i32);
    draw_legend(root, &rows)?;
    let (_, body) = root.split_vertically(title_h(rows.len()));
    let panels = body.split_evenly((1, 3));
    for (k, area) in panels.iter().enumerate() {
        draw_response_panel(area, r, k)?;
    }
    Ok(())
}

/// The height above the panels with `rows` legend rows.
fn title_h(rows: usize) -> u32 {
    TITLE_H + LEGEND_ROW as u32 * (rows.max(1) as u32 - 1)
}

/// What a legend entry shows beside its label.
#[derive(Clone, Copy)]
enum Sample {
    Line(RGBColor, bool),
    Marker(Shape),
    Ring,
    /// The legend's title ("optimizer.kind:").
    Title,
}

fn legend_width(s: &str) -> i32 {
    font(LEGEND_FONT)
        .layout_box(s)
        .map_or(s.len() as i32 * 17, |((a, _), (b, _))| b - a)
}

fn entry_width(item: &(Sample, String)) -> i32 {
    match item.0 {
        Sample::Title => legend_width(&item.1) + 20,
        _ => 60 + 12 + legend_width(&item.1) + 40,
    }
}

/// The shared legend's entries (its title, one per line, one per pruning
/// epoch, the best-point ring) in rows that fit the figure's width.
fn legend_rows(r: &Response, width: i32) -> Vec<Vec<(Sample, String)>> {
    let mut items: Vec<(Sample, String)> = Vec::new();
    if let Some(t) = &r.legend_title {
        items.push((Sample::Title, format!("{t}:")));
    }
    items.extend((r.lines.iter()).filter_map(|l| {
        l.label
            .clone()
            .map(|s| (Sample::Line(l.color, l.dashed), s))
    }));
    for (k, e) in r.pruned_epochs.iter().enumerate() {
        items.push((Sample::Marker(Shape::Pruned(k)), pruned_label(*e)));
    }
    if r.best.is_some() {
        items.push((Sample::Ring, "best point".into()));
    }
    crate::plot::wrap_legend(items, width, entry_width)
}

/// The shared legend, each row centred under the title.
fn draw_legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    rows: &[Vec<(Sample, String)>],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (w, _) = root.dim_in_pixel();
    let left = TextStyle::from(font(LEGEND_FONT)).pos(Pos::new(HPos::Left, VPos::Center));
    let sample = 60;
    for (i, row) in rows.iter().enumerate() {
        let y = LEGEND_Y + LEGEND_ROW * i as i32;
        let total: i32 = row.iter().map(entry_width).sum::<i32>() - 40;
        let mut x = (w as i32 - total) / 2;
        for item in row {
            let (kind, label) = item;
            match *kind {
                Sample::Title => {
                    root.draw_text(label, &left, (x, y))?;
                    x += entry_width(item);
                    continue;
                }
                Sample::Line(c, dashed) => {
                    let segments: Vec<(i32, i32)> = if dashed {
                        vec![(0, 22), (36, sample)]
                    } else {
                        vec![(0, sample)]
                    };
                    for (a, b) in segments {
                        root.draw(&PathElement::new(
                            vec![(x + a, y), (x + b, y)],
                            c.stroke_width(LINE_WIDTH),
                        ))?;
                    }
                    root.draw(&Circle::new((x + sample / 2, y), 8, c.filled()))?;
                }
                Sample::Marker(shape) => {
                    root.draw(&marker(
                        (x + sample / 2, y),
                        shape,
                        10,
                        RGBColor(170, 170, 170),
                    ))?;
                }
                Sample::Ring => {
                    root.draw(&Circle::new((x + sample / 2, y), 18, BLACK.stroke_width(3)))?;
                }
            }
            root.draw_text(label, &left, (x + sample + 12, y))?;
            x += entry_width(item);
        }
    }
    Ok(())
}

/// A linear axis whose ticks sit exactly at the swept values. Plotters'
/// `with_key_points` drops the value formatting of `f64` ranges, so the
/// mesh could not be labelled through it.
pub(crate) struct KeyedAxis {
    pub(crate) range: (f64, f64),
    pub(crate) keys: Vec<f64>,
}

impl Ranged for KeyedAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let t = (value - self.range.0) / (self.range.1 - self.range.0);
        limit.0 + (t * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.keys.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.range.0..self.range.1
    }
}

/// The chart of one response panel: the swept value against a number.
pub(crate) type ResponseChart<'c, DB> =
    ChartContext<'c, DB, Cartesian2d<KeyedAxis, RangedCoordf64>>;

/// Panel `k`'s points of `line`, trained to the end or (`pruned`) not:
/// (x, the panel's number over seeds, the epoch it was pruned at).
fn points_at(line: &Line, k: usize, pruned: bool) -> Vec<(f64, SeedStats, Option<usize>)> {
    line.points
        .iter()
        .filter(|p| p.2.is_some() == pruned)
        .filter_map(|(x, s, e)| s[k].map(|s| (*x, s, *e)))
        .collect()
}

/// Panel `k`'s min–max bands (whiskers between unordered values or around
/// a lone point) of the points trained to the end, drawn first so that no
/// band hides a line.
fn draw_bands<DB: DrawingBackend>(
    chart: &mut ResponseChart<'_, DB>,
    r: &Response,
    k: usize,
    scale: f64,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let at = |line: &Line| points_at(line, k, false);
    for line in &r.lines {
        let pts = at(line);
        if r.categorical || pts.len() == 1 {
            // No band between unordered values, nor around a lone point:
            // whiskers show each point's range.
            for &(x, s, _) in &pts {
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(x, s.min * scale), (x, s.max * scale)],
                    line.color.stroke_width(3),
                )))?;
            }
        } else if pts.iter().any(|(_, s, _)| s.max > s.min) {
            let mut outline: Vec<(f64, f64)> =
                pts.iter().map(|(x, s, _)| (*x, s.max * scale)).collect();
            outline.extend(pts.iter().rev().map(|(x, s, _)| (*x, s.min * scale)));
            chart.draw_series(std::iter::once(Polygon::new(
                outline,
                line.color.mix(0.18).filled(),
            )))?;
        }
    }
    Ok(())
}

/// Panel `k`'s lines: bands (or whiskers) and lines through the points
/// trained to the end, their means, the points successive halving stopped
/// as markers of their own (at their value at that epoch, joined to
/// nothing), and the best point ringed.
fn draw_response_lines<DB: DrawingBackend>(
    chart: &mut ResponseChart<'_, DB>,
    r: &Response,
    k: usize,
    scale: f64,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let at = |line: &Line, pruned: bool| points_at(line, k, pruned);
    draw_bands(chart, r, k, scale)?;
    for line in &r.lines {
        let pts: Vec<(f64, f64)> = at(line, false)
            .into_iter()
            .map(|(x, s, _)| (x, s.mean * scale))
            .collect();
        let style = line.color.stroke_width(LINE_WIDTH);
        match (r.categorical, line.dashed) {
            (true, _) => {}
            (false, true) => {
                chart.draw_series(DashedLineSeries::new(pts.clone(), 22, 14, style))?;
            }
            (false, false) => {
                chart.draw_series(LineSeries::new(pts.clone(), style))?;
            }
        }
        chart.draw_series(pts.iter().map(|&p| Circle::new(p, 8, line.color.filled())))?;
        for (x, s, e) in at(line, true) {
            let shape = Shape::Pruned(
                r.pruned_epochs
                    .iter()
                    .position(|&p| Some(p) == e)
                    .unwrap_or(0),
            );
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(x, s.min * scale), (x, s.max * scale)],
                line.color.stroke_width(2),
            )))?;
            chart.draw_series(std::iter::once(marker(
                (x, s.mean * scale),
                shape,
                10,
                line.color,
            )))?;
        }
    }
    if let Some((li, x)) = r.best {
        let line = &r.lines[li];
        if let Some((_, s, _)) = at(line, false)
            .into_iter()
            .find(|(px, _, _)| (px - x).abs() < 1e-12)
        {
            chart.draw_series(std::iter::once(Circle::new(
                (x, s.mean * scale),
                18,
                BLACK.stroke_width(3),
            )))?;
        }
    }
    Ok(())
}

fn draw_response_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    r: &Response,
    k: usize,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (title, y_desc, percent) = PANELS[k];
    let scale = if percent { 100.0 } else { 1.0 };
    let (y0, y1) = y_range(&r.lines, k, percent);
    let keys: Vec<f64> = r.ticks.iter().map(|t| t.0).collect();
    let mut chart = ChartBuilder::on(area)
        .margin(20)
        .margin_right(50)
        .caption(title, bold(PANEL_TITLE_FONT))
        .x_label_area_size(110)
        .y_label_area_size(PANEL_Y_LABEL_W)
        .build_cartesian_2d(
            KeyedAxis {
                range: r.x_range,
                keys,
            },
            y0..y1,
        )?;
    let y_decimals = decimals(y1 - y0);
    let x_fmt = |x: &f64| {
        r.ticks
            .iter()
            .find(|t| (t.0 - x).abs() < 1e-9)
            .map(|t| t.1.clone())
            .unwrap_or_default()
    };
    let y_fmt = |y: &f64| format!("{y:.y_decimals$}");
    chart
        .configure_mesh()
        .x_desc(&r.x_desc)
        .y_desc(y_desc)
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

    draw_response_lines(&mut chart, r, k, scale)?;
    Ok(())
}

/// Draws the response figure of `series` as `<stem>.png` and `<stem>.svg`:
/// final validation accuracy, best validation accuracy and final
/// validation loss against the swept value, mean over seeds with the
/// min-max band, one line per value of the other swept settings, the
/// overall best point ringed. Returns the best points and which files were
/// written.
pub(crate) fn response_figure(
    series: &SweepSeries<'_>,
    stem: &Path,
) -> Result<(Best, Written), FiguresError> {
    ensure_fonts()?;
    let r = build_response(series);
    let rows = legend_rows(&r, RESPONSE_SIZE.0 as i32).len();
    let size = (RESPONSE_SIZE.0, RESPONSE_SIZE.1 + title_h(rows) - TITLE_H);
    let png = render_png(&with_ext(stem, "png"), size, |root| {
        draw_response(root, &r).map_err(|e| e.to_string())
    })?;
    let svg = render_svg(&with_ext(stem, "svg"), size, |root| {
        draw_response(root, &r).map_err(|e| e.to_string())
    })?;
    Ok((best_point(series), [png, svg]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use fmnist_metrics::StoredRun;
    use fmnist_report::fixture::sweep::{runs, series};
    use fmnist_report::fixture::{look, simple};
    use fmnist_report::sweeps::{SweepInput, SweepX, response_table};

    #[test]
    fn log_ticks_are_the_written_values() {
        assert_eq!(sig(10f64.powf(0.003f64.log10())), 0.003);
    }

    #[test]
    fn response_figure_is_written_as_png_and_svg() {
        let runs = runs();
        let s = series(&runs);
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("sweep-lr-x-optimizer");
        let (best, _) = response_figure(&s, &stem).unwrap();
        assert_eq!(best.overall.unwrap().experiment, "adam-0.001");
        let png = with_ext(&stem, "png");
        look(&png, "sweep");
        let b = std::fs::read(&png).unwrap();
        assert_eq!(&b[1..4], b"PNG");
        let svg = std::fs::read_to_string(with_ext(&stem, "svg")).unwrap();
        let texts = fmnist_report::fixture::svg_texts(&svg);
        for needle in [
            "Final validation loss",
            "optimizer.lr (log scale)",
            "adam",
            "3e-4",
            "0.1",
        ] {
            assert!(texts.iter().any(|t| t == needle), "{needle}: {texts:?}");
        }
        let r = build_response(&s);
        assert_eq!(r.ticks.len(), 7);
        assert!(r.ticks.iter().all(|t| !t.1.is_empty()), "{:?}", r.ticks);
        let (line, x) = r.best.unwrap();
        assert_eq!(line, 1, "adam");
        assert!((x + 3.0).abs() < 1e-12, "log10(0.001): {x}");
    }

    #[test]
    fn pruned_grid_points_get_their_own_marker_and_legend_entry() {
        let mut runs = runs();
        // Adam's three largest rates pruned: 0.1 at epoch 1, 0.01 and 0.03
        // at epoch 2, each stored only up to there.
        for r in &mut runs {
            let stop = match r.manifest.experiment.as_str() {
                "adam-0.1" => 1,
                "adam-0.01" | "adam-0.03" => 2,
                _ => continue,
            };
            r.rows.retain(|x| x.epoch <= stop);
            r.manifest.status = fmnist_metrics::RunStatus::Pruned {
                epoch: stop as usize,
            };
        }
        let s = series(&runs);
        let r = build_response(&s);
        assert_eq!(r.pruned_epochs, [1, 2]);
        let adam = &r.lines[1];
        assert_eq!(adam.points.iter().filter(|p| p.2.is_some()).count(), 3);
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("sweep-lr-pruned");
        response_figure(&s, &stem).unwrap();
        look(&with_ext(&stem, "png"), "sweep-grid-pruned");
        let svg = std::fs::read_to_string(with_ext(&stem, "svg")).unwrap();
        let texts = fmnist_report::fixture::svg_texts(&svg);
        for needle in [
            "pruned at epoch 1 (value there)",
            "pruned at epoch 2 (value there)",
        ] {
            assert!(texts.iter().any(|t| t == needle), "{needle}: {texts:?}");
        }
    }

    #[test]
    fn a_text_valued_sweep_has_a_categorical_axis_and_one_line() {
        let runs: Vec<StoredRun> = ["sgd", "adam", "rmsprop"]
            .iter()
            .enumerate()
            .flat_map(|(k, name)| {
                (0..2).map(move |seed| {
                    simple(name, seed, &[0.80 + 0.01 * k as f64 + 0.002 * seed as f64])
                })
            })
            .collect();
        let inputs = ["sgd", "adam", "rmsprop"]
            .iter()
            .map(|name| SweepInput {
                experiment: name.to_string(),
                values: vec![("optimizer.kind".into(), SweepX::Text(name.to_string()))],
                runs: runs
                    .iter()
                    .filter(|r| r.manifest.experiment == *name)
                    .collect(),
            })
            .collect();
        let s = SweepSeries::from_inputs("optimizers", inputs);
        assert_eq!(s.x_key, "optimizer.kind");
        assert!(s.line_keys.is_empty() && s.points.iter().all(|p| p.line.is_none()));
        assert_eq!(
            axis(&s),
            Axis::Categorical(vec!["sgd".into(), "adam".into(), "rmsprop".into()])
        );
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("sweep-optimizers");
        let (best, _) = response_figure(&s, &stem).unwrap();
        look(&with_ext(&stem, "png"), "sweep-categorical");
        assert_eq!(best.overall.unwrap().experiment, "rmsprop");
        assert_eq!(best.per_line.len(), 1);
        let t = response_table(&s, None);
        assert_eq!(t.columns.len(), 10, "no line column");
        assert_eq!(t.rows[2][8], "**overall**");
        // sd 0.51 pp over three seeds: ± t(0.975, 2) · 0.51 / √3.
        assert_eq!(t.rows[0][2], "80.10 [78.83, 81.37]");
        let r = build_response(&s);
        let labels: Vec<&str> = r.ticks.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(labels, ["sgd", "adam", "rmsprop"]);
    }
}
