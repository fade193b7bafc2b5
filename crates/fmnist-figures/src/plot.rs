//! Drawing the figures: FIG. 1 (example images) and the two-panel figures
//! of `panels` (one per experiment, one comparison per study), and the
//! rendering to PNG and SVG that every figure shares.
//!
//! Every figure is drawn once by a routine generic over the plotters backend
//! and rendered twice, to PNG (for the report and for print) and to SVG.
//! Files reach their final names by a rename, never half-written, and a
//! file whose bytes would not change is not touched (plotters' PNG and SVG
//! output depends on nothing but the drawing, so a figure redrawn from the
//! same runs is the same file).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use fmnist_data::Dataset;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::color::{corner, rgb};
use crate::error::{FiguresError, io};
use crate::font::{FAMILY, SVG_FAMILY, ensure_fonts};
use crate::output::{publish, write_if_changed};
use fmnist_report::panels::{Panel, PanelFigure, examples};

/// Pixel size of one panel of a panel figure: two side by side are, at 300
/// dpi, a full-width 8-inch figure.
const PANEL_SIZE: (u32, u32) = (1200, 1000);

fn panels_size(fig: &PanelFigure) -> (u32, u32) {
    (PANEL_SIZE.0 * fig.panels.len().max(1) as u32, PANEL_SIZE.1)
}

pub(crate) const TITLE_FONT: f64 = 50.0;
pub(crate) const PANEL_TITLE_FONT: f64 = 40.0;
pub(crate) const AXIS_DESC_FONT: f64 = 36.0;
pub(crate) const TICK_FONT: f64 = 30.0;
pub(crate) const LEGEND_FONT: f64 = 30.0;
pub(crate) const LINE_WIDTH: u32 = 4;

pub(crate) fn font(size: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::Name(FAMILY), size, FontStyle::Normal)
}

pub(crate) fn bold(size: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::Name(FAMILY), size, FontStyle::Bold)
}

/// Whether a figure's PNG and SVG were written (`true`) or already held
/// the same bytes (`false`).
pub(crate) type Written = [bool; 2];

/// Writes `fig` as PNG and SVG.
pub(crate) fn write_panels(
    fig: &PanelFigure,
    png: &Path,
    svg: &Path,
) -> Result<Written, FiguresError> {
    ensure_fonts()?;
    let p = render_png(png, panels_size(fig), |root| {
        draw_panels(root, fig).map_err(|e| e.to_string())
    })?;
    let s = render_svg(svg, panels_size(fig), |root| {
        draw_panels(root, fig).map_err(|e| e.to_string())
    })?;
    Ok([p, s])
}

pub(crate) fn temp_path(path: &Path, ext: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    // The image encoder picks the format from the extension, so it comes last.
    path.with_file_name(format!(".{name}.{}.{n}.tmp.{ext}", std::process::id()))
}

/// Renders through plotters' bitmap backend into a temporary file beside
/// `path`, then publishes it: the encoder only writes to paths. `true` when
/// `path` was (re)written.
pub(crate) fn render_png(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> Result<(), String>,
) -> Result<bool, FiguresError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let tmp = temp_path(path, "png");
    let result = (|| {
        let root = BitMapBackend::new(&tmp, size).into_drawing_area();
        draw(&root)?;
        root.present().map_err(|e| e.to_string())
    })();
    match result {
        Ok(()) => publish(&tmp, path),
        Err(message) => {
            let _ = std::fs::remove_file(&tmp);
            Err(FiguresError::Draw {
                path: path.to_path_buf(),
                message,
            })
        }
    }
}

/// Renders through plotters' SVG backend into `path`; `true` when `path`
/// was (re)written.
pub(crate) fn render_svg(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), String>,
) -> Result<bool, FiguresError> {
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, size).into_drawing_area();
        draw(&root)
            .and_then(|()| root.present().map_err(|e| e.to_string()))
            .map_err(|message| FiguresError::Draw {
                path: path.to_path_buf(),
                message,
            })?;
    }
    write_if_changed(path, text.as_bytes())
}

