//! Resolved settings of a learning-rate schedule and of early stopping.
//!
//! These are the explicit, serialisable forms the loader resolves a
//! `[schedule]` table and `[training]`'s early-stopping keys into; the state
//! machines that follow them live in `fmnist-train` (`LrScheduler`,
//! `EarlyStopper`). The names and defaults are PyTorch's
//! (`torch.optim.lr_scheduler`) and Lightning's (`EarlyStopping`).
//!
//! Run identity: both become fields of `RunConfig`, whose serde_json is hashed
//! into the run id. At their defaults (a constant rate, no warmup, no early
//! stopping) they must serialise to nothing, so that every run stored before
//! they existed keeps its id:
//!
//! ```text
//! #[serde(default, skip_serializing_if = "ScheduleConfig::is_default")]
//! pub schedule: ScheduleConfig,
//! #[serde(default, skip_serializing_if = "Option::is_none")]
//! pub early_stopping: Option<EarlyStopping>,
//! ```
//!
//! Any other value is serialised in full, every setting explicit, so that two
//! files meaning the same schedule give the same run id.

use serde::{Deserialize, Serialize};

use crate::{EpochReport, Quantity, Split};

/// How the learning rate changes from epoch to epoch: a kind, and optionally
/// a linear warmup before it.
///
/// Serialised flat: `{"kind":"step","step_size":10,"gamma":0.1}`, plus a
/// `"warmup"` object when there is one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScheduleConfig {
    #[serde(flatten)]
    pub kind: ScheduleKind,
    /// `LinearLR(start_factor, total_iters = warmup_epochs)` for the first
    /// epochs, then `kind` from its own epoch 0, composed as
    /// `SequentialLR(milestones = [warmup_epochs])` composes them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup: Option<Warmup>,
}

/// The schedule proper, one `torch.optim.lr_scheduler` class per kind.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ScheduleKind {
    /// The optimizer's rate throughout (no scheduler).
    #[default]
    Constant,
    /// `StepLR`: multiply by `gamma` every `step_size` epochs.
    Step { step_size: usize, gamma: f64 },
    /// `MultiStepLR`: multiply by `gamma` at each milestone (a milestone
    /// listed twice multiplies by `gamma` squared, as PyTorch's Counter does).
    Multistep { milestones: Vec<usize>, gamma: f64 },
    /// `ExponentialLR`: multiply by `gamma` every epoch.
    Exponential { gamma: f64 },
    /// `CosineAnnealingLR(T_max, eta_min)`; the loader resolves an unset
    /// `t_max` to the run's epochs and writes it here.
    Cosine { t_max: usize, eta_min: f64 },
    /// `ReduceLROnPlateau` on the validation loss.
    Plateau {
        mode: Mode,
        factor: f64,
        patience: usize,
        threshold: f64,
        threshold_mode: ThresholdMode,
        cooldown: usize,
        min_lr: f64,
        eps: f64,
    },
}

/// A linear warmup (`LinearLR` with `end_factor` 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Warmup {
    pub warmup_epochs: usize,
    pub start_factor: f64,
}

/// Whether smaller or larger values of a monitored quantity are better.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Min,
    Max,
}

/// `ReduceLROnPlateau`'s `threshold_mode`: whether `threshold` is relative to
/// the best value so far or absolute.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThresholdMode {
    #[default]
    Rel,
    Abs,
}

/// PyTorch's defaults, in one place for the loader and the tests.
pub mod defaults {
    /// `StepLR`, `MultiStepLR`: gamma.
    pub const GAMMA: f64 = 0.1;
    /// `CosineAnnealingLR`: eta_min.
    pub const ETA_MIN: f64 = 0.0;
    /// `LinearLR`: start_factor (1/3).
    pub const WARMUP_START_FACTOR: f64 = 1.0 / 3.0;
    pub const PLATEAU_FACTOR: f64 = 0.1;
    pub const PLATEAU_PATIENCE: usize = 10;
    pub const PLATEAU_THRESHOLD: f64 = 1e-4;
    pub const PLATEAU_COOLDOWN: usize = 0;
    pub const PLATEAU_MIN_LR: f64 = 0.0;
    pub const PLATEAU_EPS: f64 = 1e-8;
    /// Lightning's `EarlyStopping`: patience (checks without improvement).
    pub const STOPPING_PATIENCE: usize = 3;
    /// Lightning's `EarlyStopping`: min_delta.
    pub const STOPPING_MIN_DELTA: f64 = 0.0;
}

