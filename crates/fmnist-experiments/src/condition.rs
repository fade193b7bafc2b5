//! `when`: a swept setting that only some kinds of optimizer or schedule
//! take, swept for those kinds only (module `sweep` shows the syntax).
//!
//! ```toml
//! "optimizer.kind" = ["sgd", "adam"]
//! "optimizer.momentum" = { uniform = [0.0, 0.99], when = { "optimizer.kind" = "sgd" } }
//! ```
//!
//! A condition reads the kind of the setting's own table (`optimizer.kind`
//! for `optimizer.*`), which the same `[sweep]` must sweep, and names one
//! kind or a list of them; each must be among the swept kinds and take the
//! setting, so that a point never carries a setting its kind does not have.

use std::sync::Arc;

use toml::Spanned;

use crate::error::ExperimentError;
use crate::optimizer::{OPTIMIZER_KINDS, optimizer_kind};
use crate::schedule::{SCHEDULE_KINDS, schedule_fields_of};
use crate::source::{Loc, SourceFile};
use crate::sweep::{Domain, Entry, SweptKey, Value, flatten};

/// The key of a swept setting's condition, `{ ..., when = { ... } }`.
pub(crate) const WHEN_KEY: &str = "when";

/// The key of a conditional setting's list, `{ values = [...], when = ... }`.
pub(crate) const VALUES_KEY: &str = "values";

/// A parsed `when`: the kinds a swept setting applies to.
#[derive(Debug, Clone)]
pub(crate) struct Condition {
    /// The kind setting it reads, `optimizer.kind`.
    key: String,
    key_loc: Loc,
    /// The kinds, each where it was written.
    kinds: Vec<(String, Loc)>,
}

impl Condition {
    /// Whether the point with `values` (one per axis of `axes`) is of one
    /// of the kinds.
    pub(crate) fn holds(&self, axes: &[SweptKey], values: &[Value]) -> bool {
        (axes.iter().zip(values))
            .find(|(a, _)| a.key == self.key)
            .is_some_and(|(_, v)| match &v.written {
                toml::Value::String(k) => self.kinds.iter().any(|(n, _)| n == k),
                _ => false,
            })
    }
}

/// The settings `kind` of `table` (`optimizer` or `schedule`) takes; `None`
/// for an unknown kind (resolution reports it).
fn fields_of(table: &str, kind: &str) -> Option<Vec<&'static str>> {
    match table {
        "optimizer" => optimizer_kind(kind).map(|k| k.fields.to_vec()),
        _ => schedule_fields_of(kind),
    }
}

/// Every kind name of `table`.
fn kinds_of(table: &str) -> Vec<&'static str> {
    let specs = if table == "optimizer" {
        OPTIMIZER_KINDS
    } else {
        SCHEDULE_KINDS
    };
    specs.iter().map(|k| k.kind).collect()
}

