//! From merged settings to an explicit [`RunConfig`]: each value read,
//! range-checked against where it was written, or defaulted as PyTorch
//! would.

use crate::config::{InputConfig, ModelConfig, RunConfig};
use crate::error::ExperimentError;
use crate::experiment::{TRAIN_SET_SIZE, VAL_SET_SIZE};
use crate::optimizer::{OPTIMIZER_KINDS, OptimizerConfig, SettingError, optimizer_kind};
use crate::settings::{Optimizer, Settings};
use crate::source::{At, SourceFile};
use crate::suggest::nearest;

/// Reads and range-checks the value of one setting, or its default, or says
/// that it is missing.
struct Reader<'a> {
    file: &'a SourceFile,
}

impl Reader<'_> {
    fn missing(&self, key: &str, example: &str) -> ExperimentError {
        ExperimentError::Missing {
            path: self.file.path.clone(),
            key: key.to_string(),
            example: example.to_string(),
        }
    }

    fn required<'s, T>(
        &self,
        slot: &'s Option<At<T>>,
        key: &str,
        example: &str,
    ) -> Result<&'s At<T>, ExperimentError> {
        slot.as_ref().ok_or_else(|| self.missing(key, example))
    }

    fn float(
        &self,
        slot: &Option<At<f64>>,
        key: &str,
        default: Option<f64>,
        example: &str,
        check: impl Fn(f64) -> bool,
        expected: &str,
    ) -> Result<f64, ExperimentError> {
        match slot {
            None => default.ok_or_else(|| self.missing(key, example)),
            Some(at) if at.value.is_finite() && check(at.value) => Ok(at.value),
            Some(at) => Err(at.invalid(key, format!("expected {expected}, got {}", at.value))),
        }
    }

    fn int(
        &self,
        slot: &Option<At<i64>>,
        key: &str,
        example: &str,
        range: std::ops::RangeInclusive<i64>,
        expected: &str,
    ) -> Result<i64, ExperimentError> {
        let at = self.required(slot, key, example)?;
        if range.contains(&at.value) {
            Ok(at.value)
        } else {
            Err(at.invalid(key, format!("expected {expected}, got {}", at.value)))
        }
    }

    fn optional_int(
        &self,
        slot: &Option<At<i64>>,
        key: &str,
        max: i64,
        expected: &str,
    ) -> Result<Option<usize>, ExperimentError> {
        match slot {
            None => Ok(None),
            Some(_) => self
                .int(slot, key, "", 1..=max, expected)
                .map(|x| Some(x as usize)),
        }
    }
}

/// The explicit settings and seeds, with PyTorch's defaults where the files
/// are silent; every value checked against its range. `file` is the file
/// being loaded, named when a setting is missing altogether.
pub(crate) fn finish(
    s: &Settings,
    file: &SourceFile,
) -> Result<(RunConfig, Vec<u64>), ExperimentError> {
    let r = Reader { file };
    let model = model(&r, s)?;
    let input = input(&r, s)?;
    let optimizer = optimizer(&r, &s.optimizer)?;
    let (training, seeds) = training(&r, s)?;
    Ok((
        RunConfig {
            model,
            input,
            optimizer,
            batch_size: training.batch_size,
            epochs: training.epochs,
            train_limit: training.train_limit,
            val_limit: training.val_limit,
        },
        seeds,
    ))
}

/// `[model]`, checked.
fn model(r: &Reader<'_>, s: &Settings) -> Result<ModelConfig, ExperimentError> {
    let hidden_at = r.required(&s.model.hidden, "model.hidden", "hidden = [128, 64]")?;
    if hidden_at.value.is_empty() {
        return Err(hidden_at.invalid(
            "model.hidden",
            "expected at least one hidden layer, e.g. [128, 64]",
        ));
    }
    if let Some(bad) = hidden_at
        .value
        .iter()
        .find(|&&x| !(1..=1 << 20).contains(&x))
    {
        return Err(hidden_at.invalid(
            "model.hidden",
            format!("expected layer widths >= 1, got {bad}"),
        ));
    }
    let hidden = hidden_at.value.iter().map(|&x| x as usize).collect();
    let dropout = r.float(
        &s.model.dropout,
        "model.dropout",
        None,
        "dropout = 0.2",
        |x| (0.0..1.0).contains(&x),
        "a probability in [0, 1)",
    )?;
    let init = match &s.model.init {
        None => "pytorch-linear".to_string(),
        Some(at) if at.value == "pytorch-linear" => at.value.clone(),
        Some(at) => {
            return Err(at.invalid(
                "model.init",
                format!(
                    "unknown initialisation `{}`; expected \"pytorch-linear\" (U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases)",
                    at.value
                ),
            ));
        }
    };

    Ok(ModelConfig {
        hidden,
        dropout,
        init,
    })
}