/// Every `[schedule]` setting as a dotted name, `schedule.kind` first.
pub(crate) const SCHEDULE_KEYS: &[&str] = &[
    "schedule.kind",
    "schedule.step_size",
    "schedule.milestones",
    "schedule.gamma",
    "schedule.t_max",
    "schedule.eta_min",
    "schedule.mode",
    "schedule.factor",
    "schedule.patience",
    "schedule.threshold",
    "schedule.threshold_mode",
    "schedule.cooldown",
    "schedule.min_lr",
    "schedule.eps",
    "schedule.warmup_epochs",
    "schedule.start_factor",
];

/// [`SCHEDULE_KEYS`] without the `schedule.` prefix.
pub(crate) fn schedule_fields() -> Vec<&'static str> {
    SCHEDULE_KEYS
        .iter()
        .map(|k| &k["schedule.".len()..])
        .collect()
}

/// The settings a kind takes besides `kind`: its own, then the warmup's,
/// which compose with every kind. `None` for an unknown kind.
pub(crate) fn schedule_kind_fields(kind: &str) -> Option<Vec<&'static str>> {
    let own: &[&str] = match kind {
        "constant" => &[],
        "step" => &["step_size", "gamma"],
        "multistep" => &["milestones", "gamma"],
        "exponential" => &["gamma"],
        "cosine" => &["t_max", "eta_min"],
        "plateau" => &[
            "mode",
            "factor",
            "patience",
            "threshold",
            "threshold_mode",
            "cooldown",
            "min_lr",
            "eps",
        ],
        _ => return None,
    };
    Some(
        own.iter()
            .copied()
            .chain(["warmup_epochs", "start_factor"])
            .collect(),
    )
}

impl ScheduleKind {
    /// The kind names, as written after `kind =`.
    pub const NAMES: [&'static str; 6] = [
        "constant",
        "step",
        "multistep",
        "exponential",
        "cosine",
        "plateau",
    ];

    /// `StepLR(step_size)` with PyTorch's gamma.
    pub fn step(step_size: usize) -> ScheduleKind {
        ScheduleKind::Step {
            step_size,
            gamma: defaults::GAMMA,
        }
    }

    /// `MultiStepLR(milestones)` with PyTorch's gamma.
    pub fn multistep(milestones: Vec<usize>) -> ScheduleKind {
        ScheduleKind::Multistep {
            milestones,
            gamma: defaults::GAMMA,
        }
    }

    /// `CosineAnnealingLR` over the run's `epochs` (the resolved default
    /// `t_max`), down to eta_min 0.
    pub fn cosine(epochs: usize) -> ScheduleKind {
        ScheduleKind::Cosine {
            t_max: epochs,
            eta_min: defaults::ETA_MIN,
        }
    }

    /// `ReduceLROnPlateau` with all of PyTorch's defaults.
    pub fn plateau() -> ScheduleKind {
        ScheduleKind::Plateau {
            mode: Mode::Min,
            factor: defaults::PLATEAU_FACTOR,
            patience: defaults::PLATEAU_PATIENCE,
            threshold: defaults::PLATEAU_THRESHOLD,
            threshold_mode: ThresholdMode::Rel,
            cooldown: defaults::PLATEAU_COOLDOWN,
            min_lr: defaults::PLATEAU_MIN_LR,
            eps: defaults::PLATEAU_EPS,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            ScheduleKind::Constant => "constant",
            ScheduleKind::Step { .. } => "step",
            ScheduleKind::Multistep { .. } => "multistep",
            ScheduleKind::Exponential { .. } => "exponential",
            ScheduleKind::Cosine { .. } => "cosine",
            ScheduleKind::Plateau { .. } => "plateau",
        }
    }

