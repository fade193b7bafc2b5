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
//! A sampled sweep draws `samples` points instead, each swept key from a
//! list (a uniform choice) or a distribution (module `sample`):
//!
//! ```toml
//! [sweep]
//! mode = "sobol"                         # or "random"
//! samples = 24
//! seed = 0
//! "optimizer.lr" = { log_uniform = [1e-4, 1e-1] }
//! "model.dropout" = { uniform = [0.0, 0.5] }
//! "model.hidden" = [[128, 64], [256, 128]]
//! "training.batch_size" = { int_uniform = [32, 128] }  # or log_int_uniform
//! ```
//!
//! Each point is an ordinary [`Experiment`] with every setting explicit, named
//! after the file and the point (`lr-sweep[optimizer.kind=sgd,optimizer.lr=0.001]`).
//! A point that changes `optimizer.kind` keeps the file's optimizer settings
//! the new kind takes (`lr`, `weight_decay`) and drops the others, so the new
//! kind's defaults apply. `training.seeds` and `training.epochs` cannot be
//! swept (see [`NOT_SWEPT`]). A drawn number keeps three significant digits,
//! so a drawn point equal to another experiment has its run ids; a point
//! drawn twice is one experiment. A `[sweep.prune]` table (module `prune`)
//! has the points trained by successive halving; every point carries it.

use std::fmt;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use toml::Spanned;

use crate::error::ExperimentError;
use crate::experiment::{Experiment, FileMeta, SweepPoint, SweepValue};
use crate::prune::Prune;
use crate::quantity::{Quantity, Split};
use crate::resolve::finish;
use crate::sample::{Dist, MAX_DIMENSIONS, MAX_SAMPLES, Range, Sampler, unit_points};
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
    /// `samples` points drawn by `sampler` from the swept keys' distributions.
    Sampled {
        sampler: Sampler,
        samples: usize,
        seed: u32,
    },
}

/// One value of a swept setting: as written, and as the settings it sets.
#[derive(Debug, Clone)]
struct Value {
    written: toml::Value,
    loc: Loc,
    /// Only this setting given; laid over a copy of the file's settings.
    patch: Settings,
}

impl Value {
    /// `written` as the value of `key`, or the message saying why it cannot be.
    fn of(key: &str, written: toml::Value, loc: Loc) -> Result<Value, Option<String>> {
        let mut patch = Settings::default();
        match patch.set(key, &written, &loc) {
            Some(Ok(())) => Ok(Value {
                written,
                loc,
                patch,
            }),
            Some(Err(why)) => Err(Some(why)),
            None => Err(None),
        }
    }
}

/// What a swept key takes its values from.
#[derive(Debug)]
enum Domain {
    /// Listed values: every one (grid, zip) or one chosen uniformly (sampled).
    List(Vec<Value>),
    /// A distribution, in a sampled sweep only.
    Range(Range),
}

#[derive(Debug)]
struct Axis {
    key: String,
    loc: Loc,
    domain: Domain,
}

impl Axis {
    /// The value at unit coordinate `u` (sampled sweeps).
    fn at(&self, u: f64) -> Result<Value, ExperimentError> {
        match &self.domain {
            Domain::List(values) => {
                let i = ((u * values.len() as f64) as usize).min(values.len() - 1);
                Ok(values[i].clone())
            }
            Domain::Range(range) => {
                Value::of(&self.key, range.value(u), self.loc.clone()).map_err(|why| {
                    let why = why.unwrap_or_else(|| "not a setting".into());
                    self.loc.invalid(&self.key, format!("wrong type: {why}"))
                })
            }
        }
    }
}

/// The keys of `[sweep]` that are options, not settings; none has a dot.
const OPTION_KEYS: [&str; 4] = [MODE_KEY, "samples", "seed", PRUNE_KEY];

/// The sub-table of `[sweep]` that prunes its points, `[sweep.prune]`.
const PRUNE_KEY: &str = "prune";

/// The options of a `[sweep]` as written, checked together by [`Options::mode`].
#[derive(Debug, Default)]
struct Options {
    mode: Option<(Entry, Loc)>,
    samples: Option<(Entry, Loc)>,
    seed: Option<(Entry, Loc)>,
}

impl Options {
    fn set(&mut self, key: &str, entry: Entry, loc: Loc) {
        let slot = match key {
            "samples" => &mut self.samples,
            "seed" => &mut self.seed,
            _ => &mut self.mode,
        };
        *slot = Some((entry, loc));
    }

