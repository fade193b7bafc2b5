//! The vocabulary of what a run records once per epoch: each quantity's
//! name (its Parquet column and its word in claim terms), the splits it is
//! measured on, and how it reads. The trainer fills [`EpochReport`]s with
//! it, checkpoints serialise them whole, the store writes one column per
//! quantity and the claims language parses the names; adding a quantity is
//! one variant here and the code that measures it.

use std::fmt;
use std::ops::Index;

use serde::{Deserialize, Serialize};

/// The sets a run is measured on, by their role. Which images each holds
/// depends on whether the run holds out a validation split
/// (`RunConfig::validation`): see [`Split::images`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// The images trained on, in training mode (dropout on, weights
    /// changing): every training image, or those not held out.
    Train,
    /// The set every decision reads (the best epoch, early stopping, a
    /// sweep's best point, pruning), in evaluation mode: the official test
    /// set, as in the paper, or the training images held out.
    Val,
    /// The official test set, in evaluation mode, measured apart from
    /// validation and never decided on: only by runs that hold out a
    /// validation split (for the others it is their `Val`).
    Test,
}

impl Split {
    pub const ALL: [Split; 3] = [Split::Train, Split::Val, Split::Test];

    pub fn as_str(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Val => "val",
            Split::Test => "test",
        }
    }

    /// Which images the split's rows measure, as the metrics table's
    /// `images` column names them, for a run that holds out a validation
    /// split (`held_out`) or not: `"train"` (the images trained on),
    /// `"held-out"` (training images held out) or `"official-test"`.
    pub fn images(self, held_out: bool) -> &'static str {
        match (self, held_out) {
            (Split::Train, _) => "train",
            (Split::Val, true) => "held-out",
            (Split::Val, false) | (Split::Test, _) => "official-test",
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
    /// weighted by batch size; over the validation (and test) set in
    /// evaluation mode.
    Loss = "loss" on [Train, Val, Test], fraction: false, always: true, "mean cross-entropy";
    /// Fraction of images classified correctly.
    Accuracy = "accuracy" on [Train, Val, Test], fraction: true, always: true, "fraction of images classified correctly";
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

    /// Nothing measured.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
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
    /// The official test set, measured apart from validation by a run that
    /// holds out a validation split; empty (and left out of the JSON) for
    /// the others.
    #[serde(default, skip_serializing_if = "Measures::is_empty")]
    pub test: Measures,
    /// Wall time of the epoch, training and evaluation.
    pub seconds: f64,
}

impl EpochReport {
    pub fn split(&self, split: Split) -> &Measures {
        match split {
            Split::Train => &self.train,
            Split::Val => &self.val,
            Split::Test => &self.test,
        }
    }

    pub fn split_mut(&mut self, split: Split) -> &mut Measures {
        match split {
            Split::Train => &mut self.train,
            Split::Val => &mut self.val,
            Split::Test => &mut self.test,
        }
    }

    /// The splits this epoch measured, in [`Split::ALL`]'s order: train and
    /// val always, test where the run measured it apart. One row each in
    /// the metrics table.
    pub fn measured(&self) -> impl Iterator<Item = Split> + '_ {
        (Split::ALL.into_iter()).filter(|&s| s != Split::Test || !self.test.is_empty())
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
            val: m.clone(),
            test: Measures::default(),
            seconds: 0.1,
        };
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains("\"grad_norm\":1.25"), "{json}");
        assert!(!json.contains("test"), "no test set measured: {json}");
        assert_eq!(serde_json::from_str::<EpochReport>(&json).unwrap(), r);
        assert_eq!(r.measured().collect::<Vec<_>>(), [Split::Train, Split::Val]);
        let with_test = EpochReport {
            test: m.with(Quantity::Accuracy, 0.75),
            ..r
        };
        let json = serde_json::to_string(&with_test).unwrap();
        assert!(
            json.contains("\"test\":{\"loss\":0.5,\"accuracy\":0.75}"),
            "{json}"
        );
        assert_eq!(
            serde_json::from_str::<EpochReport>(&json).unwrap(),
            with_test
        );
        assert_eq!(with_test.measured().collect::<Vec<_>>(), Split::ALL);
        assert_eq!(with_test.split(Split::Test)[Quantity::Accuracy], 0.75);
    }

    #[test]
    fn each_split_names_its_images() {
        let images = |held_out| Split::ALL.map(|s| s.images(held_out));
        assert_eq!(images(false), ["train", "official-test", "official-test"]);
        assert_eq!(images(true), ["train", "held-out", "official-test"]);
        for s in Split::ALL {
            assert_eq!(Split::parse(s.as_str()), Some(s));
        }
        assert!(Quantity::Accuracy.measured_on(Split::Test));
        assert!(!Quantity::LearningRate.measured_on(Split::Test));
    }
}
