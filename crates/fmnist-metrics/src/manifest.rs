//! What is recorded beside each run's metrics: every setting, the data, the
//! code, the machine, and how the run ended.

use fmnist_experiments::RunConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunManifest {
    pub run_id: String,
    pub experiment: String,
    /// The experiment file, relative to the repository when possible.
    pub experiment_file: String,
    pub seed: u64,
    /// The fully resolved settings the run was trained with.
    pub config: RunConfig,
    pub status: RunStatus,
    pub data: Vec<DataFile>,
    /// Class names of the data set, indexed by label.
    pub classes: Vec<String>,
    /// How to rebuild the stored network (`model.safetensors`).
    pub architecture: Architecture,
    pub started_at: String,
    pub finished_at: String,
    pub wall_seconds: f64,
    /// Wall time of each epoch, training and evaluation, in order. Timing is
    /// the only thing two runs of one seed do not share, so it lives here and
    /// not in the metrics table.
    #[serde(default)]
    pub epoch_seconds: Vec<f64>,
    pub device: String,
    pub threads: usize,
    pub training_code_version: u32,
    /// Set when the run was resumed from a checkpoint after an interruption:
    /// the last epoch completed before it. The numbers are the same as
    /// those of an uninterrupted run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumed_from_epoch: Option<usize>,
    /// Set when early stopping ended the run: a complete run with fewer
    /// epochs than its settings say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_early: Option<StoppedEarly>,
    /// The code and machine that trained it.
    #[serde(flatten)]
    pub provenance: Provenance,
}

/// Facts about the code and the machine, recorded in every run manifest and
/// in the report. The binary collects them (git, rustc, /proc); this crate
/// only stores them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    pub git_commit: Option<String>,
    pub git_dirty: Option<bool>,
    pub project_version: String,
    pub rustc_version: String,
    pub host: String,
    /// "CPU model, N cores, M GiB, os arch".
    #[serde(default)]
    pub machine: String,
}

/// The stored network: the widths of its layers, input to output, and the
/// PyTorch module whose `state_dict` the safetensors file holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Architecture {
    pub layer_sizes: Vec<usize>,
    /// Python, after `from torch import nn`, e.g. `nn.Sequential(nn.Linear(784, 128), ...)`.
    pub torch: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataFile {
    pub name: String,
    pub blake3: String,
}

/// How a stored run ended. Only finished runs are stored: an interrupted or
/// failed run leaves no result and is trained again next time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum RunStatus {
    Complete,
    /// The loss became non-finite; metrics hold the epochs before it.
    Diverged {
        epoch: usize,
        batch: usize,
    },
    /// Successive halving stopped it at this epoch, a rung of its pruned
    /// sweep: metrics and network are those of that epoch, and its
    /// checkpoint is kept so that it can be trained on (`--unprune`) to the
    /// numbers it would have had unpruned.
    Pruned {
        epoch: usize,
    },
}

/// Where and why early stopping ended a run, and which epoch's network it
/// kept (`model.safetensors`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoppedEarly {
    /// The last epoch trained (1-based); the metrics have this many epochs.
    pub epoch: usize,
    /// "no improvement" or "not finite".
    pub reason: String,
    /// The epoch whose network the run keeps.
    pub kept_epoch: usize,
}

impl std::fmt::Display for StoppedEarly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "stopped early at epoch {} ({}), keeping epoch {}",
            self.epoch, self.reason, self.kept_epoch
        )
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunStatus::Complete => f.write_str("complete"),
            RunStatus::Diverged { epoch, batch } => {
                write!(f, "diverged at epoch {epoch}, batch {batch}")
            }
            RunStatus::Pruned { epoch } => write!(f, "pruned at epoch {epoch}"),
        }
    }
}