    fn mode(&self, table: &Loc) -> Result<Mode, ExperimentError> {
        let written = match &self.mode {
            None => Mode::Grid,
            Some((entry, loc)) => parse_mode(entry, loc)?,
        };
        let sampler = match written {
            Mode::Sampled { sampler, .. } => sampler,
            Mode::Grid | Mode::Zip => {
                if let Some((key, (_, loc))) = self.sampling_options().next() {
                    return Err(loc.invalid(
                        key,
                        format!("`{key}` is for mode = \"random\" or \"sobol\"; a grid or zip sweep has one point per listed value"),
                    ));
                }
                return Ok(written);
            }
        };
        let at = self.mode.as_ref().map_or(table, |(_, loc)| loc);
        let name = sampler.name();
        let samples = int_option(&self.samples, "samples", 1, MAX_SAMPLES as i64, at, name)?;
        let seed = int_option(&self.seed, "seed", 0, i64::from(u32::MAX), at, name)?;
        Ok(Mode::Sampled {
            sampler,
            samples: samples as usize,
            seed: seed as u32,
        })
    }

    fn sampling_options(&self) -> impl Iterator<Item = (&'static str, &(Entry, Loc))> {
        [("samples", &self.samples), ("seed", &self.seed)]
            .into_iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
    }
}

/// The integer option `key` of a sampled sweep, within `lo..=hi`.
fn int_option(
    option: &Option<(Entry, Loc)>,
    key: &str,
    lo: i64,
    hi: i64,
    mode_loc: &Loc,
    mode: &str,
) -> Result<i64, ExperimentError> {
    let what = if key == "samples" {
        "the number of points to draw"
    } else {
        "the seed of the draws, so that the points are the same on every machine"
    };
    let Some((entry, loc)) = option else {
        return Err(mode_loc.invalid(
            key,
            format!(
                "mode = \"{mode}\" needs `{key}`, {what}: e.g. `{key} = {}`",
                lo.max(24)
            ),
        ));
    };
    match entry {
        Entry::Scalar(toml::Value::Integer(n)) if (lo..=hi).contains(n) => Ok(*n),
        Entry::Scalar(toml::Value::Integer(0)) if key == "samples" => {
            Err(loc.invalid(key, "samples = 0 draws no point; give at least 1"))
        }
        other => Err(loc.invalid(
            key,
            format!(
                "expected an integer from {lo} to {hi} ({what}), got {}",
                other.describe()
            ),
        )),
    }
}

/// A parsed, type-checked `[sweep]`.
#[derive(Debug)]
pub(crate) struct Sweep {
    mode: Mode,
    axes: Vec<Axis>,
    prune: Option<WrittenPrune>,
}

/// A `[sweep.prune]` and where its parts were written, for the checks that
/// need the points and the epochs.
#[derive(Debug)]
struct WrittenPrune {
    prune: Prune,
    table: Loc,
    min_epochs: Loc,
}

impl Sweep {
    pub(crate) fn parse(
        written: Spanned<WrittenSweep>,
        file: &Arc<SourceFile>,
    ) -> Result<Sweep, ExperimentError> {
        let table = Loc::new(file, written.span());
        let mut written = written.into_inner();
        let prune = match written.0.iter().position(|(k, _)| k.get_ref() == PRUNE_KEY) {
            Some(at) => {
                let (_, entry) = written.0.remove(at);
                Some(parse_prune(entry, file)?)
            }
            None => None,
        };
        let mut flat = Vec::new();
        flatten(written, "", &mut flat);
        // In the order written, which TOML's maps do not keep.
        flat.sort_by_key(|(key, _, _)| key.span().start);

        let mut options = Options::default();
        let mut swept: Vec<(String, Loc, Entry, Loc)> = Vec::new();
        for (key, entry, entry_span) in flat {
            let key_loc = Loc::new(file, key.span());
            let key = key.into_inner();
            let entry_loc = Loc::new(file, entry_span);
            if OPTION_KEYS.contains(&key.as_str()) {
                options.set(&key, entry, entry_loc);
                continue;
            }
            if let Some((_, why)) = NOT_SWEPT.iter().find(|(k, _)| *k == key) {
                return Err(key_loc.invalid(&key, format!("cannot be swept: {why}")));
            }
            if !Settings::keys().contains(&key.as_str()) {
                return Err(unknown_setting(&key, &key_loc));
            }
            if swept.iter().any(|(k, ..)| *k == key) {
                return Err(
                    key_loc.invalid(&key, "swept twice in this [sweep]; merge the two lists")
                );
            }
            swept.push((key, key_loc, entry, entry_loc));
        }
        let mode = options.mode(&table)?;
        let mut axes: Vec<Axis> = Vec::with_capacity(swept.len());
        for (key, key_loc, entry, entry_loc) in swept {
            let domain = axis_domain(&key, entry, &entry_loc, &key_loc, mode, file)?;
            axes.push(Axis {
                key,
                loc: entry_loc,
                domain,
            });
        }
        check_axes(mode, &axes, &table)?;
        Ok(Sweep { mode, axes, prune })
    }

