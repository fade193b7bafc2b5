//! From merged settings to an explicit [`RunConfig`]: each value read,
//! range-checked against where it was written, or defaulted as PyTorch
//! would.

use toml::Spanned;

use crate::config::{InputConfig, ModelConfig, RunConfig};
use crate::declare::{SettingError, expected_word};
use crate::error::ExperimentError;
use crate::experiment::{TRAIN_SET_SIZE, VAL_SET_SIZE};
use crate::optimizer::{OptimizerConfig, optimizer_kind};
use crate::schedule::{
    EarlyStopping, Keep, Mode, Monitor, ScheduleConfig, ScheduleKind, Warmup, schedule_fields_of,
};
use crate::settings::{KindTable, Settings, WrittenStopping};
use crate::source::{Loc, Located, SourceFile};
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
        slot: &'s Option<Located<T>>,
        key: &str,
        example: &str,
    ) -> Result<&'s Located<T>, ExperimentError> {
        slot.as_ref().ok_or_else(|| self.missing(key, example))
    }

    fn float(
        &self,
        slot: &Option<Located<f64>>,
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
        slot: &Option<Located<i64>>,
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
        slot: &Option<Located<i64>>,
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
            validation: crate::validation::resolve(&s.training, training.batch_size)?,
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
fn seeds(slot: &Option<Located<Vec<i64>>>) -> Result<Vec<u64>, ExperimentError> {
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
        return Err(unknown_kind("optimizer", &kind, OptimizerConfig::NAMES));
    };
    if let Some((field, loc)) = o.given().find(|(f, _)| !spec.fields.contains(f)) {
        return Err(loc.invalid(
            &format!("optimizer.{field}"),
            format!("not a setting of optimizer `{}`; remove it", kind.value),
        ));
    }
    let get = |field: &str| o.get(field).map(|at| at.value.clone());
    let resolved = OptimizerConfig::resolve(&kind.value, &get).expect("the kind is declared");
    resolved.map_err(|e| setting_error(r, "optimizer", o, Some(&kind), e))
}

/// `kind = "..."` naming no declared kind of `table`, with the kinds there
/// are and the nearest.
fn unknown_kind(table: &str, kind: &Located<String>, names: &[&str]) -> ExperimentError {
    let hint = nearest(&kind.value, names)
        .map(|n| format!("; did you mean \"{n}\"?"))
        .unwrap_or_default();
    let quoted: Vec<String> = names.iter().map(|k| format!("\"{k}\"")).collect();
    kind.invalid(
        &format!("{table}.kind"),
        format!(
            "unknown {table} `{}`: expected one of {}{hint}",
            kind.value,
            quoted.join(", ")
        ),
    )
}

/// A setting of `table` that did not resolve: missing (what to add), or
/// invalid at the value (or, for a rule between settings, at the kind).
fn setting_error(
    r: &Reader<'_>,
    table: &str,
    t: &KindTable,
    kind: Option<&Located<String>>,
    e: SettingError,
) -> ExperimentError {
    match e {
        SettingError::Missing { field, example } => r.missing(&format!("{table}.{field}"), example),
        SettingError::Invalid { field, message } => {
            let key = format!("{table}.{field}");
            match (t.get(field), kind) {
                (Some(at), _) => at.invalid(&key, message),
                (None, Some(k)) => k.invalid(&key, message),
                (None, None) => r.missing(&key, &message),
            }
        }
    }
}

/// `[schedule]`: a declared kind of `torch.optim.lr_scheduler` with
/// PyTorch's defaults, and an optional linear warmup; constant when the
/// files say nothing.
fn schedule(
    r: &Reader<'_>,
    t: &KindTable,
    epochs: usize,
) -> Result<ScheduleConfig, ExperimentError> {
    let kind_at = t.kind("schedule").transpose()?;
    let kind = kind_at.as_ref().map_or("constant", |k| k.value.as_str());
    let Some(fields) = schedule_fields_of(kind) else {
        let at = kind_at.as_ref().expect("the default kind is declared");
        return Err(unknown_kind("schedule", at, ScheduleKind::NAMES));
    };
    if let Some((field, loc)) = t.given().find(|(f, _)| !fields.contains(f)) {
        let why = match &kind_at {
            Some(_) => format!("not a setting of schedule `{kind}`; remove it"),
            None => "set `kind` first: without it the schedule is constant".into(),
        };
        return Err(loc.invalid(&format!("schedule.{field}"), why));
    }
    let get = |field: &str| t.get(field).map(|at| at.value.clone());
    let error = |e| setting_error(r, "schedule", t, kind_at.as_ref(), e);
    let kind = ScheduleKind::resolve(kind, &get, epochs)
        .expect("the kind is declared")
        .map_err(error)?;
    let warmup = Warmup::resolve(&get).map_err(error)?;
    Ok(ScheduleConfig { kind, warmup })
}

/// `[training.early_stopping]`, Lightning's `EarlyStopping` defaults for
/// what it does not say; `None` when no file has the table. A mistake is
/// reported at its value.
fn early_stopping(
    slot: &Option<Located<WrittenStopping>>,
) -> Result<Option<EarlyStopping>, ExperimentError> {
    let Some(at) = slot else {
        return Ok(None);
    };
    let w = &at.value;
    let key = |f: &str| format!("training.early_stopping.{f}");
    let here = |span: std::ops::Range<usize>| Loc::new(&at.loc.file, span);
    let word = |f: &str, written: &Spanned<String>, names: &[&str]| {
        let value = toml::Value::String(written.get_ref().clone());
        here(written.span()).invalid(&key(f), expected_word(&value, names))
    };
    let monitor = match &w.monitor {
        None => {
            let monitors = Monitor::NAMES.join("\" or \"");
            return Err(at.invalid(&key("monitor"), format!("required: \"{monitors}\"")));
        }
        Some(m) => Monitor::parse(m.get_ref()).ok_or_else(|| word("monitor", m, Monitor::NAMES))?,
    };
    let mut es = EarlyStopping::new(monitor);
    if let Some(p) = &w.patience {
        es.patience = usize::try_from(*p.get_ref())
            .ok()
            .filter(|&p| p >= 1)
            .ok_or_else(|| {
                here(p.span()).invalid(
                    &key("patience"),
                    format!("expected a number of epochs >= 1, got {}", p.get_ref()),
                )
            })?;
    }
    if let Some(d) = &w.min_delta {
        es.min_delta = *d.get_ref();
    }
    if let Some(m) = &w.mode {
        es.mode = Mode::parse(m.get_ref()).ok_or_else(|| word("mode", m, Mode::NAMES))?;
    }
    if let Some(k) = &w.keep {
        es.keep = Keep::parse(k.get_ref()).ok_or_else(|| word("keep", k, Keep::NAMES))?;
    }
    match es.validate() {
        None => Ok(Some(es)),
        Some((field, message)) => {
            let at_value = (field == "min_delta")
                .then_some(w.min_delta.as_ref())
                .flatten();
            Err(match at_value {
                Some(d) => here(d.span()).invalid(&key(field), message),
                None => at.invalid(&key(field), message),
            })
        }
    }
}
