//! Learning-rate schedules and early stopping: the schedule kinds declared
//! once, and the resolved settings of both.
//!
//! Every schedule kind is one entry of the [`kinds!`](crate::declare)
//! invocation below: its name, title, PyTorch class, and each setting with
//! its type, default, range and message. The loader's `[schedule]` keys,
//! defaults, checks and messages, the kind names ([`ScheduleKind::NAMES`],
//! [`SCHEDULE_KINDS`]), `list`'s wording and the run's JSON follow from it;
//! the rule that steps the rate lives in `fmnist-train` (`LrScheduler`),
//! behind exhaustive matches on [`ScheduleKind`]. A linear warmup
//! ([`Warmup`]) composes with every kind. The names and defaults are
//! PyTorch's (`torch.optim.lr_scheduler`) and Lightning's (`EarlyStopping`).
//!
//! Run identity: both become fields of `RunConfig`, whose serde_json is hashed
//! into the run id. Located their defaults (a constant rate, no warmup, no early
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
//! files meaning the same schedule give the same run id; a setting added to
//! an existing kind is declared with `A(default)` and stays out of the JSON
//! at that default.

use serde::{Deserialize, Serialize};

use crate::declare::{
    Fallback, KindSpec, RunFacts, SettingError, kinds, out_of_range, read, unique, words,
};
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

fn positive(x: &f64) -> bool {
    x.is_finite() && *x > 0.0
}

fn non_negative(x: &f64) -> bool {
    x.is_finite() && *x >= 0.0
}

fn at_least_one(n: &usize) -> bool {
    *n >= 1
}

/// Epochs from 1, each at least the one before (a milestone listed twice
/// multiplies by gamma squared, as PyTorch's Counter does).
#[allow(clippy::ptr_arg, reason = "a check takes its setting's type")]
fn valid_milestones(m: &Vec<usize>) -> bool {
    !m.contains(&0) && m.windows(2).all(|w| w[0] <= w[1])
}

fn any<T>(_: &T) -> bool {
    true
}

kinds! {
    /// The schedule proper, one `torch.optim.lr_scheduler` class per kind.
    pub enum ScheduleKind in "schedule", declared in SCHEDULE_KINDS;

    /// The optimizer's rate throughout (no scheduler).
    Constant = "constant", "constant", "constant"
    /// `StepLR`: multiply by `gamma` every `step_size` epochs.
    Step = "step", "StepLR", "torch.optim.lr_scheduler.StepLR" {
        step_size: usize = R("step_size = 10"), "a step size of at least 1", at_least_one;
        gamma: f64 = D(0.1), "a gamma > 0", positive;
    }
    /// `MultiStepLR`: multiply by `gamma` at each milestone (a milestone
    /// listed twice multiplies by `gamma` squared, as PyTorch's Counter does).
    Multistep = "multistep", "MultiStepLR", "torch.optim.lr_scheduler.MultiStepLR" {
        milestones: Vec<usize> = R("milestones = [10, 20]"), "epochs from 1, in increasing order", valid_milestones;
        gamma: f64 = D(0.1), "a gamma > 0", positive;
    }
    /// `ExponentialLR`: multiply by `gamma` every epoch.
    Exponential = "exponential", "ExponentialLR", "torch.optim.lr_scheduler.ExponentialLR" {
        gamma: f64 = R("gamma = 0.9"), "a gamma > 0", positive;
    }
    /// `CosineAnnealingLR(T_max, eta_min)`; an unset `t_max` is the run's
    /// epochs, written here.
    Cosine = "cosine", "CosineAnnealingLR", "torch.optim.lr_scheduler.CosineAnnealingLR" {
        t_max("T_max"): usize = Run(|run| run.epochs), "a T_max of at least 1", at_least_one;
        eta_min: f64 = D(0.0), "an eta_min >= 0", non_negative;
    }
    /// `ReduceLROnPlateau` on the validation loss.
    Plateau = "plateau", "ReduceLROnPlateau", "torch.optim.lr_scheduler.ReduceLROnPlateau" {
        mode: Mode = D(Mode::Min), "\"min\" or \"max\"", any;
        factor: f64 = D(0.1), "a factor between 0 and 1 (exclusive)", |x| *x > 0.0 && *x < 1.0;
        patience: usize = D(10), "a number of epochs >= 0", any;
        threshold: f64 = D(1e-4), "a threshold >= 0", non_negative;
        threshold_mode: ThresholdMode = D(ThresholdMode::Rel), "\"rel\" or \"abs\"", any;
        cooldown: usize = D(0), "a number of epochs >= 0", any;
        min_lr: f64 = D(0.0), "a min_lr >= 0", non_negative;
        eps: f64 = D(1e-8), "an eps >= 0", non_negative;
    }
}

