//! Reading experiment files: the schema of one file, `extends` resolution on
//! typed settings, expansion of a `[sweep]` into its points, and validation of
//! every value against the file, line and column where it was written.
//!
//! A file's setting tables are read into partial structs (every field
//! optional and spanned), merged child over parent, and only then turned into
//! an explicit [`RunConfig`]. Adding a setting means adding one line to
//! `setting_tables!` and reading the value in `finish`.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use crate::config::{InputConfig, ModelConfig, OptimizerConfig, PaperRef, ReportMeta, RunConfig};
use crate::error::ExperimentError;
use crate::sweep::{self, SweepPoint, WrittenSweep};

/// The size of the Fashion-MNIST training set: no batch may be larger.
pub const TRAIN_SET_SIZE: usize = 60_000;
const VAL_SET_SIZE: usize = 10_000;

/// One experiment: a file without a `[sweep]`, or one point of a sweep file.
#[derive(Debug, Clone, PartialEq)]
pub struct Experiment {
    /// Unique name: the file stem unless the file sets `name`; for a sweep
    /// point, that name followed by the point, `lr-sweep[optimizer.lr=0.003]`.
    pub name: String,
    pub path: PathBuf,
    pub description: String,
    pub paper: PaperRef,
    pub report: ReportMeta,
    pub config: RunConfig,
    pub seeds: Vec<u64>,
    /// Set when the experiment is one point of a `[sweep]`.
    pub sweep: Option<SweepPoint>,
}

impl Experiment {
    pub fn label(&self) -> &str {
        self.report.label.as_deref().unwrap_or(&self.name)
    }
}

/// Loads every `*.toml` directly inside `dir` (sorted by file name), each
/// sweep file expanded into its points; ordered by `report.order`, then by
/// name, the points of a sweep staying together in their product order.
pub fn load_dir(dir: &Path) -> Result<Vec<Experiment>, ExperimentError> {
    let entries = std::fs::read_dir(dir).map_err(|source| ExperimentError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| ExperimentError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        if path.is_file() && path.extension().is_some_and(|e| e == "toml") {
            paths.push(path);
        }
    }
    paths.sort();
    let mut out: Vec<Experiment> = Vec::new();
    for path in paths {
        for exp in load_file(&path)? {
            if let Some(prev) = out.iter().find(|e| e.name == exp.name) {
                return Err(ExperimentError::DuplicateName {
                    name: exp.name.clone(),
                    first: prev.path.clone(),
                    second: exp.path.clone(),
                });
            }
            out.push(exp);
        }
    }
    out.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
    Ok(out)
}

fn sort_key(e: &Experiment) -> (i64, &str, usize) {
    let order = e.report.order.unwrap_or(i64::MAX);
    match &e.sweep {
        Some(p) => (order, &p.sweep, p.index),
        None => (order, &e.name, 0),
    }
}

