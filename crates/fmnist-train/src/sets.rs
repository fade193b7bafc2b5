//! The images a run trains, validates and tests on, from the data and its
//! settings alone, so that whoever calls [`crate::train`] hands over the
//! whole data set and the run carves what it needs.
//!
//! Without a validation split (`RunConfig::validation`, the paper's setup)
//! a run trains on the training images and validates on the official test
//! set, and measures nothing else. With one, it trains on the training
//! images not held out, validates on those held out (every decision reads
//! them) and measures the official test set apart. `train_limit` keeps the
//! first images of the training set, `val_limit` the first images of the
//! validation set and, with a split, of the test set (both smoke-run
//! limits); each set keeps the order of its files.

use std::borrow::Cow;

use fmnist_data::{Dataset, HoldOut, ImageSet};
use fmnist_experiments::{RunConfig, ValidationSplit};

use crate::error::TrainError;

/// The images of one run.
#[derive(Debug, Clone)]
pub struct RunSets<'a> {
    /// Trained on.
    pub train: Cow<'a, ImageSet>,
    /// Validated on, each epoch: what the run decides by.
    pub val: Cow<'a, ImageSet>,
    /// The official test set, measured each epoch apart from validation by
    /// a run with a validation split; `None` without one.
    pub test: Option<Cow<'a, ImageSet>>,
}

impl<'a> RunSets<'a> {
    /// The sets of the run `config` on `data`; an error when its split
    /// cannot be carved from `data` (more images held out than it has).
    pub fn of(config: &RunConfig, data: &'a Dataset) -> Result<RunSets<'a>, TrainError> {
        let Some(split) = config.validation else {
            return Ok(RunSets {
                train: limit(&data.train, config.train_limit),
                val: limit(&data.test, config.val_limit),
                test: None,
            });
        };
        let indices = data.split_indices(hold_out(split))?;
        let first = |indices: &[u32], n: Option<usize>| {
            let n = n.map_or(indices.len(), |n| n.min(indices.len()));
            data.train.select(&indices[..n])
        };
        Ok(RunSets {
            train: Cow::Owned(first(&indices.remaining, config.train_limit)),
            val: Cow::Owned(first(&indices.held_out, config.val_limit)),
            test: Some(limit(&data.test, config.val_limit)),
        })
    }
}

/// The images a run validates on (its [`RunSets::val`]) without copying
/// its training images: `Dataset::validation_images`, the one definition
/// the report's mistakes read too.
pub fn validation_set<'a>(
    config: &RunConfig,
    data: &'a Dataset,
) -> Result<Cow<'a, ImageSet>, TrainError> {
    Ok(data.validation_images(config.validation.map(hold_out), config.val_limit)?)
}

/// The draw of `fmnist_data::split` a run's split names.
pub fn hold_out(split: ValidationSplit) -> HoldOut {
    HoldOut {
        images: split.images,
        seed: split.seed,
    }
}

fn limit(set: &ImageSet, n: Option<usize>) -> Cow<'_, ImageSet> {
    set.first(n)
}
