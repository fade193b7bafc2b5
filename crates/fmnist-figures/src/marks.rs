//! Point markers and the colour scale of the sweep figures: a finished
//! point is a circle; a point that successive halving stopped gets a shape
//! of its own per epoch reached (triangle, square, diamond, …), so that no
//! pruned point is ever drawn like a finished one.

use plotters::element::ComposedElement;
use plotters::prelude::*;

/// What a marker says about its point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Trained to the end.
    Circle,
    /// Stopped at the `k`-th pruning epoch of the figure (0 the earliest).
    Pruned(usize),
}

/// The outline of `shape` around (0, 0), `r` pixels across half: a
/// 32-gon for a circle.
fn outline(shape: Shape, r: i32) -> Vec<(i32, i32)> {
    let k = match shape {
        Shape::Circle => {
            return (0..32)
                .map(|i| {
                    let a = std::f64::consts::TAU * f64::from(i) / 32.0;
                    (
                        (f64::from(r) * a.cos()).round() as i32,
                        (f64::from(r) * a.sin()).round() as i32,
                    )
                })
                .collect();
        }
        Shape::Pruned(k) => k,
    };
    match k % 4 {
        0 => vec![(0, -r - 2), (r + 2, r - 2), (-r - 2, r - 2)],
        1 => vec![
            (-r + 1, -r + 1),
            (r - 1, -r + 1),
            (r - 1, r - 1),
            (-r + 1, r - 1),
        ],
        2 => vec![(0, -r - 3), (r + 1, 0), (0, r + 3), (-r - 1, 0)],
        _ => vec![(-r - 2, -r + 2), (r + 2, -r + 2), (0, r + 2)],
    }
}

/// A filled outline and its black edge, drawn at a point of a chart.
pub(crate) type Marker<C, DB> =
    ComposedElement<C, DB, Polygon<(i32, i32)>, PathElement<(i32, i32)>>;

/// A marker at `at` (in the chart's coordinates), `radius` pixels across
/// half, filled with `fill` and outlined in black so that a light fill
/// still shows.
pub(crate) fn marker<DB: DrawingBackend, C: Clone>(
    at: C,
    shape: Shape,
    radius: i32,
    fill: RGBColor,
) -> Marker<C, DB> {
    let pts = outline(shape, radius);
    let mut closed = pts.clone();
    closed.push(pts[0]);
    EmptyElement::at(at)
        + Polygon::new(pts, fill.filled())
        + PathElement::new(closed, BLACK.stroke_width(2))
}

/// Viridis at `t` in [0, 1] (clamped): dark blue for low, yellow for high,
/// readable in grey print and by most colour-blind readers.
pub(crate) fn viridis(t: f64) -> RGBColor {
    const STOPS: [(u8, u8, u8); 5] = [
        (68, 1, 84),
        (59, 82, 139),
        (33, 145, 140),
        (94, 201, 98),
        (253, 231, 37),
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let s = t * (STOPS.len() - 1) as f64;
    let i = (s.floor() as usize).min(STOPS.len() - 2);
    let f = s - i as f64;
    let mix = |a: u8, b: u8| (f64::from(a) + f * (f64::from(b) - f64::from(a))).round() as u8;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viridis_runs_from_dark_to_light_and_clamps() {
        let lum =
            |c: RGBColor| 0.3 * f64::from(c.0) + 0.59 * f64::from(c.1) + 0.11 * f64::from(c.2);
        let steps: Vec<f64> = (0..=10)
            .map(|k| lum(viridis(f64::from(k) / 10.0)))
            .collect();
        assert!(steps.windows(2).all(|w| w[1] > w[0]), "{steps:?}");
        assert_eq!(viridis(-1.0), viridis(0.0));
        assert_eq!(viridis(2.0), RGBColor(253, 231, 37));
        assert_eq!(viridis(f64::NAN), viridis(0.0));
    }

    #[test]
    fn pruned_shapes_differ() {
        let shapes: Vec<Vec<(i32, i32)>> = (0..4).map(|k| outline(Shape::Pruned(k), 10)).collect();
        for i in 0..4 {
            for j in 0..i {
                assert_ne!(shapes[i], shapes[j]);
            }
        }
    }
}