    /// Each point as one value per axis: in product order (grid), paired
    /// (zip), or in the order drawn (sampled).
    fn points(&self) -> Result<Vec<Vec<Value>>, ExperimentError> {
        let lists: Vec<&[Value]> = (self.axes.iter())
            .map(|a| match &a.domain {
                Domain::List(v) => v.as_slice(),
                Domain::Range(_) => &[],
            })
            .collect();
        let pick = |indices: Vec<usize>| -> Vec<Value> {
            indices
                .iter()
                .zip(&lists)
                .map(|(&i, l)| l[i].clone())
                .collect()
        };
        match self.mode {
            Mode::Zip => Ok((0..lists[0].len())
                .map(|i| pick(vec![i; lists.len()]))
                .collect()),
            Mode::Grid => {
                let mut points = vec![Vec::new()];
                for list in &lists {
                    points = points
                        .into_iter()
                        .flat_map(|p: Vec<usize>| {
                            (0..list.len()).map(move |i| {
                                let mut q = p.clone();
                                q.push(i);
                                q
                            })
                        })
                        .collect();
                }
                Ok(points.into_iter().map(pick).collect())
            }
            Mode::Sampled {
                sampler,
                samples,
                seed,
            } => unit_points(sampler, seed, samples, self.axes.len())
                .into_iter()
                .map(|u| (self.axes.iter().zip(u)).map(|(a, u)| a.at(u)).collect())
                .collect(),
        }
    }

    /// One experiment per point: the file's settings with the point's values
    /// laid over them, resolved and validated as any file is. A sampled
    /// sweep that draws a point twice runs it once, where it was first drawn.
    pub(crate) fn expand(
        &self,
        meta: &FileMeta,
        settings: &Settings,
        file: &SourceFile,
    ) -> Result<Vec<Experiment>, ExperimentError> {
        let points = self.points()?;
        let parent = base_config(settings, file);
        let mut out: Vec<Experiment> = Vec::with_capacity(points.len());
        let mut taken: Vec<&[Value]> = Vec::with_capacity(points.len());
        for point in &points {
            let sweep_point = SweepPoint {
                sweep: meta.name.clone(),
                index: out.len(),
                values: (self.axes.iter().zip(point))
                    .map(|(a, v)| (a.key.clone(), SweepValue::of(&v.written)))
                    .collect(),
                prune: self.prune.as_ref().map(|p| p.prune.clone()),
            };
            let name = format!("{}[{}]", meta.name, sweep_point.assignments());
            if let Some(earlier) = out.iter().position(|e| e.name == name) {
                if matches!(self.mode, Mode::Sampled { .. }) {
                    continue;
                }
                return Err(repeated(&self.axes, point, taken[earlier], &name));
            }
            let (config, seeds) = self.resolve(point, settings, file)?;
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
            taken.push(point);
        }
        if let Some(p) = &self.prune {
            p.check(&out)?;
        }
        Ok(out)
    }

    /// The file's settings with `point` laid over them, resolved.
    fn resolve(
        &self,
        point: &[Value],
        settings: &Settings,
        file: &SourceFile,
    ) -> Result<(crate::RunConfig, Vec<u64>), ExperimentError> {
        let mut s = settings.clone();
        // A new kind first: it decides which of the file's optimizer
        // settings still apply.
        for (axis, value) in self.axes.iter().zip(point) {
            let toml::Value::String(kind) = &value.written else {
                continue;
            };
            match axis.key.as_str() {
                "optimizer.kind" => s.keep_optimizer_fields_of(kind),
                "schedule.kind" => s.keep_schedule_fields_of(kind),
                _ => {}
            }
        }
        for value in point {
            s = value.patch.clone().over_sweep(s);
        }
        finish(&s, file).map_err(|e| in_point(e, point, &self.axes))
    }
}

/// What needs every axis: at least one, at most [`MAX_DIMENSIONS`] when
/// sampled, lists of one length when zipped.
fn check_axes(mode: Mode, axes: &[Axis], table: &Loc) -> Result<(), ExperimentError> {
    let Some(first) = axes.first() else {
        return Err(table.invalid(
            "sweep",
            "a [sweep] needs at least one setting and its list of values, e.g. \"optimizer.lr\" = [0.001, 0.01]",
        ));
    };
    if let (Mode::Sampled { .. }, Some(dropped)) = (mode, axes.get(MAX_DIMENSIONS)) {
        return Err(dropped.loc.invalid(
            &dropped.key,
            format!("a sampled sweep takes at most {MAX_DIMENSIONS} keys"),
        ));
    }
    if mode == Mode::Zip {
        let len = |a: &Axis| match &a.domain {
            Domain::List(v) => v.len(),
            Domain::Range(_) => 0,
        };
        if let Some(odd) = axes.iter().find(|a| len(a) != len(first)) {
            return Err(odd.loc.invalid(
                &odd.key,
                format!(
                    "mode = \"zip\" pairs the lists element by element, so they must have equal lengths: `{}` has {} values, `{}` has {}",
                    first.key,
                    len(first),
                    odd.key,
                    len(odd)
                ),
            ));
        }
    }
    Ok(())
}

