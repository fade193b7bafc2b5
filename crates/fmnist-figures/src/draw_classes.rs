//! The per-class figures: the confusion heatmap of an experiment (summed
//! over seeds, each row in % of its true class) and the grid of the images a
//! network gets most confidently wrong.
//!
//! Fashion-MNIST's hard classes (shirt, T-shirt/top, pullover, coat) lose
//! their images to each other, a few percent per cell. The heatmap colours
//! cells on a square-root scale so that those cells stand out from the
//! empty ones instead of vanishing next to a 95 % diagonal.

use std::path::Path;

use fmnist_data::ImageSet;
use fmnist_metrics::{Mistake, StoredRun};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::{FiguresError, io};
use crate::font::{SVG_FAMILY, ensure_fonts};
use crate::output::with_ext;
use crate::plot::{Written, base64, bold, font, render_png, render_svg, temp_path, xml_escape};
use fmnist_report::aggregate::Confusion;
use fmnist_report::classes::{MISTAKES_SHOWN, class_name, pick_mistakes, seed_list, thousands};

// ------------------------------------------------------------- heatmap

/// Matplotlib's "Blues": white to dark blue, readable in greyscale print.
const BLUES: [(u8, u8, u8); 9] = [
    (247, 251, 255),
    (222, 235, 247),
    (198, 219, 239),
    (158, 202, 225),
    (107, 174, 214),
    (66, 146, 198),
    (33, 113, 181),
    (8, 81, 156),
    (8, 48, 107),
];

/// Position on the colour scale of a percentage: square-root, so that a
/// 5 % confusion is a visible blue and not a shade of white.
fn scale_position(percent: f64) -> f64 {
    (percent / 100.0).clamp(0.0, 1.0).sqrt()
}

fn blues(t: f64) -> RGBColor {
    let x = t.clamp(0.0, 1.0) * (BLUES.len() - 1) as f64;
    let i = (x.floor() as usize).min(BLUES.len() - 2);
    let f = x - i as f64;
    let lerp = |a: u8, b: u8| (f64::from(a) + f * (f64::from(b) - f64::from(a))).round() as u8;
    let (a, b) = (BLUES[i], BLUES[i + 1]);
    RGBColor(lerp(a.0, b.0), lerp(a.1, b.1), lerp(a.2, b.2))
}

/// White text on dark cells, black on light ones (relative luminance).
fn ink_on(c: RGBColor) -> RGBColor {
    let l = 0.2126 * f64::from(c.0) + 0.7152 * f64::from(c.1) + 0.0722 * f64::from(c.2);
    if l < 140.0 { WHITE } else { BLACK }
}

const CELL: u32 = 150;
const HEAT_MARGIN: u32 = 30;
const HEAT_TITLE_H: u32 = 150;
const HEAT_LABEL_FONT: f64 = 34.0;
const HEAT_CELL_FONT: f64 = 34.0;
const HEAT_AXIS_FONT: f64 = 38.0;
const COLORBAR_TICKS: [f64; 8] = [0.0, 1.0, 5.0, 10.0, 25.0, 50.0, 75.0, 100.0];

/// A class name broken at its first space or slash, for two-line column labels.
fn two_lines(name: &str) -> (String, String) {
    match name.find([' ', '/']) {
        Some(i) if name.len() > 8 => {
            let cut = if name.as_bytes()[i] == b'/' { i + 1 } else { i };
            (name[..cut].to_string(), name[cut..].trim().to_string())
        }
        _ => (name.to_string(), String::new()),
    }
}

fn text_width(f: &FontDesc<'_>, s: &str) -> u32 {
    f.layout_box(s)
        .map_or(s.len() as u32 * 20, |((x0, _), (x1, _))| {
            (x1 - x0).max(0) as u32
        })
}

struct Heatmap {
    title: String,
    subtitle: String,
    names: Vec<String>,
    /// Row-normalised percentages; `None` for a class without images.
    percent: Vec<Vec<Option<f64>>>,
    zero: Vec<Vec<bool>>,
    label_w: u32,
}

