//! The one error type of the training crate.

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("candle: {0}")]
    Candle(#[from] candle_core::Error),
    #[error("device `{0}` is not understood: expected `cpu`, `cuda` or `cuda:N` (N = GPU ordinal)")]
    BadDevice(String),
    #[error(
        "CUDA was requested (`{0}`) but this build has no CUDA support: rebuild with `--features cuda` (`cargo xtask --cuda ...`; needs the CUDA toolkit), or use `--device cpu`"
    )]
    CudaNotCompiled(String),
    #[error("cannot open CUDA device `{spec}`: {message}")]
    CudaUnavailable { spec: String, message: String },
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A weights or checkpoint file that cannot be read: the message names
    /// the file kind and the tensor or metadata key.
    #[error("{0}")]
    File(String),
    #[error("the checkpoint belongs to another run: {0}")]
    CheckpointMismatch(String),
    /// The run's validation split cannot be carved from the data.
    #[error("{0}")]
    Data(#[from] fmnist_data::DataError),
}