    /// The PyTorch class this kind follows.
    pub fn torch(&self) -> &'static str {
        match self {
            ScheduleKind::Constant => "constant",
            ScheduleKind::Step { .. } => "torch.optim.lr_scheduler.StepLR",
            ScheduleKind::Multistep { .. } => "torch.optim.lr_scheduler.MultiStepLR",
            ScheduleKind::Exponential { .. } => "torch.optim.lr_scheduler.ExponentialLR",
            ScheduleKind::Cosine { .. } => "torch.optim.lr_scheduler.CosineAnnealingLR",
            ScheduleKind::Plateau { .. } => "torch.optim.lr_scheduler.ReduceLROnPlateau",
        }
    }

    /// Each setting of the kind and its value, in declaration order (without
    /// `kind` itself).
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        match self {
            ScheduleKind::Constant => vec![],
            ScheduleKind::Step { step_size, gamma } => {
                vec![("step_size", step_size.to_string()), ("gamma", num(*gamma))]
            }
            ScheduleKind::Multistep { milestones, gamma } => {
                vec![
                    ("milestones", format!("{milestones:?}")),
                    ("gamma", num(*gamma)),
                ]
            }
            ScheduleKind::Exponential { gamma } => vec![("gamma", num(*gamma))],
            ScheduleKind::Cosine { t_max, eta_min } => {
                vec![("t_max", t_max.to_string()), ("eta_min", num(*eta_min))]
            }
            ScheduleKind::Plateau {
                mode,
                factor,
                patience,
                threshold,
                threshold_mode,
                cooldown,
                min_lr,
                eps,
            } => vec![
                ("mode", mode.as_str().to_string()),
                ("factor", num(*factor)),
                ("patience", patience.to_string()),
                ("threshold", num(*threshold)),
                ("threshold_mode", threshold_mode.as_str().to_string()),
                ("cooldown", cooldown.to_string()),
                ("min_lr", num(*min_lr)),
                ("eps", num(*eps)),
            ],
        }
    }

    /// PyTorch's spelling, e.g. `StepLR(step_size=10, gamma=0.1)`.
    pub fn describe(&self) -> String {
        if let ScheduleKind::Constant = self {
            return "constant".to_string();
        }
        let class = self.torch().rsplit('.').next().unwrap_or_default();
        let args: Vec<String> = self
            .settings()
            .into_iter()
            .map(|(k, v)| format!("{}={v}", if k == "t_max" { "T_max" } else { k }))
            .collect();
        format!("{class}({})", args.join(", "))
    }

    /// The first setting that PyTorch would refuse or that makes no sense
    /// for a rate (a factor of zero, a step size of zero), as (key, message).
    fn problem(&self) -> Option<(&'static str, String)> {
        let positive = |key, v: f64| {
            (!(v > 0.0 && v.is_finite()))
                .then(|| (key, format!("must be a positive number, got {v}")))
        };
        let non_negative = |key, v: f64| {
            (!(v >= 0.0 && v.is_finite())).then(|| (key, format!("must be zero or more, got {v}")))
        };
        match self {
            ScheduleKind::Constant => None,
            ScheduleKind::Step { step_size, gamma } => (*step_size == 0)
                .then(|| ("step_size", "must be at least 1".to_string()))
                .or_else(|| positive("gamma", *gamma)),
            ScheduleKind::Multistep { milestones, gamma } => {
                let unsorted = milestones.windows(2).any(|w| w[0] > w[1]);
                (milestones.contains(&0) || unsorted)
                    .then(|| {
                        (
                            "milestones",
                            format!(
                                "must be epochs from 1, in increasing order, got {milestones:?}"
                            ),
                        )
                    })
                    .or_else(|| positive("gamma", *gamma))
            }
            ScheduleKind::Exponential { gamma } => positive("gamma", *gamma),
            ScheduleKind::Cosine { t_max, eta_min } => (*t_max == 0)
                .then(|| ("t_max", "must be at least 1".to_string()))
                .or_else(|| non_negative("eta_min", *eta_min)),
            ScheduleKind::Plateau {
                factor,
                threshold,
                min_lr,
                eps,
                ..
            } => (!(*factor > 0.0 && *factor < 1.0))
                .then(|| {
                    (
                        "factor",
                        format!("must be between 0 and 1 (exclusive), got {factor}"),
                    )
                })
                .or_else(|| non_negative("threshold", *threshold))
                .or_else(|| non_negative("min_lr", *min_lr))
                .or_else(|| non_negative("eps", *eps)),
        }
    }
}

impl ScheduleConfig {
    /// A constant rate without warmup: what every run had before schedules
    /// existed, and what `RunConfig` leaves out of its JSON.
    pub fn is_default(&self) -> bool {
        *self == ScheduleConfig::default()
    }