/// A constant rate: what every run had before schedules existed.
impl Default for ScheduleKind {
    fn default() -> ScheduleKind {
        ScheduleKind::Constant
    }
}

/// A linear warmup (`LinearLR` with `end_factor` 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Warmup {
    pub warmup_epochs: usize,
    pub start_factor: f64,
}

/// `LinearLR`'s `start_factor` (1/3).
const WARMUP_START_FACTOR: f64 = 1.0 / 3.0;

fn start_factor(x: &f64) -> bool {
    *x > 0.0 && *x <= 1.0
}

impl Warmup {
    /// Its settings, which every kind takes beside its own.
    pub(crate) const FIELDS: [&'static str; 2] = ["warmup_epochs", "start_factor"];

    /// The warmup `get` writes: `None` without `warmup_epochs` or with 0;
    /// `start_factor` alone is missing its `warmup_epochs`.
    pub(crate) fn resolve(
        get: &dyn Fn(&str) -> Option<toml::Value>,
    ) -> Result<Option<Warmup>, SettingError> {
        let run = RunFacts { epochs: 0 };
        let expected = "a number of epochs >= 0 (0: no warmup)";
        let warmup_epochs = read(
            "warmup_epochs",
            get,
            Fallback::Default(0),
            &run,
            expected,
            any,
        )?;
        if warmup_epochs == 0 {
            return match (get("warmup_epochs"), get("start_factor")) {
                (None, Some(_)) => Err(SettingError::Missing {
                    field: "warmup_epochs",
                    example: "warmup_epochs = 2",
                }),
                (Some(_), _) | (None, None) => Ok(None),
            };
        }
        let start_factor = read(
            "start_factor",
            get,
            Fallback::Default(WARMUP_START_FACTOR),
            &run,
            "a start factor greater than 0 and at most 1",
            start_factor,
        )?;
        Ok(Some(Warmup {
            warmup_epochs,
            start_factor,
        }))
    }

    /// LinearLR's own checks, as (key, message).
    fn problem(&self) -> Option<(&'static str, String)> {
        if self.warmup_epochs == 0 {
            return Some((
                "warmup_epochs",
                "expected at least 1 (leave it out for no warmup), got 0".into(),
            ));
        }
        out_of_range(
            &self.start_factor,
            "a start factor greater than 0 and at most 1",
            start_factor,
        )
        .map(|m| ("start_factor", m))
    }
}

words! {
    /// Whether smaller or larger values of a monitored quantity are better.
    pub enum Mode {
        Min = "min",
        Max = "max",
    }

    /// `ReduceLROnPlateau`'s `threshold_mode`: whether `threshold` is
    /// relative to the best value so far or absolute.
    pub enum ThresholdMode {
        Rel = "rel",
        Abs = "abs",
    }

    /// The validation quantity early stopping watches.
    pub enum Monitor {
        ValLoss = "val_loss",
        ValAccuracy = "val_accuracy",
    }

    /// Which weights a stopped run stores.
    pub enum Keep {
        /// Those of the last epoch trained. The default: it is what
        /// Lightning's EarlyStopping and Keras' (`restore_best_weights=False`)
        /// leave, and the stored weights then agree with the last row of the
        /// run's metrics (`@last`), as for a run that was not stopped.
        Last = "last",
        /// Those of the best epoch (the last improvement of the monitor).
        Best = "best",
    }
}

/// Lightning's defaults, in one place for the loader and the tests.
pub mod defaults {
    /// Lightning's `EarlyStopping`: patience (checks without improvement).
    pub const STOPPING_PATIENCE: usize = 3;
    /// Lightning's `EarlyStopping`: min_delta.
    pub const STOPPING_MIN_DELTA: f64 = 0.0;
}

/// The declaration of schedule kind `kind`, if there is one.
pub fn schedule_kind(kind: &str) -> Option<&'static KindSpec> {
    SCHEDULE_KINDS.iter().find(|k| k.kind == kind)
}

/// Every `[schedule]` setting as a dotted name, `schedule.kind` first, the
/// warmup's last, without repeats.
pub(crate) fn schedule_keys() -> Vec<&'static str> {
    let mut keys = unique(ScheduleKind::KEYS);
    keys.extend(["schedule.warmup_epochs", "schedule.start_factor"]);
    keys
}