/// The error for a grid or zip point named as an earlier one: at the first
/// value written in another place than the earlier point's.
fn repeated(axes: &[Axis], point: &[Value], earlier: &[Value], name: &str) -> ExperimentError {
    let (axis, value) = (axes.iter().zip(point).zip(earlier))
        .find(|((_, v), e)| v.loc.span != e.loc.span)
        .map_or((&axes[0], &point[0]), |((a, v), _)| (a, v));
    value.loc.invalid(
        &axis.key,
        format!("the point `{name}` comes twice; remove the repeated value"),
    )
}

/// What the swept setting `key` (written as `entry`) takes its values from.
fn axis_domain(
    key: &str,
    entry: Entry,
    entry_loc: &Loc,
    key_loc: &Loc,
    mode: Mode,
    file: &Arc<SourceFile>,
) -> Result<Domain, ExperimentError> {
    let sampled = matches!(mode, Mode::Sampled { .. });
    match entry {
        Entry::Table(table) if sampled => parse_range(key, table, entry_loc, file).map(Domain::Range),
        Entry::Table(_) => Err(entry_loc.invalid(
            key,
            format!(
                "a distribution (one of {}) needs mode = \"random\" or \"sobol\" with `samples` and `seed`; a grid or zip sweep takes a list of values",
                Dist::NAMES.join(", ")
            ),
        )),
        other => axis_values(key, other, entry_loc, key_loc, file).map(Domain::List),
    }
}

/// A distribution, `{ log_uniform = [1e-4, 1e-1] }`, as the range it samples.
fn parse_range(
    key: &str,
    table: WrittenSweep,
    loc: &Loc,
    file: &Arc<SourceFile>,
) -> Result<Range, ExperimentError> {
    let expected = format!(
        "a distribution is a table with one of {} and its two bounds, e.g. `\"{key}\" = {{ log_uniform = [1e-4, 1e-1] }}`",
        Dist::NAMES.join(", ")
    );
    let mut entries = table.0.into_iter();
    let (Some((name, bounds)), None) = (entries.next(), entries.next()) else {
        return Err(loc.invalid(key, expected));
    };
    let name_loc = Loc::new(file, name.span());
    let Some(dist) = Dist::named(name.get_ref()) else {
        let hint = nearest(name.get_ref(), &Dist::NAMES)
            .map(|n| format!("; did you mean `{n}`?"))
            .unwrap_or_default();
        return Err(name_loc.invalid(
            key,
            format!(
                "unknown distribution `{}`: {expected}{hint}",
                name.get_ref()
            ),
        ));
    };
    let bounds_loc = Loc::new(file, bounds.span());
    let Entry::List(bounds) = bounds.into_inner() else {
        return Err(bounds_loc.invalid(key, expected));
    };
    let bounds: Vec<toml::Value> = bounds.into_iter().map(Spanned::into_inner).collect();
    let range = Range::new(dist, &bounds).map_err(|why| bounds_loc.invalid(key, why))?;
    // The type is the setting's: a float range for an integer setting fails here.
    match Value::of(key, range.value(0.0), bounds_loc.clone()) {
        Ok(_) => Ok(range),
        Err(_) if !range.dist.is_int() && takes_whole_numbers(key) => {
            Err(loc.invalid(key, fractions_for_integers(key, range.dist, &bounds)))
        }
        Err(why) => Err(bounds_loc.invalid(
            key,
            format!(
                "`{}` does not fit this setting: {}",
                range.dist.name(),
                why.unwrap_or_default()
            ),
        )),
    }
}

/// Whether setting `key` takes a whole number and not a fraction.
fn takes_whole_numbers(key: &str) -> bool {
    let fits = |v: toml::Value| Settings::default().set(key, &v, &dummy_loc()) == Some(Ok(()));
    fits(toml::Value::Integer(1)) && !fits(toml::Value::Float(0.5))
}

/// A place for values that are tried, never reported.
fn dummy_loc() -> Loc {
    let file = Arc::new(SourceFile {
        path: std::path::PathBuf::new(),
        text: String::new(),
    });
    Loc::new(&file, 0..0)
}