/// Loads one experiment file and everything it extends: one experiment, or
/// for a file with a `[sweep]`, one per point in product order.
pub fn load_file(path: &Path) -> Result<Vec<Experiment>, ExperimentError> {
    let (doc, file) = read_doc(path)?;
    let Doc {
        extends,
        name,
        description,
        paper,
        report,
        model,
        input,
        optimizer,
        training,
        sweep,
    } = doc;
    let own = Settings::written(model, input, optimizer, training, &file);
    let settings = inherit(own, extends, &file, &mut Vec::new())?;
    let name = match &name {
        Some(n) => {
            let v = n.get_ref().trim();
            if v.is_empty() || v.contains(['/', '\\']) {
                return Err(file.invalid(
                    n.span(),
                    "name",
                    "expected a non-empty name without slashes",
                ));
            }
            v.to_string()
        }
        None => path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    let file_meta = FileMeta {
        name,
        path: path.to_path_buf(),
        description: description.unwrap_or_default(),
        paper: paper.unwrap_or_default(),
        report: report.unwrap_or_default(),
    };
    match sweep {
        None => {
            let (config, seeds) = finish(&settings, &file)?;
            Ok(vec![Experiment {
                name: file_meta.name,
                path: file_meta.path,
                description: file_meta.description,
                paper: file_meta.paper,
                report: file_meta.report,
                config,
                seeds,
                sweep: None,
            }])
        }
        Some(written) => sweep::Sweep::parse(written, &file)?.expand(&file_meta, &settings, &file),
    }
}

/// What a file says about itself rather than about training; a sweep's
/// points share it.
#[derive(Debug)]
pub(crate) struct FileMeta {
    pub(crate) name: String,
    pub(crate) path: PathBuf,
    pub(crate) description: String,
    pub(crate) paper: PaperRef,
    pub(crate) report: ReportMeta,
}

/// A file's text, kept to turn byte spans into lines and columns.
#[derive(Debug)]
pub(crate) struct SourceFile {
    pub(crate) path: PathBuf,
    text: String,
}

impl SourceFile {
    pub(crate) fn line_col(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        (line, column)
    }

    pub(crate) fn invalid(
        &self,
        span: Range<usize>,
        key: &str,
        message: impl Into<String>,
    ) -> ExperimentError {
        let (line, column) = self.line_col(span.start);
        ExperimentError::Invalid {
            path: self.path.clone(),
            line,
            column,
            key: key.to_string(),
            message: message.into(),
        }
    }
}

/// Where a value was written: a file and a byte span in it.
#[derive(Debug, Clone)]
pub(crate) struct Loc {
    pub(crate) file: Arc<SourceFile>,
    pub(crate) span: Range<usize>,
}

impl Loc {
    pub(crate) fn new(file: &Arc<SourceFile>, span: Range<usize>) -> Loc {
        Loc {
            file: file.clone(),
            span,
        }
    }

    pub(crate) fn invalid(&self, key: &str, message: impl Into<String>) -> ExperimentError {
        self.file.invalid(self.span.clone(), key, message)
    }
}

/// A value with the place it was written, so that an inherited or swept value
/// that fails validation points at its own file and line.
#[derive(Debug, Clone)]
pub(crate) struct At<T> {
    pub(crate) value: T,
    pub(crate) loc: Loc,
}

impl<T> At<T> {
    fn written(value: Spanned<T>, file: &Arc<SourceFile>) -> At<T> {
        let span = value.span();
        At {
            value: value.into_inner(),
            loc: Loc::new(file, span),
        }
    }

    fn invalid(&self, key: &str, message: impl Into<String>) -> ExperimentError {
        self.loc.invalid(key, message)
    }
}

/// Declares each setting table once. For `[table] Written => Layer { field: T }`
/// it makes `Written` (the table as one file writes it: every field optional,
/// spanned, unknown keys rejected) and `Layer` (the same after merging files:
/// each field remembers its file), and `Settings`, one `Layer` per table,
/// whose `KEYS` are the dotted names `[sweep]` accepts.
macro_rules! setting_tables {
    ($( [$table:ident] $Written:ident => $Layer:ident { $( $field:ident: $ty:ty, )* } )*) => {
        $(
            #[derive(Debug, Clone, Default, Deserialize)]
            #[serde(deny_unknown_fields)]
            struct $Written {
                $( $field: Option<Spanned<$ty>>, )*
            }

            #[derive(Debug, Clone, Default)]
            pub(crate) struct $Layer {
                $( $field: Option<At<$ty>>, )*
            }

            impl $Layer {
                fn written(table: $Written, file: &Arc<SourceFile>) -> Self {
                    Self { $( $field: table.$field.map(|v| At::written(v, file)), )* }
                }

                /// `self` where it says something, else `parent`.
                fn over(self, parent: Self) -> Self {
                    Self { $( $field: self.$field.or(parent.$field), )* }
                }

                /// The fields that have a value, with where it was written.
                #[allow(dead_code, reason = "generated for every table; only [optimizer] depends on a kind today")]
                fn given(&self) -> Vec<(&'static str, &Loc)> {
                    let mut out = Vec::new();
                    $( if let Some(at) = &self.$field { out.push((stringify!($field), &at.loc)); } )*
                    out
                }

                #[allow(dead_code, reason = "generated for every table; only [optimizer] depends on a kind today")]
                fn clear(&mut self, field: &str) {
                    match field {
                        $( stringify!($field) => self.$field = None, )*
                        _ => {}
                    }
                }
            }
        )*

        /// Every setting that affects the numbers, as far as the files say.
        #[derive(Debug, Clone, Default)]
        pub(crate) struct Settings {
            $( $table: $Layer, )*
        }

        impl Settings {
            /// Every setting's dotted name, in the order of the file format.
            pub(crate) const KEYS: &[&str] = &[
                $( $( concat!(stringify!($table), ".", stringify!($field)), )* )*
            ];

            fn written($( $table: $Written, )* file: &Arc<SourceFile>) -> Settings {
                Settings { $( $table: $Layer::written($table, file), )* }
            }

            /// Sets the setting `key` (dotted) to `value`, typed as the file
            /// format types it. `None` if there is no such setting; `Some(Err)`
            /// with the type mismatch if the value does not fit.
            pub(crate) fn set(
                &mut self,
                key: &str,
                value: &toml::Value,
                loc: &Loc,
            ) -> Option<Result<(), String>> {
                match key {
                    $( $(
                        concat!(stringify!($table), ".", stringify!($field)) => Some(
                            <$ty>::deserialize(value.clone())
                                .map(|v| self.$table.$field = Some(At { value: v, loc: loc.clone() }))
                                .map_err(|e| e.to_string().trim().to_string()),
                        ),
                    )* )*
                    _ => None,
                }
            }
        }
    };
}

setting_tables! {
    [model] WrittenModel => Model {
        hidden: Vec<i64>,
        dropout: f64,
        init: String,
    }
    [input] WrittenInput => Input {
        mean: f64,
        std: f64,
    }
    [optimizer] WrittenOptimizer => Optimizer {
        kind: String,
        lr: f64,
        momentum: f64,
        dampening: f64,
        nesterov: bool,
        weight_decay: f64,
        betas: Vec<f64>,
        eps: f64,
    }
    [training] WrittenTraining => Training {
        batch_size: i64,
        epochs: i64,
        seeds: Vec<i64>,
        train_limit: i64,
        val_limit: i64,
    }
}

/// The optimizer kinds and the `[optimizer]` fields each one takes.
pub(crate) const OPTIMIZER_KINDS: [(&str, &[&str]); 2] = [
    (
        "sgd",
        &[
            "kind",
            "lr",
            "momentum",
            "dampening",
            "nesterov",
            "weight_decay",
        ],
    ),
    ("adam", &["kind", "lr", "betas", "eps", "weight_decay"]),
];

fn kind_fields(kind: &str) -> Option<&'static [&'static str]> {
    OPTIMIZER_KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, fields)| *fields)
}

