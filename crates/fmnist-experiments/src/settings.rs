//! The settings of one file as written, and merged over what it extends:
//! every field optional and carrying where it was written. `[model]`,
//! `[input]` and `[training]` are typed tables declared by
//! `setting_tables!`; `[optimizer]` is a map checked against the optimizer
//! declarations (`crate::optimizer`), since which keys it may hold depends
//! on its `kind`.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use crate::error::ExperimentError;
use crate::optimizer::{all_optimizer_fields, all_optimizer_keys, optimizer_kind};
use crate::schedule::{SCHEDULE_KEYS, schedule_fields, schedule_kind_fields};
use crate::source::{At, Loc, SourceFile};
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
                $( pub(crate) $field: Option<At<$ty>>, )*
            }

            impl $Layer {
                fn written(table: $Written, file: &Arc<SourceFile>) -> Self {
                    Self { $( $field: table.$field.map(|v| At::written(v, file)), )* }
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
    [training] WrittenTraining => Training {
        batch_size: i64,
        epochs: i64,
        seeds: Vec<i64>,
        train_limit: i64,
        val_limit: i64,
        early_stopping: WrittenStopping,
    }
}

/// `[training.early_stopping]` as written; every key optional, Lightning's
/// defaults for the rest. Inherited as a whole.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WrittenStopping {
    pub(crate) monitor: Option<String>,
    pub(crate) patience: Option<i64>,
    pub(crate) min_delta: Option<f64>,
    pub(crate) mode: Option<String>,
    pub(crate) keep: Option<String>,
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
    fields: BTreeMap<String, At<toml::Value>>,
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
            let at = At::written(value, file);
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
    pub(crate) fn get(&self, field: &str) -> Option<&At<toml::Value>> {
        self.fields.get(field)
    }

    /// `kind` as text, or the place it was written with something else.
    pub(crate) fn kind(&self, table: &str) -> Option<Result<At<String>, ExperimentError>> {
        self.get("kind").map(|at| match &at.value {
            toml::Value::String(s) => Ok(At {
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

    /// Whether `self` names another kind than `parent`: then a file starts
    /// the table afresh rather than inheriting settings of another kind.
    fn new_kind(&self, parent: &Self) -> bool {
        let kind = |t: &Self| t.get("kind").map(|at| at.value.clone());
        match (kind(self), kind(parent)) {
            (Some(k), Some(p)) => k != p,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }

    fn keep_only(&mut self, fields: &[&str]) {
        (self.fields).retain(|f, _| f == "kind" || fields.contains(&f.as_str()));
    }

    fn insert(&mut self, field: &str, at: At<toml::Value>) {
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
        let kinds = all_optimizer_keys()
            .into_iter()
            .chain(SCHEDULE_KEYS.iter().copied());
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
    /// types it (optimizer settings are typed when resolved). `None` if
    /// there is no such setting; `Some(Err)` if the value does not fit.
    pub(crate) fn set(
        &mut self,
        key: &str,
        value: &toml::Value,
        loc: &Loc,
    ) -> Option<Result<(), String>> {
        let at = At {
            value: value.clone(),
            loc: loc.clone(),
        };
        if let Some(field) = key.strip_prefix("optimizer.") {
            (all_optimizer_fields().contains(&field)).then(|| self.optimizer.insert(field, at));
            return all_optimizer_fields().contains(&field).then_some(Ok(()));
        }
        if let Some(field) = key.strip_prefix("schedule.") {
            (schedule_fields().contains(&field)).then(|| self.schedule.insert(field, at));
            return schedule_fields().contains(&field).then_some(Ok(()));
        }
        self.set_typed(key, value, loc)
    }

    /// `self` (a file) over `parent` (what it extends). A file that names
    /// another optimizer kind starts its optimizer settings afresh: SGD's
    /// momentum means nothing to Adam, and Adam's lr need not be SGD's.
    pub(crate) fn over(self, parent: Settings) -> Settings {
        let kinded = |own: KindTable, parent: KindTable| {
            if own.new_kind(&parent) {
                own
            } else {
                own.over(parent)
            }
        };
        Settings {
            model: self.model.over(parent.model),
            input: self.input.over(parent.input),
            optimizer: kinded(self.optimizer, parent.optimizer),
            schedule: kinded(self.schedule, parent.schedule),
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
        if let Some(fields) = schedule_kind_fields(kind) {
            self.schedule.keep_only(&fields);
        }
    }
}