/// `[input]`, with the usual tutorial's Normalize((0.5,), (0.5,)) by default.
fn input(r: &Reader<'_>, s: &Settings) -> Result<InputConfig, ExperimentError> {
    let mean = r.float(
        &s.input.mean,
        "input.mean",
        Some(0.5),
        "mean = 0.5",
        |_| true,
        "a number",
    )?;
    let std = r.float(
        &s.input.std,
        "input.std",
        Some(0.5),
        "std = 0.5",
        |x| x > 0.0,
        "a number > 0",
    )?;

    Ok(InputConfig { mean, std })
}

/// `[training]` but the seeds, resolved.
struct Training {
    batch_size: usize,
    epochs: usize,
    train_limit: Option<usize>,
    val_limit: Option<usize>,
}

/// `[training]`, checked; the seeds default to 0, 1, 2.
fn training(r: &Reader<'_>, s: &Settings) -> Result<(Training, Vec<u64>), ExperimentError> {
    let t = &s.training;
    let train_limit = r.optional_int(
        &t.train_limit,
        "training.train_limit",
        TRAIN_SET_SIZE as i64,
        "a number of training images in 1..=60000",
    )?;
    let val_limit = r.optional_int(
        &t.val_limit,
        "training.val_limit",
        VAL_SET_SIZE as i64,
        "a number of test images in 1..=10000",
    )?;
    let train_size = train_limit.unwrap_or(TRAIN_SET_SIZE) as i64;
    let batch_size = r.int(
        &t.batch_size,
        "training.batch_size",
        "batch_size = 100",
        1..=train_size,
        &format!("a batch size in 1..={train_size} (the training set size)"),
    )? as usize;
    let epochs = r.int(
        &t.epochs,
        "training.epochs",
        "epochs = 30",
        1..=100_000,
        "a number of epochs >= 1",
    )? as usize;
    let seeds = seeds(&t.seeds)?;
    let training = Training {
        batch_size,
        epochs,
        train_limit,
        val_limit,
    };
    Ok((training, seeds))
}

/// `training.seeds`: at least one, none negative, all distinct.
fn seeds(slot: &Option<At<Vec<i64>>>) -> Result<Vec<u64>, ExperimentError> {
    let Some(at) = slot else {
        return Ok(vec![0, 1, 2]);
    };
    if at.value.is_empty() {
        return Err(at.invalid(
            "training.seeds",
            "expected at least one seed, e.g. [0, 1, 2]",
        ));
    }
    if let Some(bad) = at.value.iter().find(|&&s| s < 0) {
        return Err(at.invalid("training.seeds", format!("expected seeds >= 0, got {bad}")));
    }
    let mut seen = at.value.clone();
    seen.sort_unstable();
    seen.dedup();
    if seen.len() != at.value.len() {
        return Err(at.invalid("training.seeds", "seeds must be distinct"));
    }
    Ok(at.value.iter().map(|&s| s as u64).collect())
}

/// The optimizer; its kind is checked first, since which other keys are
/// allowed, required or defaulted depends on it.
fn optimizer(r: &Reader<'_>, o: &Optimizer) -> Result<OptimizerConfig, ExperimentError> {
    let kind = match o.kind() {
        None => return Err(r.missing("optimizer.kind", "kind = \"sgd\"")),
        Some(kind) => kind?,
    };
    let Some(spec) = optimizer_kind(&kind.value) else {
        let kinds: Vec<&str> = OPTIMIZER_KINDS.iter().map(|k| k.kind).collect();
        let hint = nearest(&kind.value, &kinds)
            .map(|n| format!("; did you mean \"{n}\"?"))
            .unwrap_or_default();
        let quoted: Vec<String> = kinds.iter().map(|k| format!("\"{k}\"")).collect();
        return Err(kind.invalid(
            "optimizer.kind",
            format!(
                "unknown optimizer `{}`: expected one of {}{hint}",
                kind.value,
                quoted.join(", ")
            ),
        ));
    };
    if let Some((field, loc)) = o.given().find(|(f, _)| !spec.fields.contains(f)) {
        return Err(loc.invalid(
            &format!("optimizer.{field}"),
            format!("not a setting of optimizer `{}`; remove it", kind.value),
        ));
    }
    let get = |field: &str| o.get(field).map(|at| at.value.clone());
    match OptimizerConfig::resolve(&kind.value, &get).expect("the kind is declared") {
        Ok(config) => Ok(config),
        Err(SettingError::Missing { field, example }) => {
            Err(r.missing(&format!("optimizer.{field}"), example))
        }
        Err(SettingError::Invalid { field, message }) => {
            let key = format!("optimizer.{field}");
            Err(match o.get(field) {
                Some(at) => at.invalid(&key, message),
                None => kind.invalid(&key, message),
            })
        }
    }
}
