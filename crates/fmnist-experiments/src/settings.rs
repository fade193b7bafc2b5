//! The settings of one file as written, and merged over what it extends:
//! every field optional and carrying where it was written. `[model]`,
//! `[input]` and `[training]` are typed tables declared by
//! `setting_tables!`; `[optimizer]` and `[schedule]` are maps checked
//! against their kinds' declarations (`crate::optimizer`,
//! `crate::schedule`), since which keys they may hold depends on their
//! `kind`. A file that names another kind than the file it extends inherits
//! the settings the two kinds share (an optimizer's `lr` and
//! `weight_decay`, a schedule's warmup), the same rule a sweep over `kind`
//! follows.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use crate::error::ExperimentError;
use crate::optimizer::{OptimizerConfig, all_optimizer_fields, all_optimizer_keys, optimizer_kind};
use crate::schedule::{check_schedule_type, schedule_fields, schedule_fields_of, schedule_keys};
use crate::source::{Loc, Located, SourceFile};
use crate::suggest::nearest;

/// Declares each typed setting table once. For `[table] Written => Layer { field: T }`
/// it makes `Written` (the table as one file writes it: every field optional,
/// spanned, unknown keys rejected) and `Layer` (the same after merging files:
/// each field remembers its file), and the part of [`Settings`] that reads
/// and sets them by dotted name.
macro_rules! setting_tables {
    ($( [$table:ident] $Written:ident => $Layer:ident { $( $field:ident: $ty:ty, )* } )*) => {
        $(
            #[derive(Debug, Clone, Default, Deserialize)]
            #[serde(deny_unknown_fields)]
            pub(crate) struct $Written {
                $( $field: Option<Spanned<$ty>>, )*
            }

            #[derive(Debug, Clone, Default)]
            pub(crate) struct $Layer {
                $( pub(crate) $field: Option<Located<$ty>>, )*
            }

            impl $Layer {
                fn written(table: $Written, file: &Arc<SourceFile>) -> Self {
                    Self { $( $field: table.$field.map(|v| Located::written(v, file)), )* }
                }

                /// `self` where it says something, else `parent`.
                fn over(self, parent: Self) -> Self {
                    Self { $( $field: self.$field.or(parent.$field), )* }
                }
            }
        )*

        impl Settings {
            /// The typed tables' dotted names, in the order of the file format.
            const TABLE_KEYS: &[&str] = &[
                $( $( concat!(stringify!($table), ".", stringify!($field)), )* )*
            ];

            /// Sets the typed setting `key` (dotted) to `value`. `None` if
            /// there is no such typed setting; `Some(Err)` with the type
            /// mismatch if the value does not fit.
            fn set_typed(
                &mut self,
                key: &str,
                value: &toml::Value,
                loc: &Loc,
            ) -> Option<Result<(), String>> {
                match key {
                    $( $(
                        concat!(stringify!($table), ".", stringify!($field)) => Some(
                            <$ty>::deserialize(value.clone())
                                .map(|v| self.$table.$field = Some(Located { value: v, loc: loc.clone() }))
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
    [training] WrittenTraining => Training {
        batch_size: i64,
        epochs: i64,
        seeds: Vec<i64>,
        train_limit: i64,
        val_limit: i64,
        validation: i64,
        validation_seed: i64,
        early_stopping: WrittenStopping,
    }
}

/// `[training.early_stopping]` as written; every key optional, Lightning's
/// defaults for the rest, each value with its span so that a mistake is
/// reported at the value. Inherited as a whole.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WrittenStopping {
    pub(crate) monitor: Option<Spanned<String>>,
    pub(crate) patience: Option<Spanned<i64>>,
    pub(crate) min_delta: Option<Spanned<f64>>,
    pub(crate) mode: Option<Spanned<String>>,
    pub(crate) keep: Option<Spanned<String>>,
}

/// A table whose valid keys depend on its `kind` (`[optimizer]`,
/// `[schedule]`) as a file writes it: any key, each value spanned; the keys
/// are checked on reading against every kind's settings and on resolution
/// against the kind's own.
pub(crate) type WrittenKindTable = BTreeMap<String, Spanned<toml::Value>>;

/// A kind-dependent table after merging files: each setting remembers its
/// file.
#[derive(Debug, Clone, Default)]
pub(crate) struct KindTable {
    fields: BTreeMap<String, Located<toml::Value>>,
}

impl KindTable {
    /// `table` (named `name`), whose keys must be among `known`.
    fn written(
        name: &str,
        table: WrittenKindTable,
        known: &[&str],
        file: &Arc<SourceFile>,
    ) -> Result<Self, ExperimentError> {
        let mut fields = BTreeMap::new();
        for (key, value) in table {
            let at = Located::written(value, file);
            if !known.contains(&key.as_str()) {
                let hint = nearest(&key, known)
                    .map(|n| format!("; did you mean `{n}`?"))
                    .unwrap_or_default();
                return Err(at.invalid(
                    &format!("{name}.{key}"),
                    format!(
                        "unknown {name} setting; expected one of {}{hint}",
                        known.join(", ")
                    ),
                ));
            }
            fields.insert(key, at);
        }
        Ok(KindTable { fields })
    }

    fn over(self, parent: Self) -> Self {
        let mut fields = parent.fields;
        fields.extend(self.fields);
        KindTable { fields }
    }

    /// The value written for `field`, with where.
    pub(crate) fn get(&self, field: &str) -> Option<&Located<toml::Value>> {
        self.fields.get(field)
    }

    /// `kind` as text, or the place it was written with something else.
    pub(crate) fn kind(&self, table: &str) -> Option<Result<Located<String>, ExperimentError>> {
        self.get("kind").map(|at| match &at.value {
            toml::Value::String(s) => Ok(Located {
                value: s.clone(),
                loc: at.loc.clone(),
            }),
            other => Err(at.invalid(
                &format!("{table}.kind"),
                format!("expected a string, got {}", other.type_str()),
            )),
        })
    }

    /// The settings written, with where, `kind` excepted.
    pub(crate) fn given(&self) -> impl Iterator<Item = (&str, &Loc)> {
        (self.fields.iter())
            .filter(|(k, _)| k.as_str() != "kind")
            .map(|(k, at)| (k.as_str(), &at.loc))
    }

    /// The kind `self` names when it is another than `parent`'s: then
    /// only the settings that kind takes are inherited.
    fn new_kind(&self, parent: &Self) -> Option<String> {
        let kind = |t: &Self| t.get("kind").map(|at| at.value.clone());
        match (kind(self), kind(parent)) {
            (Some(k), Some(p)) if k == p => None,
            (Some(toml::Value::String(k)), _) => Some(k),
            // Not a string: resolution reports it; inherit nothing.
            (Some(_), _) => Some(String::new()),
            (None, _) => None,
        }
    }

    /// `self` over `parent`; when `self` names another kind, `parent`
    /// contributes only the settings that kind takes (`fields_of`; none
    /// for an unknown kind).
    fn over_kind(self, mut parent: Self, fields_of: fn(&str) -> Option<Vec<&'static str>>) -> Self {
        if let Some(kind) = self.new_kind(&parent) {
            parent.keep_only(&fields_of(&kind).unwrap_or_default());
        }
        self.over(parent)
    }

    fn keep_only(&mut self, fields: &[&str]) {
        (self.fields).retain(|f, _| f == "kind" || fields.contains(&f.as_str()));
    }

    fn insert(&mut self, field: &str, at: Located<toml::Value>) {
        self.fields.insert(field.to_string(), at);
    }
}

/// Every setting that affects the numbers, as far as the files say.
#[derive(Debug, Clone, Default)]
pub(crate) struct Settings {
    pub(crate) model: Model,
    pub(crate) input: Input,
    pub(crate) optimizer: KindTable,
    pub(crate) schedule: KindTable,
    pub(crate) training: Training,
}

/// The tables of one file, as its `Doc` holds them.
#[derive(Debug, Default)]
pub(crate) struct WrittenSettings {
    pub(crate) model: WrittenModel,
    pub(crate) input: WrittenInput,
    pub(crate) optimizer: WrittenKindTable,
    pub(crate) schedule: WrittenKindTable,
    pub(crate) training: WrittenTraining,
}

impl Settings {
    /// Every setting's dotted name, in the order of the file format.
    pub(crate) fn keys() -> Vec<&'static str> {
        let mut keys = Settings::TABLE_KEYS.to_vec();
        let at = keys
            .iter()
            .position(|k| k.starts_with("training."))
            .unwrap_or(keys.len());
        let kinds = all_optimizer_keys().into_iter().chain(schedule_keys());
        keys.splice(at..at, kinds);
        keys
    }

    pub(crate) fn written(
        tables: WrittenSettings,
        file: &Arc<SourceFile>,
    ) -> Result<Settings, ExperimentError> {
        Ok(Settings {
            model: Model::written(tables.model, file),
            input: Input::written(tables.input, file),
            optimizer: KindTable::written(
                "optimizer",
                tables.optimizer,
                &all_optimizer_fields(),
                file,
            )?,
            schedule: KindTable::written("schedule", tables.schedule, &schedule_fields(), file)?,
            training: Training::written(tables.training, file),
        })
    }

    /// Sets the setting `key` (dotted) to `value`, typed as the file format
    /// (or, in `[optimizer]` and `[schedule]`, the declaration of the first
    /// kind that takes it) types it; ranges are checked when resolved.
    /// `None` if there is no such setting; `Some(Err)` if the value does
    /// not fit.
    pub(crate) fn set(
        &mut self,
        key: &str,
        value: &toml::Value,
        loc: &Loc,
    ) -> Option<Result<(), String>> {
        let at = Located {
            value: value.clone(),
            loc: loc.clone(),
        };
        if let Some(field) = key.strip_prefix("optimizer.") {
            let typed = kind_setting_type(field, value, OptimizerConfig::check_type)?;
            return Some(typed.map(|()| self.optimizer.insert(field, at)));
        }
        if let Some(field) = key.strip_prefix("schedule.") {
            let typed = kind_setting_type(field, value, check_schedule_type)?;
            return Some(typed.map(|()| self.schedule.insert(field, at)));
        }
        self.set_typed(key, value, loc)
    }

    /// `self` (a file) over `parent` (what it extends). A file that names
    /// another kind of optimizer or schedule inherits only the settings that
    /// kind takes (the two kinds share): SGD's momentum means nothing to
    /// Adam, but a learning rate or a weight decay means the same to both.
    pub(crate) fn over(self, parent: Settings) -> Settings {
        let optimizer_fields = |kind: &str| optimizer_kind(kind).map(|k| k.fields.to_vec());
        Settings {
            model: self.model.over(parent.model),
            input: self.input.over(parent.input),
            optimizer: (self.optimizer).over_kind(parent.optimizer, optimizer_fields),
            schedule: (self.schedule).over_kind(parent.schedule, schedule_fields_of),
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
            schedule: self.schedule.over(base.schedule),
            training: self.training.over(base.training),
        }
    }

    /// Drops the optimizer settings that `kind` does not take, so that its
    /// defaults apply (a sweep over `optimizer.kind`). An unknown kind keeps
    /// everything: resolution reports it.
    pub(crate) fn keep_optimizer_fields_of(&mut self, kind: &str) {
        if let Some(spec) = optimizer_kind(kind) {
            self.optimizer.keep_only(spec.fields);
        }
    }

    /// [`Settings::keep_optimizer_fields_of`] for `[schedule]` (a sweep over
    /// `schedule.kind`).
    pub(crate) fn keep_schedule_fields_of(&mut self, kind: &str) {
        if let Some(fields) = schedule_fields_of(kind) {
            self.schedule.keep_only(&fields);
        }
    }
}

/// The type check of a kind-dependent table's setting `field`: `kind` is
/// a string (resolution checks which), the others as declared. `None` if
/// no kind takes `field`.
fn kind_setting_type(
    field: &str,
    value: &toml::Value,
    check: fn(&str, &toml::Value) -> Option<Result<(), String>>,
) -> Option<Result<(), String>> {
    if field == "kind" {
        return Some(match value {
            toml::Value::String(_) => Ok(()),
            other => Err(format!("expected a kind's name, got {other}")),
        });
    }
    check(field, value)
}