/// [`schedule_keys`] without the `schedule.` prefix.
pub(crate) fn schedule_fields() -> Vec<&'static str> {
    (schedule_keys().into_iter())
        .map(|k| &k["schedule.".len()..])
        .collect()
}

/// The settings `kind` takes besides `kind`: its own, then the warmup's.
/// `None` for an unknown kind.
pub(crate) fn schedule_fields_of(kind: &str) -> Option<Vec<&'static str>> {
    let spec = schedule_kind(kind)?;
    Some(spec.fields.iter().copied().chain(Warmup::FIELDS).collect())
}

/// Whether `[schedule]`'s `field` holds `value`'s type, for a sweep's
/// values; `None` when no kind has the setting.
pub(crate) fn check_schedule_type(field: &str, value: &toml::Value) -> Option<Result<(), String>> {
    use crate::declare::SettingValue;
    match field {
        "warmup_epochs" => Some(usize::from_toml(value).map(|_| ())),
        "start_factor" => Some(f64::from_toml(value).map(|_| ())),
        _ => ScheduleKind::check_type(field, value),
    }
}

impl ScheduleKind {
    /// `kind` with every setting at its default, for a run of `epochs`;
    /// `None` for an unknown kind or one with a required setting.
    pub fn with_defaults(kind: &str, epochs: usize) -> Option<ScheduleKind> {
        let run = RunFacts { epochs };
        ScheduleKind::resolve_declared(kind, &|_| None, &run)?.ok()
    }

    /// The kind `kind` with the settings `get` gives and the declared
    /// defaults for the rest, for a run of `epochs`.
    pub(crate) fn resolve(
        kind: &str,
        get: &dyn Fn(&str) -> Option<toml::Value>,
        epochs: usize,
    ) -> Option<Result<ScheduleKind, SettingError>> {
        ScheduleKind::resolve_declared(kind, get, &RunFacts { epochs })
    }

    /// `StepLR(step_size)` with PyTorch's gamma (any step size, so that
    /// tests can build one that [`ScheduleConfig::validate`] refuses).
    pub fn step(step_size: usize) -> ScheduleKind {
        let get = |f: &str| (f == "step_size").then_some(toml::Value::Integer(1));
        let Some(Ok(ScheduleKind::Step { gamma, .. })) = ScheduleKind::resolve("step", &get, 0)
        else {
            unreachable!("step is declared with a step size and a gamma")
        };
        ScheduleKind::Step { step_size, gamma }
    }

    /// `MultiStepLR(milestones)` with PyTorch's gamma.
    pub fn multistep(milestones: Vec<usize>) -> ScheduleKind {
        let one = toml::Value::Array(vec![toml::Value::Integer(1)]);
        let get = |f: &str| (f == "milestones").then(|| one.clone());
        let Some(Ok(ScheduleKind::Multistep { gamma, .. })) =
            ScheduleKind::resolve("multistep", &get, 0)
        else {
            unreachable!("multistep is declared with milestones and a gamma")
        };
        ScheduleKind::Multistep { milestones, gamma }
    }

    /// `CosineAnnealingLR` over the run's `epochs` (the resolved default
    /// `t_max`), down to PyTorch's eta_min.
    pub fn cosine(epochs: usize) -> ScheduleKind {
        ScheduleKind::with_defaults("cosine", epochs).expect("a declared kind")
    }

    /// `ReduceLROnPlateau` with all of PyTorch's defaults.
    pub fn plateau() -> ScheduleKind {
        ScheduleKind::with_defaults("plateau", 0).expect("a declared kind")
    }

    /// The PyTorch class this kind follows.
    pub fn torch(&self) -> &'static str {
        self.spec().torch
    }

    /// PyTorch's spelling, e.g. `StepLR(step_size=10, gamma=0.1)`; a kind
    /// without settings is its title alone (`constant`).
    pub fn describe(&self) -> String {
        let spec = self.spec();
        let args: Vec<String> = (spec.torch_args.iter().zip(self.settings()))
            .map(|(arg, (_, v))| format!("{arg}={v}"))
            .collect();
        if args.is_empty() {
            return spec.title.to_string();
        }
        format!("{}({})", spec.title, args.join(", "))
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

    /// The first setting outside its declared range as (key, message), for
    /// the loader to report with the key's file position and for the
    /// trainer to refuse; `None` when all is well.
    pub fn validate(&self) -> Option<(&'static str, String)> {
        (self.kind.problem()).or_else(|| self.warmup.as_ref()?.problem())
    }
}