impl Heatmap {
    fn n(&self) -> u32 {
        self.names.len() as u32
    }

    /// Top-left corner of the grid.
    fn origin(&self) -> (u32, u32) {
        (HEAT_MARGIN + 60 + self.label_w + 20, HEAT_TITLE_H + 20)
    }

    fn grid(&self) -> u32 {
        self.n() * CELL
    }

    fn size(&self) -> (u32, u32) {
        let (ox, oy) = self.origin();
        let w = ox + self.grid() + 60 + 50 + 110 + 60 + HEAT_MARGIN;
        let title = text_width(&bold(46.0), &self.title) + 2 * HEAT_MARGIN;
        (
            w.max(title),
            oy + self.grid() + 20 + 2 * 42 + 30 + 50 + HEAT_MARGIN,
        )
    }
}

/// The cells with their percentages, and the grid.
fn draw_cells<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    h: &Heatmap,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let center = |size: f64, b: bool| {
        let f = if b { bold(size) } else { font(size) };
        TextStyle::from(f).pos(Pos::new(HPos::Center, VPos::Center))
    };
    let (ox, oy) = h.origin();
    let (ox, oy, cell, g) = (ox as i32, oy as i32, CELL as i32, h.grid() as i32);
    for (t, row) in h.percent.iter().enumerate() {
        for (p, v) in row.iter().enumerate() {
            let (x, y) = (ox + p as i32 * cell, oy + t as i32 * cell);
            let fill = v.map_or(RGBColor(230, 230, 230), |v| blues(scale_position(v)));
            root.draw(&Rectangle::new(
                [(x, y), (x + cell, y + cell)],
                fill.filled(),
            ))?;
            let (text, ink) = match v {
                None => ("—".to_string(), BLACK.to_rgba()),
                Some(_) if h.zero[t][p] => ("0".to_string(), BLACK.mix(0.35)),
                Some(v) => (format!("{v:.1}"), ink_on(fill).to_rgba()),
            };
            let bold_cell = t == p;
            let style = center(HEAT_CELL_FONT, bold_cell).color(&ink);
            root.draw_text(&text, &style, (x + cell / 2, y + cell / 2))?;
        }
    }
    // Thin white grid lines keep neighbouring dark cells apart.
    for k in 0..=h.n() as i32 {
        let at = k * cell;
        let line = WHITE.stroke_width(2);
        root.draw(&PathElement::new(
            vec![(ox + at, oy), (ox + at, oy + g)],
            line,
        ))?;
        root.draw(&PathElement::new(
            vec![(ox, oy + at), (ox + g, oy + at)],
            line,
        ))?;
    }
    root.draw(&Rectangle::new(
        [(ox, oy), (ox + g, oy + g)],
        BLACK.stroke_width(2),
    ))?;

    Ok(())
}

/// The class names along both axes, and the axes' names.
fn draw_class_labels<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    h: &Heatmap,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (ox, oy) = h.origin();
    let (ox, oy, cell, g) = (ox as i32, oy as i32, CELL as i32, h.grid() as i32);
    let right = TextStyle::from(font(HEAT_LABEL_FONT)).pos(Pos::new(HPos::Right, VPos::Center));
    let top = TextStyle::from(font(HEAT_LABEL_FONT)).pos(Pos::new(HPos::Center, VPos::Top));
    for (c, name) in h.names.iter().enumerate() {
        let mid = c as i32 * cell + cell / 2;
        root.draw_text(name, &right, (ox - 16, oy + mid))?;
        let (a, b) = two_lines(name);
        root.draw_text(&a, &top, (ox + mid, oy + g + 16))?;
        if !b.is_empty() {
            root.draw_text(&b, &top, (ox + mid, oy + g + 16 + 42))?;
        }
    }
    root.draw_text(
        "predicted class",
        &TextStyle::from(bold(HEAT_AXIS_FONT)).pos(Pos::new(HPos::Center, VPos::Top)),
        (ox + g / 2, oy + g + 16 + 2 * 42 + 24),
    )?;
    root.draw_text(
        "true class",
        &TextStyle::from(bold(HEAT_AXIS_FONT))
            .pos(Pos::new(HPos::Center, VPos::Center))
            .transform(FontTransform::Rotate270),
        (HEAT_MARGIN as i32 + 30, oy + g / 2),
    )?;

    Ok(())
}

