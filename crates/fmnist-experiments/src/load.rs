//! Reading experiment files: syntax and schema per file, then `extends`
//! resolution, then validation of the merged values against the file and line
//! where each value was written.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use crate::config::{InputConfig, ModelConfig, OptimizerConfig, PaperRef, ReportMeta, RunConfig};
use crate::error::ExperimentError;

/// The size of the Fashion-MNIST training set: no batch may be larger.
pub const TRAIN_SET_SIZE: usize = 60_000;
const VAL_SET_SIZE: usize = 10_000;

/// One experiment file, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Experiment {
    /// Unique name; the file stem unless the file sets `name`.
    pub name: String,
    pub path: PathBuf,
    pub description: String,
    pub paper: PaperRef,
    pub report: ReportMeta,
    pub config: RunConfig,
    pub seeds: Vec<u64>,
}

impl Experiment {
    pub fn label(&self) -> &str {
        self.report.label.as_deref().unwrap_or(&self.name)
    }
}

/// Loads every `*.toml` directly inside `dir` (sorted by file name).
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
        let exp = load_file(&path)?;
        if let Some(prev) = out.iter().find(|e| e.name == exp.name) {
            return Err(ExperimentError::DuplicateName {
                name: exp.name.clone(),
                first: prev.path.clone(),
                second: exp.path.clone(),
            });
        }
        out.push(exp);
    }
    out.sort_by(|a, b| {
        (a.report.order.unwrap_or(i64::MAX), &a.name)
            .cmp(&(b.report.order.unwrap_or(i64::MAX), &b.name))
    });
    Ok(out)
}