/// What to write instead of a distribution of fractions on the integer
/// setting `key`, with the bounds written (when they are whole numbers).
fn fractions_for_integers(key: &str, dist: Dist, bounds: &[toml::Value]) -> String {
    let whole: Option<Vec<String>> = (bounds.iter())
        .map(|b| match b {
            toml::Value::Integer(i) => Some(i.to_string()),
            toml::Value::Float(x) if x.fract() == 0.0 && x.abs() < 1e15 => {
                Some((*x as i64).to_string())
            }
            _ => None,
        })
        .collect();
    let bounds = whole.map_or("[16, 512]".into(), |b| format!("[{}]", b.join(", ")));
    let options: Vec<String> = (Dist::integer_names().into_iter())
        .map(|n| format!("`{{ {n} = {bounds} }}`"))
        .collect();
    format!(
        "`{key}` is an integer setting and `{}` draws fractions; an integer setting takes {}",
        dist.name(),
        options.join(" or ")
    )
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
                Entry::List(_) | Entry::Table(_) => "[...]".into(),
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
        match Value::of(key, item.into_inner(), loc.clone()) {
            Ok(value) => values.push(value),
            Err(Some(why)) => {
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
            Err(None) => return Err(unknown_setting(key, key_loc)),
        }
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
fn in_point(err: ExperimentError, point: &[Value], axes: &[Axis]) -> ExperimentError {
    match err {
        ExperimentError::Invalid {
            path,
            line,
            column,
            key,
            message,
        } => {
            let shown: Vec<String> = (axes.iter().zip(point))
                .map(|(a, v)| format!("{}={}", a.key, SweepValue::of(&v.written)))
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

/// `(dotted key, entry, entry's span)` for every entry, nested tables
/// flattened, except a table under a setting's own name: that is a
/// distribution, `"optimizer.lr" = { log_uniform = [1e-4, 1e-1] }`.
fn flatten(
    table: WrittenSweep,
    prefix: &str,
    out: &mut Vec<(Spanned<String>, Entry, std::ops::Range<usize>)>,
) {
    for (key, entry) in table.0 {
        let span = entry.span();
        let dotted = Spanned::new(key.span(), format!("{prefix}{}", key.get_ref()));
        match entry.into_inner() {
            Entry::Table(inner) if !Settings::keys().contains(&dotted.get_ref().as_str()) => {
                flatten(inner, &format!("{}.", dotted.get_ref()), out)
            }
            other => out.push((dotted, other, span)),
        }
    }
}

/// The mode as written; a sampled mode's `samples` and `seed` are read
/// by [`Options::mode`].
fn parse_mode(entry: &Entry, loc: &Loc) -> Result<Mode, ExperimentError> {
    const EXPECTED: &str = "expected \"grid\" (every combination, the default), \"zip\" (the lists paired element by element), \"random\" or \"sobol\" (`samples` points drawn with `seed`)";
    let sampled = |sampler| Mode::Sampled {
        sampler,
        samples: 0,
        seed: 0,
    };
    let modes = [
        ("grid", Mode::Grid),
        ("zip", Mode::Zip),
        (Sampler::Random.name(), sampled(Sampler::Random)),
        (Sampler::Sobol.name(), sampled(Sampler::Sobol)),
    ];
    let Entry::Scalar(toml::Value::String(m)) = entry else {
        return Err(loc.invalid(MODE_KEY, format!("{EXPECTED}, got {}", entry.describe())));
    };
    if let Some((_, mode)) = modes.iter().find(|(name, _)| name == m) {
        return Ok(*mode);
    }
    let names: Vec<&str> = modes.iter().map(|(name, _)| *name).collect();
    let hint = nearest(m, &names)
        .map(|n| format!("; did you mean \"{n}\"?"))
        .unwrap_or_default();
    Err(loc.invalid(MODE_KEY, format!("unknown mode \"{m}\": {EXPECTED}{hint}")))
}

/// `[sweep.prune]` as written: `metric`, `eta` and `min_epochs`, all required.
fn parse_prune(
    entry: Spanned<Entry>,
    file: &Arc<SourceFile>,
) -> Result<WrittenPrune, ExperimentError> {
    let table = Loc::new(file, entry.span());
    const EXAMPLE: &str = "[sweep.prune] with metric = \"val:accuracy\", eta = 3, min_epochs = 3";
    let Entry::Table(written) = entry.into_inner() else {
        return Err(table.invalid(PRUNE_KEY, format!("expected a table, {EXAMPLE}")));
    };
    let mut metric = None;
    let mut eta = None;
    let mut min_epochs = None;
    for (key, value) in written.0 {
        let key_loc = Loc::new(file, key.span());
        let loc = Loc::new(file, value.span());
        let dotted = format!("{PRUNE_KEY}.{}", key.get_ref());
        match (key.get_ref().as_str(), value.into_inner()) {
            ("metric", Entry::Scalar(toml::Value::String(m))) => {
                metric = Some(parse_metric(&m).map_err(|why| loc.invalid(&dotted, why))?);
            }
            ("eta", Entry::Scalar(toml::Value::Integer(n))) if n >= 2 => eta = Some(n as usize),
            ("min_epochs", Entry::Scalar(toml::Value::Integer(n))) if n >= 1 => {
                min_epochs = Some((n as usize, loc));
            }
            (key @ ("eta" | "min_epochs" | "metric"), other) => {
                let expected = match key {
                    "eta" => {
                        "an integer of at least 2 (each rung keeps the best 1/eta of the points)"
                    }
                    "min_epochs" => {
                        "a positive integer (the epochs every point trains before the first ranking)"
                    }
                    _ => "a string such as \"val:accuracy\"",
                };
                let got = other.describe();
                return Err(loc.invalid(&dotted, format!("expected {expected}, got {got}")));
            }
            (unknown, _) => {
                let hint = nearest(unknown, &Prune::KEYS)
                    .map(|n| format!("; did you mean `{n}`?"))
                    .unwrap_or_default();
                let keys = Prune::KEYS.join(", ");
                let why = format!("unknown key in [sweep.prune]: expected one of {keys}{hint}");
                return Err(key_loc.invalid(&dotted, why));
            }
        }
    }
    let missing = |key: &str| {
        table.invalid(
            &format!("{PRUNE_KEY}.{key}"),
            format!("[sweep.prune] needs `{key}`: {EXAMPLE}"),
        )
    };
    let (split, quantity) = metric.ok_or_else(|| missing("metric"))?;
    let eta = eta.ok_or_else(|| missing("eta"))?;
    let (min_epochs, min_epochs_loc) = min_epochs.ok_or_else(|| missing("min_epochs"))?;
    Ok(WrittenPrune {
        prune: Prune {
            split,
            quantity,
            eta,
            min_epochs,
        },
        table,
        min_epochs: min_epochs_loc,
    })
}

/// `val:accuracy` as its split and quantity.
fn parse_metric(text: &str) -> Result<(Split, Quantity), String> {
    let expected = || {
        let all: Vec<String> = (Quantity::ALL.iter())
            .flat_map(|q| q.splits().iter().map(move |s| format!("{s}:{q}")))
            .collect();
        format!("expected split:quantity, one of {}", all.join(", "))
    };
    let (split, quantity) = text
        .split_once(':')
        .ok_or_else(|| format!("`{text}`: {}", expected()))?;
    if let (Some(s), Some(q)) = (Split::parse(split), Quantity::parse(quantity))
        && q.measured_on(s)
    {
        return Ok((s, q));
    }
    Err(format!("unknown metric `{text}`: {}", expected()))
}

impl WrittenPrune {
    /// What needs the points: more than one, and a first rung within the epochs.
    fn check(&self, points: &[Experiment]) -> Result<(), ExperimentError> {
        if points.len() < 2 {
            return Err(self.table.invalid(
                PRUNE_KEY,
                format!(
                    "this sweep has {} point; pruning ranks points against each other, so it needs at least two",
                    points.len()
                ),
            ));
        }
        let epochs = points.iter().map(|e| e.config.epochs).min().unwrap_or(0);
        if self.prune.min_epochs > epochs {
            return Err(self.min_epochs.invalid(
                "prune.min_epochs",
                format!(
                    "min_epochs = {} is above the experiment's {epochs} epochs; the first rung must be within training.epochs",
                    self.prune.min_epochs
                ),
            ));
        }
        Ok(())
    }
}

fn unknown_setting(key: &str, loc: &Loc) -> ExperimentError {
    let mut candidates = sweepable_settings();
    candidates.extend(OPTION_KEYS);
    let hint = nearest(key, &candidates)
        .map(|n| format!("; did you mean \"{n}\"?"))
        .unwrap_or_default();
    loc.invalid(
        key,
        format!(
            "unknown setting in [sweep]: expected a quoted dotted setting name such as \"optimizer.lr\" (one of {}) or an option ({}){hint}",
            sweepable_settings().join(", "),
            OPTION_KEYS.join(", ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{OptimizerConfig, load_dir, load_file, run_id};
    use std::path::PathBuf;

    /// The frozen copy of the shipped experiment files (never the
    /// repository's `experiments/`, which a user may edit).
    fn repo_experiments() -> PathBuf {
        crate::testdata::shipped()
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
        crate::position(text, offset)
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
    fn a_sobol_sweep_draws_the_same_rounded_points_every_time() {
        let text = "extends = \"base.toml\"\n[sweep]\nmode = \"sobol\"\nsamples = 8\nseed = 3\n\"optimizer.lr\" = { log_uniform = [1e-4, 1e-1] }\n\"model.dropout\" = { uniform = [0.0, 0.5] }\n\"model.hidden\" = [[64], [128, 64]]\n\"training.batch_size\" = { log_int_uniform = [16, 256] }\n";
        let exps = sweep(text).unwrap();
        assert_eq!(exps.len(), 8);
        assert_eq!(
            names(&exps),
            names(&sweep(text).unwrap()),
            "a pure function of the file"
        );
        // Pinned: the first two points' names (and so their run ids) never change.
        assert_eq!(
            names(&exps[..2]),
            [
                "s[optimizer.lr=0.000118,model.dropout=0.0457,model.hidden=64,training.batch_size=16]",
                "s[optimizer.lr=0.0215,model.dropout=0.457,model.hidden=128x64,training.batch_size=130]",
            ]
        );
        for (i, e) in exps.iter().enumerate() {
            assert_eq!(e.sweep.as_ref().unwrap().index, i);
            let lr = e.config.optimizer.lr();
            assert!((1e-4..=1e-1).contains(&lr), "{lr}");
            assert_eq!(lr, crate::sample::round_significant(lr), "three digits");
            assert!((0.0..=0.5).contains(&e.config.model.dropout));
            assert!((16..=256).contains(&e.config.batch_size));
        }
        let random = sweep(&text.replace("sobol", "random")).unwrap();
        assert_eq!(random.len(), 8);
        assert_ne!(names(&random), names(&exps));
        let reseeded = sweep(&text.replace("seed = 3", "seed = 4")).unwrap();
        assert_ne!(names(&reseeded), names(&exps));
    }

    #[test]
    fn a_sampled_point_drawn_twice_runs_once_and_equal_settings_share_run_ids() {
        // Two choices only: eight draws give at most two distinct points.
        let text = baseline_text()
            + "[sweep]\nmode = \"random\"\nsamples = 8\nseed = 0\n\"optimizer.lr\" = [0.001, 0.01]\n";
        let exps = sweep(&text).unwrap();
        let mut shown = names(&exps);
        shown.sort_unstable();
        assert_eq!(shown, ["s[optimizer.lr=0.001]", "s[optimizer.lr=0.01]"]);
        let base = load_file(&repo_experiments().join("baseline.toml"))
            .unwrap()
            .remove(0);
        let same = exps
            .iter()
            .find(|e| e.config.optimizer.lr() == 0.001)
            .unwrap();
        let data = ["d".to_string()];
        assert_eq!(
            run_id(&same.config, 0, &data, 1),
            run_id(&base.config, 0, &data, 1)
        );
    }

    #[test]
    fn sampled_sweep_mistakes_name_line_column_and_key() {
        let head = "extends = \"base.toml\"\n[sweep]\n";
        let sampled = "mode = \"sobol\"\nsamples = 4\nseed = 1\n";
        let cases: &[(String, &str, &str, &str)] = &[
            (
                format!("{sampled}\"optimizer.lr\" = {{ log_uniform = [0.0, 0.1] }}\n"),
                "[0.0, 0.1]",
                "optimizer.lr",
                "cannot reach 0",
            ),
            (
                format!("{sampled}\"optimizer.lr\" = {{ loguniform = [0.001, 0.1] }}\n"),
                "loguniform",
                "optimizer.lr",
                "unknown distribution `loguniform`",
            ),
            (
                format!("{sampled}\"model.dropout\" = {{ uniform = [0.5, 0.1] }}\n"),
                "[0.5, 0.1]",
                "model.dropout",
                "reversed",
            ),
            (
                format!("{sampled}\"model.dropout\" = {{ uniform = [0.2, 0.2] }}\n"),
                "[0.2, 0.2]",
                "model.dropout",
                "empty range",
            ),
            (
                format!(
                    "{sampled}\"model.dropout\" = {{ uniform = [0.0, 0.5], int_uniform = [1, 2] }}\n"
                ),
                "{ uniform",
                "model.dropout",
                "a table with one of",
            ),
            (
                // At the value, naming the distributions an integer takes.
                format!("{sampled}\"training.batch_size\" = {{ uniform = [32, 256] }}\n"),
                "{ uniform",
                "training.batch_size",
                "is an integer setting and `uniform` draws fractions; an integer setting takes `{ int_uniform = [32, 256] }` or `{ log_int_uniform = [32, 256] }`",
            ),
            (
                format!("{sampled}\"training.batch_size\" = {{ log_uniform = [16.0, 64.0] }}\n"),
                "{ log_uniform",
                "training.batch_size",
                "takes `{ int_uniform = [16, 64] }` or `{ log_int_uniform = [16, 64] }`",
            ),
            (
                // A kind-dependent setting, typed by its declaration.
                format!("{sampled}\"schedule.step_size\" = {{ uniform = [5, 15] }}\n"),
                "{ uniform",
                "schedule.step_size",
                "an integer setting takes `{ int_uniform = [5, 15] }`",
            ),
            (
                format!("{sampled}\"model.hidden\" = {{ uniform = [16.0, 64.0] }}\n"),
                "[16.0, 64.0]",
                "model.hidden",
                "does not fit this setting",
            ),
            (
                format!("{sampled}\"model.dropout\" = {{ uniform = [0.0, 1.5] }}\n"),
                "{ uniform",
                "model.dropout",
                "[0, 1)",
            ),
            (
                "mode = \"sobol\"\nsamples = 0\nseed = 1\n\"optimizer.lr\" = [0.1]\n".into(),
                "0\n",
                "samples",
                "samples = 0 draws no point",
            ),
            (
                "mode = \"random\"\nseed = 1\n\"optimizer.lr\" = [0.1]\n".into(),
                "\"random\"",
                "samples",
                "needs `samples`",
            ),
            (
                "mode = \"random\"\nsamples = 3\nseed = -1\n\"optimizer.lr\" = [0.1]\n".into(),
                "-1",
                "seed",
                "expected an integer from 0 to 4294967295",
            ),
            (
                "samples = 3\n\"optimizer.lr\" = [0.1]\n".into(),
                "3",
                "samples",
                "is for mode = \"random\" or \"sobol\"",
            ),
            (
                "\"optimizer.lr\" = { log_uniform = [0.001, 0.1] }\n".into(),
                "{ log_uniform",
                "optimizer.lr",
                "needs mode = \"random\" or \"sobol\"",
            ),
            (
                "mode = \"sobl\"\n\"optimizer.lr\" = [0.1]\n".into(),
                "\"sobl\"",
                "mode",
                "did you mean \"sobol\"?",
            ),
        ];
        for (body, at, key, message) in cases {
            let text = format!("{head}{body}");
            let err = sweep(&text).unwrap_err();
            let (line, column) = line_col_of(&text[head.len()..], at);
            assert_eq!(position(&err), (line + 2, column, *key), "{body}: {err}");
            assert!(err.to_string().contains(message), "{body}: {err}");
        }
    }

    #[test]
    fn a_pruned_sweep_carries_its_rule_and_bad_rules_are_positioned() {
        let head = "extends = \"base.toml\"\n[sweep]\n\"optimizer.lr\" = [0.1, 0.01, 0.001]\n[sweep.prune]\n";
        let exps = sweep(&format!(
            "{head}metric = \"val:loss\"\neta = 3\nmin_epochs = 2\n"
        ))
        .unwrap();
        let expected = Prune {
            split: Split::Val,
            quantity: Quantity::Loss,
            eta: 3,
            min_epochs: 2,
        };
        for e in &exps {
            assert_eq!(e.sweep.as_ref().unwrap().prune.as_ref(), Some(&expected));
        }
        let cases: &[(&str, &str, &str, &str)] = &[
            (
                "metric = \"val:accuracy\"\neta = 1\nmin_epochs = 2\n",
                "1\n",
                "prune.eta",
                "at least 2",
            ),
            (
                "metric = \"val:accuracy\"\neta = 3\nmin_epochs = 31\n",
                "31",
                "prune.min_epochs",
                "above the experiment's 30 epochs",
            ),
            (
                "metric = \"val:grad_norm\"\neta = 3\nmin_epochs = 3\n",
                "\"val:grad_norm\"",
                "prune.metric",
                "unknown metric",
            ),
            (
                "metric = \"val:accuracy\"\neta = 3\nmin_epoch = 3\n",
                "min_epoch",
                "prune.min_epoch",
                "did you mean `min_epochs`?",
            ),
        ];
        for (body, at, key, message) in cases {
            let text = format!("{head}{body}");
            let err = sweep(&text).unwrap_err();
            let (line, column) = line_col_of(&text[head.len()..], at);
            assert_eq!(position(&err), (line + 4, column, *key), "{body}: {err}");
            assert!(err.to_string().contains(message), "{body}: {err}");
        }
        let err = sweep(&format!("{head}metric = \"val:accuracy\"\neta = 3\n")).unwrap_err();
        assert_eq!(
            position(&err),
            (4, 1, "prune.min_epochs"),
            "at [sweep.prune]: {err}"
        );
        assert!(err.to_string().contains("needs `min_epochs`"), "{err}");
        let one = "extends = \"base.toml\"\n[sweep]\n\"optimizer.lr\" = [0.1]\n[sweep.prune]\nmetric = \"val:accuracy\"\neta = 3\nmin_epochs = 3\n";
        let err = sweep(one).unwrap_err();
        assert_eq!(position(&err).2, "prune", "{err}");
        assert!(err.to_string().contains("needs at least two"), "{err}");
    }

    #[test]
    fn the_shipped_searches_are_pruned_and_the_pruned_lr_sweep_shares_the_full_one_s_runs() {
        let random = load_file(&repo_experiments().join("random-search.toml")).unwrap();
        assert_eq!(random.len(), 24, "no point drawn twice");
        let prune = random[0].sweep.as_ref().unwrap().prune.clone().unwrap();
        assert_eq!(
            (prune.eta, prune.min_epochs, prune.metric().as_str()),
            (3, 2, "val:accuracy")
        );
        assert_eq!(
            prune.cost(24, 30),
            (128, 720),
            "the cost its comment states"
        );
        assert_eq!(
            random[0].name,
            "random-search[optimizer.lr=0.000612,model.dropout=0.268,model.hidden=256x128]",
            "the name its comment shows"
        );
        let widths: std::collections::BTreeSet<Vec<usize>> = random
            .iter()
            .map(|e| e.config.model.hidden.clone())
            .collect();
        assert_eq!(widths.len(), 3, "every width drawn");

        let full = load_file(&repo_experiments().join("lr-sweep.toml")).unwrap();
        let pruned = load_file(&repo_experiments().join("lr-sweep-pruned.toml")).unwrap();
        let data = ["d".to_string()];
        assert_eq!(pruned.len(), full.len());
        for (p, f) in pruned.iter().zip(&full) {
            assert_eq!(
                run_id(&p.config, 0, &data, 1),
                run_id(&f.config, 0, &data, 1)
            );
            assert!(f.sweep.as_ref().unwrap().prune.is_none());
        }
        let prune = pruned[0].sweep.as_ref().unwrap().prune.clone().unwrap();
        assert_eq!(prune.rungs(30), [3, 9, 27, 30]);
        assert_eq!(prune.cost(14, 30), (111, 420), "26% of the grid's epochs");
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