/// `when = { "optimizer.kind" = "sgd" }` (or a list of kinds) on the swept
/// `setting`.
pub(crate) fn parse_condition(
    setting: &str,
    when_key: Spanned<String>,
    when: Spanned<Entry>,
    file: &Arc<SourceFile>,
) -> Result<Condition, ExperimentError> {
    let key_loc = Loc::new(file, when_key.span());
    let (table, field) = setting.split_once('.').unwrap_or((setting, ""));
    let kind_key = format!("{table}.kind");
    let example = format!("`{WHEN_KEY} = {{ \"{kind_key}\" = \"...\" }}`");
    if field == "kind" {
        return Err(key_loc.invalid(
            setting,
            "a kind cannot be conditional: `when` chooses the settings of the swept kinds",
        ));
    }
    if !["optimizer", "schedule"].contains(&table) {
        return Err(key_loc.invalid(
            setting,
            format!("`{setting}` is a setting of every point; only the settings of [optimizer] and [schedule] depend on their kind, so only they take `when`"),
        ));
    }
    let when_loc = Loc::new(file, when.span());
    let Entry::Table(written) = when.into_inner() else {
        return Err(when_loc.invalid(setting, format!("expected a table, {example}")));
    };
    let mut entries = Vec::new();
    flatten(written, "", &mut entries);
    let mut entries = entries.into_iter();
    let (Some((key, value, span)), None) = (entries.next(), entries.next()) else {
        return Err(when_loc.invalid(
            setting,
            format!("`when` names one setting, the kind: {example}"),
        ));
    };
    let condition_key_loc = Loc::new(file, key.span());
    if *key.get_ref() != kind_key {
        return Err(condition_key_loc.invalid(
            setting,
            format!(
                "a condition on `{setting}` reads `{kind_key}`, the kind of its own table, not `{}`: {example}",
                key.get_ref()
            ),
        ));
    }
    let value_loc = Loc::new(file, span);
    let expected = || {
        value_loc.invalid(
            setting,
            format!("expected a kind's name or a list of them, e.g. {example}"),
        )
    };
    let items = match value {
        Entry::Scalar(v) => vec![(v, value_loc.clone())],
        Entry::List(items) if !items.is_empty() => (items.into_iter())
            .map(|v| {
                let loc = Loc::new(file, v.span());
                (v.into_inner(), loc)
            })
            .collect(),
        Entry::List(_) | Entry::Table(_) => return Err(expected()),
    };
    let kinds = (items.into_iter())
        .map(|(v, loc)| match v {
            toml::Value::String(k) => Ok((k, loc)),
            _ => Err(expected()),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Condition {
        key: kind_key,
        key_loc: condition_key_loc,
        kinds,
    })
}

/// What needs every axis: each condition's kind setting is swept, and each
/// kind it names is among the swept ones and takes the setting.
pub(crate) fn check_conditions(axes: &[SweptKey]) -> Result<(), ExperimentError> {
    for axis in axes {
        let Some(when) = &axis.when else { continue };
        let (table, field) = axis.key.split_once('.').unwrap_or_default();
        let Some(kind_axis) = axes.iter().find(|a| a.key == when.key) else {
            return Err(when.key_loc.invalid(
                &axis.key,
                format!(
                    "`{}` is not swept in this [sweep]: `when` chooses among the swept kinds; sweep `{}`, or remove `when`",
                    when.key, when.key
                ),
            ));
        };
        let swept = swept_kinds(kind_axis);
        for (kind, loc) in &when.kinds {
            if !swept.contains(kind) {
                return Err(loc.invalid(
                    &axis.key,
                    format!(
                        "`{kind}` is not among the swept `{}` values ({}), so the condition never holds for it",
                        when.key,
                        swept.join(", ")
                    ),
                ));
            }
            let Some(fields) = fields_of(table, kind) else {
                continue;
            };
            if !fields.contains(&field) {
                let takers: Vec<&str> = (kinds_of(table).into_iter())
                    .filter(|k| fields_of(table, k).is_some_and(|f| f.contains(&field)))
                    .collect();
                return Err(loc.invalid(
                    &axis.key,
                    format!(
                        "{table} `{kind}` has no setting `{field}` (it takes {}); name only kinds that take it: {}",
                        fields.join(", "),
                        takers.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The kind names a kind axis sweeps.
fn swept_kinds(axis: &SweptKey) -> Vec<String> {
    match &axis.domain {
        Domain::List(values) => (values.iter())
            .filter_map(|v| v.written.as_str().map(str::to_string))
            .collect(),
        Domain::Range(_) => Vec::new(),
    }
}

/// After "not a setting of optimizer `adam`" for a swept setting without
/// `when` beside a swept kind: how to sweep it for the kinds that take it.
pub(crate) fn when_hint(key: &str, axes: &[SweptKey]) -> String {
    let Some((table, field)) = key.split_once('.') else {
        return String::new();
    };
    let kind_key = format!("{table}.kind");
    let (Some(kind_axis), Some(axis)) = (
        axes.iter().find(|a| a.key == kind_key),
        axes.iter().find(|a| a.key == key),
    ) else {
        return String::new();
    };
    if axis.when.is_some() || field == "kind" {
        return String::new();
    }
    let takers: Vec<String> = (swept_kinds(kind_axis).into_iter())
        .filter(|k| fields_of(table, k).is_some_and(|f| f.contains(&field)))
        .map(|k| format!("\"{k}\""))
        .collect();
    if takers.is_empty() {
        return String::new();
    }
    format!(
        "; to sweep it for the kinds that take it only, add `{WHEN_KEY} = {{ \"{kind_key}\" = [{}] }}` to its table (a list becomes `{{ {VALUES_KEY} = [...], {WHEN_KEY} = ... }}`)",
        takers.join(", ")
    )
}
