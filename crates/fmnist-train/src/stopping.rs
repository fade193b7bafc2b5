//! Early stopping as a state machine, with Lightning's `EarlyStopping`
//! semantics, checked once per epoch after validation.
//!
//! What is implemented, from `lightning.pytorch.callbacks.EarlyStopping`:
//! - min_delta's sign is flipped for mode min (`min_delta *= -1`), and a
//!   check improves when `current - min_delta` beats the best value with a
//!   strict comparison: for min, `current + |min_delta| < best`; for max,
//!   `current - |min_delta| > best`. The best value starts at the worst
//!   infinity, so the first finite value is an improvement.
//! - An improvement records the value as best and resets the wait count; any
//!   other check adds one, and training stops when the count reaches
//!   `patience` (so patience 0 stops at the first check that does not improve).
//! - `check_finite` (Lightning's default, always on here): a NaN or infinite
//!   monitored value stops at once, before the improvement test, leaving the
//!   best value as it was. `stopping_threshold` and `divergence_threshold`
//!   are not offered.
//! - Lightning compares torch tensors of the logged metric's dtype (often
//!   float32); here the comparisons are in f64, the precision the trainer
//!   reports its validation metrics in.
//!
//! It also records the epoch of the best value, so that a run that keeps the
//! best weights knows which epoch those are. `testdata/stopping.json`, made by
//! `testdata/make_stopping.py` from Lightning's logic, is the check.

use fmnist_experiments::{EarlyStopping, Keep, Mode, Monitor};
use serde::{Deserialize, Serialize};

use crate::error::TrainError;
use crate::schedule::bits;

/// Decides, epoch by epoch, whether a run goes on.
#[derive(Debug, Clone)]
pub struct EarlyStopper {
    config: EarlyStopping,
    state: StopperState,
}

/// Why a run stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// `patience` checks in a row without improvement.
    NoImprovement,
    /// The monitored value was NaN or infinite.
    NotFinite,
}

/// The verdict of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopDecision {
    /// Train the next epoch; `improved` says whether this epoch is the new best.
    Continue { improved: bool },
    /// End the run after this epoch.
    Stop(StopReason),
}

/// What a checkpoint stores of the stopping rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StopperState {
    /// Checks made, that is epochs validated.
    pub checks: usize,
    /// Lightning's `best_score`; `None` before the first improvement (its
    /// starting infinity, which JSON cannot hold).
    #[serde(with = "bits::option")]
    pub best: Option<f64>,
    /// The epoch (from 1) whose value is `best`.
    pub best_epoch: Option<usize>,
    /// Lightning's `wait_count`.
    pub wait_count: usize,
    /// Set once the rule has stopped the run.
    pub stopped: Option<StopReason>,
}

impl EarlyStopper {
    pub fn new(config: &EarlyStopping) -> Result<Self, TrainError> {
        if let Some((key, message)) = config.validate() {
            return Err(TrainError::Config(format!(
                "training.early_stopping.{key} {message}"
            )));
        }
        let state = StopperState {
            checks: 0,
            best: None,
            best_epoch: None,
            wait_count: 0,
            stopped: None,
        };
        Ok(EarlyStopper {
            config: config.clone(),
            state,
        })
    }

    /// The validation quantity to pass to [`EarlyStopper::check`].
    pub fn monitor(&self) -> Monitor {
        self.config.monitor
    }

    /// After each epoch's validation, with the monitored value of that epoch.
    /// Once the rule has stopped, further checks change nothing and repeat
    /// the stop.
    pub fn check(&mut self, current: f64) -> StopDecision {
        if let Some(reason) = self.state.stopped {
            return StopDecision::Stop(reason);
        }
        let s = &mut self.state;
        s.checks += 1;
        if !current.is_finite() {
            s.stopped = Some(StopReason::NotFinite);
            return StopDecision::Stop(StopReason::NotFinite);
        }
        // Lightning: `min_delta *= 1 if mode is max else -1`, then
        // `monitor_op(current - min_delta, best)`.
        let improved = match self.config.mode {
            Mode::Min => current - (-self.config.min_delta) < s.best.unwrap_or(f64::INFINITY),
            Mode::Max => current - self.config.min_delta > s.best.unwrap_or(f64::NEG_INFINITY),
        };
        if improved {
            s.best = Some(current);
            s.best_epoch = Some(s.checks);
            s.wait_count = 0;
            return StopDecision::Continue { improved: true };
        }
        s.wait_count += 1;
        if s.wait_count >= self.config.patience {
            s.stopped = Some(StopReason::NoImprovement);
            return StopDecision::Stop(StopReason::NoImprovement);
        }
        StopDecision::Continue { improved: false }
    }