/// The range of all values of a panel, padded; fractions become percent.
fn y_range(panel: &Panel) -> (f64, f64) {
    let scale = if panel.percent { 100.0 } else { 1.0 };
    let (lo, hi) = panel
        .curves
        .iter()
        .flat_map(|c| &c.points)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p.min * scale), hi.max(p.max * scale))
        });
    if !lo.is_finite() || !hi.is_finite() {
        return if panel.percent {
            (0.0, 100.0)
        } else {
            (0.0, 1.0)
        };
    }
    let pad = if hi > lo {
        (hi - lo) * 0.06
    } else {
        (hi.abs() * 0.05).max(0.01)
    };
    let mut lo = lo - pad;
    let mut hi = hi + pad;
    if lo < 0.0 && lo + pad >= 0.0 {
        lo = 0.0;
    }
    if panel.percent && hi > 100.0 && hi - pad <= 100.0 {
        hi = 100.0;
    }
    (lo, hi)
}

/// Tick labels with as many decimals as the range needs.
/// A shared legend's entries in rows that fit `width` (less a margin of 80
/// pixels), each entry as wide as `entry_width` says; a row takes at least
/// one entry however wide.
pub(crate) fn wrap_legend<T>(
    items: impl IntoIterator<Item = T>,
    width: i32,
    entry_width: impl Fn(&T) -> i32,
) -> Vec<Vec<T>> {
    let mut rows: Vec<Vec<T>> = vec![Vec::new()];
    let mut used = 0;
    for item in items {
        let w = entry_width(&item);
        if used + w > width - 80 && !rows[rows.len() - 1].is_empty() {
            rows.push(Vec::new());
            used = 0;
        }
        used += w;
        rows.last_mut().expect("one row at least").push(item);
    }
    rows
}

pub(crate) fn decimals(span: f64) -> usize {
    match span {
        s if s >= 20.0 => 0,
        s if s >= 2.0 => 1,
        s if s >= 0.2 => 2,
        _ => 3,
    }
}

fn draw_panels<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    fig: &PanelFigure,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let (w, _) = root.dim_in_pixel();
    let (top, body) = root.split_vertically(100);
    top.draw_text(
        &fig.title,
        &TextStyle::from(bold(TITLE_FONT)).pos(Pos::new(HPos::Center, VPos::Center)),
        (w as i32 / 2, 55),
    )?;
    let last_epoch = fig
        .panels
        .iter()
        .flat_map(|p| &p.curves)
        .flat_map(|c| &c.points)
        .map(|p| p.epoch)
        .max()
        .unwrap_or(1);
    // Each panel its own column, cut from the left.
    let mut rest = body;
    let n = fig.panels.len() as u32;
    for panel in &fig.panels {
        let (area, right) = rest.split_horizontally(w / n);
        draw_panel(&area, panel, last_epoch)?;
        rest = right;
    }
    Ok(())
}

/// The chart of one panel: epochs against values.
type PanelChart<'c, DB> = ChartContext<'c, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Each curve's min-max band over seeds, where the seeds differ.
fn draw_bands<DB: DrawingBackend>(
    chart: &mut PanelChart<'_, DB>,
    panel: &Panel,
    scale: f64,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    for curve in &panel.curves {
        let spread = curve.points.iter().any(|p| p.max > p.min);
        if curve.points.len() >= 2 && spread {
            let mut outline: Vec<(f64, f64)> = curve
                .points
                .iter()
                .map(|p| (f64::from(p.epoch), p.max * scale))
                .collect();
            outline.extend(
                curve
                    .points
                    .iter()
                    .rev()
                    .map(|p| (f64::from(p.epoch), p.min * scale)),
            );
            chart.draw_series(std::iter::once(Polygon::new(
                outline,
                rgb(curve.color).mix(0.18).filled(),
            )))?;
        }
    }
    Ok(())
}

