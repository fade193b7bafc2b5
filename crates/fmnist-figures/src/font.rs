//! The fonts every figure uses, compiled into the binary.
//!
//! Plotters' `ab_glyph` text backend knows no system fonts: a family must be
//! registered before the first text is laid out. Shipping DejaVu Sans makes
//! the figures identical on every machine, including containers that have
//! no fonts installed at all.

use std::sync::OnceLock;

use plotters::style::{FontStyle, register_font};

use crate::error::FiguresError;

/// The family name every text style in this crate uses.
pub(crate) const FAMILY: &str = "sans-serif";

/// The family named in hand-written SVG, where the viewer picks the font.
pub(crate) const SVG_FAMILY: &str = "DejaVu Sans, Verdana, Arial, sans-serif";

static REGULAR: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");

/// Registers the shipped fonts once per process; later calls are free.
pub(crate) fn ensure_fonts() -> Result<(), FiguresError> {
    static DONE: OnceLock<Result<(), &'static str>> = OnceLock::new();
    let result = DONE.get_or_init(|| {
        register_font(FAMILY, FontStyle::Normal, REGULAR).map_err(|_| "DejaVuSans.ttf")?;
        register_font(FAMILY, FontStyle::Bold, BOLD).map_err(|_| "DejaVuSans-Bold.ttf")?;
        Ok(())
    });
    result.map_err(|name| FiguresError::Font { name })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_fonts_register_and_lay_out_text() {
        ensure_fonts().unwrap();
        ensure_fonts().unwrap();
        let font = plotters::style::FontDesc::new(
            plotters::style::FontFamily::Name(FAMILY),
            40.0,
            FontStyle::Bold,
        );
        let ((x0, _), (x1, _)) = font.layout_box("Validation accuracy").unwrap();
        assert!(x1 - x0 > 100, "text has a width");
    }
}