/// The colour bar, on the same square-root scale as the cells.
fn draw_colour_bar<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    h: &Heatmap,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (ox, oy) = h.origin();
    let (ox, oy, g) = (ox as i32, oy as i32, h.grid() as i32);
    let bx = ox + g + 60;
    let bw = 50;
    let steps = 200;
    for s in 0..steps {
        let t0 = f64::from(s) / f64::from(steps);
        let y1 = oy + g - (t0 * f64::from(g)).round() as i32;
        let y0 = oy + g - ((t0 + 1.0 / f64::from(steps)) * f64::from(g)).round() as i32;
        root.draw(&Rectangle::new(
            [(bx, y0), (bx + bw, y1)],
            blues(t0).filled(),
        ))?;
    }
    root.draw(&Rectangle::new(
        [(bx, oy), (bx + bw, oy + g)],
        BLACK.stroke_width(2),
    ))?;
    let tick = TextStyle::from(font(30.0)).pos(Pos::new(HPos::Left, VPos::Center));
    for v in COLORBAR_TICKS {
        let y = oy + g - (scale_position(v) * f64::from(g)).round() as i32;
        root.draw(&PathElement::new(
            vec![(bx + bw, y), (bx + bw + 10, y)],
            BLACK.stroke_width(2),
        ))?;
        root.draw_text(&format!("{v}"), &tick, (bx + bw + 16, y))?;
    }
    root.draw_text(
        "% of the true class (square-root scale)",
        &TextStyle::from(font(32.0))
            .pos(Pos::new(HPos::Center, VPos::Center))
            .transform(FontTransform::Rotate90),
        (bx + bw + 110, oy + g / 2),
    )?;
    Ok(())
}

fn draw_heatmap<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    h: &Heatmap,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let (w, _) = root.dim_in_pixel();
    let center = |size: f64, b: bool| {
        let f = if b { bold(size) } else { font(size) };
        TextStyle::from(f).pos(Pos::new(HPos::Center, VPos::Center))
    };
    root.draw_text(&h.title, &center(46.0, true), (w as i32 / 2, 50))?;
    root.draw_text(&h.subtitle, &center(32.0, false), (w as i32 / 2, 110))?;
    draw_cells(root, h)?;
    draw_class_labels(root, h)?;
    draw_colour_bar(root, h)?;
    Ok(())
}

/// Draws the confusion matrix of `runs` (one experiment), summed over
/// seeds, each row normalised to % of its true class, as `<stem>.png` and
/// `<stem>.svg`. `title` names the experiment. Returns the summed matrix and
/// which files were written, or `None` (and writes nothing) when no run
/// stored a confusion matrix.
pub(crate) fn confusion_figure(
    runs: &[&StoredRun],
    class_names: &[String],
    title: &str,
    stem: &Path,
) -> Result<Option<(Confusion, Written)>, FiguresError> {
    let with: Vec<&StoredRun> = runs
        .iter()
        .copied()
        .filter(|r| !r.confusion.is_empty())
        .collect();
    let Some(m) = Confusion::summed(&with, class_names.len()) else {
        return Ok(None);
    };
    ensure_fonts()?;
    let n = m.classes();
    let names: Vec<String> = (0..n).map(|c| class_name(class_names, c)).collect();
    let label_w = names
        .iter()
        .map(|s| text_width(&font(HEAT_LABEL_FONT), s))
        .max()
        .unwrap_or(100);
    let images = m.total() / with.len() as u64;
    let seeds = if with.len() == 1 {
        format!("seed {}", seed_list(&with))
    } else {
        format!("summed over seeds {}", seed_list(&with))
    };
    let heat = Heatmap {
        title: format!("{title}: confusion matrix"),
        subtitle: format!(
            "{} validation images, {seeds}; each row is 100 % of its true class",
            thousands(images)
        ),
        percent: (0..n)
            .map(|t| (0..n).map(|p| m.row_percent(t, p)).collect())
            .collect(),
        zero: (0..n)
            .map(|t| (0..n).map(|p| m.count(t, p) == 0).collect())
            .collect(),
        names,
        label_w,
    };
    let size = heat.size();
    let png = render_png(&with_ext(stem, "png"), size, |root| {
        draw_heatmap(root, &heat).map_err(|e| e.to_string())
    })?;
    let svg = render_svg(&with_ext(stem, "svg"), size, |root| {
        draw_heatmap(root, &heat).map_err(|e| e.to_string())
    })?;
    Ok(Some((m, [png, svg])))
}