/// Each curve's mean over seeds, with its legend entry.
fn draw_curves<'c, DB: DrawingBackend + 'c>(
    chart: &mut PanelChart<'c, DB>,
    panel: &Panel,
    scale: f64,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    for curve in &panel.curves {
        let points: Vec<(f64, f64)> = curve
            .points
            .iter()
            .map(|p| (f64::from(p.epoch), p.mean * scale))
            .collect();
        let style = rgb(curve.color).stroke_width(LINE_WIDTH);
        let color = rgb(curve.color);
        let anno = if curve.dashed {
            chart.draw_series(DashedLineSeries::new(points.clone(), 22, 14, style))?
        } else {
            chart.draw_series(LineSeries::new(points.clone(), style))?
        };
        anno.label(curve.label.clone());
        if curve.dashed {
            anno.legend(move |(x, y)| {
                EmptyElement::at((x, y))
                    + PathElement::new(vec![(0, 0), (18, 0)], color.stroke_width(LINE_WIDTH))
                    + PathElement::new(vec![(30, 0), (48, 0)], color.stroke_width(LINE_WIDTH))
            });
        } else {
            anno.legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 48, y)], color.stroke_width(LINE_WIDTH))
            });
        }
        // Markers help read a short run; on a long one they would hide the
        // dashes that mark a hypothesis.
        if points.len() <= 15 && !curve.dashed {
            chart.draw_series(
                points
                    .iter()
                    .map(|&p| Circle::new(p, 6, rgb(curve.color).filled())),
            )?;
        }
    }
    Ok(())
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
    last_epoch: u32,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (x0, x1) = if last_epoch <= 1 {
        (0.5, 1.5)
    } else {
        (1.0, f64::from(last_epoch))
    };
    let (y0, y1) = y_range(panel);
    let scale = if panel.percent { 100.0 } else { 1.0 };
    let mut chart = ChartBuilder::on(area)
        .margin(20)
        .margin_right(60)
        .caption(&panel.title, bold(PANEL_TITLE_FONT))
        .x_label_area_size(100)
        .y_label_area_size(140)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    let y_decimals = decimals(y1 - y0);
    let x_fmt = |x: &f64| {
        // Epochs are whole numbers; a fractional tick would read as an epoch.
        if (x - x.round()).abs() < 1e-9 {
            format!("{}", x.round())
        } else {
            String::new()
        }
    };
    let y_fmt = |y: &f64| format!("{y:.y_decimals$}");
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(&panel.y_desc)
        .axis_desc_style(font(AXIS_DESC_FONT))
        .label_style(font(TICK_FONT))
        .x_labels((last_epoch as usize).clamp(2, 11))
        .y_labels(8)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .bold_line_style(BLACK.mix(0.12).stroke_width(1))
        .light_line_style(TRANSPARENT)
        .axis_style(BLACK.stroke_width(2))
        .set_all_tick_mark_size(10)
        .draw()?;

    // Bands first, so that no band hides a line.
    draw_bands(&mut chart, panel, scale)?;
    draw_curves(&mut chart, panel, scale)?;
    if panel.curves.iter().any(|c| !c.points.is_empty()) {
        chart
            .configure_series_labels()
            .position(corner(panel.legend))
            .label_font(font(LEGEND_FONT))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.4))
            .margin(24)
            .legend_area_size(64)
            .draw()?;
    }
    Ok(())
}

// ----------------------------------------------------------------- FIG. 1

const EXAMPLE_SCALE: u32 = 5;
const EXAMPLE_GAP: u32 = 14;
const LABEL_WIDTH: u32 = 330;
const MARGIN: u32 = 24;
const FIG1_TITLE_HEIGHT: u32 = 110;
const FIG1_TITLE_FONT: f64 = 44.0;

struct Grid {
    title: String,
    rows: Vec<(usize, Vec<usize>)>,
    cols: u32,
    img_w: u32,
    img_h: u32,
}

impl Grid {
    fn new(ds: &Dataset, classes: usize, title: &str) -> Grid {
        let rows = examples(ds, classes);
        let cols = rows.iter().map(|(_, i)| i.len()).max().unwrap_or(1) as u32;
        Grid {
            title: title.to_string(),
            rows,
            cols,
            img_w: ds.train.cols as u32 * EXAMPLE_SCALE,
            img_h: ds.train.rows as u32 * EXAMPLE_SCALE,
        }
    }

