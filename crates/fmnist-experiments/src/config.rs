//! The resolved, fully explicit settings of an experiment.

use serde::{Deserialize, Serialize};

use crate::format::show_number;
use crate::optimizer::OptimizerConfig;
use crate::schedule::{EarlyStopping, ScheduleConfig};
use crate::validation::ValidationSplit;

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
    /// How the learning rate changes between epochs. Left out of the JSON
    /// (and so of the run id) when constant, as every run stored before
    /// schedules existed was.
    #[serde(default, skip_serializing_if = "ScheduleConfig::is_default")]
    pub schedule: ScheduleConfig,
    /// Stop when a validation quantity stops improving; left out of the JSON
    /// when absent, as for every run stored before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_stopping: Option<EarlyStopping>,
    /// Training images held out to validate on (`[training] validation`):
    /// with it, a run trains on the rest, validates (and decides) on the
    /// images held out and measures the official test set apart; without
    /// it, as the paper, the official test set is the validation set. Left
    /// out of the JSON when absent, as for every run stored before it
    /// existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<ValidationSplit>,
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

/// The inputs of the network: one per pixel of a 28 x 28 Fashion-MNIST image.
pub const INPUT_FEATURES: usize = 28 * 28;

/// The outputs of the network: one per class.
pub const CLASSES: usize = 10;

impl ModelConfig {
    /// The hidden widths as every output spells them: `128x64` (as a sweep
    /// point's name does), in the settings, the metrics table, the run
    /// index, MLflow's params and the report.
    pub fn hidden_spelling(&self) -> String {
        let widths: Vec<String> = self.hidden.iter().map(usize::to_string).collect();
        widths.join("x")
    }

    /// The width of every layer, input first: `[784, 128, 64, 10]` for
    /// hidden `[128, 64]` ([`INPUT_FEATURES`], the hidden widths,
    /// [`CLASSES`]). What a cost estimate counts and what the trainer
    /// builds on Fashion-MNIST.
    pub fn layer_sizes(&self) -> Vec<usize> {
        self.layer_sizes_for(INPUT_FEATURES)
    }

    /// [`ModelConfig::layer_sizes`] for images of `inputs` pixels (another
    /// MNIST-format data set's rows x columns).
    pub fn layer_sizes_for(&self, inputs: usize) -> Vec<usize> {
        let mut sizes = Vec::with_capacity(self.hidden.len() + 2);
        sizes.push(inputs);
        sizes.extend(&self.hidden);
        sizes.push(CLASSES);
        sizes
    }
}

impl RunConfig {
    /// The paper's Table I configuration, as `experiments/baseline.toml`
    /// resolves it (a test checks that they agree, on the frozen copy in
    /// `testdata/shipped/`): 784-128-64-10, dropout
    /// 0.2, inputs normalised with 0.5/0.5, plain SGD at lr 0.001, batches of
    /// 100, 30 epochs. The one starting point of every test that needs a
    /// configuration.
    pub fn table_one() -> RunConfig {
        RunConfig {
            model: ModelConfig {
                hidden: vec![128, 64],
                dropout: 0.2,
                init: "pytorch-linear".into(),
            },
            input: InputConfig {
                mean: 0.5,
                std: 0.5,
            },
            optimizer: OptimizerConfig::Sgd {
                lr: 0.001,
                momentum: 0.0,
                dampening: 0.0,
                nesterov: false,
                weight_decay: 0.0,
            },
            batch_size: 100,
            epochs: 30,
            train_limit: None,
            val_limit: None,
            schedule: ScheduleConfig::default(),
            early_stopping: None,
            validation: None,
        }
    }

    /// Every resolved setting as (dotted key, value), in the order of the
    /// file format: what `list` shows, the diff compares and a reader of
    /// the manifest can trust to be complete.
    pub fn settings(&self) -> Vec<(String, String)> {
        let mut out = vec![
            ("model.hidden".to_string(), self.model.hidden_spelling()),
            ("model.dropout".to_string(), show_number(self.model.dropout)),
            ("model.init".to_string(), self.model.init.clone()),
            ("input.mean".to_string(), show_number(self.input.mean)),
            ("input.std".to_string(), show_number(self.input.std)),
            (
                "optimizer.kind".to_string(),
                self.optimizer.name().to_string(),
            ),
        ];
        for (key, value) in self.optimizer.settings() {
            out.push((format!("optimizer.{key}"), value));
        }
        out.push(("training.batch_size".into(), self.batch_size.to_string()));
        out.push(("training.epochs".into(), self.epochs.to_string()));
        if let Some(n) = self.train_limit {
            out.push(("training.train_limit".into(), n.to_string()));
        }
        if let Some(n) = self.val_limit {
            out.push(("training.val_limit".into(), n.to_string()));
        }
        for (key, value) in self.validation.iter().flat_map(ValidationSplit::settings) {
            out.push((format!("training.{key}"), value));
        }
        if let Some(es) = &self.early_stopping {
            for (key, value) in es.settings() {
                out.push((format!("training.early_stopping.{key}"), value));
            }
        }
        for (key, value) in self.schedule.settings() {
            out.push((format!("schedule.{key}"), value));
        }
        out
    }
}

/// `x = (pixel / 255 - mean) / std`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputConfig {
    pub mean: f64,
    pub std: f64,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_sizes_run_from_the_pixels_through_the_hidden_widths_to_the_classes() {
        let model = RunConfig::table_one().model;
        assert_eq!(model.layer_sizes(), [784, 128, 64, 10]);
        let wide = ModelConfig {
            hidden: vec![256],
            ..model
        };
        assert_eq!(wide.layer_sizes(), [784, 256, 10]);
        assert_eq!(wide.layer_sizes_for(32 * 32), [1024, 256, 10]);
    }
}
