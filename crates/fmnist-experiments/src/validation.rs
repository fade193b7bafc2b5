//! `training.validation`: a validation split held out of the training
//! images, so that every decision a run makes (its best epoch, early
//! stopping) and every decision made over runs (a sweep's best point,
//! successive halving's survivors) reads images that are neither trained on
//! nor the official test set, which is then measured each epoch and never
//! chosen on.
//!
//! ```toml
//! [training]
//! validation = 10000     # training images held out, stratified by class
//! validation_seed = 0    # which draw of them (default 0)
//! ```
//!
//! Without `validation` (the default, and the paper's setup) a run trains on
//! every training image and validates on the official test set; its
//! settings, and so its run id, are those of a run stored before the
//! setting existed. The images held out are a pure function of the data's
//! hashes and these two settings (`fmnist_data::split`).

use serde::{Deserialize, Serialize};

use crate::error::ExperimentError;
use crate::experiment::TRAIN_SET_SIZE;
use crate::settings::Training;

/// A validation split: `images` training images held out, stratified by
/// class, drawn with `seed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidationSplit {
    /// Training images held out to validate on, in `1..60000`.
    pub images: usize,
    /// Which draw of them; another seed holds out other images.
    pub seed: u64,
}

impl ValidationSplit {
    /// `(key, value)` of each setting, in the order of the file format, as
    /// `RunConfig::settings` lists them.
    pub fn settings(&self) -> [(&'static str, String); 2] {
        [
            ("validation", self.images.to_string()),
            ("validation_seed", self.seed.to_string()),
        ]
    }
}

/// `training.validation` and `training.validation_seed`, checked: the split
/// must leave at least `batch_size` images to train on (of the
/// `train_limit` the run trains on, the remaining images' first ones).
pub(crate) fn resolve(
    t: &Training,
    batch_size: usize,
) -> Result<Option<ValidationSplit>, ExperimentError> {
    let Some(images) = &t.validation else {
        if let Some(seed) = &t.validation_seed {
            return Err(seed.invalid(
                "training.validation_seed",
                "a seed for a validation split, but no split is set: add `validation = 10000` \
                 (training images to hold out) to [training], or remove the seed",
            ));
        }
        return Ok(None);
    };
    let max = TRAIN_SET_SIZE as i64 - 1;
    if !(1..=max).contains(&images.value) {
        return Err(images.invalid(
            "training.validation",
            format!(
                "expected a number of training images to hold out for validation in 1..={max} \
                 (e.g. 10000; remove the key to validate on the official test set, as the paper \
                 does), got {}",
                images.value
            ),
        ));
    }
    let left = TRAIN_SET_SIZE - images.value as usize;
    if left < batch_size {
        return Err(images.invalid(
            "training.validation",
            format!(
                "holding out {} images leaves {left} to train on, fewer than one batch of \
                 {batch_size}; hold out fewer images or make `batch_size` smaller",
                images.value
            ),
        ));
    }
    let seed = match &t.validation_seed {
        None => 0,
        Some(at) if at.value >= 0 => at.value as u64,
        Some(at) => {
            return Err(at.invalid(
                "training.validation_seed",
                format!(
                    "expected a seed >= 0 for the draw of the validation images, got {}",
                    at.value
                ),
            ));
        }
    };
    Ok(Some(ValidationSplit {
        images: images.value as usize,
        seed,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ExperimentError, RunConfig, load_file, run_id};

    /// Table I as a file, with `training` lines added to its [training].
    fn load(training: &str) -> Result<RunConfig, ExperimentError> {
        let text = format!(
            "[model]\nhidden = [128, 64]\ndropout = 0.2\n\n[optimizer]\nkind = \"sgd\"\nlr = 0.001\n\n\
             [training]\nbatch_size = 100\nepochs = 30\n{training}"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("split.toml");
        std::fs::write(&path, text).unwrap();
        load_file(&path).map(|mut e| e.remove(0).config)
    }

    const PAPER_JSON: &str = r#"{"model":{"hidden":[128,64],"dropout":0.2,"init":"pytorch-linear"},"input":{"mean":0.5,"std":0.5},"optimizer":{"kind":"sgd","lr":0.001,"momentum":0.0,"dampening":0.0,"nesterov":false,"weight_decay":0.0},"batch_size":100,"epochs":30,"train_limit":null,"val_limit":null}"#;

    #[test]
    fn no_split_is_the_paper_s_setup_with_its_run_ids() {
        let paper = load("").unwrap();
        assert_eq!(paper, RunConfig::table_one());
        assert_eq!(paper.validation, None);
        let json = serde_json::to_string(&paper).unwrap();
        assert!(!json.contains("validation"), "{json}");
        // The identity JSON of Table I, byte for byte as every version
        // before the setting wrote it.
        assert_eq!(json, PAPER_JSON);
        assert!(
            !paper
                .settings()
                .iter()
                .any(|(k, _)| k.contains("validation"))
        );
    }

    #[test]
    fn a_split_is_recorded_in_the_settings_and_the_run_id() {
        let split = load("validation = 10000\n").unwrap();
        assert_eq!(
            split.validation,
            Some(ValidationSplit {
                images: 10_000,
                seed: 0
            })
        );
        let json = serde_json::to_string(&split).unwrap();
        assert!(
            json.ends_with(r#","validation":{"images":10000,"seed":0}}"#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<RunConfig>(&json).unwrap(), split);
        let settings = split.settings();
        let at = settings
            .iter()
            .position(|(k, _)| k == "training.validation")
            .unwrap();
        assert_eq!(settings[at].1, "10000");
        assert_eq!(
            settings[at + 1],
            ("training.validation_seed".into(), "0".into())
        );
        let seeded = load("validation = 10000\nvalidation_seed = 7\n").unwrap();
        assert_eq!(seeded.validation.unwrap().seed, 7);
        let ids: Vec<String> = [RunConfig::table_one(), split, seeded]
            .iter()
            .map(|c| run_id(c, 0, &[], 1))
            .collect();
        assert!(
            ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2],
            "{ids:?}"
        );
    }

    #[test]
    fn bad_splits_name_file_line_column_and_key() {
        let cases = [
            ("validation = 0\n", "training.validation", "in 1..=59999"),
            (
                "validation = 60000\n",
                "training.validation",
                "in 1..=59999",
            ),
            ("validation = -5\n", "training.validation", "got -5"),
            (
                "validation = 59950\n",
                "training.validation",
                "leaves 50 to train on",
            ),
            (
                "validation = 100\nvalidation_seed = -1\n",
                "training.validation_seed",
                "seed >= 0",
            ),
            (
                "validation_seed = 3\n",
                "training.validation_seed",
                "no split is set",
            ),
        ];
        for (lines, key, says) in cases {
            let err = load(lines).unwrap_err();
            let ExperimentError::Invalid {
                line,
                column,
                key: k,
                ..
            } = &err
            else {
                panic!("{lines}: expected Invalid, got {err}");
            };
            let written = lines
                .lines()
                .find(|l| l.starts_with(key.trim_start_matches("training.")));
            let want_line = 12 + lines.lines().position(|l| Some(l) == written).unwrap();
            let msg = err.to_string();
            assert_eq!((k.as_str(), *line), (key, want_line), "{msg}");
            assert!(*column > 1, "{msg}");
            assert!(msg.contains(says) && msg.contains("split.toml:"), "{msg}");
        }
        // The wrong type is the TOML reader's error, with its place.
        let msg = load("validation = \"all\"\n").unwrap_err().to_string();
        assert!(
            msg.contains("validation") && msg.contains("line 12"),
            "{msg}"
        );
    }
}
