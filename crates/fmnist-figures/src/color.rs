//! The report's colours and legend corners in plotters' types.

use fmnist_report::panels::{Corner, Rgb};
use plotters::prelude::{RGBColor, SeriesLabelPosition};

pub(crate) fn rgb(c: Rgb) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

pub(crate) fn corner(c: Corner) -> SeriesLabelPosition {
    match c {
        Corner::UpperLeft => SeriesLabelPosition::UpperLeft,
        Corner::UpperRight => SeriesLabelPosition::UpperRight,
        Corner::LowerLeft => SeriesLabelPosition::LowerLeft,
        Corner::LowerRight => SeriesLabelPosition::LowerRight,
    }
}