    /// Size of the image grid alone.
    fn grid_size(&self) -> (u32, u32) {
        let n = self.rows.len().max(1) as u32;
        (
            self.cols * (self.img_w + EXAMPLE_GAP) - EXAMPLE_GAP,
            n * (self.img_h + EXAMPLE_GAP) - EXAMPLE_GAP,
        )
    }

    /// Where the grid starts in the whole figure.
    fn origin(&self) -> (u32, u32) {
        (MARGIN + LABEL_WIDTH, FIG1_TITLE_HEIGHT)
    }

    fn size(&self) -> (u32, u32) {
        let (gw, gh) = self.grid_size();
        let (ox, oy) = self.origin();
        // Wide enough for the title even when few images per class exist.
        let title = bold(FIG1_TITLE_FONT)
            .layout_box(&self.title)
            .map_or(1200, |((x0, _), (x1, _))| (x1 - x0).max(0) as u32);
        ((ox + gw + MARGIN).max(title + 2 * MARGIN), oy + gh + MARGIN)
    }

    fn row_center(&self, r: usize) -> u32 {
        self.origin().1 + r as u32 * (self.img_h + EXAMPLE_GAP) + self.img_h / 2
    }
}

/// A greyscale image, row-major with `cols` pixels a row, drawn with its
/// top-left corner at `(x0, y0)`, each pixel a `scale` x `scale` square.
pub(crate) fn draw_grey_image<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    pixels: &[u8],
    cols: usize,
    (x0, y0): (i32, i32),
    scale: i32,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    for (p, &v) in pixels.iter().enumerate() {
        let (py, px) = ((p / cols) as i32, (p % cols) as i32);
        let (x, y) = (x0 + px * scale, y0 + py * scale);
        area.draw(&Rectangle::new(
            [(x, y), (x + scale, y + scale)],
            RGBColor(v, v, v).filled(),
        ))?;
    }
    Ok(())
}

fn draw_images<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    ds: &Dataset,
    grid: &Grid,
    (ox, oy): (u32, u32),
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let s = EXAMPLE_SCALE as i32;
    for (r, (_, indices)) in grid.rows.iter().enumerate() {
        for (c, &i) in indices.iter().enumerate() {
            let x0 = (ox + c as u32 * (grid.img_w + EXAMPLE_GAP)) as i32;
            let y0 = (oy + r as u32 * (grid.img_h + EXAMPLE_GAP)) as i32;
            draw_grey_image(area, ds.train.image(i), ds.train.cols, (x0, y0), s)?;
        }
    }
    Ok(())
}

/// A class's name for a label, which the data may hold beyond the names given.
fn class_name(class_names: &[String], class: usize) -> String {
    class_names
        .get(class)
        .cloned()
        .unwrap_or_else(|| format!("class {class}"))
}

fn draw_examples<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    ds: &Dataset,
    class_names: &[String],
    grid: &Grid,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let (w, _) = root.dim_in_pixel();
    root.draw_text(
        &grid.title,
        &TextStyle::from(bold(FIG1_TITLE_FONT)).pos(Pos::new(HPos::Center, VPos::Center)),
        (w as i32 / 2, FIG1_TITLE_HEIGHT as i32 / 2),
    )?;
    for (r, (class, _)) in grid.rows.iter().enumerate() {
        root.draw_text(
            &class_name(class_names, *class),
            &TextStyle::from(font(36.0)).pos(Pos::new(HPos::Right, VPos::Center)),
            (
                (MARGIN + LABEL_WIDTH - 24) as i32,
                grid.row_center(r) as i32,
            ),
        )?;
    }
    draw_images(root, ds, grid, grid.origin())
}