// ------------------------------------------------------------- mistakes

const MISTAKE_COLS: usize = 6;
const MISTAKE_SCALE: u32 = 9;
const MISTAKE_CELL_W: u32 = 380;
const MISTAKE_TITLE_H: u32 = 150;
const MISTAKE_LABEL_FONT: f64 = 30.0;
const MISTAKE_LINE_H: u32 = 38;
const MISTAKE_GAP: u32 = 36;
const MISTAKE_MARGIN: u32 = 30;
const PRED_COLOR: RGBColor = RGBColor(178, 24, 43);

/// A confidence as a percentage that never rounds a wrong answer up to 100 %.
pub(crate) fn confidence(c: f32) -> String {
    let p = 100.0 * f64::from(c);
    if p >= 99.0 {
        format!("{:.1}%", (p * 10.0).floor() / 10.0)
    } else {
        format!("{p:.0}%")
    }
}

struct MistakeGrid {
    title: String,
    subtitle: String,
    /// (image pixels, first label line, second label line).
    cells: Vec<(Vec<u8>, String, String)>,
    rows: usize,
    img_w: u32,
    img_h: u32,
    img_cols: usize,
    label_font: f64,
}

impl MistakeGrid {
    fn cell_h(&self) -> u32 {
        self.img_h + 10 + 2 * MISTAKE_LINE_H + MISTAKE_GAP
    }

    fn cols(&self) -> usize {
        self.cells.len().clamp(1, MISTAKE_COLS)
    }

    fn size(&self) -> (u32, u32) {
        let title = text_width(&bold(44.0), &self.title) + 2 * MISTAKE_MARGIN;
        let w = 2 * MISTAKE_MARGIN + self.cols() as u32 * MISTAKE_CELL_W;
        (
            w.max(title),
            MISTAKE_TITLE_H + self.rows as u32 * self.cell_h() + MISTAKE_MARGIN - MISTAKE_GAP,
        )
    }

    /// Top-left corner of cell `k`'s image.
    fn image_at(&self, k: usize) -> (i32, i32) {
        let (w, _) = self.size();
        let grid_w = self.cols() as u32 * MISTAKE_CELL_W;
        let left = (w - grid_w) / 2;
        let (r, c) = (k / self.cols(), k % self.cols());
        (
            (left + c as u32 * MISTAKE_CELL_W + (MISTAKE_CELL_W - self.img_w) / 2) as i32,
            (MISTAKE_TITLE_H + r as u32 * self.cell_h()) as i32,
        )
    }

    /// Centre of the first label line of cell `k`.
    fn label_at(&self, k: usize) -> (i32, i32) {
        let (x, y) = self.image_at(k);
        (
            x + self.img_w as i32 / 2,
            y + (self.img_h + 10 + MISTAKE_LINE_H / 2) as i32,
        )
    }
}

fn draw_mistake_images<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    g: &MistakeGrid,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let s = MISTAKE_SCALE as i32;
    for (k, (pixels, _, _)) in g.cells.iter().enumerate() {
        crate::plot::draw_grey_image(root, pixels, g.img_cols, g.image_at(k), s)?;
    }
    Ok(())
}