impl Settings {
    /// `self` (a file) over `parent` (what it extends). A file that names
    /// another optimizer kind starts its optimizer settings afresh: SGD's
    /// momentum means nothing to Adam, and Adam's lr need not be SGD's.
    fn over(self, parent: Settings) -> Settings {
        let new_kind = match (&self.optimizer.kind, &parent.optimizer.kind) {
            (Some(k), Some(p)) => k.value != p.value,
            (Some(_), None) => true,
            (None, _) => false,
        };
        Settings {
            model: self.model.over(parent.model),
            input: self.input.over(parent.input),
            optimizer: if new_kind {
                self.optimizer
            } else {
                self.optimizer.over(parent.optimizer)
            },
            training: self.training.over(parent.training),
        }
    }

    /// `self` (a swept value) over `base`, table by table; unlike `over`, a
    /// new kind keeps the settings `keep_optimizer_fields_of` left.
    pub(crate) fn over_sweep(self, base: Settings) -> Settings {
        Settings {
            model: self.model.over(base.model),
            input: self.input.over(base.input),
            optimizer: self.optimizer.over(base.optimizer),
            training: self.training.over(base.training),
        }
    }

    /// Drops the optimizer settings that `kind` does not take, so that its
    /// defaults apply (a sweep over `optimizer.kind`). An unknown kind keeps
    /// everything: `finish` reports it.
    pub(crate) fn keep_optimizer_fields_of(&mut self, kind: &str) {
        let Some(fields) = kind_fields(kind) else {
            return;
        };
        let foreign: Vec<&str> = (self.optimizer.given().into_iter())
            .map(|(f, _)| f)
            .filter(|f| !fields.contains(f))
            .collect();
        for f in foreign {
            self.optimizer.clear(f);
        }
    }
}