/// FIG. 1 as PNG, and as SVG with vector text around the images, embedded
/// as one PNG (pixel-per-rectangle SVG of 80 photographs would be megabytes).
/// One row per class of `class_names`; [`examples_per_class`] images each.
pub(crate) fn write_examples(
    ds: &Dataset,
    class_names: &[String],
    title: &str,
    png: &Path,
    svg: &Path,
) -> Result<Written, FiguresError> {
    ensure_fonts()?;
    let grid = Grid::new(ds, class_names.len(), title);
    let png_written = render_png(png, grid.size(), |root| {
        draw_examples(root, ds, class_names, &grid).map_err(|e| e.to_string())
    })?;

    let tmp = temp_path(svg, "png");
    render_png(&tmp, grid.grid_size(), |root| {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        draw_images(root, ds, &grid, (0, 0)).map_err(|e| e.to_string())
    })?;
    let bytes = std::fs::read(&tmp).map_err(io(&tmp));
    let _ = std::fs::remove_file(&tmp);
    let bytes = bytes?;

    let (w, h) = grid.size();
    let (gw, gh) = grid.grid_size();
    let (ox, oy) = grid.origin();
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" \
         width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">\n\
         <rect width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>\n\
         <text x=\"{}\" y=\"{}\" font-family=\"{SVG_FAMILY}\" font-size=\"{FIG1_TITLE_FONT}\" font-weight=\"bold\" \
         text-anchor=\"middle\" dominant-baseline=\"central\">{}</text>\n",
        w / 2,
        FIG1_TITLE_HEIGHT / 2,
        xml_escape(&grid.title)
    );
    for (r, (class, _)) in grid.rows.iter().enumerate() {
        out.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" font-family=\"{SVG_FAMILY}\" font-size=\"36\" \
             text-anchor=\"end\" dominant-baseline=\"central\">{}</text>\n",
            MARGIN + LABEL_WIDTH - 24,
            grid.row_center(r),
            xml_escape(&class_name(class_names, *class))
        ));
    }
    out.push_str(&format!(
        "<image x=\"{ox}\" y=\"{oy}\" width=\"{gw}\" height=\"{gh}\" \
         xlink:href=\"data:image/png;base64,{}\"/>\n</svg>\n",
        base64(&bytes)
    ));
    let svg_written = write_if_changed(svg, out.as_bytes())?;
    Ok([png_written, svg_written])
}

pub(crate) fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Standard base64 with padding (RFC 4648), for the data URI.
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_legend_wraps_into_rows_that_fit_and_never_leaves_a_row_empty() {
        let rows = wrap_legend([100, 100, 100, 500, 10], 300, |w| *w);
        assert_eq!(rows, vec![vec![100, 100], vec![100], vec![500], vec![10]]);
        assert_eq!(
            wrap_legend(Vec::<i32>::new(), 300, |w| *w),
            vec![Vec::<i32>::new()]
        );
    }
    use fmnist_report::fixture::simple;
    use fmnist_report::panels::experiment_figure;

    #[test]
    fn panel_figures_are_one_panel_wide_per_panel() {
        let a = simple("x", 0, &[0.5, 0.6]);
        let mut fig = experiment_figure("t".into(), &[&a]);
        assert_eq!(panels_size(&fig), (2400, 1000));
        fig.panels.push(fig.panels[0].clone());
        assert_eq!(panels_size(&fig), (3600, 1000));
        let dir = tempfile::tempdir().unwrap();
        let (png, svg) = (dir.path().join("f.png"), dir.path().join("f.svg"));
        assert_eq!(write_panels(&fig, &png, &svg).unwrap(), [true, true]);
        let b = std::fs::read(&png).unwrap();
        let be = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        assert_eq!((be(16), be(20)), (3600, 1000));
    }

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), coded);
        }
    }

    #[test]
    fn y_ranges_pad_and_clamp() {
        let a = simple("a", 0, &[0.5, 0.9]);
        let b = simple("a", 1, &[0.6, 0.985]);
        let fig = experiment_figure("t".into(), &[&a, &b]);
        let (lo, hi) = y_range(&fig.panels[1]);
        assert!(lo < 50.0 && lo > 40.0, "{lo}");
        assert_eq!(hi, 100.0, "accuracy never above 100%");
        let (lo, _) = y_range(&fig.panels[0]);
        assert!(lo >= 0.0, "loss never below 0: {lo}");
        assert_eq!(decimals(60.0), 0);
        assert_eq!(decimals(0.05), 3);
    }
}