    /// For `list` and the manifest, e.g. `LinearLR(start_factor=0.1,
    /// total_iters=2) for 2 epochs, then CosineAnnealingLR(T_max=30, eta_min=0)`.
    pub fn describe(&self) -> String {
        match &self.warmup {
            None => self.kind.describe(),
            Some(w) => format!(
                "LinearLR(start_factor={}, total_iters={n}) for {n} epoch{s}, then {}",
                num(w.start_factor),
                self.kind.describe(),
                n = w.warmup_epochs,
                s = if w.warmup_epochs == 1 { "" } else { "s" },
            ),
        }
    }

    /// Every setting as (key, value), `kind` first, the warmup's keys last
    /// (present only when there is a warmup).
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![("kind", self.kind.name().to_string())];
        out.extend(self.kind.settings());
        if let Some(w) = &self.warmup {
            out.push(("warmup_epochs", w.warmup_epochs.to_string()));
            out.push(("start_factor", num(w.start_factor)));
        }
        out
    }

    /// The first invalid setting as (key, message), for the loader to report
    /// with the key's file position; `None` when all is well.
    pub fn validate(&self) -> Option<(&'static str, String)> {
        self.kind.problem().or_else(|| {
            let w = self.warmup.as_ref()?;
            if w.warmup_epochs == 0 {
                return Some((
                    "warmup_epochs",
                    "must be at least 1 (leave it out for no warmup)".into(),
                ));
            }
            // LinearLR's own check.
            (!(w.start_factor > 0.0 && w.start_factor <= 1.0)).then(|| {
                (
                    "start_factor",
                    format!(
                        "must be greater than 0 and at most 1, got {}",
                        w.start_factor
                    ),
                )
            })
        })
    }
}

/// The validation quantity early stopping watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Monitor {
    ValLoss,
    ValAccuracy,
}

impl Monitor {
    pub const NAMES: [&'static str; 2] = ["val_loss", "val_accuracy"];

    pub fn as_str(self) -> &'static str {
        match self {
            Monitor::ValLoss => "val_loss",
            Monitor::ValAccuracy => "val_accuracy",
        }
    }

    pub fn parse(name: &str) -> Option<Monitor> {
        match name {
            "val_loss" => Some(Monitor::ValLoss),
            "val_accuracy" => Some(Monitor::ValAccuracy),
            _ => None,
        }
    }

    /// The quantity watched, on the validation split.
    pub fn quantity(self) -> Quantity {
        match self {
            Monitor::ValLoss => Quantity::Loss,
            Monitor::ValAccuracy => Quantity::Accuracy,
        }
    }

    /// The watched value of an epoch (NaN when the report lacks it, which
    /// stops the run as a non-finite value would).
    pub fn value(self, report: &EpochReport) -> f64 {
        report.split(Split::Val)[self.quantity()]
    }

    /// Lower loss, higher accuracy.
    pub fn default_mode(self) -> Mode {
        match self {
            Monitor::ValLoss => Mode::Min,
            Monitor::ValAccuracy => Mode::Max,
        }
    }
}

/// Which weights a stopped run stores.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Keep {
    /// Those of the last epoch trained. The default: it is what Lightning's
    /// EarlyStopping and Keras' (`restore_best_weights=False`) leave, and the
    /// stored weights then agree with the last row of the run's metrics
    /// (`@last`), as for a run that was not stopped.
    #[default]
    Last,
    /// Those of the best epoch (the last improvement of the monitor).
    Best,
}

/// Lightning's `EarlyStopping`, checked after each epoch's validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EarlyStopping {
    pub monitor: Monitor,
    /// Checks in a row without improvement after which training stops.
    pub patience: usize,
    /// An improvement must beat the best value by more than this (zero or more).
    pub min_delta: f64,
    pub mode: Mode,
    pub keep: Keep,
}

impl EarlyStopping {
    /// Lightning's defaults for this monitor: patience 3, min_delta 0, mode
    /// min for a loss and max for an accuracy; the last epoch's weights kept.
    pub fn new(monitor: Monitor) -> EarlyStopping {
        EarlyStopping {
            monitor,
            patience: defaults::STOPPING_PATIENCE,
            min_delta: defaults::STOPPING_MIN_DELTA,
            mode: monitor.default_mode(),
            keep: Keep::Last,
        }
    }

    /// For `list` and the manifest.
    pub fn describe(&self) -> String {
        format!(
            "stop after {} epoch{} without {} improving by more than {} ({}); keep the {} epoch's weights",
            self.patience,
            if self.patience == 1 { "" } else { "s" },
            self.monitor.as_str(),
            num(self.min_delta),
            self.mode.as_str(),
            self.keep.as_str(),
        )
    }

