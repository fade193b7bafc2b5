//! `[sweep]`: one experiment file that stands for many experiments.
//!
//! ```toml
//! extends = "baseline.toml"
//! [sweep]
//! mode = "grid"                          # the default; "zip" pairs lists element by element
//! "optimizer.kind" = ["sgd", "adam"]
//! "optimizer.lr" = [1e-4, 1e-3, 1e-2]
//! ```
//!
//! Each point is an ordinary [`Experiment`] with every setting explicit, named
//! after the file and the point (`lr-sweep[optimizer.kind=sgd,optimizer.lr=0.001]`).
//! A point that changes `optimizer.kind` keeps the file's optimizer settings
//! the new kind takes (`lr`, `weight_decay`) and drops the others, so the new
//! kind's defaults apply. `training.seeds` and `training.epochs` cannot be
//! swept (see [`NOT_SWEPT`]).

use std::fmt;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use toml::Spanned;

use crate::error::ExperimentError;
use crate::experiment::{Experiment, FileMeta, SweepPoint, SweepValue};
use crate::resolve::finish;
use crate::settings::Settings;
use crate::source::{Loc, SourceFile};
use crate::suggest::nearest;

/// The option key of `[sweep]`; it has no dot, so no setting can be named so.
pub const MODE_KEY: &str = "mode";

/// Settings that cannot be swept, and why.
pub const NOT_SWEPT: [(&str, &str); 2] = [
    (
        "training.seeds",
        "every point already runs every seed of `training.seeds`; set the seeds in [training]",
    ),
    (
        "training.epochs",
        "every run records every epoch, so the longest run holds the shorter ones; set `training.epochs` to the largest and read the earlier epochs",
    ),
];

/// The dotted setting names a `[sweep]` accepts.
pub fn sweepable_settings() -> Vec<&'static str> {
    Settings::keys()
        .into_iter()
        .filter(|k| !NOT_SWEPT.iter().any(|(n, _)| n == k))
        .collect()
}

/// A `[sweep]` table as written, each key and value with its span. A dotted
/// key written without quotes (`optimizer.lr = [...]`) is a nested table in
/// TOML; it is kept nested here and flattened by [`Sweep::parse`].
#[derive(Debug)]
pub(crate) struct WrittenSweep(Vec<(Spanned<String>, Spanned<Entry>)>);

#[derive(Debug)]
enum Entry {
    List(Vec<Spanned<toml::Value>>),
    Table(WrittenSweep),
    Scalar(toml::Value),
}

impl Entry {
    fn describe(&self) -> String {
        match self {
            Entry::List(_) => "a list".into(),
            Entry::Table(_) => "a table".into(),
            Entry::Scalar(v) => format!("`{v}`"),
        }
    }
}

impl<'de> Deserialize<'de> for WrittenSweep {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match d.deserialize_any(EntryVisitor)? {
            Entry::Table(t) => Ok(t),
            other => Err(serde::de::Error::custom(format!(
                "expected a [sweep] table, got {}",
                other.describe()
            ))),
        }
    }
}

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(EntryVisitor)
    }
}

struct EntryVisitor;