impl Monitor {
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
    fn every_kind_serialises_as_the_tagged_enum_did() {
        // Run ids hash this JSON: byte for byte what
        // `#[serde(tag = "kind", rename_all = "lowercase")]` wrote.
        let cases = [
            (ScheduleKind::Constant, r#"{"kind":"constant"}"#),
            (
                ScheduleKind::step(10),
                r#"{"kind":"step","step_size":10,"gamma":0.1}"#,
            ),
            (
                ScheduleKind::multistep(vec![10, 20]),
                r#"{"kind":"multistep","milestones":[10,20],"gamma":0.1}"#,
            ),
            (
                ScheduleKind::Exponential { gamma: 0.9 },
                r#"{"kind":"exponential","gamma":0.9}"#,
            ),
            (
                ScheduleKind::cosine(30),
                r#"{"kind":"cosine","t_max":30,"eta_min":0.0}"#,
            ),
        ];
        for (kind, json) in cases {
            assert_eq!(serde_json::to_string(&kind).unwrap(), json);
            assert_eq!(serde_json::from_str::<ScheduleKind>(json).unwrap(), kind);
            let warm = ScheduleConfig {
                kind,
                warmup: Some(Warmup {
                    warmup_epochs: 2,
                    start_factor: 0.5,
                }),
            };
            let with = format!(
                "{},\"warmup\":{{\"warmup_epochs\":2,\"start_factor\":0.5}}}}",
                &json[..json.len() - 1]
            );
            assert_eq!(serde_json::to_string(&warm).unwrap(), with);
            assert_eq!(serde_json::from_str::<ScheduleConfig>(&with).unwrap(), warm);
        }
        let err = serde_json::from_str::<ScheduleKind>(r#"{"kind":"step","gamma":0.1}"#);
        assert!(err.unwrap_err().to_string().contains("step_size"));
    }

    #[test]
    fn the_declaration_gives_the_keys_and_each_kinds_fields() {
        let keys = schedule_keys();
        assert_eq!(keys[0], "schedule.kind");
        assert_eq!(
            keys[keys.len() - 2..],
            ["schedule.warmup_epochs", "schedule.start_factor"]
        );
        let own: Vec<&str> = (SCHEDULE_KINDS.iter())
            .flat_map(|k| k.fields.iter().copied())
            .collect();
        assert_eq!(keys.len(), 1 + unique(&own).len() + 2, "{keys:?}");
        assert_eq!(
            schedule_fields_of("cosine").unwrap(),
            ["t_max", "eta_min", "warmup_epochs", "start_factor"]
        );
        assert_eq!(schedule_fields_of("constant").unwrap(), Warmup::FIELDS);
        assert_eq!(schedule_fields_of("cosin"), None);
        for name in [
            "constant",
            "step",
            "multistep",
            "exponential",
            "cosine",
            "plateau",
        ] {
            assert!(ScheduleKind::NAMES.contains(&name), "{name}");
            assert_eq!(schedule_kind(name).unwrap().kind, name);
        }
        assert_eq!(schedule_kind("plateau").unwrap().title, "ReduceLROnPlateau");
        assert_eq!(
            ScheduleKind::with_defaults("exponential", 30),
            None,
            "gamma is required"
        );
        assert_eq!(
            check_schedule_type("milestones", &toml::Value::Integer(3)),
            Some(Err("expected a list of whole numbers >= 0, got 3".into()))
        );
        assert_eq!(check_schedule_type("nope", &toml::Value::Integer(3)), None);
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
        for (kind, name) in kinds.iter().zip([
            "constant",
            "step",
            "multistep",
            "exponential",
            "cosine",
            "plateau",
        ]) {
            let s = ScheduleConfig {
                kind: kind.clone(),
                warmup: Some(Warmup {
                    warmup_epochs: 2,
                    start_factor: WARMUP_START_FACTOR,
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
        for &name in Monitor::NAMES {
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
            test: Measures::default().with(Quantity::Loss, 2.0),
            seconds: 1.0,
        };
        assert_eq!(Monitor::ValLoss.value(&report), 0.25);
        assert_eq!(Monitor::ValAccuracy.value(&report), 0.75);
        assert_eq!(EarlyStopping::new(Monitor::ValLoss).mode, Mode::Min);
        assert_eq!(EarlyStopping::new(Monitor::ValAccuracy).mode, Mode::Max);
    }
}