    /// The best monitored value so far and its epoch.
    pub fn best(&self) -> Option<(usize, f64)> {
        self.state.best_epoch.zip(self.state.best)
    }

    pub fn stopped(&self) -> Option<StopReason> {
        self.state.stopped
    }

    /// The epoch whose weights the run stores when its last epoch is
    /// `last_epoch`: that one for `keep = "last"`, the best epoch for
    /// `keep = "best"` (the last one when no value was ever finite).
    pub fn kept_epoch(&self, last_epoch: usize) -> usize {
        match self.config.keep {
            Keep::Last => last_epoch,
            Keep::Best => self.state.best_epoch.unwrap_or(last_epoch),
        }
    }

    pub fn state(&self) -> StopperState {
        self.state.clone()
    }

    /// Continue from a checkpoint's state; refuses one that contradicts itself.
    pub fn restore(&mut self, state: StopperState) -> Result<(), TrainError> {
        let consistent = state.best.is_some() == state.best_epoch.is_some()
            && state.best_epoch.is_none_or(|e| e >= 1 && e <= state.checks)
            && state.best.is_none_or(f64::is_finite);
        if !consistent {
            return Err(TrainError::CheckpointMismatch(format!(
                "its early-stopping state is inconsistent: {state:?}"
            )));
        }
        self.state = state;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn stopper(monitor: Monitor, patience: usize, min_delta: f64) -> EarlyStopper {
        let config = EarlyStopping {
            patience,
            min_delta,
            ..EarlyStopping::new(monitor)
        };
        EarlyStopper::new(&config).unwrap()
    }

    fn number(v: &Value) -> f64 {
        match v {
            Value::String(s) => s.parse().expect("nan, inf or -inf"),
            v => v.as_f64().expect("a number"),
        }
    }

    #[test]
    fn decides_as_lightning_does_on_recorded_sequences() {
        let table: Value = serde_json::from_str(include_str!("../testdata/stopping.json")).unwrap();
        let cases = table["cases"].as_array().unwrap();
        assert!(cases.len() >= 10, "the table lost cases");
        for case in cases {
            let name = case["name"].as_str().unwrap();
            let config: EarlyStopping = serde_json::from_value(case["config"].clone()).unwrap();
            let mut s = EarlyStopper::new(&config).unwrap();
            let values = case["values"].as_array().unwrap();
            let checks = case["checks"].as_array().unwrap();
            assert!(!checks.is_empty(), "{name}");
            for (value, want) in values.iter().zip(checks) {
                let epoch = want["epoch"].as_u64().unwrap() as usize;
                let got = s.check(number(value));
                let stop = match got {
                    StopDecision::Stop(r) => serde_json::to_value(r).unwrap(),
                    StopDecision::Continue { .. } => Value::Null,
                };
                assert_eq!(stop, want["stop"], "{name}, epoch {epoch}");
                let improved = matches!(got, StopDecision::Continue { improved: true });
                assert_eq!(
                    improved,
                    want["improved"].as_bool().unwrap(),
                    "{name}, epoch {epoch}"
                );
                assert_eq!(
                    s.state().wait_count as u64,
                    want["wait_count"].as_u64().unwrap(),
                    "{name}"
                );
                let best = s.state().best.unwrap_or(match config.mode {
                    Mode::Min => f64::INFINITY,
                    Mode::Max => f64::NEG_INFINITY,
                });
                assert_eq!(
                    best.to_bits(),
                    number(&want["best"]).to_bits(),
                    "{name}, epoch {epoch}"
                );
            }
            // The table ends at the stop (or at the end of the values).
            assert_eq!(s.state().checks, checks.len(), "{name}");
            assert_eq!(
                s.stopped().is_some(),
                !checks.last().unwrap()["stop"].is_null(),
                "{name}"
            );
        }
    }

    #[test]
    fn counts_checks_without_improvement_and_remembers_the_best_epoch() {
        // patience 2, min_delta 0.05, mode min:
        // 1.00 improves (first value); 0.96 is not below 1.00 - 0.05 (wait 1);
        // 0.94 is (best 0.94 at epoch 3, wait 0); 0.92, 0.93 are not below
        // 0.89 (wait 1, 2): stop at epoch 5, best epoch 3.
        let mut s = stopper(Monitor::ValLoss, 2, 0.05);
        let decisions: Vec<_> = [1.00, 0.96, 0.94, 0.92, 0.93]
            .iter()
            .map(|&v| s.check(v))
            .collect();
        use StopDecision::*;
        assert_eq!(
            decisions,
            [
                Continue { improved: true },
                Continue { improved: false },
                Continue { improved: true },
                Continue { improved: false },
                Stop(StopReason::NoImprovement)
            ]
        );
        assert_eq!(s.best(), Some((3, 0.94)));
        assert_eq!(s.kept_epoch(5), 5, "keep = last by default");
        // A stopped rule stays stopped.
        assert_eq!(s.check(0.1), Stop(StopReason::NoImprovement));
        assert_eq!(s.state().checks, 5);
    }

    #[test]
    fn accuracy_is_maximised_and_a_tie_is_no_improvement() {
        // patience 1, mode max: 0.8 improves; 0.8 again is not > 0.8: stop.
        let mut s = stopper(Monitor::ValAccuracy, 1, 0.0);
        assert_eq!(s.check(0.8), StopDecision::Continue { improved: true });
        assert_eq!(s.check(0.8), StopDecision::Stop(StopReason::NoImprovement));
    }

    #[test]
    fn a_non_finite_value_stops_at_once_and_keeps_the_best() {
        let mut s = stopper(Monitor::ValLoss, 10, 0.0);
        s.check(0.5);
        assert_eq!(s.check(f64::NAN), StopDecision::Stop(StopReason::NotFinite));
        assert_eq!(s.best(), Some((1, 0.5)));
        let config = EarlyStopping {
            keep: Keep::Best,
            ..EarlyStopping::new(Monitor::ValLoss)
        };
        let mut best = EarlyStopper::new(&config).unwrap();
        assert_eq!(
            best.check(f64::INFINITY),
            StopDecision::Stop(StopReason::NotFinite)
        );
        assert_eq!(best.kept_epoch(1), 1, "no best epoch: the last");
    }

    #[test]
    fn keeps_the_best_epoch_when_asked() {
        let config = EarlyStopping {
            keep: Keep::Best,
            patience: 2,
            ..EarlyStopping::new(Monitor::ValLoss)
        };
        let mut s = EarlyStopper::new(&config).unwrap();
        for v in [0.9, 0.5, 0.6, 0.7] {
            s.check(v);
        }
        assert_eq!(s.stopped(), Some(StopReason::NoImprovement));
        assert_eq!(s.kept_epoch(4), 2);
    }

    #[test]
    fn a_restored_rule_decides_as_an_uninterrupted_one() {
        let values = [0.9, 0.7, 0.71, 0.69, 0.695, 0.7, 0.72, 0.6];
        let mut straight = stopper(Monitor::ValLoss, 3, 0.001);
        let want: Vec<_> = values.iter().map(|&v| straight.check(v)).collect();
        for cut in 0..values.len() {
            let mut first = stopper(Monitor::ValLoss, 3, 0.001);
            let mut got: Vec<_> = values[..cut].iter().map(|&v| first.check(v)).collect();
            let json = serde_json::to_string(&first.state()).unwrap();
            let mut second = stopper(Monitor::ValLoss, 3, 0.001);
            second
                .restore(serde_json::from_str(&json).unwrap())
                .unwrap();
            got.extend(values[cut..].iter().map(|&v| second.check(v)));
            assert_eq!(got, want, "cut after {cut}");
            assert_eq!(second.state(), straight.state());
        }
    }

    #[test]
    fn refuses_an_inconsistent_state_and_a_negative_min_delta() {
        let mut s = stopper(Monitor::ValLoss, 3, 0.0);
        let bad = StopperState {
            checks: 2,
            best: Some(0.5),
            best_epoch: Some(3),
            wait_count: 0,
            stopped: None,
        };
        assert!(matches!(
            s.restore(bad),
            Err(TrainError::CheckpointMismatch(_))
        ));
        let config = EarlyStopping {
            min_delta: -0.1,
            ..EarlyStopping::new(Monitor::ValLoss)
        };
        let err = EarlyStopper::new(&config).unwrap_err().to_string();
        assert!(err.contains("min_delta"), "{err}");
    }
}
