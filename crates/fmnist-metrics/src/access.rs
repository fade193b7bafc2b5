//! The one way to read a number out of a stored run: a split, a quantity and
//! which epoch ([`At`]). The claims, the report's tables, the summary,
//! successive halving and its replay all read runs through
//! [`StoredRun::value`], so they cannot disagree on what "final", "best" or
//! "the value at a rung" means, nor on how a pruned or early-stopped run's
//! shorter length is treated.

use std::fmt;

use crate::manifest::RunStatus;
use crate::store::StoredRun;
use crate::table::MetricRow;
use fmnist_experiments::{Quantity, Split};

/// Which epoch (or epochs) of a run a value is read at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum At {
    /// The last epoch the run recorded: its final value. A pruned run's
    /// last epoch is its rung, not the end of training; callers that must
    /// not compare unfinished runs check [`StoredRun::finished`].
    Last,
    /// `n` epochs before the last (`LastMinus(0)` is [`At::Last`]).
    LastMinus(u32),
    /// The mean over the last `n` epochs.
    Window(u32),
    /// The epoch of highest validation accuracy (the earliest on ties): the
    /// epoch early stopping's `keep = "best"` and the report's "best" pick.
    Best,
    /// Exactly epoch `k` (1-based); absent when the run did not record it.
    Epoch(u32),
    /// Epoch `k` as successive halving ranks runs at a rung: a complete run
    /// that ended before `k` (early stopping) gives its last epoch's value,
    /// any other run without epoch `k` (diverged, pruned earlier) none.
    Rung(u32),
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            At::Last => f.write_str("last"),
            At::LastMinus(n) => write!(f, "last-{n}"),
            At::Window(n) => write!(f, "last{n}"),
            At::Best => f.write_str("best"),
            At::Epoch(k) => write!(f, "{k}"),
            At::Rung(k) => write!(f, "rung {k}"),
        }
    }
}

/// Why a run has no value where one was asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum Missing {
    /// The run recorded no row of this split.
    NoRows(Split),
    /// Fewer epochs than asked for (`needed`), `last` recorded.
    TooShort { needed: u32, last: u32 },
    /// No epoch with a finite validation accuracy to call best.
    NoBest,
    /// Epoch `epoch` was not recorded (`last` was the last one).
    NoEpoch { epoch: u32, last: u32 },
    /// The quantity did not exist when the run was stored.
    NotRecorded(Quantity),
    /// The value is NaN or infinite (a diverged run).
    NotFinite { epoch: u32, value: f64 },
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Missing::NoRows(split) => write!(f, "has no {split} rows"),
            Missing::TooShort { needed, last } => write!(
                f,
                "has only {last} epochs, fewer than the {needed} asked for"
            ),
            Missing::NoBest => f.write_str("has no finite validation accuracy"),
            Missing::NoEpoch { epoch, last } => {
                write!(f, "has no epoch {epoch} (it recorded {last})")
            }
            Missing::NotRecorded(q) => {
                write!(f, "did not record {q} (stored before it was measured)")
            }
            Missing::NotFinite { epoch, value } => write!(f, "recorded {value} at epoch {epoch}"),
        }
    }
}

impl StoredRun {
    /// The row of `split` at `epoch`.
    pub fn row(&self, split: Split, epoch: u32) -> Option<&MetricRow> {
        self.rows
            .iter()
            .find(|r| r.split == split && r.epoch == epoch)
    }

    /// The last epoch recorded for `split`.
    pub fn last_epoch(&self, split: Split) -> Option<u32> {
        self.rows
            .iter()
            .filter(|r| r.split == split)
            .map(|r| r.epoch)
            .max()
    }

    /// The epoch of highest validation accuracy, the earliest on ties.
    pub fn best_epoch(&self) -> Option<u32> {
        let acc = |r: &MetricRow| r.values[Quantity::Accuracy];
        self.rows
            .iter()
            .filter(|r| r.split == Split::Val && acc(r).is_finite())
            .fold(None::<&MetricRow>, |best, r| match best {
                Some(b) if acc(b) > acc(r) || (acc(b) == acc(r) && b.epoch < r.epoch) => Some(b),
                Some(_) | None => Some(r),
            })
            .map(|r| r.epoch)
    }

    /// Trained to the end: complete with all its epochs, or ended by early
    /// stopping. Pruned and diverged runs are not.
    pub fn finished(&self) -> bool {
        self.manifest.status == RunStatus::Complete
    }