/// Loads one experiment file and everything it extends.
pub fn load_file(path: &Path) -> Result<Experiment, ExperimentError> {
    let mut chain = Vec::new();
    let (doc, file) = read_doc(path)?;
    let merged = resolve(doc.clone(), file.clone(), &mut chain)?;
    let name = match &doc.name {
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
    let (config, seeds) = finish(&merged, &file)?;
    Ok(Experiment {
        name,
        path: path.to_path_buf(),
        description: doc.description.unwrap_or_default(),
        paper: doc.paper.unwrap_or_default(),
        report: doc.report.unwrap_or_default(),
        config,
        seeds,
    })
}

/// A file's text, kept to turn byte spans into lines and columns.
#[derive(Debug)]
struct SourceFile {
    path: PathBuf,
    text: String,
}

impl SourceFile {
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        (line, column)
    }

    fn invalid(
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

/// A value with the file and span it was written at.
#[derive(Debug, Clone)]
struct At<T> {
    value: T,
    span: Range<usize>,
    file: Arc<SourceFile>,
}

impl<T> At<T> {
    fn invalid(&self, key: &str, message: impl Into<String>) -> ExperimentError {
        self.file.invalid(self.span.clone(), key, message)
    }
}

// The on-disk schema of one file. Every field is optional because a file may
// inherit it; `deny_unknown_fields` turns typos into errors with a position.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    extends: Option<Spanned<String>>,
    name: Option<Spanned<String>>,
    description: Option<String>,
    paper: Option<PaperRef>,
    report: Option<ReportMeta>,
    model: Option<DocModel>,
    input: Option<DocInput>,
    optimizer: Option<DocOptimizer>,
    training: Option<DocTraining>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct DocModel {
    hidden: Option<Spanned<Vec<i64>>>,
    dropout: Option<Spanned<f64>>,
    init: Option<Spanned<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct DocInput {
    mean: Option<Spanned<f64>>,
    std: Option<Spanned<f64>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct DocOptimizer {
    kind: Option<Spanned<String>>,
    lr: Option<Spanned<f64>>,
    momentum: Option<Spanned<f64>>,
    dampening: Option<Spanned<f64>>,
    nesterov: Option<Spanned<bool>>,
    weight_decay: Option<Spanned<f64>>,
    betas: Option<Spanned<Vec<f64>>>,
    eps: Option<Spanned<f64>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct DocTraining {
    batch_size: Option<Spanned<i64>>,
    epochs: Option<Spanned<i64>>,
    seeds: Option<Spanned<Vec<i64>>>,
    train_limit: Option<Spanned<i64>>,
    val_limit: Option<Spanned<i64>>,
}

/// The inheritable settings after merging a chain of files, keyed by dotted
/// name (`optimizer.lr`), each remembering where it was written.
#[derive(Debug, Clone, Default)]
struct Merged {
    values: BTreeMap<&'static str, At<Value>>,
}

#[derive(Debug, Clone)]
enum Value {
    Float(f64),
    Int(i64),
    Bool(bool),
    Str(String),
    Ints(Vec<i64>),
    Floats(Vec<f64>),
}

const OPTIMIZER_KEYS: [&str; 8] = [
    "optimizer.kind",
    "optimizer.lr",
    "optimizer.momentum",
    "optimizer.dampening",
    "optimizer.nesterov",
    "optimizer.weight_decay",
    "optimizer.betas",
    "optimizer.eps",
];

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
/// be a plausible typo.
pub(crate) fn nearest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (levenshtein(word, c), *c))
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 2).max(1))
        .min()
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
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

fn resolve(
    doc: Doc,
    file: Arc<SourceFile>,
    chain: &mut Vec<PathBuf>,
) -> Result<Merged, ExperimentError> {
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
    let mut merged = match &doc.extends {
        None => Merged::default(),
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
            let (parent_doc, parent_file) = read_doc(&target)?;
            resolve(parent_doc, parent_file, chain)?
        }
    };
    chain.pop();
    overlay(&mut merged, &doc, &file);
    Ok(merged)
}

fn overlay(merged: &mut Merged, doc: &Doc, file: &Arc<SourceFile>) {
    let mut entries: Vec<(&'static str, Range<usize>, Value)> = Vec::new();
    let float = |entries: &mut Vec<_>, key, x: &Option<Spanned<f64>>| {
        if let Some(x) = x {
            entries.push((key, x.span(), Value::Float(*x.get_ref())));
        }
    };
    if let Some(m) = &doc.model {
        if let Some(h) = &m.hidden {
            entries.push(("model.hidden", h.span(), Value::Ints(h.get_ref().clone())));
        }
        float(&mut entries, "model.dropout", &m.dropout);
        if let Some(init) = &m.init {
            entries.push((
                "model.init",
                init.span(),
                Value::Str(init.get_ref().clone()),
            ));
        }
    }
    if let Some(inp) = &doc.input {
        float(&mut entries, "input.mean", &inp.mean);
        float(&mut entries, "input.std", &inp.std);
    }
    if let Some(o) = &doc.optimizer {
        if let Some(kind) = &o.kind {
            // Switching optimizer kind starts its settings afresh: SGD's
            // momentum means nothing to Adam.
            let same = matches!(
                merged.values.get("optimizer.kind"),
                Some(At { value: Value::Str(k), .. }) if k == kind.get_ref()
            );
            if !same {
                for k in OPTIMIZER_KEYS {
                    merged.values.remove(k);
                }
            }
            entries.push((
                "optimizer.kind",
                kind.span(),
                Value::Str(kind.get_ref().clone()),
            ));
        }
        float(&mut entries, "optimizer.lr", &o.lr);
        float(&mut entries, "optimizer.momentum", &o.momentum);
        float(&mut entries, "optimizer.dampening", &o.dampening);
        float(&mut entries, "optimizer.weight_decay", &o.weight_decay);
        float(&mut entries, "optimizer.eps", &o.eps);
        if let Some(n) = &o.nesterov {
            entries.push(("optimizer.nesterov", n.span(), Value::Bool(*n.get_ref())));
        }
        if let Some(b) = &o.betas {
            entries.push((
                "optimizer.betas",
                b.span(),
                Value::Floats(b.get_ref().clone()),
            ));
        }
    }
    if let Some(t) = &doc.training {
        for (key, val) in [
            ("training.batch_size", &t.batch_size),
            ("training.epochs", &t.epochs),
            ("training.train_limit", &t.train_limit),
            ("training.val_limit", &t.val_limit),
        ] {
            if let Some(x) = val {
                entries.push((key, x.span(), Value::Int(*x.get_ref())));
            }
        }
        if let Some(s) = &t.seeds {
            entries.push(("training.seeds", s.span(), Value::Ints(s.get_ref().clone())));
        }
    }
    for (key, span, value) in entries {
        merged.values.insert(
            key,
            At {
                value,
                span,
                file: file.clone(),
            },
        );
    }
}

/// Reads typed values out of the merged map, applying PyTorch's defaults where
/// the files are silent, and checks every value's range.
struct Reader<'a> {
    merged: &'a Merged,
    file: &'a Arc<SourceFile>,
}

impl Reader<'_> {
    fn get(&self, key: &str) -> Option<&At<Value>> {
        self.merged.values.get(key)
    }

    fn missing(&self, key: &str, example: &str) -> ExperimentError {
        ExperimentError::Missing {
            path: self.file.path.clone(),
            key: key.to_string(),
            example: example.to_string(),
        }
    }

    fn float(
        &self,
        key: &str,
        default: Option<f64>,
        example: &str,
        check: impl Fn(f64) -> bool,
        expected: &str,
    ) -> Result<f64, ExperimentError> {
        match self.get(key) {
            None => default.ok_or_else(|| self.missing(key, example)),
            Some(at) => match at.value {
                Value::Float(x) if x.is_finite() && check(x) => Ok(x),
                Value::Float(x) => Err(at.invalid(key, format!("expected {expected}, got {x}"))),
                _ => Err(at.invalid(key, format!("expected {expected}"))),
            },
        }
    }

    fn int(
        &self,
        key: &str,
        default: Option<i64>,
        example: &str,
        min: i64,
        max: i64,
        expected: &str,
    ) -> Result<i64, ExperimentError> {
        match self.get(key) {
            None => default.ok_or_else(|| self.missing(key, example)),
            Some(at) => match at.value {
                Value::Int(x) if (min..=max).contains(&x) => Ok(x),
                Value::Int(x) => Err(at.invalid(key, format!("expected {expected}, got {x}"))),
                _ => Err(at.invalid(key, format!("expected {expected}"))),
            },
        }
    }

    fn optional_int(
        &self,
        key: &str,
        max: i64,
        expected: &str,
    ) -> Result<Option<usize>, ExperimentError> {
        if self.get(key).is_none() {
            return Ok(None);
        }
        self.int(key, None, "", 1, max, expected)
            .map(|x| Some(x as usize))
    }
}