fn draw_mistakes<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    g: &MistakeGrid,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let (w, _) = root.dim_in_pixel();
    let center =
        |f: FontDesc<'static>| TextStyle::from(f).pos(Pos::new(HPos::Center, VPos::Center));
    root.draw_text(&g.title, &center(bold(44.0)), (w as i32 / 2, 50))?;
    root.draw_text(&g.subtitle, &center(font(30.0)), (w as i32 / 2, 105))?;
    draw_mistake_images(root, g)?;
    for (k, (_, truth, pred)) in g.cells.iter().enumerate() {
        let (x, y) = g.label_at(k);
        root.draw_text(truth, &center(font(g.label_font)), (x, y))?;
        root.draw_text(
            pred,
            &center(bold(g.label_font)).color(&PRED_COLOR),
            (x, y + MISTAKE_LINE_H as i32),
        )?;
    }
    Ok(())
}

/// Draws the validation images that `runs` get most confidently wrong (up to
/// 24, each image once, at its most confident among the seeds) as
/// `<stem>.png` and `<stem>.svg`, each labelled with its true class and the
/// predicted class with its confidence. `validation` is the data set's
/// validation (official test) split, `title` names the experiment. Returns
/// how many images it shows; with none it writes nothing.
///
/// Fails when a mistake's image is missing from `validation` or carries
/// another label there: the runs were made on other data.
pub(crate) fn mistakes_figure(
    runs: &[&StoredRun],
    validation: &ImageSet,
    class_names: &[String],
    title: &str,
    stem: &Path,
) -> Result<(usize, Written), FiguresError> {
    let png = with_ext(stem, "png");
    let svg = with_ext(stem, "svg");
    let picked = pick_mistakes(runs, MISTAKES_SHOWN);
    if picked.is_empty() {
        return Ok((0, [false; 2]));
    }
    check_mistakes(&picked, validation, class_names, title, &png)?;
    ensure_fonts()?;
    let grid = mistake_grid(runs, &picked, validation, class_names, title);
    let size = grid.size();
    let png_written = render_png(&png, size, |root| {
        draw_mistakes(root, &grid).map_err(|e| e.to_string())
    })?;
    let svg_written = write_mistakes_svg(&grid, &svg)?;
    Ok((grid.cells.len(), [png_written, svg_written]))
}

/// Fails when a mistake's image is missing from `validation` or carries
/// another label there: the runs were made on other data.
fn check_mistakes(
    picked: &[Mistake],
    validation: &ImageSet,
    class_names: &[String],
    title: &str,
    png: &Path,
) -> Result<(), FiguresError> {
    for m in picked {
        let i = m.index as usize;
        let label = validation.labels.get(i).copied();
        if label != Some(m.true_class) {
            let found = label.map_or("is not in the validation set".to_string(), |l| {
                format!("is labelled {}", class_name(class_names, l.into()))
            });
            return Err(FiguresError::Draw {
                path: png.to_path_buf(),
                message: format!(
                    "validation image {i} {found}, but a run of \"{title}\" lists it as a \
                     mistaken {}: the runs were not made on this data set",
                    class_name(class_names, m.true_class.into())
                ),
            });
        }
    }
    Ok(())
}

/// The grid of `picked` images with their labels, the labels' font shrunk
/// until the longest fits its cell.
fn mistake_grid(
    runs: &[&StoredRun],
    picked: &[Mistake],
    validation: &ImageSet,
    class_names: &[String],
    title: &str,
) -> MistakeGrid {
    let with: Vec<&StoredRun> = runs
        .iter()
        .copied()
        .filter(|r| !r.mistakes.is_empty())
        .collect();
    let cells: Vec<(Vec<u8>, String, String)> = picked
        .iter()
        .map(|m| {
            (
                validation.image(m.index as usize).to_vec(),
                format!("true: {}", class_name(class_names, m.true_class.into())),
                format!(
                    "pred: {} ({})",
                    class_name(class_names, m.predicted_class.into()),
                    confidence(m.confidence)
                ),
            )
        })
        .collect();
    let widest = |size: f64| {
        cells
            .iter()
            .flat_map(|(_, a, b)| [text_width(&font(size), a), text_width(&bold(size), b)])
            .max()
            .unwrap_or(0)
    };
    let mut label_font = MISTAKE_LABEL_FONT;
    while label_font > 20.0 && widest(label_font) > MISTAKE_CELL_W - 16 {
        label_font -= 1.0;
    }
    let seeds = if with.len() == 1 {
        format!("seed {}", seed_list(&with))
    } else {
        format!(
            "seeds {}, each image once at its highest confidence",
            seed_list(&with)
        )
    };
    MistakeGrid {
        title: format!("{title}: the validation images it gets most confidently wrong"),
        subtitle: format!("{seeds}; confidence = softmax probability of the predicted class"),
        rows: cells.len().div_ceil(MISTAKE_COLS),
        img_w: validation.cols as u32 * MISTAKE_SCALE,
        img_h: validation.rows as u32 * MISTAKE_SCALE,
        img_cols: validation.cols,
        cells,
        label_font,
    }
}

