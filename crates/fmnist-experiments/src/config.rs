//! The resolved, fully explicit settings of an experiment.

use serde::{Deserialize, Serialize};

/// Everything that influences the numbers a run produces. Two runs with equal
/// `RunConfig`, seed, data and training code are the same run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    pub model: ModelConfig,
    pub input: InputConfig,
    pub optimizer: OptimizerConfig,
    pub batch_size: usize,
    pub epochs: usize,
    /// Train on the first `train_limit` training images only (smoke runs).
    pub train_limit: Option<usize>,
    /// Evaluate on the first `val_limit` test images only (smoke runs).
    pub val_limit: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Widths of the hidden layers, input side first: `[128, 64]` is 784-128-64-10.
    pub hidden: Vec<usize>,
    /// Dropout probability after each hidden layer (inverted scaling).
    pub dropout: f64,
    /// Weight initialisation; only PyTorch's `nn.Linear` default exists today.
    pub init: String,
}

/// `x = (pixel / 255 - mean) / std`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputConfig {
    pub mean: f64,
    pub std: f64,
}

/// Optimizers with `torch.optim` semantics; every parameter explicit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum OptimizerConfig {
    Sgd {
        lr: f64,
        momentum: f64,
        dampening: f64,
        nesterov: bool,
        weight_decay: f64,
    },
    Adam {
        lr: f64,
        betas: [f64; 2],
        eps: f64,
        weight_decay: f64,
    },
}

impl OptimizerConfig {
    pub fn lr(&self) -> f64 {
        match self {
            OptimizerConfig::Sgd { lr, .. } | OptimizerConfig::Adam { lr, .. } => *lr,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            OptimizerConfig::Sgd { .. } => "sgd",
            OptimizerConfig::Adam { .. } => "adam",
        }
    }
}

/// Where the experiment stands in the paper (`../shared/paper/README.md`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaperRef {
    pub figure: Option<String>,
    pub table: Option<String>,
    pub section: Option<String>,
    #[serde(default)]
    pub claims: Vec<String>,
}

/// How the report presents the experiment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportMeta {
    /// The hyperparameter this experiment varies ("learning rate", "dropout", ...);
    /// experiments sharing a study are drawn together beside the baseline.
    pub study: Option<String>,
    /// Set when the experiment tests another reading of a setting the paper leaves
    /// unstated; the report shows it as a hypothesis, beside the literal reading.
    pub hypothesis: Option<String>,
    /// Short legend label, e.g. "lr = 0.01".
    pub label: Option<String>,
    /// Position in tables and figures (smaller first).
    pub order: Option<i64>,
}
