//! The learning-rate schedule as a state machine, stepped once per epoch, with
//! `torch.optim.lr_scheduler`'s semantics and its float64 arithmetic.
//!
//! PyTorch's schedulers compute each rate from the previous one (their
//! "chainable" `get_lr`), not from a closed form, and the two differ in the
//! last bits; this module follows the recursive forms operation for operation
//! (same order of operations, libm's `cos` and `pow` as Python's `math`), so
//! the rates equal PyTorch's bit for bit. `testdata/schedules.json`, made by
//! `testdata/make_schedules.py` with real PyTorch schedulers, is the check.
//!
//! A warmup is `SequentialLR([LinearLR(start_factor, total_iters=w), main],
//! milestones=[w])`: steps 1..w-1 are LinearLR's, step w starts the main
//! schedule at its epoch 0 (SequentialLR calls its closed form there), and
//! step w + e is the main schedule's step e. PyTorch's SequentialLR refuses
//! ReduceLROnPlateau; here it composes the same way: at the milestone the rate
//! returns to the base rate and the plateau rule sees the metrics from the
//! next step on. A constant kind after a warmup is `ConstantLR(factor=1)`.
//!
//! The state (`SchedulerState`) is everything the next rate depends on, with
//! floats stored as their bits, so a run resumed from a checkpoint gets the
//! same rates as one that was never interrupted.

use std::f64::consts::PI;

use fmnist_experiments::{Mode, ScheduleConfig, ScheduleKind, ThresholdMode, Warmup};
use serde::{Deserialize, Serialize};

use crate::error::TrainError;

/// The rate of each epoch of one run.
#[derive(Debug, Clone)]
pub struct LrScheduler {
    config: ScheduleConfig,
    base_lr: f64,
    epochs: usize,
    state: SchedulerState,
}

/// What a checkpoint stores of the schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchedulerState {
    /// Steps taken, that is epochs completed.
    pub steps: usize,
    /// The rate of the coming epoch.
    #[serde(with = "bits")]
    pub lr: f64,
    /// ReduceLROnPlateau's counters; present exactly for the plateau kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plateau: Option<PlateauState>,
}

/// ReduceLROnPlateau's `best`, `num_bad_epochs` and `cooldown_counter`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlateauState {
    /// `None` before the first metric (PyTorch's `mode_worse`, an infinity,
    /// which JSON cannot hold).
    #[serde(with = "bits::option")]
    pub best: Option<f64>,
    pub num_bad_epochs: usize,
    pub cooldown_counter: usize,
}

impl LrScheduler {
    /// The schedule of a run whose optimizer has rate `base_lr`, for `epochs`
    /// epochs; refuses settings PyTorch would refuse.
    pub fn new(config: &ScheduleConfig, base_lr: f64, epochs: usize) -> Result<Self, TrainError> {
        if let Some((key, message)) = config.validate() {
            return Err(TrainError::Config(format!("schedule.{key} {message}")));
        }
        // Every scheduler starts from the optimizer's rate; LinearLR's
        // construction multiplies it by start_factor at once.
        let lr = match &config.warmup {
            Some(w) => base_lr * w.start_factor,
            None => base_lr,
        };
        let plateau = matches!(config.kind, ScheduleKind::Plateau { .. }).then_some(PlateauState {
            best: None,
            num_bad_epochs: 0,
            cooldown_counter: 0,
        });
        Ok(LrScheduler {
            config: config.clone(),
            base_lr,
            epochs,
            state: SchedulerState {
                steps: 0,
                lr,
                plateau,
            },
        })
    }

    /// The rate for the coming epoch: epoch k (from 1) trains with the rate
    /// after k - 1 steps.
    pub fn lr(&self) -> f64 {
        self.state.lr
    }

    /// After each epoch, with that epoch's validation loss (read only by the
    /// plateau kind; pass anything, NaN included, to the others).
    pub fn step(&mut self, metric: f64) {
        self.state.steps += 1;
        let k = self.state.steps;
        let lr = self.state.lr;
        self.state.lr = match self.config.warmup.clone() {
            Some(w) if k < w.warmup_epochs => linear_step(lr, &w, k),
            Some(w) if k == w.warmup_epochs => self.main_start(),
            Some(w) => self.main_step(lr, k - w.warmup_epochs, metric),
            None => self.main_step(lr, k, metric),
        };
    }