// The on-disk schema of one file. Every field is optional because a file may
// inherit it; `deny_unknown_fields` turns typos into errors with a position.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    extends: Option<Spanned<String>>,
    name: Option<Spanned<String>>,
    description: Option<String>,
    paper: Option<PaperRef>,
    report: Option<ReportMeta>,
    #[serde(default)]
    model: WrittenModel,
    #[serde(default)]
    input: WrittenInput,
    #[serde(default)]
    optimizer: WrittenOptimizer,
    #[serde(default)]
    training: WrittenTraining,
    sweep: Option<Spanned<WrittenSweep>>,
}

fn read_doc(path: &Path) -> Result<(Doc, Arc<SourceFile>), ExperimentError> {
    let text = std::fs::read_to_string(path).map_err(|source| ExperimentError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let doc: Doc = toml::from_str(&text).map_err(|e| ExperimentError::Parse {
        path: path.to_path_buf(),
        message: explain_toml_error(&e.to_string()),
    })?;
    let file = Arc::new(SourceFile {
        path: path.to_path_buf(),
        text,
    });
    Ok((doc, file))
}

/// Adds "did you mean" to serde's unknown-field and unknown-variant messages.
fn explain_toml_error(message: &str) -> String {
    let Some(start) = message
        .find("unknown field `")
        .map(|i| i + "unknown field `".len())
    else {
        return message.trim_end().to_string();
    };
    let Some(len) = message[start..].find('`') else {
        return message.trim_end().to_string();
    };
    let unknown = &message[start..start + len];
    let expected: Vec<&str> = message[start + len..]
        .split('`')
        .skip(2)
        .step_by(2)
        .collect();
    match nearest(unknown, &expected) {
        Some(best) => format!("{}\ndid you mean `{best}`?", message.trim_end()),
        None => message.trim_end().to_string(),
    }
}

/// The candidate closest to `word` by edit distance, if it is close enough to
/// be a plausible typo: what every "did you mean" of the workspace suggests.
pub fn nearest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 2).max(1))
        .min()
        .map(|(_, c)| c)
}

