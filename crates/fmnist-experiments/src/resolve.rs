//! From merged settings to an explicit [`RunConfig`]: each value read,
//! range-checked against where it was written, or defaulted as PyTorch
//! would.

use crate::config::{InputConfig, ModelConfig, RunConfig};
use crate::error::ExperimentError;
use crate::experiment::{TRAIN_SET_SIZE, VAL_SET_SIZE};
use crate::optimizer::{OPTIMIZER_KINDS, OptimizerConfig, SettingError, optimizer_kind};
use crate::schedule::{
    EarlyStopping, Keep, Mode, Monitor, ScheduleConfig, ScheduleKind, ThresholdMode, Warmup,
    defaults, schedule_kind_fields,
};
use crate::settings::{KindTable, Settings, WrittenStopping};
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
    let schedule = schedule(&r, &s.schedule, training.epochs)?;
    let early_stopping = early_stopping(&s.training.early_stopping)?;
    Ok((
        RunConfig {
            model,
            input,
            optimizer,
            batch_size: training.batch_size,
            epochs: training.epochs,
            train_limit: training.train_limit,
            val_limit: training.val_limit,
            schedule,
            early_stopping,
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
fn optimizer(r: &Reader<'_>, o: &KindTable) -> Result<OptimizerConfig, ExperimentError> {
    let kind = match o.kind("optimizer") {
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

/// A typed value of a kind-dependent table: `None` when not written, an
/// error at the value when it has another type.
fn typed<T>(
    t: &KindTable,
    table: &str,
    field: &str,
    expected: &str,
    read: impl Fn(&toml::Value) -> Option<T>,
) -> Result<Option<T>, ExperimentError> {
    match t.get(field) {
        None => Ok(None),
        Some(at) => read(&at.value).map(Some).ok_or_else(|| {
            at.invalid(
                &format!("{table}.{field}"),
                format!("expected {expected}, got {}", at.value),
            )
        }),
    }
}

fn count(v: &toml::Value) -> Option<usize> {
    v.as_integer().and_then(|i| usize::try_from(i).ok())
}

fn number(v: &toml::Value) -> Option<f64> {
    v.as_float().or_else(|| v.as_integer().map(|i| i as f64))
}

/// `[schedule]`: a kind of `torch.optim.lr_scheduler` with PyTorch's
/// defaults, and an optional linear warmup; constant when the files say
/// nothing.
fn schedule(
    r: &Reader<'_>,
    t: &KindTable,
    epochs: usize,
) -> Result<ScheduleConfig, ExperimentError> {
    let kind_at = t.kind("schedule").transpose()?;
    let kind = kind_at.as_ref().map_or("constant", |k| k.value.as_str());
    let unknown = || {
        let hint = nearest(kind, &ScheduleKind::NAMES)
            .map(|n| format!("; did you mean \"{n}\"?"))
            .unwrap_or_default();
        let at = kind_at.as_ref().expect("an unknown kind was written");
        at.invalid(
            "schedule.kind",
            format!(
                "unknown schedule `{kind}`: expected one of {}{hint}",
                ScheduleKind::NAMES.join(", ")
            ),
        )
    };
    let fields = schedule_kind_fields(kind).ok_or_else(unknown)?;
    if let Some((field, loc)) = t.given().find(|(f, _)| !fields.contains(f)) {
        let why = match &kind_at {
            Some(_) => format!("not a setting of schedule `{kind}`; remove it"),
            None => "set `kind` first: without it the schedule is constant".into(),
        };
        return Err(loc.invalid(&format!("schedule.{field}"), why));
    }
    let int = |f: &str| typed(t, "schedule", f, "a whole number >= 0", count);
    let float = |f: &str| typed(t, "schedule", f, "a number", number);
    let required = |v: Option<usize>, f: &str, example: &str| {
        v.ok_or_else(|| r.missing(&format!("schedule.{f}"), example))
    };
    let kind = match kind {
        "step" => ScheduleKind::Step {
            step_size: required(int("step_size")?, "step_size", "step_size = 10")?,
            gamma: float("gamma")?.unwrap_or(defaults::GAMMA),
        },
        "multistep" => {
            let list =
                |v: &toml::Value| v.as_array()?.iter().map(count).collect::<Option<Vec<_>>>();
            let milestones = typed(t, "schedule", "milestones", "a list of epochs", list)?;
            ScheduleKind::Multistep {
                milestones: milestones
                    .ok_or_else(|| r.missing("schedule.milestones", "milestones = [10, 20]"))?,
                gamma: float("gamma")?.unwrap_or(defaults::GAMMA),
            }
        }
        "exponential" => ScheduleKind::Exponential {
            gamma: float("gamma")?.ok_or_else(|| r.missing("schedule.gamma", "gamma = 0.9"))?,
        },
        "cosine" => ScheduleKind::Cosine {
            t_max: int("t_max")?.unwrap_or(epochs),
            eta_min: float("eta_min")?.unwrap_or(defaults::ETA_MIN),
        },
        "plateau" => plateau(t)?,
        _ => ScheduleKind::Constant,
    };
    let warmup = match int("warmup_epochs")? {
        None if t.get("start_factor").is_some() => {
            return Err(r.missing("schedule.warmup_epochs", "warmup_epochs = 2"));
        }
        None | Some(0) => None,
        Some(warmup_epochs) => Some(Warmup {
            warmup_epochs,
            start_factor: float("start_factor")?.unwrap_or(defaults::WARMUP_START_FACTOR),
        }),
    };
    let config = ScheduleConfig { kind, warmup };
    match config.validate() {
        None => Ok(config),
        Some((field, message)) => {
            let key = format!("schedule.{field}");
            Err(match (t.get(field), &kind_at) {
                (Some(at), _) => at.invalid(&key, message),
                (None, Some(k)) => k.invalid(&key, message),
                (None, None) => r.missing(&key, &message),
            })
        }
    }
}

/// `ReduceLROnPlateau`'s settings, PyTorch's defaults for the rest.
fn plateau(t: &KindTable) -> Result<ScheduleKind, ExperimentError> {
    let int = |f: &str| typed(t, "schedule", f, "a whole number >= 0", count);
    let float = |f: &str| typed(t, "schedule", f, "a number", number);
    let word = |f: &str, words: &[&str]| {
        let expected = format!("one of \"{}\"", words.join("\", \""));
        typed(t, "schedule", f, &expected, |v| {
            v.as_str().filter(|s| words.contains(s)).map(str::to_string)
        })
    };
    let mode = match word("mode", &["min", "max"])?.as_deref() {
        Some("max") => Mode::Max,
        _ => Mode::Min,
    };
    let threshold_mode = match word("threshold_mode", &["rel", "abs"])?.as_deref() {
        Some("abs") => ThresholdMode::Abs,
        _ => ThresholdMode::Rel,
    };
    Ok(ScheduleKind::Plateau {
        mode,
        factor: float("factor")?.unwrap_or(defaults::PLATEAU_FACTOR),
        patience: int("patience")?.unwrap_or(defaults::PLATEAU_PATIENCE),
        threshold: float("threshold")?.unwrap_or(defaults::PLATEAU_THRESHOLD),
        threshold_mode,
        cooldown: int("cooldown")?.unwrap_or(defaults::PLATEAU_COOLDOWN),
        min_lr: float("min_lr")?.unwrap_or(defaults::PLATEAU_MIN_LR),
        eps: float("eps")?.unwrap_or(defaults::PLATEAU_EPS),
    })
}

/// `[training.early_stopping]`, Lightning's `EarlyStopping` defaults for
/// what it does not say; `None` when no file has the table.
fn early_stopping(
    slot: &Option<At<WrittenStopping>>,
) -> Result<Option<EarlyStopping>, ExperimentError> {
    let Some(at) = slot else {
        return Ok(None);
    };
    let w = &at.value;
    let key = |f: &str| format!("training.early_stopping.{f}");
    let monitors = Monitor::NAMES.join("\" or \"");
    let monitor = match w.monitor.as_deref() {
        None => return Err(at.invalid(&key("monitor"), format!("required: \"{monitors}\""))),
        Some(m) => Monitor::parse(m).ok_or_else(|| {
            at.invalid(
                &key("monitor"),
                format!("expected \"{monitors}\", got \"{m}\""),
            )
        })?,
    };
    let mut es = EarlyStopping::new(monitor);
    if let Some(p) = w.patience {
        es.patience = usize::try_from(p).ok().filter(|&p| p >= 1).ok_or_else(|| {
            at.invalid(
                &key("patience"),
                format!("expected a number of epochs >= 1, got {p}"),
            )
        })?;
    }
    if let Some(d) = w.min_delta {
        es.min_delta = d;
    }
    match w.mode.as_deref() {
        None => {}
        Some("min") => es.mode = Mode::Min,
        Some("max") => es.mode = Mode::Max,
        Some(m) => {
            return Err(at.invalid(
                &key("mode"),
                format!("expected \"min\" or \"max\", got \"{m}\""),
            ));
        }
    }
    match w.keep.as_deref() {
        None => {}
        Some("last") => es.keep = Keep::Last,
        Some("best") => es.keep = Keep::Best,
        Some(k) => {
            return Err(at.invalid(
                &key("keep"),
                format!("expected \"last\" or \"best\", got \"{k}\""),
            ));
        }
    }
    match es.validate() {
        None => Ok(Some(es)),
        Some((field, message)) => Err(at.invalid(&key(field), message)),
    }
}
