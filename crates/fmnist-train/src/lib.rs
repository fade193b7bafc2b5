//! The paper's feed-forward network and its training loop, on candle.
//!
//! Forward and backward passes are written out by hand (a multilayer
//! perceptron's gradients are short) so that every operation, and every random
//! draw, is the project's own: initialisation, shuffling and dropout masks all
//! come from seeded ChaCha8 streams, never from candle's unseeded generators.
//! The numerics follow PyTorch's defaults (`nn.Linear`, `nn.Dropout`,
//! `nn.CrossEntropyLoss`, `torch.optim.SGD`/`Adam`).
//!
//! This crate trains and reports; it writes no file and draws no figure: the
//! network (`Mlp::to_safetensors`, loadable by PyTorch) and checkpoints
//! (`Checkpoint::to_bytes`) are returned as bytes for the caller to store.

mod batch;
mod bench;
mod chacha;
mod checkpoint;
mod device;
mod engine;
mod error;
mod evaluate;
mod host;
mod model;
mod optim;
mod rng;
mod schedule;
mod sets;
mod simd;
mod stopping;
mod tensor_file;
mod train;
mod weights;

pub use bench::matmul_gflops;
pub use checkpoint::Checkpoint;
pub use device::{DeviceSpec, describe_device};
pub use error::TrainError;
pub use evaluate::{ClassEvaluation, Misclassified, evaluate_classes, evaluate_run};
pub use model::Mlp;
pub use optim::Optimizer;
pub use rng::{Streams, seeded};
pub use schedule::{LrScheduler, PlateauState, SchedulerState};
pub use sets::{RunSets, validation_set};
pub use simd::describe_level as vector_instructions;
pub use stopping::{EarlyStopper, StopDecision, StopReason, StopperState};
pub use train::{
    EpochProfile, EpochReport, Event, Outcome, RunResult, TrainOptions, train, train_profiled,
    train_with,
};
pub use weights::torch_architecture;

/// Bump when a change alters the numbers training produces: it is part of
/// every run id, so stored results of older code are not reused.
pub const TRAINING_CODE_VERSION: u32 = 1;
