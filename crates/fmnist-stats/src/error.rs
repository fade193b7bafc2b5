//! The one error type of the statistics.

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatsError {
    #[error("{what}: need at least {need} values, got {got}")]
    TooFew {
        what: &'static str,
        need: usize,
        got: usize,
    },
    #[error("{what}: {value} is not a finite number")]
    NotFinite { what: &'static str, value: f64 },
    #[error("a level must lie strictly between 0 and 1, got {0}")]
    Level(f64),
    #[error("{what}: {value} is not a probability (it must lie in [0, 1])")]
    NotProbability { what: &'static str, value: f64 },
    #[error("{what}: {message}")]
    Invalid { what: &'static str, message: String },
    #[error("paired difference: {a} values against {b}; pairs need equal lengths")]
    Unpaired { a: usize, b: usize },
}

pub(crate) fn check_level(level: f64) -> Result<(), StatsError> {
    if level > 0.0 && level < 1.0 {
        Ok(())
    } else {
        Err(StatsError::Level(level))
    }
}

pub(crate) fn check_finite(what: &'static str, values: &[f64]) -> Result<(), StatsError> {
    match values.iter().find(|v| !v.is_finite()) {
        Some(&value) => Err(StatsError::NotFinite { what, value }),
        None => Ok(()),
    }
}