    pub fn state(&self) -> SchedulerState {
        self.state.clone()
    }

    /// Continue from a checkpoint's state; refuses a state that cannot be this
    /// schedule's (a plateau state for another kind, more steps than epochs).
    pub fn restore(&mut self, state: SchedulerState) -> Result<(), TrainError> {
        let is_plateau = matches!(self.config.kind, ScheduleKind::Plateau { .. });
        if state.plateau.is_some() != is_plateau {
            return Err(TrainError::CheckpointMismatch(format!(
                "its learning-rate schedule state is not one of a `{}` schedule",
                self.config.kind.name()
            )));
        }
        if state.steps > self.epochs || !(state.lr.is_finite() && state.lr >= 0.0) {
            return Err(TrainError::CheckpointMismatch(format!(
                "its learning-rate schedule is at step {} with rate {}, for a run of {} epochs",
                state.steps, state.lr, self.epochs
            )));
        }
        self.state = state;
        Ok(())
    }

    /// The main schedule's epoch 0 after a warmup: SequentialLR's call of its
    /// closed form with epoch 0 (`base * gamma ** 0` and so on: the base rate
    /// up to PyTorch's own rounding, which this repeats).
    fn main_start(&self) -> f64 {
        let base = self.base_lr;
        match &self.config.kind {
            ScheduleKind::Constant | ScheduleKind::Plateau { .. } => base,
            ScheduleKind::Step { gamma, .. } | ScheduleKind::Exponential { gamma } => {
                base * gamma.powf(0.0)
            }
            ScheduleKind::Multistep { milestones, gamma } => {
                // bisect_right(sorted milestones, 0)
                let passed = milestones.iter().filter(|&&m| m == 0).count();
                base * gamma.powf(passed as f64)
            }
            ScheduleKind::Cosine { t_max, eta_min } => {
                eta_min + (base - eta_min) * (1.0 + (PI * 0.0 / *t_max as f64).cos()) / 2.0
            }
        }
    }

    /// The main schedule's step number `e` (from 1) from rate `lr`.
    fn main_step(&mut self, lr: f64, e: usize, metric: f64) -> f64 {
        match &self.config.kind {
            ScheduleKind::Constant => lr,
            ScheduleKind::Step { step_size, gamma } => {
                if e.is_multiple_of(*step_size) {
                    lr * gamma
                } else {
                    lr
                }
            }
            ScheduleKind::Multistep { milestones, gamma } => {
                let hits = milestones.iter().filter(|&&m| m == e).count();
                if hits == 0 {
                    lr
                } else {
                    lr * gamma.powf(hits as f64)
                }
            }
            ScheduleKind::Exponential { gamma } => lr * gamma,
            ScheduleKind::Cosine { t_max, eta_min } => {
                cosine_step(lr, self.base_lr, *t_max, *eta_min, e)
            }
            ScheduleKind::Plateau { .. } => self.plateau_step(lr, metric),
        }
    }

    /// `ReduceLROnPlateau.step(metric)`.
    fn plateau_step(&mut self, lr: f64, current: f64) -> f64 {
        let ScheduleKind::Plateau {
            mode,
            factor,
            patience,
            threshold,
            threshold_mode,
            cooldown,
            min_lr,
            eps,
        } = self.config.kind.clone()
        else {
            unreachable!("plateau_step is called for the plateau kind only")
        };
        let state = self
            .state
            .plateau
            .as_mut()
            .expect("a plateau schedule has a plateau state");
        let worse = match mode {
            Mode::Min => f64::INFINITY,
            Mode::Max => f64::NEG_INFINITY,
        };
        let best = state.best.unwrap_or(worse);
        let better = match (mode, threshold_mode) {
            (Mode::Min, ThresholdMode::Rel) => current < best * (1.0 - threshold),
            (Mode::Min, ThresholdMode::Abs) => current < best - threshold,
            (Mode::Max, ThresholdMode::Rel) => current > best * (threshold + 1.0),
            (Mode::Max, ThresholdMode::Abs) => current > best + threshold,
        };
        if better {
            state.best = Some(current);
            state.num_bad_epochs = 0;
        } else {
            state.num_bad_epochs += 1;
        }
        if state.cooldown_counter > 0 {
            state.cooldown_counter -= 1;
            state.num_bad_epochs = 0; // bad epochs in cooldown are ignored
        }
        if state.num_bad_epochs <= patience {
            return lr;
        }
        state.cooldown_counter = cooldown;
        state.num_bad_epochs = 0;
        // Python's max(old * factor, min_lr) keeps the first on a tie.
        let reduced = if min_lr > lr * factor {
            min_lr
        } else {
            lr * factor
        };
        // A reduction smaller than eps is skipped.
        if lr - reduced > eps { reduced } else { lr }
    }
}