    /// The epochs `at` names, given the run's last epoch of `split`.
    fn epochs(&self, split: Split, at: At) -> Result<std::ops::RangeInclusive<u32>, Missing> {
        let last = self.last_epoch(split).ok_or(Missing::NoRows(split))?;
        let short = |needed| Missing::TooShort { needed, last };
        Ok(match at {
            At::Last => last..=last,
            At::LastMinus(n) if n < last => last - n..=last - n,
            At::LastMinus(n) => return Err(short(n + 1)),
            At::Window(n) if n >= 1 && n <= last => last + 1 - n..=last,
            At::Window(n) => return Err(short(n)),
            At::Best => {
                let e = self.best_epoch().ok_or(Missing::NoBest)?;
                e..=e
            }
            At::Epoch(k) => k..=k,
            At::Rung(k) if k > last && self.finished() => last..=last,
            At::Rung(k) => k..=k,
        })
    }

    /// `quantity` on `split` at `at`: a finite number, or why there is none.
    /// A window is the mean of its epochs, each of which must be finite.
    pub fn value(&self, split: Split, quantity: Quantity, at: At) -> Result<f64, Missing> {
        let epochs = self.epochs(split, at)?;
        let last = self.last_epoch(split).unwrap_or(0);
        let n = epochs.clone().count() as f64;
        let mut sum = 0.0;
        for epoch in epochs {
            let row = self
                .row(split, epoch)
                .ok_or(Missing::NoEpoch { epoch, last })?;
            let v = row
                .values
                .get(quantity)
                .ok_or(Missing::NotRecorded(quantity))?;
            if !v.is_finite() {
                return Err(Missing::NotFinite { epoch, value: v });
            }
            sum += v;
        }
        Ok(sum / n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::stored_run;

    fn run(val_acc: &[f64], status: RunStatus) -> StoredRun {
        stored_run(val_acc, status)
    }

    #[test]
    fn last_window_and_best_read_the_epochs_they_name() {
        let r = run(&[0.5, 0.7, 0.6, 0.65], RunStatus::Complete);
        let v = |at| r.value(Split::Val, Quantity::Accuracy, at);
        assert_eq!(v(At::Last), Ok(0.65));
        assert_eq!(v(At::LastMinus(1)), Ok(0.6));
        assert_eq!(v(At::Window(2)), Ok((0.6 + 0.65) / 2.0));
        assert_eq!(r.best_epoch(), Some(2));
        assert_eq!(v(At::Best), Ok(0.7));
        assert_eq!(v(At::Epoch(1)), Ok(0.5));
        assert_eq!(
            v(At::Window(5)),
            Err(Missing::TooShort { needed: 5, last: 4 })
        );
        assert_eq!(v(At::Epoch(9)), Err(Missing::NoEpoch { epoch: 9, last: 4 }));
    }

    #[test]
    fn best_takes_the_earliest_of_equal_epochs() {
        let r = run(&[0.7, 0.5, 0.7], RunStatus::Complete);
        assert_eq!(r.best_epoch(), Some(1));
    }

    #[test]
    fn a_rung_past_a_stopped_run_s_end_is_its_last_epoch_but_not_a_pruned_run_s() {
        let stopped = run(&[0.5, 0.6], RunStatus::Complete);
        assert_eq!(
            stopped.value(Split::Val, Quantity::Accuracy, At::Rung(5)),
            Ok(0.6)
        );
        assert!(
            stopped
                .value(Split::Val, Quantity::Accuracy, At::Epoch(5))
                .is_err()
        );
        let pruned = run(&[0.5, 0.6], RunStatus::Pruned { epoch: 2 });
        assert!(!pruned.finished());
        assert_eq!(
            pruned.value(Split::Val, Quantity::Accuracy, At::Rung(5)),
            Err(Missing::NoEpoch { epoch: 5, last: 2 })
        );
    }

    #[test]
    fn a_non_finite_value_is_missing_not_a_number() {
        let r = run(&[0.5, f64::NAN], RunStatus::Diverged { epoch: 2, batch: 1 });
        assert!(matches!(
            r.value(Split::Val, Quantity::Accuracy, At::Last),
            Err(Missing::NotFinite { epoch: 2, .. })
        ));
        assert!(matches!(
            r.value(Split::Val, Quantity::Accuracy, At::Window(2)),
            Err(Missing::NotFinite { .. })
        ));
        assert_eq!(r.value(Split::Val, Quantity::Accuracy, At::Best), Ok(0.5));
    }
}
