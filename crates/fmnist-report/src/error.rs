//! The one error type of the report crate.

use fmnist_claims::ClaimsError;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The claims, paper or seeds file could not be read or means nothing;
    /// the message names the file, line and column.
    #[error(transparent)]
    Claims(#[from] ClaimsError),
    /// `experiments/claims/seeds.toml` could not be read; the message
    /// names the file.
    #[error(transparent)]
    Seeds(#[from] fmnist_experiments::ExperimentError),
}