/// LinearLR's recursive step at its epoch `e` (1 <= e < total_iters), with
/// end_factor 1.
fn linear_step(lr: f64, w: &Warmup, e: usize) -> f64 {
    let (start, end) = (w.start_factor, 1.0);
    lr * (1.0 + (end - start) / (w.warmup_epochs as f64 * start + (e - 1) as f64 * (end - start)))
}

/// CosineAnnealingLR's recursive step at its epoch `e` (from 1).
fn cosine_step(lr: f64, base: f64, t_max: usize, eta_min: f64, e: usize) -> f64 {
    let t = t_max as f64;
    // PyTorch's third branch: one step past the minimum (and every 2 T_max
    // after), where the ratio below would divide by zero.
    if (e as i64 - 1 - t_max as i64) % (2 * t_max as i64) == 0 {
        return lr + (base - eta_min) * (1.0 - (PI / t).cos()) / 2.0;
    }
    (1.0 + (PI * e as f64 / t).cos()) / (1.0 + (PI * (e - 1) as f64 / t).cos()) * (lr - eta_min)
        + eta_min
}

/// f64 as the hex of its IEEE-754 bits: serde_json's default float parsing is
/// not guaranteed to round-trip every double, and a resumed run needs the
/// exact rate.
pub(crate) mod bits {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{:016x}", v.to_bits()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text).map_err(D::Error::custom)
    }

    pub fn parse(text: &str) -> Result<f64, String> {
        u64::from_str_radix(text, 16)
            .map(f64::from_bits)
            .map_err(|e| format!("`{text}` is not the 16 hex digits of a double: {e}"))
    }

    pub mod option {
        use serde::{Deserialize, Deserializer, Serializer, de::Error};

        pub fn serialize<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
            match v {
                Some(v) => super::serialize(v, s),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
            Option::<String>::deserialize(d)?
                .map(|t| super::parse(&t).map_err(D::Error::custom))
                .transpose()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Table {
        epochs: usize,
        cases: Vec<Case>,
    }

    #[derive(Deserialize)]
    struct Case {
        name: String,
        base_lr: f64,
        schedule: ScheduleConfig,
        metrics: Option<Vec<f64>>,
        bits: Vec<String>,
    }

    fn table() -> Table {
        serde_json::from_str(include_str!("../testdata/schedules.json"))
            .expect("schedules.json parses")
    }

    /// The rates of `epochs` epochs; `resume_at` round-trips the state through
    /// JSON into a fresh scheduler after that many steps.
    fn rates(case: &Case, epochs: usize, resume_at: Option<usize>) -> Vec<f64> {
        let mut s = LrScheduler::new(&case.schedule, case.base_lr, epochs).unwrap();
        let mut out = Vec::new();
        for epoch in 1..=epochs {
            if resume_at == Some(epoch - 1) {
                let json = serde_json::to_string(&s.state()).unwrap();
                s = LrScheduler::new(&case.schedule, case.base_lr, epochs).unwrap();
                s.restore(serde_json::from_str(&json).unwrap()).unwrap();
            }
            out.push(s.lr());
            // Non-plateau kinds must ignore the metric: give them NaN.
            s.step(case.metrics.as_ref().map_or(f64::NAN, |m| m[epoch - 1]));
        }
        out
    }

    #[test]
    fn every_rate_equals_pytorchs_bit_for_bit() {
        let table = table();
        assert!(table.cases.len() >= 80, "the table lost cases");
        let mut kinds = std::collections::BTreeSet::new();
        for case in &table.cases {
            kinds.insert(case.schedule.kind.name());
            let ours = rates(case, table.epochs, None);
            assert_eq!(case.bits.len(), table.epochs, "{}", case.name);
            for (epoch, (ours, theirs)) in ours.iter().zip(&case.bits).enumerate() {
                let theirs = bits::parse(theirs).unwrap();
                assert!(
                    ours.to_bits() == theirs.to_bits(),
                    "{}: epoch {}: ours {ours:e}, PyTorch {theirs:e}",
                    case.name,
                    epoch + 1
                );
            }
        }
        assert_eq!(
            kinds.len(),
            ScheduleKind::NAMES.len(),
            "every kind is in the table"
        );
    }

    #[test]
    fn a_resumed_schedule_gives_the_same_rates() {
        let table = table();
        for case in &table.cases {
            let straight = rates(case, table.epochs, None);
            for stop in [1, 2, 3, 11, 19, 29] {
                let resumed = rates(case, table.epochs, Some(stop));
                let same = straight
                    .iter()
                    .zip(&resumed)
                    .all(|(a, b)| a.to_bits() == b.to_bits());
                assert!(same, "{} resumed after {stop} steps", case.name);
            }
        }
    }

    #[test]
    fn the_state_is_explicit_json() {
        let config = ScheduleConfig {
            kind: ScheduleKind::plateau(),
            warmup: None,
        };
        let mut s = LrScheduler::new(&config, 0.1, 30).unwrap();
        s.step(0.5);
        let json = serde_json::to_value(s.state()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"steps": 1, "lr": "3fb999999999999a",
                "plateau": {"best": "3fe0000000000000", "num_bad_epochs": 0, "cooldown_counter": 0}})
        );
        let fresh = LrScheduler::new(&config, 0.1, 30).unwrap();
        assert_eq!(
            serde_json::to_value(fresh.state()).unwrap()["plateau"]["best"],
            serde_json::Value::Null
        );
    }

    #[test]
    fn refuses_a_state_of_another_schedule() {
        let plateau = ScheduleConfig {
            kind: ScheduleKind::plateau(),
            warmup: None,
        };
        let cosine = ScheduleConfig {
            kind: ScheduleKind::Cosine {
                t_max: 30,
                eta_min: 0.0,
            },
            warmup: None,
        };
        let state = LrScheduler::new(&plateau, 0.1, 30).unwrap().state();
        let mut other = LrScheduler::new(&cosine, 0.1, 30).unwrap();
        assert!(matches!(
            other.restore(state),
            Err(TrainError::CheckpointMismatch(_))
        ));
        let mut late = LrScheduler::new(&cosine, 0.1, 30).unwrap().state();
        late.steps = 31;
        assert!(other.restore(late).is_err());
        let bad = ScheduleConfig {
            kind: ScheduleKind::Step {
                step_size: 0,
                gamma: 0.1,
            },
            warmup: None,
        };
        let err = LrScheduler::new(&bad, 0.1, 30).unwrap_err().to_string();
        assert!(err.contains("schedule.step_size"), "{err}");
    }

    #[test]
    fn a_nan_loss_is_a_bad_epoch_for_the_plateau_rule() {
        // As in Python, every comparison with NaN is false: no improvement.
        // patience 1, factor 0.5: 1.0 improves; NaN, NaN are bad epochs 1
        // and 2, and 2 > patience halves the rate.
        let mut kind = ScheduleKind::plateau();
        if let ScheduleKind::Plateau {
            patience, factor, ..
        } = &mut kind
        {
            (*patience, *factor) = (1, 0.5);
        }
        let mut s = LrScheduler::new(&ScheduleConfig { kind, warmup: None }, 0.1, 30).unwrap();
        for metric in [1.0, f64::NAN, f64::NAN] {
            s.step(metric);
        }
        assert_eq!(s.lr(), 0.05);
        assert_eq!(s.state().plateau.unwrap().best, Some(1.0));
    }

    #[test]
    fn the_warmup_rises_linearly_then_hands_over_at_the_base_rate() {
        // Derived by hand from LinearLR(0.1, total_iters=4): 0.1, then each
        // step adds (1 - 0.1) / 4 of the base rate; step 4 is the milestone.
        let config = ScheduleConfig {
            kind: ScheduleKind::Constant,
            warmup: Some(Warmup {
                warmup_epochs: 4,
                start_factor: 0.1,
            }),
        };
        let case = Case {
            name: "warmup".into(),
            base_lr: 1.0,
            schedule: config,
            metrics: None,
            bits: vec![],
        };
        let got = rates(&case, 6, None);
        let want = [0.1, 0.325, 0.55, 0.775, 1.0, 1.0];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-15, "{got:?}");
        }
    }
}