/// Levenshtein distance: the fewest single-character insertions, deletions
/// and substitutions that turn `a` into `b`.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// `own` (the settings `file` writes) over everything `extends` brings in.
fn inherit(
    own: Settings,
    extends: Option<Spanned<String>>,
    file: &Arc<SourceFile>,
    chain: &mut Vec<PathBuf>,
) -> Result<Settings, ExperimentError> {
    let canonical = file
        .path
        .canonicalize()
        .unwrap_or_else(|_| file.path.clone());
    if chain.contains(&canonical) {
        let mut cycle = chain.clone();
        cycle.push(canonical);
        return Err(ExperimentError::ExtendsCycle { chain: cycle });
    }
    chain.push(canonical);
    let parent = match extends {
        None => Settings::default(),
        Some(ext) => {
            let base = file.path.parent().unwrap_or(Path::new("."));
            let target = base.join(ext.get_ref());
            if !target.is_file() {
                let (line, column) = file.line_col(ext.span().start);
                return Err(ExperimentError::ExtendsNotFound {
                    path: file.path.clone(),
                    line,
                    column,
                    target,
                    reason: "no such file (paths are relative to the extending file)".into(),
                });
            }
            let (doc, parent_file) = read_doc(&target)?;
            // A sweep is many experiments; which one would be extended is
            // anyone's guess, so this is refused rather than half-inherited.
            if doc.sweep.is_some() {
                return Err(file.invalid(
                    ext.span(),
                    "extends",
                    format!(
                        "{} has a [sweep] table: a sweep file cannot be extended; extend the file it extends{}, or copy the point's settings",
                        target.display(),
                        doc.extends
                            .as_ref()
                            .map(|e| format!(" (\"{}\")", e.get_ref()))
                            .unwrap_or_default()
                    ),
                ));
            }
            let written = Settings::written(
                doc.model,
                doc.input,
                doc.optimizer,
                doc.training,
                &parent_file,
            );
            inherit(written, doc.extends, &parent_file, chain)?
        }
    };
    chain.pop();
    Ok(own.over(parent))
}

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

    let optimizer = optimizer(&r, &s.optimizer)?;

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
    let seeds = match &t.seeds {
        None => vec![0, 1, 2],
        Some(at) => {
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
            at.value.iter().map(|&s| s as u64).collect()
        }
    };

    Ok((
        RunConfig {
            model: ModelConfig {
                hidden,
                dropout,
                init,
            },
            input: InputConfig { mean, std },
            optimizer,
            batch_size,
            epochs,
            train_limit,
            val_limit,
        },
        seeds,
    ))
}