fn finish(
    merged: &Merged,
    file: &Arc<SourceFile>,
) -> Result<(RunConfig, Vec<u64>), ExperimentError> {
    let r = Reader { merged, file };

    let hidden = match r.get("model.hidden") {
        None => return Err(r.missing("model.hidden", "hidden = [128, 64]")),
        Some(at) => match &at.value {
            Value::Ints(v) if v.is_empty() => {
                return Err(at.invalid(
                    "model.hidden",
                    "expected at least one hidden layer, e.g. [128, 64]",
                ));
            }
            Value::Ints(v) => {
                if let Some(bad) = v.iter().find(|&&x| !(1..=1 << 20).contains(&x)) {
                    return Err(at.invalid(
                        "model.hidden",
                        format!("expected layer widths >= 1, got {bad}"),
                    ));
                }
                v.iter().map(|&x| x as usize).collect()
            }
            _ => unreachable!("typed by the schema"),
        },
    };
    let dropout = r.float(
        "model.dropout",
        None,
        "dropout = 0.2",
        |x| (0.0..1.0).contains(&x),
        "a probability in [0, 1)",
    )?;
    let init = match r.get("model.init") {
        None => "pytorch-linear".to_string(),
        Some(at) => match &at.value {
            Value::Str(s) if s == "pytorch-linear" => s.clone(),
            Value::Str(s) => {
                return Err(at.invalid(
                    "model.init",
                    format!(
                        "unknown initialisation `{s}`; expected \"pytorch-linear\" (U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases)"
                    ),
                ));
            }
            _ => unreachable!("typed by the schema"),
        },
    };

    let mean = r.float("input.mean", Some(0.5), "mean = 0.5", |_| true, "a number")?;
    let std = r.float(
        "input.std",
        Some(0.5),
        "std = 0.5",
        |x| x > 0.0,
        "a number > 0",
    )?;

    let kind = match r.get("optimizer.kind") {
        None => return Err(r.missing("optimizer.kind", "kind = \"sgd\"")),
        Some(at) => match &at.value {
            Value::Str(s) => (s.clone(), at),
            _ => unreachable!("typed by the schema"),
        },
    };
    let lr = r.float(
        "optimizer.lr",
        None,
        "lr = 0.001",
        |x| x > 0.0,
        "a learning rate > 0",
    )?;
    let weight_decay = r.float(
        "optimizer.weight_decay",
        Some(0.0),
        "",
        |x| x >= 0.0,
        "a weight decay >= 0",
    )?;
    let foreign = |keys: &[&str], kind: &str| -> Result<(), ExperimentError> {
        for key in keys {
            if let Some(at) = r.get(key) {
                return Err(at.invalid(
                    key,
                    format!("not a setting of optimizer `{kind}`; remove it"),
                ));
            }
        }
        Ok(())
    };
    let optimizer = match kind.0.as_str() {
        "sgd" => {
            foreign(&["optimizer.betas", "optimizer.eps"], "sgd")?;
            let momentum = r.float(
                "optimizer.momentum",
                Some(0.0),
                "",
                |x| x >= 0.0,
                "a momentum >= 0",
            )?;
            let dampening = r.float(
                "optimizer.dampening",
                Some(0.0),
                "",
                |x| (0.0..=1.0).contains(&x),
                "a dampening in [0, 1]",
            )?;
            let nesterov = match r.get("optimizer.nesterov") {
                None => false,
                Some(at) => match at.value {
                    Value::Bool(b) => {
                        if b && (momentum <= 0.0 || dampening != 0.0) {
                            return Err(at.invalid(
                                "optimizer.nesterov",
                                "Nesterov momentum requires momentum > 0 and dampening = 0 (as in torch.optim.SGD)",
                            ));
                        }
                        b
                    }
                    _ => unreachable!("typed by the schema"),
                },
            };
            OptimizerConfig::Sgd {
                lr,
                momentum,
                dampening,
                nesterov,
                weight_decay,
            }
        }
        "adam" => {
            foreign(
                &[
                    "optimizer.momentum",
                    "optimizer.dampening",
                    "optimizer.nesterov",
                ],
                "adam",
            )?;
            let betas = match r.get("optimizer.betas") {
                None => [0.9, 0.999],
                Some(at) => match &at.value {
                    Value::Floats(v)
                        if v.len() == 2 && v.iter().all(|b| (0.0..1.0).contains(b)) =>
                    {
                        [v[0], v[1]]
                    }
                    _ => {
                        return Err(at.invalid(
                            "optimizer.betas",
                            "expected two numbers in [0, 1), e.g. [0.9, 0.999]",
                        ));
                    }
                },
            };
            let eps = r.float(
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
        other => {
            let hint = crate::load::nearest(other, &["sgd", "adam"])
                .map(|n| format!("; did you mean \"{n}\"?"))
                .unwrap_or_default();
            return Err(kind.1.invalid(
                "optimizer.kind",
                format!("unknown optimizer `{other}`: expected \"sgd\" or \"adam\"{hint}"),
            ));
        }
    };

    let train_limit = r.optional_int(
        "training.train_limit",
        TRAIN_SET_SIZE as i64,
        "a number of training images in 1..=60000",
    )?;
    let val_limit = r.optional_int(
        "training.val_limit",
        VAL_SET_SIZE as i64,
        "a number of test images in 1..=10000",
    )?;
    let train_size = train_limit.unwrap_or(TRAIN_SET_SIZE) as i64;
    let batch_size = r.int(
        "training.batch_size",
        None,
        "batch_size = 100",
        1,
        train_size,
        &format!("a batch size in 1..={train_size} (the training set size)"),
    )? as usize;
    let epochs = r.int(
        "training.epochs",
        None,
        "epochs = 30",
        1,
        100_000,
        "a number of epochs >= 1",
    )? as usize;
    let seeds = match r.get("training.seeds") {
        None => vec![0, 1, 2],
        Some(at) => match &at.value {
            Value::Ints(v) if v.is_empty() => {
                return Err(at.invalid(
                    "training.seeds",
                    "expected at least one seed, e.g. [0, 1, 2]",
                ));
            }
            Value::Ints(v) => {
                if let Some(bad) = v.iter().find(|&&s| s < 0) {
                    return Err(
                        at.invalid("training.seeds", format!("expected seeds >= 0, got {bad}"))
                    );
                }
                let mut seen = v.clone();
                seen.sort_unstable();
                seen.dedup();
                if seen.len() != v.len() {
                    return Err(at.invalid("training.seeds", "seeds must be distinct"));
                }
                v.iter().map(|&s| s as u64).collect()
            }
            _ => unreachable!("typed by the schema"),
        },
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

#[cfg(test)]
mod tests {
    use super::*;

    fn repo_experiments() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments")
    }

    /// Writes `files` into a fresh directory and loads `main`.
    fn load_with(files: &[(&str, &str)], main: &str) -> Result<Experiment, ExperimentError> {
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
        let adam = load_file(&repo_experiments().join("adam.toml")).unwrap();
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