impl<'de> Visitor<'de> for EntryVisitor {
    type Value = Entry;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of values")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Entry, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<toml::Value>>()? {
            items.push(item);
        }
        Ok(Entry::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entry, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            entries.push((key, map.next_value::<Spanned<Entry>>()?));
        }
        Ok(Entry::Table(WrittenSweep(entries)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Entry, E> {
        Ok(Entry::Scalar(toml::Value::String(v.to_string())))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Entry, E> {
        Ok(Entry::Scalar(toml::Value::Integer(v)))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Entry, E> {
        Ok(Entry::Scalar(match i64::try_from(v) {
            Ok(i) => toml::Value::Integer(i),
            Err(_) => toml::Value::Float(v as f64),
        }))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Entry, E> {
        Ok(Entry::Scalar(toml::Value::Float(v)))
    }

    fn visit_bool<E>(self, v: bool) -> Result<Entry, E> {
        Ok(Entry::Scalar(toml::Value::Boolean(v)))
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// Every combination, the first list varying slowest.
    Grid,
    /// The i-th point takes the i-th value of every list.
    Zip,
}

/// One value of a swept setting: as written, and as the settings it sets.
#[derive(Debug)]
struct Value {
    written: toml::Value,
    loc: Loc,
    /// Only this setting given; laid over a copy of the file's settings.
    patch: Settings,
}

#[derive(Debug)]
struct Axis {
    key: String,
    loc: Loc,
    values: Vec<Value>,
}

/// A parsed, type-checked `[sweep]`.
#[derive(Debug)]
pub(crate) struct Sweep {
    mode: Mode,
    axes: Vec<Axis>,
}

impl Sweep {
    pub(crate) fn parse(
        written: Spanned<WrittenSweep>,
        file: &Arc<SourceFile>,
    ) -> Result<Sweep, ExperimentError> {
        let table = Loc::new(file, written.span());
        let mut flat = Vec::new();
        flatten(written.into_inner(), "", &mut flat);
        // In the order written, which TOML's maps do not keep.
        flat.sort_by_key(|(key, _, _)| key.span().start);

        let mut mode = Mode::Grid;
        let mut axes: Vec<Axis> = Vec::new();
        for (key, entry, entry_span) in flat {
            let key_loc = Loc::new(file, key.span());
            let key = key.into_inner();
            let entry_loc = Loc::new(file, entry_span);
            if key == MODE_KEY {
                mode = parse_mode(&entry, &entry_loc)?;
                continue;
            }
            if let Some((_, why)) = NOT_SWEPT.iter().find(|(k, _)| *k == key) {
                return Err(key_loc.invalid(&key, format!("cannot be swept: {why}")));
            }
            if !Settings::keys().contains(&key.as_str()) {
                return Err(unknown_setting(&key, &key_loc));
            }
            if axes.iter().any(|a| a.key == key) {
                return Err(
                    key_loc.invalid(&key, "swept twice in this [sweep]; merge the two lists")
                );
            }
            let values = axis_values(&key, entry, &entry_loc, &key_loc, file)?;
            axes.push(Axis {
                key,
                loc: entry_loc,
                values,
            });
        }

        let Some(first) = axes.first() else {
            return Err(table.invalid(
                "sweep",
                "a [sweep] needs at least one setting and its list of values, e.g. \"optimizer.lr\" = [0.001, 0.01]",
            ));
        };
        if mode == Mode::Zip
            && let Some(odd) = axes.iter().find(|a| a.values.len() != first.values.len())
        {
            return Err(odd.loc.invalid(
                &odd.key,
                format!(
                    "mode = \"zip\" pairs the lists element by element, so they must have equal lengths: `{}` has {} values, `{}` has {}",
                    first.key,
                    first.values.len(),
                    odd.key,
                    odd.values.len()
                ),
            ));
        }
        Ok(Sweep { mode, axes })
    }

    /// Each point as one value index per axis, in product order.
    fn points(&self) -> Vec<Vec<usize>> {
        let lens: Vec<usize> = self.axes.iter().map(|a| a.values.len()).collect();
        match self.mode {
            Mode::Zip => (0..lens[0]).map(|i| vec![i; lens.len()]).collect(),
            Mode::Grid => {
                let mut points = vec![Vec::new()];
                for &len in &lens {
                    points = points
                        .into_iter()
                        .flat_map(|p| {
                            (0..len).map(move |i| {
                                let mut q = p.clone();
                                q.push(i);
                                q
                            })
                        })
                        .collect();
                }
                points
            }
        }
    }

    /// One experiment per point: the file's settings with the point's values
    /// laid over them, resolved and validated as any file is.
    pub(crate) fn expand(
        &self,
        meta: &FileMeta,
        settings: &Settings,
        file: &SourceFile,
    ) -> Result<Vec<Experiment>, ExperimentError> {
        let points = self.points();
        let parent = base_config(settings, file);
        let mut out: Vec<Experiment> = Vec::with_capacity(points.len());
        for (index, point) in points.iter().enumerate() {
            let mut s = settings.clone();
            let chosen = || self.axes.iter().zip(point).map(|(a, &i)| (a, &a.values[i]));
            // A new kind first: it decides which of the file's optimizer
            // settings still apply.
            for (axis, value) in chosen() {
                let toml::Value::String(kind) = &value.written else {
                    continue;
                };
                match axis.key.as_str() {
                    "optimizer.kind" => s.keep_optimizer_fields_of(kind),
                    "schedule.kind" => s.keep_schedule_fields_of(kind),
                    _ => {}
                }
            }
            for (_, value) in chosen() {
                s = value.patch.clone().over_sweep(s);
            }
            let (config, seeds) = finish(&s, file).map_err(|e| in_point(e, point, &self.axes))?;
            let sweep_point = SweepPoint {
                sweep: meta.name.clone(),
                index,
                values: chosen()
                    .map(|(a, v)| (a.key.clone(), SweepValue::of(&v.written)))
                    .collect(),
            };
            let name = format!("{}[{}]", meta.name, sweep_point.assignments());
            if let Some(earlier) = out.iter().position(|e| e.name == name) {
                let (axis, i) = (self.axes.iter().zip(point))
                    .zip(&points[earlier])
                    .find(|((_, i), j)| *i != *j)
                    .map_or((&self.axes[0], point[0]), |((a, i), _)| (a, *i));
                return Err(axis.values[i].loc.invalid(
                    &axis.key,
                    format!("the point `{name}` comes twice; remove the repeated value"),
                ));
            }
            let shown = sweep_point.joined(", ");
            let label = match &meta.report.label {
                Some(l) => format!("{l} ({shown})"),
                None => shown,
            };
            out.push(Experiment {
                name,
                path: meta.path.clone(),
                description: meta.description.clone(),
                paper: meta.paper.clone(),
                report: crate::ReportMeta {
                    label: Some(label),
                    ..meta.report.clone()
                },
                config,
                seeds,
                sweep: Some(sweep_point),
                parent: parent.clone(),
            });
        }
        Ok(out)
    }
}

/// The values of the swept setting `key` (written as `entry`), each as
/// the settings patch that sets it.
fn axis_values(
    key: &str,
    entry: Entry,
    entry_loc: &Loc,
    key_loc: &Loc,
    file: &Arc<SourceFile>,
) -> Result<Vec<Value>, ExperimentError> {
    let items = match entry {
        Entry::List(items) if items.is_empty() => {
            return Err(
                entry_loc.invalid(key, "an empty list sweeps nothing; give at least one value")
            );
        }
        Entry::List(items) => items,
        other => {
            let example = match &other {
                Entry::Scalar(v) => format!("[{v}, ...]"),
                _ => "[...]".into(),
            };
            let table_name = key.split('.').next().unwrap_or_default();
            return Err(entry_loc.invalid(
                key,
                format!(
                    "expected a list of values, e.g. `\"{key}\" = {example}`, got {}; a single value belongs in [{table_name}]",
                    other.describe()
                ),
            ));
        }
    };
    let mut values = Vec::with_capacity(items.len());
    for item in items {
        let loc = Loc::new(file, item.span());
        let written = item.into_inner();
        let mut patch = Settings::default();
        match patch.set(key, &written, &loc) {
            Some(Ok(())) => {}
            Some(Err(why)) => {
                let hint = match key {
                    "model.hidden" => {
                        "; each value is a list of widths: `\"model.hidden\" = [[128, 64], [256, 128]]`"
                    }
                    "optimizer.betas" => {
                        "; each value is a pair: `\"optimizer.betas\" = [[0.9, 0.999], [0.8, 0.99]]`"
                    }
                    _ => "",
                };
                return Err(loc.invalid(key, format!("wrong type: {why}{hint}")));
            }
            None => return Err(unknown_setting(key, key_loc)),
        }
        values.push(Value {
            written,
            loc,
            patch,
        });
    }
    Ok(values)
}

/// The sweep file's own settings, resolved: what its points are variations
/// of. A setting the file writes for the points of one kind only (a step
/// size beside a constant schedule) is dropped for the file's own kind.
fn base_config(settings: &Settings, file: &SourceFile) -> Option<crate::RunConfig> {
    let mut base = settings.clone();
    let kind = |t: &crate::settings::KindTable| {
        t.get("kind")
            .and_then(|at| at.value.as_str().map(str::to_string))
    };
    let schedule = kind(&base.schedule).unwrap_or_else(|| "constant".into());
    base.keep_schedule_fields_of(&schedule);
    if let Some(optimizer) = kind(&base.optimizer) {
        base.keep_optimizer_fields_of(&optimizer);
    }
    finish(&base, file).ok().map(|(config, _)| config)
}

/// Says which point an error of `finish` arose in: a value can be valid alone
/// and wrong beside another point's (momentum with `optimizer.kind = "adam"`).
fn in_point(err: ExperimentError, point: &[usize], axes: &[Axis]) -> ExperimentError {
    match err {
        ExperimentError::Invalid {
            path,
            line,
            column,
            key,
            message,
        } => {
            let shown: Vec<String> = (axes.iter().zip(point))
                .map(|(a, &i)| format!("{}={}", a.key, SweepValue::of(&a.values[i].written)))
                .collect();
            ExperimentError::Invalid {
                path,
                line,
                column,
                key,
                message: format!("{message} (in the sweep's point [{}])", shown.join(",")),
            }
        }
        other => other,
    }
}

/// `(dotted key, entry, entry's span)` for every non-table entry, nested
/// tables flattened.
fn flatten(
    table: WrittenSweep,
    prefix: &str,
    out: &mut Vec<(Spanned<String>, Entry, std::ops::Range<usize>)>,
) {
    for (key, entry) in table.0 {
        let span = entry.span();
        let dotted = Spanned::new(key.span(), format!("{prefix}{}", key.get_ref()));
        match entry.into_inner() {
            Entry::Table(inner) => flatten(inner, &format!("{}.", dotted.get_ref()), out),
            other => out.push((dotted, other, span)),
        }
    }
}

fn parse_mode(entry: &Entry, loc: &Loc) -> Result<Mode, ExperimentError> {
    const EXPECTED: &str = "expected \"grid\" (every combination, the default) or \"zip\" (the lists paired element by element)";
    match entry {
        Entry::Scalar(toml::Value::String(m)) if m == "grid" => Ok(Mode::Grid),
        Entry::Scalar(toml::Value::String(m)) if m == "zip" => Ok(Mode::Zip),
        Entry::Scalar(toml::Value::String(m)) => {
            let hint = nearest(m, &["grid", "zip"])
                .map(|n| format!("; did you mean \"{n}\"?"))
                .unwrap_or_default();
            Err(loc.invalid(MODE_KEY, format!("unknown mode \"{m}\": {EXPECTED}{hint}")))
        }
        other => Err(loc.invalid(MODE_KEY, format!("{EXPECTED}, got {}", other.describe()))),
    }
}

fn unknown_setting(key: &str, loc: &Loc) -> ExperimentError {
    let mut candidates = sweepable_settings();
    candidates.push(MODE_KEY);
    let hint = nearest(key, &candidates)
        .map(|n| format!("; did you mean \"{n}\"?"))
        .unwrap_or_default();
    loc.invalid(
        key,
        format!(
            "unknown setting in [sweep]: expected a quoted dotted setting name such as \"optimizer.lr\" (one of {}) or `{MODE_KEY}`{hint}",
            sweepable_settings().join(", ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{OptimizerConfig, load_dir, load_file, run_id};
    use std::path::{Path, PathBuf};

    fn repo_experiments() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments")
    }

    fn baseline_text() -> String {
        std::fs::read_to_string(repo_experiments().join("baseline.toml")).unwrap()
    }

    /// Loads `sweep` (the text of `s.toml`) beside a copy of the baseline.
    fn sweep(text: &str) -> Result<Vec<Experiment>, ExperimentError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("base.toml"), baseline_text()).unwrap();
        std::fs::write(dir.path().join("s.toml"), text).unwrap();
        load_file(&dir.path().join("s.toml"))
    }

    fn names(exps: &[Experiment]) -> Vec<&str> {
        exps.iter().map(|e| e.name.as_str()).collect()
    }

    /// The error's line, column and key; panics unless it is `Invalid` in `s.toml`.
    fn position(err: &ExperimentError) -> (usize, usize, &str) {
        match err {
            ExperimentError::Invalid {
                path,
                line,
                column,
                key,
                ..
            } => {
                assert!(path.ends_with("s.toml"), "{err}");
                (*line, *column, key.as_str())
            }
            other => panic!("expected Invalid, got {other}"),
        }
    }

    /// 1-based line and column of the first occurrence of `needle` in `text`.
    fn line_col_of(text: &str, needle: &str) -> (usize, usize) {
        let offset = text.find(needle).unwrap_or_else(|| panic!("{needle}"));
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        (line, offset - before.rfind('\n').map_or(0, |i| i + 1) + 1)
    }

    #[test]
    fn a_grid_expands_in_product_order_with_the_first_key_slowest() {
        let exps = sweep(
            "extends = \"base.toml\"\n[report]\nstudy = \"s\"\norder = 7\n[sweep]\n\"model.dropout\" = [0.0, 0.5]\n\"optimizer.lr\" = [0.1, 0.003, 1e-8]\n",
        )
        .unwrap();
        assert_eq!(
            names(&exps),
            [
                "s[model.dropout=0,optimizer.lr=0.1]",
                "s[model.dropout=0,optimizer.lr=0.003]",
                "s[model.dropout=0,optimizer.lr=1e-8]",
                "s[model.dropout=0.5,optimizer.lr=0.1]",
                "s[model.dropout=0.5,optimizer.lr=0.003]",
                "s[model.dropout=0.5,optimizer.lr=1e-8]",
            ]
        );
        for (i, e) in exps.iter().enumerate() {
            let point = e.sweep.as_ref().unwrap();
            assert_eq!(point.sweep, "s");
            assert_eq!(point.index, i);
            assert_eq!(e.report.study.as_deref(), Some("s"));
            assert_eq!(e.report.order, Some(7));
            assert_eq!(e.seeds, vec![0, 1, 2]);
            assert_eq!(
                e.config.model.hidden,
                vec![128, 64],
                "the rest is the file's"
            );
        }
        let p = exps[4].sweep.as_ref().unwrap();
        assert_eq!(
            p.values,
            vec![
                ("model.dropout".to_string(), SweepValue::Number(0.5)),
                ("optimizer.lr".to_string(), SweepValue::Number(0.003)),
            ]
        );
        assert_eq!(exps[4].config.model.dropout, 0.5);
        assert_eq!(exps[4].config.optimizer.lr(), 0.003);
        assert_eq!(
            exps[4].label(),
            "model.dropout=0.5, optimizer.lr=0.003",
            "the label defaults to the point"
        );
    }

    #[test]
    fn zip_pairs_lists_and_unquoted_dotted_keys_work() {
        let exps = sweep(
            "extends = \"base.toml\"\n[report]\nlabel = \"pairs\"\n[sweep]\nmode = \"zip\"\ntraining.batch_size = [50, 200]\nmodel.hidden = [[64, 32], [256, 128]]\n",
        )
        .unwrap();
        assert_eq!(
            names(&exps),
            [
                "s[training.batch_size=50,model.hidden=64x32]",
                "s[training.batch_size=200,model.hidden=256x128]",
            ]
        );
        assert_eq!(exps[1].config.batch_size, 200);
        assert_eq!(exps[1].config.model.hidden, vec![256, 128]);
        assert_eq!(
            exps[0].label(),
            "pairs (training.batch_size=50, model.hidden=64x32)"
        );
    }

    #[test]
    fn a_kind_sweep_keeps_what_the_kind_takes_and_defaults_the_rest() {
        let text = baseline_text()
            .replace("momentum = 0.0", "momentum = 0.9")
            .replace("weight_decay = 0.0", "weight_decay = 0.01")
            + "[sweep]\n\"optimizer.kind\" = [\"sgd\", \"adam\"]\n";
        let exps = sweep(&text).unwrap();
        assert_eq!(
            names(&exps),
            ["s[optimizer.kind=sgd]", "s[optimizer.kind=adam]"]
        );
        assert_eq!(
            exps[0].config.optimizer,
            OptimizerConfig::Sgd {
                lr: 0.001,
                momentum: 0.9,
                dampening: 0.0,
                nesterov: false,
                weight_decay: 0.01
            }
        );
        assert_eq!(
            exps[1].config.optimizer,
            OptimizerConfig::Adam {
                lr: 0.001,
                betas: [0.9, 0.999],
                eps: 1e-8,
                weight_decay: 0.01
            }
        );

        // From Adam to SGD: betas and eps go, SGD's defaults come.
        let adam = std::fs::read_to_string(repo_experiments().join("adam.toml")).unwrap();
        let text = adam
            .replace("baseline.toml", "base.toml")
            .replace("betas = [0.9, 0.999]", "betas = [0.8, 0.99]")
            + "[sweep]\n\"optimizer.kind\" = [\"adam\", \"sgd\"]\n";
        let exps = sweep(&text).unwrap();
        assert!(matches!(
            exps[0].config.optimizer,
            OptimizerConfig::Adam {
                betas: [0.8, 0.99],
                ..
            }
        ));
        assert_eq!(
            exps[1].config.optimizer,
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
    fn a_swept_setting_the_kind_does_not_take_is_an_error_at_the_sweep() {
        let text = "extends = \"base.toml\"\n[sweep]\n\"optimizer.kind\" = [\"sgd\", \"adam\"]\n\"optimizer.momentum\" = [0.0, 0.9]\n";
        let err = sweep(text).unwrap_err();
        let (line, _, key) = position(&err);
        assert_eq!((line, key), (4, "optimizer.momentum"), "{err}");
        assert!(
            err.to_string()
                .contains("not a setting of optimizer `adam`; remove it (in the sweep's point [optimizer.kind=adam,optimizer.momentum=0])"),
            "{err}"
        );
    }

    #[test]
    fn a_swept_value_out_of_range_points_at_its_element() {
        let text = "extends = \"base.toml\"\n[sweep]\n\"model.dropout\" = [0.2,\n  1.5]\n";
        let err = sweep(text).unwrap_err();
        assert_eq!(position(&err), (4, 3, "model.dropout"), "{err}");
        assert!(err.to_string().contains("[0, 1)"), "{err}");
    }

    #[test]
    fn each_mistake_names_line_column_and_key() {
        let head = "extends = \"base.toml\"\n[sweep]\n";
        let cases: &[(&str, &str, &str, &str)] = &[
            // (body, where the error points, key, part of the message)
            (
                "\"optimizer.lrr\" = [0.1]\n",
                "\"optimizer.lrr\"",
                "optimizer.lrr",
                "did you mean \"optimizer.lr\"?",
            ),
            (
                "\"model.dropout\" = []\n",
                "[]",
                "model.dropout",
                "empty list",
            ),
            (
                "\"model.dropout\" = [0.1, \"half\"]\n",
                "\"half\"",
                "model.dropout",
                "wrong type",
            ),
            (
                "\"training.batch_size\" = [50.5]\n",
                "50.5",
                "training.batch_size",
                "wrong type",
            ),
            (
                "\"model.hidden\" = [128, 256]\n",
                "128",
                "model.hidden",
                "wrong type: invalid type: integer `128`, expected a sequence; each value is a list of widths",
            ),
            (
                "\"optimizer.lr\" = 0.1\n",
                "0.1",
                "optimizer.lr",
                "expected a list of values, e.g. `\"optimizer.lr\" = [0.1, ...]`",
            ),
            (
                "\"optimizer.lr\" = [0.001, 1e-3]\n",
                "1e-3",
                "optimizer.lr",
                "comes twice",
            ),
            (
                "\"training.seeds\" = [[0], [1]]\n",
                "\"training.seeds\"",
                "training.seeds",
                "cannot be swept",
            ),
            (
                "\"training.epochs\" = [10, 20]\n",
                "\"training.epochs\"",
                "training.epochs",
                "cannot be swept",
            ),
            (
                "mode = \"zipp\"\n\"optimizer.lr\" = [0.1]\n",
                "\"zipp\"",
                "mode",
                "did you mean \"zip\"?",
            ),
            (
                "mode = \"zip\"\n\"optimizer.lr\" = [0.1, 0.01]\n\"model.dropout\" = [0.0]\n",
                "[0.0]",
                "model.dropout",
                "`optimizer.lr` has 2 values, `model.dropout` has 1",
            ),
            // An unquoted dotted key is a nested table: its position is its last part's.
            (
                "\"optimizer.lr\" = [0.1]\noptimizer.lr = [0.2]\n",
                "lr = [0.2]",
                "optimizer.lr",
                "swept twice",
            ),
            (
                "\"optimizer.kind\" = [\"sgd\", \"lion\"]\n",
                "\"lion\"",
                "optimizer.kind",
                "unknown optimizer `lion`",
            ),
        ];
        for (body, at, key, message) in cases {
            let text = format!("{head}{body}");
            let err = sweep(&text).unwrap_err();
            // `at` is searched in the sweep part, after the header.
            let (line, column) = line_col_of(&text[head.len()..], at);
            let (line, column) = (line + 2, column);
            assert_eq!(position(&err), (line, column, *key), "{body}: {err}");
            assert!(err.to_string().contains(message), "{body}: {err}");
        }
        let err = sweep("extends = \"base.toml\"\n[sweep]\nmode = \"grid\"\n").unwrap_err();
        assert_eq!(position(&err).2, "sweep", "{err}");
    }

    #[test]
    fn a_sweep_file_cannot_be_extended() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("base.toml"), baseline_text()).unwrap();
        std::fs::write(
            dir.path().join("s.toml"),
            "extends = \"base.toml\"\n[sweep]\n\"optimizer.lr\" = [0.1]\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("c.toml"), "\nextends = \"s.toml\"\n").unwrap();
        let err = load_file(&dir.path().join("c.toml")).unwrap_err();
        assert!(
            matches!(&err, ExperimentError::Invalid { line: 2, key, .. } if key == "extends"),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("extend the file it extends (\"base.toml\")"),
            "{err}"
        );
    }

    #[test]
    fn numbers_in_names_are_short_and_names_are_portable_directory_names() {
        let shown = |x: f64| SweepValue::Number(x).to_string();
        assert_eq!(shown(0.003), "0.003");
        assert_eq!(shown(3e-3), "0.003");
        assert_eq!(shown(1e-4), "0.0001");
        assert_eq!(shown(1e-8), "1e-8");
        assert_eq!(shown(0.0), "0");
        assert_eq!(shown(100.0), "100");
        assert_eq!(shown(2.5e7), "2.5e7");
        for e in load_dir(&repo_experiments()).unwrap() {
            // Allowed in file names on Linux, macOS and Windows; no `:`, which
            // the claims file uses as a separator.
            assert!(
                e.name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.=,[]".contains(c)),
                "{}",
                e.name
            );
        }
    }

    #[test]
    fn the_shipped_lr_sweep_reuses_the_settings_of_the_paper_s_experiments() {
        let exps = load_file(&repo_experiments().join("lr-sweep.toml")).unwrap();
        assert_eq!(exps.len(), 14);
        let lrs = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1];
        for (i, e) in exps.iter().enumerate() {
            assert_eq!(
                e.config.optimizer.name(),
                if i < 7 { "sgd" } else { "adam" }
            );
            assert_eq!(e.config.optimizer.lr(), lrs[i % 7]);
            assert_eq!(e.report.study.as_deref(), Some("lr by optimizer"));
            assert_eq!(e.seeds, vec![0, 1, 2]);
        }
        let point = |name: &str| {
            exps.iter()
                .find(|e| e.name == name)
                .unwrap_or_else(|| panic!("no {name} in {:?}", names(&exps)))
        };
        let file = |stem: &str| {
            load_file(&repo_experiments().join(format!("{stem}.toml")))
                .unwrap()
                .remove(0)
        };
        let data = ["d".to_string()];
        for (name, stem) in [
            (
                "lr-sweep[optimizer.kind=sgd,optimizer.lr=0.001]",
                "baseline",
            ),
            ("lr-sweep[optimizer.kind=adam,optimizer.lr=0.001]", "adam"),
            (
                "lr-sweep[optimizer.kind=sgd,optimizer.lr=0.0001]",
                "lr-0.0001",
            ),
            ("lr-sweep[optimizer.kind=sgd,optimizer.lr=0.01]", "lr-0.01"),
        ] {
            let (p, f) = (point(name), file(stem));
            assert_eq!(p.config, f.config, "{name} vs {stem}");
            assert_eq!(
                run_id(&p.config, 0, &data, 1),
                run_id(&f.config, 0, &data, 1)
            );
        }

        // In a directory, the points stay together and in product order.
        let all = load_dir(&repo_experiments()).unwrap();
        let at: Vec<usize> = (all.iter().enumerate())
            .filter(|(_, e)| e.sweep.as_ref().is_some_and(|p| p.sweep == "lr-sweep"))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(at.len(), 14);
        assert_eq!(at[13] - at[0], 13, "contiguous");
        assert_eq!(names(&all[at[0]..=at[13]]), names(&exps));
    }
}
