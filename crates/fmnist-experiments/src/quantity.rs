//! The vocabulary of what a run records once per epoch: each quantity's
//! name (its Parquet column and its word in claim terms), the splits it is
//! measured on, and how it reads. The trainer fills [`EpochReport`]s with
//! it, checkpoints serialise them whole, the store writes one column per
//! quantity and the claims language parses the names; adding a quantity is
//! one variant here and the code that measures it.

use std::fmt;
use std::ops::Index;

use serde::{Deserialize, Serialize};

/// The two sets a run is measured on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// The training set, in training mode (dropout on, weights changing).
    Train,
    /// The validation (official test) set, in evaluation mode.
    Val,
}

impl Split {
    pub const ALL: [Split; 2] = [Split::Train, Split::Val];

    pub fn as_str(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Val => "val",
        }
    }

    pub fn parse(s: &str) -> Option<Split> {
        Split::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Declares the quantities once: variant, name, splits, description.
macro_rules! quantities {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal on [$($split:ident),+], fraction: $fraction:literal, always: $always:literal, $describe:literal; )+) => {
        /// A number recorded once per epoch for some splits.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Quantity {
            $( $(#[$doc])* $variant, )+
        }

        impl Quantity {
            /// Every quantity, in the order of the metrics table's columns.
            pub const ALL: &[Quantity] = &[$( Quantity::$variant, )+];

            /// The column name in the metrics table and the word in claim terms.
            pub fn name(self) -> &'static str {
                match self { $( Quantity::$variant => $name, )+ }
            }

            /// The splits this quantity is measured on.
            pub fn splits(self) -> &'static [Split] {
                match self { $( Quantity::$variant => &[$( Split::$split, )+], )+ }
            }

            /// A fraction in 0..1, shown in percent.
            pub fn is_fraction(self) -> bool {
                match self { $( Quantity::$variant => $fraction, )+ }
            }

            /// Recorded by every run ever stored; a quantity added later is
            /// absent from the runs stored before it.
            pub fn always_recorded(self) -> bool {
                match self { $( Quantity::$variant => $always, )+ }
            }

            /// What it is, in a few words.
            pub fn describe(self) -> &'static str {
                match self { $( Quantity::$variant => $describe, )+ }
            }
        }
    };
}

quantities! {
    /// Mean cross-entropy: over the epoch's batches in training mode,
    /// weighted by batch size; over the validation set in evaluation mode.
    Loss = "loss" on [Train, Val], fraction: false, always: true, "mean cross-entropy";
    /// Fraction of images classified correctly.
    Accuracy = "accuracy" on [Train, Val], fraction: true, always: true, "fraction of images classified correctly";
    /// The L2 norm of the whole gradient (every weight and bias), averaged
    /// over the epoch's steps.
    GradNorm = "grad_norm" on [Train], fraction: false, always: false, "mean L2 norm of the gradient over the epoch's steps";
    /// The learning rate of the epoch's steps (its schedule's rate).
    LearningRate = "learning_rate" on [Train], fraction: false, always: false, "learning rate of the epoch's steps";
}

impl Quantity {
    pub fn parse(s: &str) -> Option<Quantity> {
        Quantity::ALL.iter().copied().find(|q| q.name() == s)
    }

    /// The names, for messages: `loss | accuracy | grad_norm`.
    pub fn names() -> Vec<&'static str> {
        Quantity::ALL.iter().map(|q| q.name()).collect()
    }

    pub fn measured_on(self, split: Split) -> bool {
        self.splits().contains(&split)
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The quantities of one split in one epoch; a quantity not measured (not on
/// this split, or by a run stored before it existed) is absent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Measures(std::collections::BTreeMap<Quantity, f64>);

impl Measures {
    pub fn get(&self, q: Quantity) -> Option<f64> {
        self.0.get(&q).copied()
    }

    pub fn set(&mut self, q: Quantity, value: f64) {
        self.0.insert(q, value);
    }

    pub fn with(mut self, q: Quantity, value: f64) -> Measures {
        self.set(q, value);
        self
    }

    pub fn iter(&self) -> impl Iterator<Item = (Quantity, f64)> + '_ {
        self.0.iter().map(|(q, v)| (*q, *v))
    }
}

/// Reads NaN for an absent quantity, so that arithmetic on a missing value
/// is visibly not a number rather than zero.
impl Index<Quantity> for Measures {
    type Output = f64;

    fn index(&self, q: Quantity) -> &f64 {
        self.0.get(&q).unwrap_or(&f64::NAN)
    }
}

/// Metrics of one epoch, as the paper's PyTorch loop reports them, plus the
/// other quantities of the vocabulary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochReport {
    /// 1-based.
    pub epoch: usize,
    pub train: Measures,
    pub val: Measures,
    /// Wall time of the epoch, training and evaluation.
    pub seconds: f64,
}

impl EpochReport {
    pub fn split(&self, split: Split) -> &Measures {
        match split {
            Split::Train => &self.train,
            Split::Val => &self.val,
        }
    }

    pub fn split_mut(&mut self, split: Split) -> &mut Measures {
        match split {
            Split::Train => &mut self.train,
            Split::Val => &mut self.val,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_are_unique() {
        for &q in Quantity::ALL {
            assert_eq!(Quantity::parse(q.name()), Some(q));
            assert!(!q.splits().is_empty());
        }
        let mut names = Quantity::names();
        names.dedup();
        assert_eq!(names.len(), Quantity::ALL.len());
        assert_eq!(Quantity::parse("acc"), None);
        assert!(Quantity::GradNorm.measured_on(Split::Train));
        assert!(!Quantity::GradNorm.measured_on(Split::Val));
    }

    #[test]
    fn an_absent_quantity_reads_as_nan_and_reports_round_trip() {
        let m = Measures::default().with(Quantity::Loss, 0.5);
        assert_eq!(m[Quantity::Loss], 0.5);
        assert!(m[Quantity::Accuracy].is_nan());
        assert_eq!(m.get(Quantity::Accuracy), None);
        let r = EpochReport {
            epoch: 3,
            train: m.clone().with(Quantity::GradNorm, 1.25),
            val: m,
            seconds: 0.1,
        };
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains("\"grad_norm\":1.25"), "{json}");
        assert_eq!(serde_json::from_str::<EpochReport>(&json).unwrap(), r);
    }
}