/// The SVG: vector text over the images, embedded as one PNG of the whole
/// canvas (mostly white, so it compresses to little). `true` when written.
fn write_mistakes_svg(grid: &MistakeGrid, svg: &Path) -> Result<bool, FiguresError> {
    let size = grid.size();
    let tmp = temp_path(svg, "png");
    render_png(&tmp, size, |root| {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        draw_mistake_images(root, grid).map_err(|e| e.to_string())
    })?;
    let bytes = std::fs::read(&tmp).map_err(io(&tmp));
    let _ = std::fs::remove_file(&tmp);
    let bytes = bytes?;
    let (w, h) = size;
    let text = |x: i32, y: i32, size: f64, weight: &str, fill: &str, s: &str| {
        format!(
            "<text x=\"{x}\" y=\"{y}\" font-family=\"{SVG_FAMILY}\" font-size=\"{size}\" \
             font-weight=\"{weight}\" fill=\"{fill}\" text-anchor=\"middle\" \
             dominant-baseline=\"central\">{}</text>\n",
            xml_escape(s)
        )
    };
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" \
         width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">\n\
         <image x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" \
         xlink:href=\"data:image/png;base64,{}\"/>\n",
        base64(&bytes)
    );
    let black = "#000000";
    out.push_str(&text(w as i32 / 2, 50, 44.0, "bold", black, &grid.title));
    out.push_str(&text(
        w as i32 / 2,
        105,
        30.0,
        "normal",
        black,
        &grid.subtitle,
    ));
    let pred_fill = format!(
        "#{:02x}{:02x}{:02x}",
        PRED_COLOR.0, PRED_COLOR.1, PRED_COLOR.2
    );
    let f = grid.label_font;
    for (k, (_, truth, pred)) in grid.cells.iter().enumerate() {
        let (x, y) = grid.label_at(k);
        out.push_str(&text(x, y, f, "normal", black, truth));
        let below = y + MISTAKE_LINE_H as i32;
        out.push_str(&text(x, below, f, "bold", &pred_fill, pred));
    }
    out.push_str("</svg>\n");
    crate::output::write_if_changed(svg, out.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use fmnist_report::fixture::*;

    fn png_size(path: &Path) -> (u32, u32) {
        let b = std::fs::read(path).unwrap();
        assert_eq!(&b[1..4], b"PNG", "{} is a PNG", path.display());
        let be = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        (be(16), be(20))
    }

    #[test]
    fn colours_are_monotone_and_text_stays_legible() {
        assert_eq!(blues(0.0), RGBColor(247, 251, 255));
        assert_eq!(blues(1.0), RGBColor(8, 48, 107));
        let lum = |c: RGBColor| u32::from(c.0) + u32::from(c.1) + u32::from(c.2);
        let mut last = u32::MAX;
        for k in 0..=20 {
            let l = lum(blues(f64::from(k) / 20.0));
            assert!(l <= last);
            last = l;
        }
        assert_eq!(ink_on(blues(0.0)), BLACK);
        assert_eq!(ink_on(blues(1.0)), WHITE);
        // A 5 % confusion sits a fifth of the way up the scale, not at 5 %.
        assert!(scale_position(5.0) > 0.2);
        assert_eq!(two_lines("T-shirt/top"), ("T-shirt/".into(), "top".into()));
        assert_eq!(two_lines("Ankle boot"), ("Ankle".into(), "boot".into()));
        assert_eq!(thousands(10_000), "10,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(two_lines("Pullover"), ("Pullover".into(), String::new()));
    }

    #[test]
    fn confusion_figure_is_written_as_png_and_svg() {
        let dir = tempfile::tempdir().unwrap();
        let a = run_with("baseline", 0, &MATRIX);
        let b = run_with("baseline", 1, &worse_shirts(60));
        let stem = dir.path().join("figures/confusion-lr-0.01");
        let (m, written) = confusion_figure(&[&a, &b], &names(), "Baseline", &stem)
            .unwrap()
            .unwrap();
        assert_eq!(written, [true, true]);
        assert_eq!(m.total(), 20_000);
        assert_eq!(m.count(6, 0), 140 + 200);
        let png = dir.path().join("figures/confusion-lr-0.01.png");
        look(&png, "confusion");
        let (w, h) = png_size(&png);
        assert!(w >= 1800 && h >= 1800, "{w}x{h}");
        let svg =
            std::fs::read_to_string(dir.path().join("figures/confusion-lr-0.01.svg")).unwrap();
        assert!(
            svg.contains("T-shirt/top")
                && svg.contains("10,000 validation images, summed over seeds 0, 1")
        );
        assert!(
            svg_texts(&svg).iter().any(|t| t == "61.0"),
            "the shirts' diagonal, (640 + 580) / 2000"
        );
        // No confusion stored: nothing drawn.
        let empty = fmnist_report::fixture::simple("x", 0, &[0.5]);
        let none = dir.path().join("none");
        assert!(
            confusion_figure(&[&empty], &names(), "X", &none)
                .unwrap()
                .is_none()
        );
        assert!(!with_ext(&none, "png").exists());
    }

    #[test]
    fn confidences_never_round_a_mistake_up_to_certainty() {
        assert_eq!(confidence(0.9996), "99.9%");
        assert_eq!(confidence(0.874), "87%");
    }

    #[test]
    fn mistakes_figure_is_written_and_checks_the_data() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = run_with("baseline", 0, &MATRIX);
        a.mistakes = mistakes(30, 0);
        let val = validation();
        let stem = dir.path().join("mistakes-baseline");
        let (n, written) = mistakes_figure(&[&a], &val, &names(), "Baseline", &stem).unwrap();
        assert_eq!((n, written), (24, [true, true]));
        let again = mistakes_figure(&[&a], &val, &names(), "Baseline", &stem).unwrap();
        assert_eq!(again, (24, [false, false]), "unchanged: nothing written");
        let png = with_ext(&stem, "png");
        look(&png, "mistakes");
        let (w, h) = png_size(&png);
        assert_eq!(w, 2 * MISTAKE_MARGIN + 6 * MISTAKE_CELL_W);
        assert!(h > 4 * 28 * MISTAKE_SCALE, "{h}");
        let svg = std::fs::read_to_string(with_ext(&stem, "svg")).unwrap();
        assert!(svg.contains("true: Shirt"));
        assert!(svg.contains("pred: T-shirt/top (99.9%)"));
        assert!(svg.contains("data:image/png;base64,"));

        // A mistake whose image carries another label: other data.
        a.mistakes[0].true_class = 3;
        let err = mistakes_figure(&[&a], &val, &names(), "Baseline", &stem).unwrap_err();
        assert!(err.to_string().contains("is labelled Shirt"), "{err}");
        a.mistakes[0].index = 5000;
        let err = mistakes_figure(&[&a], &val, &names(), "Baseline", &stem).unwrap_err();
        assert!(
            err.to_string().contains("not in the validation set"),
            "{err}"
        );
        // No mistakes stored: nothing drawn.
        a.mistakes.clear();
        let none = dir.path().join("none");
        assert_eq!(
            mistakes_figure(&[&a], &val, &names(), "B", &none).unwrap(),
            (0, [false, false])
        );
        assert!(!with_ext(&none, "png").exists());
    }
}
