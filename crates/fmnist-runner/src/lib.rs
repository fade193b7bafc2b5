//! Running a plan of runs: the local pool of workers (locks, resume from
//! checkpoints, the stop flag), turning a finished training into one stored
//! record, synchronous successive halving for pruned sweeps over any
//! executor, the Slurm executor, and what a plan will cost. The binary
//! keeps the command line and the progress bars; it reaches the runner
//! through [`execute`] (the local executor), [`slurm::execute`] (one Slurm
//! job array), [`search::execute`] (which takes either: TPE sweeps round
//! by round, then [`halving::execute`]) and the [`Observer`] it draws.
//!
//! Nothing here draws or writes the report, and nothing here depends on a
//! crate that does.
//!
//! - `job`: [`Job`] (one run of the plan, possibly only to a rung) and
//!   [`pending`] (what the store leaves to train);
//! - `pool`: [`Context`], [`execute`], [`Tally`];
//! - `record`: the one conversion from a training result to a stored record;
//! - `halving`: successive halving, rung by rung, and the pruned runs' storage;
//! - `slurm`: the Slurm executor (a frozen [`slurm::Plan`], its batch
//!   script, `sbatch` and `squeue`), each task run on the local pool;
//! - `search`: the round loop of `mode = "tpe"` sweeps;
//! - `estimate`: the cost of a plan from the speed of the stored runs;
//! - `observe`: [`Observer`], what the binary draws.

mod error;
pub mod estimate;
pub mod halving;
mod job;
mod observe;
mod pool;
mod record;
pub mod search;
pub mod slurm;

pub use error::RunnerError;
pub use estimate::flops_per_epoch;
pub use job::{Job, Pending, checkpoint_epochs, pending, runs, stored_runs, unique_runs};
pub use observe::{Lines, Observer, RunObserver};
pub use pool::{Context, Tally, execute};