    /// Every setting as (key, value), in declaration order.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("monitor", self.monitor.as_str().to_string()),
            ("patience", self.patience.to_string()),
            ("min_delta", num(self.min_delta)),
            ("mode", self.mode.as_str().to_string()),
            ("keep", self.keep.as_str().to_string()),
        ]
    }

    /// The first invalid setting as (key, message).
    pub fn validate(&self) -> Option<(&'static str, String)> {
        // A negative min_delta would make Lightning's sign flip count a
        // worsening as an improvement; refuse it rather than guess.
        (!(self.min_delta >= 0.0 && self.min_delta.is_finite())).then(|| {
            (
                "min_delta",
                format!("must be zero or more, got {}", self.min_delta),
            )
        })
    }
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Min => "min",
            Mode::Max => "max",
        }
    }
}

impl ThresholdMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ThresholdMode::Rel => "rel",
            ThresholdMode::Abs => "abs",
        }
    }
}

impl Keep {
    pub fn as_str(self) -> &'static str {
        match self {
            Keep::Last => "last",
            Keep::Best => "best",
        }
    }
}

/// Numbers as the other settings show them (`0.003`, `1e-8`).
fn num(v: f64) -> String {
    crate::show_number(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Measures;

    /// Stands for `RunConfig` with the new fields as it will declare them.
    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Holder {
        lr: f64,
        #[serde(default, skip_serializing_if = "ScheduleConfig::is_default")]
        schedule: ScheduleConfig,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        early_stopping: Option<EarlyStopping>,
    }

    #[test]
    fn defaults_serialise_to_nothing_and_read_back() {
        let h = Holder {
            lr: 0.001,
            schedule: ScheduleConfig::default(),
            early_stopping: None,
        };
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(json, r#"{"lr":0.001}"#);
        assert_eq!(serde_json::from_str::<Holder>(&json).unwrap(), h);
    }

    #[test]
    fn a_warmup_alone_is_not_the_default() {
        let schedule = ScheduleConfig {
            kind: ScheduleKind::Constant,
            warmup: Some(Warmup {
                warmup_epochs: 2,
                start_factor: 0.1,
            }),
        };
        assert!(!schedule.is_default());
        let h = Holder {
            lr: 0.1,
            schedule,
            early_stopping: None,
        };
        assert_eq!(
            serde_json::to_string(&h).unwrap(),
            r#"{"lr":0.1,"schedule":{"kind":"constant","warmup":{"warmup_epochs":2,"start_factor":0.1}}}"#
        );
    }

    #[test]
    fn every_setting_is_explicit_in_the_json() {
        let h = Holder {
            lr: 0.1,
            schedule: ScheduleConfig {
                kind: ScheduleKind::plateau(),
                warmup: None,
            },
            early_stopping: Some(EarlyStopping::new(Monitor::ValAccuracy)),
        };
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(
            json,
            concat!(
                r#"{"lr":0.1,"schedule":{"kind":"plateau","mode":"min","factor":0.1,"patience":10,"#,
                r#""threshold":0.0001,"threshold_mode":"rel","cooldown":0,"min_lr":0.0,"eps":1e-8},"#,
                r#""early_stopping":{"monitor":"val_accuracy","patience":3,"min_delta":0.0,"mode":"max","keep":"last"}}"#
            )
        );
        assert_eq!(serde_json::from_str::<Holder>(&json).unwrap(), h);
    }

    #[test]
    fn every_kind_round_trips_and_names_itself() {
        let kinds = [
            ScheduleKind::Constant,
            ScheduleKind::step(10),
            ScheduleKind::multistep(vec![10, 20]),
            ScheduleKind::Exponential { gamma: 0.9 },
            ScheduleKind::cosine(30),
            ScheduleKind::plateau(),
        ];
        assert_eq!(
            kinds[1],
            ScheduleKind::Step {
                step_size: 10,
                gamma: 0.1
            }
        );
        assert_eq!(
            kinds[4],
            ScheduleKind::Cosine {
                t_max: 30,
                eta_min: 0.0
            }
        );
        for (kind, name) in kinds.iter().zip(ScheduleKind::NAMES) {
            let s = ScheduleConfig {
                kind: kind.clone(),
                warmup: Some(Warmup {
                    warmup_epochs: 2,
                    start_factor: defaults::WARMUP_START_FACTOR,
                }),
            };
            let json = serde_json::to_value(&s).unwrap();
            assert_eq!(json["kind"], name);
            assert_eq!(serde_json::from_value::<ScheduleConfig>(json).unwrap(), s);
            assert_eq!(kind.name(), name);
            assert_eq!(s.validate(), None, "{name}");
        }
    }

    #[test]
    fn describes_in_pytorch_terms() {
        let cosine = ScheduleConfig {
            kind: ScheduleKind::Cosine {
                t_max: 30,
                eta_min: 0.0,
            },
            warmup: Some(Warmup {
                warmup_epochs: 2,
                start_factor: 0.1,
            }),
        };
        assert_eq!(
            cosine.describe(),
            "LinearLR(start_factor=0.1, total_iters=2) for 2 epochs, then CosineAnnealingLR(T_max=30, eta_min=0)"
        );
        assert_eq!(ScheduleConfig::default().describe(), "constant");
        assert_eq!(
            ScheduleKind::plateau().describe(),
            "ReduceLROnPlateau(mode=min, factor=0.1, patience=10, threshold=0.0001, threshold_mode=rel, cooldown=0, min_lr=0, eps=1e-8)"
        );
        assert_eq!(
            EarlyStopping::new(Monitor::ValLoss).describe(),
            "stop after 3 epochs without val_loss improving by more than 0 (min); keep the last epoch's weights"
        );
        let keys: Vec<_> = cosine.settings().into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            ["kind", "t_max", "eta_min", "warmup_epochs", "start_factor"]
        );
    }

    #[test]
    fn names_the_invalid_key() {
        let bad = |kind| {
            ScheduleConfig { kind, warmup: None }
                .validate()
                .map(|(k, _)| k)
        };
        assert_eq!(
            bad(ScheduleKind::Step {
                step_size: 0,
                gamma: 0.1
            }),
            Some("step_size")
        );
        assert_eq!(
            bad(ScheduleKind::Step {
                step_size: 3,
                gamma: 0.0
            }),
            Some("gamma")
        );
        assert_eq!(
            bad(ScheduleKind::Multistep {
                milestones: vec![20, 10],
                gamma: 0.1
            }),
            Some("milestones")
        );
        assert_eq!(
            bad(ScheduleKind::Cosine {
                t_max: 0,
                eta_min: 0.0
            }),
            Some("t_max")
        );
        assert_eq!(
            bad(ScheduleKind::Exponential { gamma: f64::NAN }),
            Some("gamma")
        );
        let mut plateau = ScheduleKind::plateau();
        if let ScheduleKind::Plateau { factor, .. } = &mut plateau {
            *factor = 1.0;
        }
        assert_eq!(bad(plateau), Some("factor"));
        let warm = |warmup_epochs, start_factor| {
            ScheduleConfig {
                kind: ScheduleKind::Constant,
                warmup: Some(Warmup {
                    warmup_epochs,
                    start_factor,
                }),
            }
            .validate()
            .map(|(k, _)| k)
        };
        assert_eq!(warm(0, 0.5), Some("warmup_epochs"));
        assert_eq!(warm(2, 0.0), Some("start_factor"));
        assert_eq!(warm(2, 1.5), Some("start_factor"));
        assert_eq!(warm(2, 1.0), None);
        let mut stop = EarlyStopping::new(Monitor::ValLoss);
        stop.min_delta = -0.1;
        assert_eq!(stop.validate().map(|(k, _)| k), Some("min_delta"));
    }

    #[test]
    fn monitors_parse_and_pick_their_mode() {
        for name in Monitor::NAMES {
            let m = Monitor::parse(name).unwrap();
            assert_eq!(m.as_str(), name);
            assert_eq!(serde_json::to_value(m).unwrap(), name);
        }
        assert_eq!(Monitor::parse("loss"), None);
        let report = EpochReport {
            epoch: 1,
            train: Measures::default().with(Quantity::Loss, 0.5),
            val: Measures::default()
                .with(Quantity::Loss, 0.25)
                .with(Quantity::Accuracy, 0.75),
            seconds: 1.0,
        };
        assert_eq!(Monitor::ValLoss.value(&report), 0.25);
        assert_eq!(Monitor::ValAccuracy.value(&report), 0.75);
        assert_eq!(EarlyStopping::new(Monitor::ValLoss).mode, Mode::Min);
        assert_eq!(EarlyStopping::new(Monitor::ValAccuracy).mode, Mode::Max);
    }
}