/// The optimizer; its kind is checked first, since which other keys are
/// allowed, required or defaulted depends on it.
fn optimizer(r: &Reader<'_>, o: &Optimizer) -> Result<OptimizerConfig, ExperimentError> {
    let kind = r.required(&o.kind, "optimizer.kind", "kind = \"sgd\"")?;
    let Some(fields) = kind_fields(&kind.value) else {
        let kinds: Vec<&str> = OPTIMIZER_KINDS.iter().map(|(k, _)| *k).collect();
        let hint = nearest(&kind.value, &kinds)
            .map(|n| format!("; did you mean \"{n}\"?"))
            .unwrap_or_default();
        return Err(kind.invalid(
            "optimizer.kind",
            format!(
                "unknown optimizer `{}`: expected \"sgd\" or \"adam\"{hint}",
                kind.value
            ),
        ));
    };
    if let Some((field, loc)) = o.given().into_iter().find(|(f, _)| !fields.contains(f)) {
        return Err(loc.invalid(
            &format!("optimizer.{field}"),
            format!("not a setting of optimizer `{}`; remove it", kind.value),
        ));
    }
    let lr = r.float(
        &o.lr,
        "optimizer.lr",
        None,
        "lr = 0.001",
        |x| x > 0.0,
        "a learning rate > 0",
    )?;
    let weight_decay = r.float(
        &o.weight_decay,
        "optimizer.weight_decay",
        Some(0.0),
        "",
        |x| x >= 0.0,
        "a weight decay >= 0",
    )?;
    Ok(match kind.value.as_str() {
        "sgd" => {
            let momentum = r.float(
                &o.momentum,
                "optimizer.momentum",
                Some(0.0),
                "",
                |x| x >= 0.0,
                "a momentum >= 0",
            )?;
            let dampening = r.float(
                &o.dampening,
                "optimizer.dampening",
                Some(0.0),
                "",
                |x| (0.0..=1.0).contains(&x),
                "a dampening in [0, 1]",
            )?;
            let nesterov = match &o.nesterov {
                None => false,
                Some(at) if at.value && (momentum <= 0.0 || dampening != 0.0) => {
                    return Err(at.invalid(
                        "optimizer.nesterov",
                        "Nesterov momentum requires momentum > 0 and dampening = 0 (as in torch.optim.SGD)",
                    ));
                }
                Some(at) => at.value,
            };
            OptimizerConfig::Sgd {
                lr,
                momentum,
                dampening,
                nesterov,
                weight_decay,
            }
        }
        // "adam", the only other kind `kind_fields` knows.
        _ => {
            let betas = match &o.betas {
                None => [0.9, 0.999],
                Some(at)
                    if at.value.len() == 2 && at.value.iter().all(|b| (0.0..1.0).contains(b)) =>
                {
                    [at.value[0], at.value[1]]
                }
                Some(at) => {
                    return Err(at.invalid(
                        "optimizer.betas",
                        "expected two numbers in [0, 1), e.g. [0.9, 0.999]",
                    ));
                }
            };
            let eps = r.float(
                &o.eps,
                "optimizer.eps",
                Some(1e-8),
                "",
                |x| x > 0.0,
                "an epsilon > 0",
            )?;
            OptimizerConfig::Adam {
                lr,
                betas,
                eps,
                weight_decay,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo_experiments() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments")
    }

    /// Writes `files` into a fresh directory and loads `main`, a file
    /// without a sweep.
    fn load_with(files: &[(&str, &str)], main: &str) -> Result<Experiment, ExperimentError> {
        load_all_with(files, main).map(|mut exps| {
            assert_eq!(exps.len(), 1, "{main} is one experiment");
            exps.remove(0)
        })
    }

    /// Writes `files` into a fresh directory and loads every experiment of `main`.
    fn load_all_with(
        files: &[(&str, &str)],
        main: &str,
    ) -> Result<Vec<Experiment>, ExperimentError> {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        load_file(&dir.path().join(main))
    }

    fn baseline_text() -> String {
        std::fs::read_to_string(repo_experiments().join("baseline.toml")).unwrap()
    }

    #[test]
    fn every_experiment_file_of_the_repository_loads() {
        let all = load_dir(&repo_experiments()).unwrap();
        let names: Vec<&str> = all.iter().map(|e| e.name.as_str()).collect();
        for expected in [
            "baseline",
            "lr-0.01",
            "lr-0.0001",
            "dropout-0",
            "dropout-0.5",
            "hidden-64-32",
            "hidden-256-128",
            "adam",
            "batch-50",
            "batch-200",
        ] {
            assert!(
                names.contains(&expected),
                "{expected} missing from {names:?}"
            );
        }
        assert_eq!(names[0], "baseline", "baseline sorts first");
        let baseline = &all[0];
        assert_eq!(baseline.config.model.hidden, vec![128, 64]);
        assert_eq!(baseline.config.model.dropout, 0.2);
        assert_eq!(baseline.config.batch_size, 100);
        assert_eq!(baseline.config.epochs, 30);
        assert_eq!(baseline.seeds, vec![0, 1, 2]);
        assert_eq!(
            baseline.config.optimizer,
            OptimizerConfig::Sgd {
                lr: 0.001,
                momentum: 0.0,
                dampening: 0.0,
                nesterov: false,
                weight_decay: 0.0
            }
        );
    }

    #[test]
    fn extends_overrides_only_what_differs_and_a_new_kind_starts_afresh() {
        let adam = load_file(&repo_experiments().join("adam.toml"))
            .unwrap()
            .remove(0);
        assert_eq!(
            adam.config.optimizer,
            OptimizerConfig::Adam {
                lr: 0.001,
                betas: [0.9, 0.999],
                eps: 1e-8,
                weight_decay: 0.0
            }
        );
        assert_eq!(adam.config.model.hidden, vec![128, 64]);
        assert_eq!(adam.paper.figure.as_deref(), Some("FIG. 6"));

        // Defaults of torch.optim.Adam fill what an Adam file does not say.
        let exp = load_with(
            &[
                ("base.toml", &baseline_text()),
                (
                    "a.toml",
                    "extends = \"base.toml\"\n[optimizer]\nkind = \"adam\"\nlr = 0.01\n",
                ),
            ],
            "a.toml",
        )
        .unwrap();
        assert_eq!(
            exp.config.optimizer,
            OptimizerConfig::Adam {
                lr: 0.01,
                betas: [0.9, 0.999],
                eps: 1e-8,
                weight_decay: 0.0
            }
        );
        assert_eq!(exp.name, "a");
        assert!(
            exp.paper.figure.is_none(),
            "paper references are not inherited"
        );
    }

    #[test]
    fn a_misspelt_key_names_file_line_and_suggests_the_key() {
        let text = baseline_text().replace("lr = 0.001", "lrr = 0.001");
        let err = load_with(&[("typo.toml", &text)], "typo.toml").unwrap_err();
        let msg = err.to_string();
        let line = text.lines().position(|l| l.starts_with("lrr")).unwrap() + 1;
        assert!(msg.contains("typo.toml"), "{msg}");
        assert!(msg.contains(&format!("line {line}")), "{msg}");
        assert!(msg.contains("lrr"), "{msg}");
        assert!(msg.contains("did you mean `lr`?"), "{msg}");
    }

    #[test]
    fn invalid_values_name_file_line_column_and_key() {
        let cases: &[(&str, &str, &str)] = &[
            ("lr = 0.001", "lr = -0.1", "optimizer.lr"),
            ("lr = 0.001", "lr = 0.0", "optimizer.lr"),
            ("dropout = 0.2", "dropout = 1.0", "model.dropout"),
            ("dropout = 0.2", "dropout = -0.1", "model.dropout"),
            ("hidden = [128, 64]", "hidden = []", "model.hidden"),
            ("hidden = [128, 64]", "hidden = [128, 0]", "model.hidden"),
            ("batch_size = 100", "batch_size = 0", "training.batch_size"),
            (
                "batch_size = 100",
                "batch_size = 60001",
                "training.batch_size",
            ),
            ("epochs = 30", "epochs = 0", "training.epochs"),
            ("kind = \"sgd\"", "kind = \"sgdd\"", "optimizer.kind"),
            ("seeds = [0, 1, 2]", "seeds = []", "training.seeds"),
            ("std = 0.5", "std = 0.0", "input.std"),
            ("nesterov = false", "nesterov = true", "optimizer.nesterov"),
        ];
        for (from, to, key) in cases {
            let text = baseline_text().replace(from, to);
            assert_ne!(text, baseline_text(), "{from} not found in baseline.toml");
            let err = load_with(&[("bad.toml", &text)], "bad.toml").unwrap_err();
            let line = text.lines().position(|l| l.starts_with(to)).unwrap() + 1;
            match &err {
                ExperimentError::Invalid {
                    path,
                    line: l,
                    key: k,
                    ..
                } => {
                    assert!(path.ends_with("bad.toml"));
                    assert_eq!(*l, line, "{err}");
                    assert_eq!(k, key, "{err}");
                }
                other => panic!("{to}: expected Invalid, got {other}"),
            }
        }
        let err = load_with(
            &[("bad.toml", &baseline_text().replace("\"sgd\"", "\"sgdd\""))],
            "bad.toml",
        )
        .unwrap_err();
        assert!(err.to_string().contains("did you mean \"sgd\""), "{err}");
    }

    #[test]
    fn an_unknown_kind_is_reported_before_the_settings_that_depend_on_it() {
        // A new kind starts the optimizer settings afresh, so `lr` is unset
        // too; the kind is the mistake to report.
        let err = load_with(
            &[
                ("base.toml", &baseline_text()),
                (
                    "r.toml",
                    "extends = \"base.toml\"\n[optimizer]\nkind = \"rmsprop\"\n",
                ),
            ],
            "r.toml",
        )
        .unwrap_err();
        match &err {
            ExperimentError::Invalid {
                path,
                line: 3,
                column: 8,
                key,
                message,
            } => {
                assert!(path.ends_with("r.toml"));
                assert_eq!(key, "optimizer.kind");
                assert!(message.contains("unknown optimizer `rmsprop`"), "{err}");
            }
            other => panic!("expected Invalid at r.toml:3:8, got {other}"),
        }
        let err = load_with(
            &[
                ("base.toml", &baseline_text()),
                (
                    "r.toml",
                    "extends = \"base.toml\"\n[optimizer]\nkind = \"adamm\"\n",
                ),
            ],
            "r.toml",
        )
        .unwrap_err();
        assert!(err.to_string().contains("did you mean \"adam\""), "{err}");
    }

    #[test]
    fn a_setting_of_another_kind_names_its_key_and_line() {
        let text = baseline_text().replace("nesterov = false", "nesterov = false\neps = 1e-8");
        let err = load_with(&[("k.toml", &text)], "k.toml").unwrap_err();
        let line = text.lines().position(|l| l.starts_with("eps")).unwrap() + 1;
        assert!(
            matches!(&err, ExperimentError::Invalid { line: l, key, .. } if *l == line && key == "optimizer.eps"),
            "{err}"
        );
        assert!(
            err.to_string().contains("not a setting of optimizer `sgd`"),
            "{err}"
        );
    }

    #[test]
    fn a_wrong_type_is_reported_with_its_position() {
        let text = baseline_text().replace("epochs = 30", "epochs = \"thirty\"");
        let err = load_with(&[("t.toml", &text)], "t.toml").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("t.toml") && msg.contains("line"), "{msg}");
        assert!(msg.contains("epochs"), "{msg}");
    }

    #[test]
    fn an_invalid_inherited_value_points_at_the_file_that_wrote_it() {
        let base = baseline_text().replace("dropout = 0.2", "dropout = 2.0");
        let err = load_with(
            &[
                ("base.toml", &base),
                ("child.toml", "extends = \"base.toml\"\n"),
            ],
            "child.toml",
        )
        .unwrap_err();
        match err {
            ExperimentError::Invalid { path, key, .. } => {
                assert!(path.ends_with("base.toml"));
                assert_eq!(key, "model.dropout");
            }
            other => panic!("expected Invalid, got {other}"),
        }
    }

    #[test]
    fn missing_and_cyclic_extends_are_errors() {
        let err = load_with(&[("a.toml", "extends = \"nope.toml\"\n")], "a.toml").unwrap_err();
        assert!(
            matches!(err, ExperimentError::ExtendsNotFound { line: 1, .. }),
            "{err}"
        );
        let err = load_with(
            &[
                ("a.toml", "extends = \"b.toml\"\n"),
                ("b.toml", "extends = \"a.toml\"\n"),
            ],
            "a.toml",
        )
        .unwrap_err();
        assert!(matches!(err, ExperimentError::ExtendsCycle { .. }), "{err}");
    }

    #[test]
    fn a_missing_setting_says_which_key_to_add() {
        let text = baseline_text().replace("epochs = 30\n", "");
        let err = load_with(&[("m.toml", &text)], "m.toml").unwrap_err();
        assert!(
            matches!(&err, ExperimentError::Missing { key, .. } if key == "training.epochs"),
            "{err}"
        );
    }

    #[test]
    fn duplicate_names_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.toml"), baseline_text()).unwrap();
        std::fs::write(
            dir.path().join("b.toml"),
            format!("name = \"a\"\n{}", baseline_text()),
        )
        .unwrap();
        let err = load_dir(dir.path()).unwrap_err();
        assert!(
            matches!(err, ExperimentError::DuplicateName { .. }),
            "{err}"
        );
    }

    #[test]
    fn nearest_finds_plausible_typos_only() {
        assert_eq!(nearest("lrr", &["lr", "momentum"]), Some("lr"));
        assert_eq!(
            nearest("batchsize", &["batch_size", "epochs"]),
            Some("batch_size")
        );
        assert_eq!(nearest("zzzzzz", &["lr", "eps"]), None);
    }
}
