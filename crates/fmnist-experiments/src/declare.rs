//! The language settings are declared in, once: [`kinds!`] turns one
//! declaration of a table whose settings depend on its `kind` (`[optimizer]`,
//! `[schedule]`) into the resolved enum, the loader's keys, defaults, type
//! and range checks and messages, the kind names, and the run's JSON;
//! [`words!`] does the same for a setting that takes one of a few words
//! (`mode = "min"`).
//!
//! Run identity: a kind serialises as `{"kind": ..., each setting in
//! declaration order}`, exactly as `#[serde(tag = "kind")]` did before the
//! declarations existed. A setting declared with [`Fallback::Added`] (a
//! setting added to a kind after runs of it were stored) stays out of that
//! JSON at its default and reads back as its default when absent, so adding
//! it changes no run id and every stored manifest still reads.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize};

/// What a setting falls back to when no file writes it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Fallback<T> {
    /// No default: the example shows what to write.
    Required(&'static str),
    /// A default that the run's JSON writes like any value.
    Default(T),
    /// The default of a setting added after runs of its kind were stored:
    /// left out of the run's JSON at this value, so their ids stand.
    #[allow(dead_code, reason = "no setting has been added since runs were stored")]
    Added(T),
    /// A default that depends on the run (cosine's `t_max`: its epochs).
    Run(fn(&RunFacts) -> T),
}

/// What a [`Fallback::Run`] default may depend on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunFacts {
    pub(crate) epochs: usize,
}

/// A setting that could not be resolved: which, and why.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SettingError {
    /// Required and written nowhere; `example` shows a line to add.
    Missing {
        field: &'static str,
        example: &'static str,
    },
    /// Written, but of the wrong type or out of range.
    Invalid {
        field: &'static str,
        message: String,
    },
}

/// The value types a declared setting can have.
pub(crate) trait SettingValue: Sized + Clone + Serialize + DeserializeOwned {
    /// The value as a file writes it, or why it is not one.
    fn from_toml(value: &toml::Value) -> Result<Self, String>;
    /// As `list` and the messages show it.
    fn show(&self) -> String;
}

impl SettingValue for f64 {
    fn from_toml(value: &toml::Value) -> Result<f64, String> {
        match value {
            toml::Value::Float(x) => Ok(*x),
            toml::Value::Integer(i) => Ok(*i as f64),
            other => Err(format!("expected a number, got {other}")),
        }
    }

    fn show(&self) -> String {
        crate::format::show_number(*self)
    }
}

impl SettingValue for usize {
    fn from_toml(value: &toml::Value) -> Result<usize, String> {
        value
            .as_integer()
            .and_then(|i| usize::try_from(i).ok())
            .ok_or_else(|| format!("expected a whole number >= 0, got {value}"))
    }

    fn show(&self) -> String {
        self.to_string()
    }
}

impl SettingValue for bool {
    fn from_toml(value: &toml::Value) -> Result<bool, String> {
        value
            .as_bool()
            .ok_or_else(|| format!("expected true or false, got {value}"))
    }

    fn show(&self) -> String {
        self.to_string()
    }
}

impl SettingValue for [f64; 2] {
    fn from_toml(value: &toml::Value) -> Result<[f64; 2], String> {
        let items = value.as_array().map(Vec::as_slice).unwrap_or_default();
        match items {
            [a, b] => Ok([f64::from_toml(a)?, f64::from_toml(b)?]),
            _ => Err(format!("expected a list of two numbers, got {value}")),
        }
    }

    fn show(&self) -> String {
        format!("[{}, {}]", self[0].show(), self[1].show())
    }
}

impl SettingValue for Vec<usize> {
    fn from_toml(value: &toml::Value) -> Result<Vec<usize>, String> {
        let list = value.as_array().and_then(|items| {
            (items.iter())
                .map(|v| usize::from_toml(v).ok())
                .collect::<Option<Vec<usize>>>()
        });
        list.ok_or_else(|| format!("expected a list of whole numbers >= 0, got {value}"))
    }

    fn show(&self) -> String {
        format!("{self:?}")
    }
}

/// One setting: written (typed, range-checked), or its fallback.
pub(crate) fn read<T: SettingValue>(
    field: &'static str,
    get: &dyn Fn(&str) -> Option<toml::Value>,
    fallback: Fallback<T>,
    run: &RunFacts,
    expected: &str,
    check: fn(&T) -> bool,
) -> Result<T, SettingError> {
    let value = match (get(field), fallback) {
        (None, Fallback::Default(v) | Fallback::Added(v)) => return Ok(v),
        (None, Fallback::Run(f)) => return Ok(f(run)),
        (None, Fallback::Required(example)) => {
            return Err(SettingError::Missing { field, example });
        }
        (Some(value), _) => value,
    };
    let invalid = |message: String| SettingError::Invalid { field, message };
    let v = T::from_toml(&value).map_err(invalid)?;
    match out_of_range(&v, expected, check) {
        None => Ok(v),
        Some(message) => Err(invalid(message)),
    }
}

/// The message for a value outside its declared range; `None` within it.
/// Non-finite numbers fail the checks by construction (`NaN > 0` is false).
pub(crate) fn out_of_range<T: SettingValue>(
    value: &T,
    expected: &str,
    check: fn(&T) -> bool,
) -> Option<String> {
    (!check(value)).then(|| format!("expected {expected}, got {}", value.show()))
}

/// Writes one setting into a kind's JSON, unless it is an added setting at
/// its default.
pub(crate) fn write_setting<M: SerializeMap, T: SettingValue>(
    map: &mut M,
    field: &'static str,
    value: &T,
    fallback: &Fallback<T>,
) -> Result<(), M::Error> {
    match fallback {
        Fallback::Added(default) if same_json(default, value) => Ok(()),
        Fallback::Added(_) | Fallback::Default(_) | Fallback::Required(_) | Fallback::Run(_) => {
            map.serialize_entry(field, value)
        }
    }
}

/// Whether two values write the same JSON (so `-0.0` is not `0.0`).
fn same_json<T: Serialize>(a: &T, b: &T) -> bool {
    serde_json::to_string(a).ok() == serde_json::to_string(b).ok()
}

/// A kind's JSON as a map, to take the tag and the settings from.
pub(crate) type JsonMap = BTreeMap<String, serde_json::Value>;

/// Reads a kind's JSON (from any self-describing format) as a map.
pub(crate) fn json_map<'de, D: serde::Deserializer<'de>>(d: D) -> Result<JsonMap, D::Error> {
    JsonMap::deserialize(d)
}

/// The `kind` tag of a kind's JSON.
pub(crate) fn take_kind<E: serde::de::Error>(map: &mut JsonMap) -> Result<String, E> {
    match map.remove("kind") {
        Some(serde_json::Value::String(kind)) => Ok(kind),
        Some(other) => Err(E::custom(format!("`kind` must be a string, got {other}"))),
        None => Err(E::missing_field("kind")),
    }
}

/// One setting of a kind's JSON; an added setting reads as its default
/// when absent (JSON written before it existed).
pub(crate) fn take_setting<T: SettingValue, E: serde::de::Error>(
    map: &mut JsonMap,
    field: &'static str,
    fallback: Fallback<T>,
) -> Result<T, E> {
    match (map.remove(field), fallback) {
        (Some(value), _) => T::deserialize(value).map_err(|e| E::custom(format!("`{field}`: {e}"))),
        (None, Fallback::Added(default)) => Ok(default),
        (None, Fallback::Default(_) | Fallback::Required(_) | Fallback::Run(_)) => {
            Err(E::missing_field(field))
        }
    }
}

/// One kind of a kind-dependent table as the file format knows it.
#[derive(Debug, Clone, Copy)]
pub struct KindSpec {
    /// The value of `kind`: `"sgd"`, `"step"`.
    pub kind: &'static str,
    /// Its name in prose: "SGD", "StepLR".
    pub title: &'static str,
    /// The PyTorch class whose semantics and defaults it has.
    pub torch: &'static str,
    /// The settings it takes besides `kind`, in order.
    pub fields: &'static [&'static str],
    /// The same settings as the PyTorch class names its arguments (`T_max`).
    pub torch_args: &'static [&'static str],
}

/// Each setting name once, in the order first declared.
pub(crate) fn unique(names: &[&'static str]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::with_capacity(names.len());
    for name in names {
        if !out.contains(name) {
            out.push(name);
        }
    }
    out
}

/// The first of its arguments: a declared PyTorch argument name, else the
/// setting's own.
macro_rules! first {
    ($a:expr $(, $rest:expr)*) => {
        $a
    };
}
pub(crate) use first;

/// Declares a kind-dependent table once. For
///
/// ```text
/// kinds! {
///     /// docs
///     pub enum ScheduleKind in "schedule", declared in SCHEDULE_KINDS;
///     /// docs
///     Step = "step", "StepLR", "torch.optim.lr_scheduler.StepLR" {
///         step_size: usize = R("step_size = 10"), "a step size >= 1", |n| *n >= 1;
///         gamma: f64 = D(0.1), "a gamma > 0", positive;
///     }
///     Constant = "constant", "constant", "constant"
/// }
/// ```
///
/// it makes the enum (one variant per kind, a setting per field), the
/// `KindSpec` list, and on the enum: `spec`, `name`, `settings`, `KEYS` (the
/// dotted names), `resolve_declared` (the loader's reading: typed, ranged,
/// defaulted), `problem` (the first setting out of its range),
/// `check_type` (a value's type, for a sweep's values), and
/// `Serialize` / `Deserialize` as described in the module docs. A setting
/// may give PyTorch's name for its argument: `t_max("T_max"): usize = ...`.
macro_rules! kinds {
    (
        $(#[$meta:meta])*
        pub enum $Enum:ident in $table:literal, declared in $KINDS:ident;
        $(
            $(#[$doc:meta])*
            $Variant:ident = $kind:literal, $title:literal, $torch:literal
            $({
                $( $field:ident $(($arg:literal))?: $ty:ty = $fallback:expr, $expected:literal, $check:expr; )+
            })?
        )+
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub enum $Enum {
            $( $(#[$doc])* $Variant $({ $( $field: $ty, )+ })?, )+
        }

        /// Every kind, in declaration order.
        pub const $KINDS: &[$crate::declare::KindSpec] = &[$(
            $crate::declare::KindSpec {
                kind: $kind,
                title: $title,
                torch: $torch,
                fields: &[$($( stringify!($field), )+)?],
                torch_args: &[$($( $crate::declare::first!($($arg,)? stringify!($field)), )+)?],
            },
        )+];

        #[allow(unused_variables, clippy::redundant_closure_call)]
        impl $Enum {
            /// Every kind's name, as written after `kind =`.
            pub const NAMES: &'static [&'static str] = &[$( $kind, )+];

            /// Every setting as a dotted name, `kind` first; a setting
            /// several kinds take appears once per kind.
            pub(crate) const KEYS: &'static [&'static str] = &[
                concat!($table, ".kind"),
                $($( $( concat!($table, ".", stringify!($field)), )+ )?)+
            ];

            /// The declaration of this value's kind.
            pub fn spec(&self) -> &'static $crate::declare::KindSpec {
                let kind = match self { $( $Enum::$Variant { .. } => $kind, )+ };
                $KINDS.iter().find(|k| k.kind == kind).expect("every variant is declared")
            }

            /// The value of `kind`.
            pub fn name(&self) -> &'static str {
                self.spec().kind
            }

            /// Each resolved setting and its value, in declaration order
            /// (without `kind`).
            pub fn settings(&self) -> Vec<(&'static str, String)> {
                match self {
                    $( $Enum::$Variant $({ $( $field, )+ })? => vec![
                        $($( (stringify!($field), $crate::declare::SettingValue::show($field)), )+)?
                    ], )+
                }
            }

            /// The settings of `kind`, read through `get`, with the kind's
            /// defaults where `get` has none. `None` for an unknown kind.
            pub(crate) fn resolve_declared(
                kind: &str,
                get: &dyn Fn(&str) -> Option<toml::Value>,
                run: &$crate::declare::RunFacts,
            ) -> Option<Result<$Enum, $crate::declare::SettingError>> {
                #[allow(unused_imports)]
                use $crate::declare::{Fallback::{Added as A, Default as D, Required as R, Run}, read};
                match kind {
                    $( $kind => Some((|| {
                        $($( let $field: $ty = read(stringify!($field), get, $fallback, run, $expected, $check)?; )+)?
                        Ok::<$Enum, $crate::declare::SettingError>($Enum::$Variant $({ $( $field, )+ })?)
                    })()), )+
                    _ => None,
                }
            }

            /// The first setting outside its declared range, as (field,
            /// message); `None` when all are within.
            #[allow(dead_code, reason = "a table whose values are only ever resolved from files needs no second check")]
            pub(crate) fn problem(&self) -> Option<(&'static str, String)> {
                use $crate::declare::out_of_range;
                match self {
                    $( $Enum::$Variant $({ $( $field, )+ })? => {
                        $($( if let Some(m) = out_of_range::<$ty>($field, $expected, $check) {
                            return Some((stringify!($field), m));
                        } )+)?
                        None
                    } )+
                }
            }

            /// Whether `value` has the type of setting `field` (as the
            /// first kind declaring it types it); `None` if no kind has it.
            pub(crate) fn check_type(field: &str, value: &toml::Value) -> Option<Result<(), String>> {
                $($($( if field == stringify!($field) {
                    return Some(<$ty as $crate::declare::SettingValue>::from_toml(value).map(|_| ()));
                } )+)?)+
                None
            }
        }

        impl serde::Serialize for $Enum {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap;
                #[allow(unused_imports)]
                use $crate::declare::{Fallback::{Added as A, Default as D, Required as R, Run}, write_setting};
                let mut map = s.serialize_map(None)?;
                map.serialize_entry("kind", self.name())?;
                match self {
                    $( $Enum::$Variant $({ $( $field, )+ })? => {
                        $($( write_setting::<_, $ty>(&mut map, stringify!($field), $field, &$fallback)?; )+)?
                    } )+
                }
                map.end()
            }
        }

        impl<'de> serde::Deserialize<'de> for $Enum {
            fn deserialize<De: serde::Deserializer<'de>>(d: De) -> Result<Self, De::Error> {
                use serde::de::Error as _;
                #[allow(unused_imports)]
                use $crate::declare::{Fallback::{Added as A, Default as D, Required as R, Run}, take_setting};
                let mut map = $crate::declare::json_map(d)?;
                let kind = $crate::declare::take_kind::<De::Error>(&mut map)?;
                match kind.as_str() {
                    $( $kind => Ok($Enum::$Variant $({ $(
                        $field: take_setting::<$ty, De::Error>(&mut map, stringify!($field), $fallback)?,
                    )+ })?), )+
                    other => Err(De::Error::unknown_variant(other, &[$($kind),+])),
                }
            }
        }
    };
}
pub(crate) use kinds;

/// Declares a setting that takes one of a few words: the enum (serialised
/// as the word), `NAMES`, `as_str`, `parse`, and its [`SettingValue`].
macro_rules! words {
    ($(
        $(#[$meta:meta])*
        pub enum $Enum:ident { $( $(#[$doc:meta])* $Variant:ident = $word:literal, )+ }
    )+) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        pub enum $Enum {
            $( $(#[$doc])* #[serde(rename = $word)] $Variant, )+
        }

        impl $Enum {
            /// Every word, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$( $word, )+];

            pub fn as_str(self) -> &'static str {
                match self { $( $Enum::$Variant => $word, )+ }
            }

            /// The value a file writes as `word`, if it is one.
            pub fn parse(word: &str) -> Option<$Enum> {
                [$( $Enum::$Variant, )+].into_iter().find(|v| v.as_str() == word)
            }
        }

        impl $crate::declare::SettingValue for $Enum {
            fn from_toml(value: &toml::Value) -> Result<$Enum, String> {
                value.as_str().and_then($Enum::parse).ok_or_else(|| {
                    $crate::declare::expected_word(value, $Enum::NAMES)
                })
            }

            fn show(&self) -> String {
                self.as_str().to_string()
            }
        }
    )+};
}
pub(crate) use words;

/// The message for a value that is not one of `words`, with the nearest
/// word when the value looks like a typo of one.
pub(crate) fn expected_word(value: &toml::Value, words: &[&str]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("\"{w}\"")).collect();
    let hint = (value.as_str())
        .and_then(|v| crate::suggest::nearest(v, words))
        .map(|n| format!("; did you mean \"{n}\"?"))
        .unwrap_or_default();
    format!("expected one of {}, got {value}{hint}", quoted.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn positive(x: &f64) -> bool {
        *x > 0.0
    }

    // A declaration as it stands today, and the same with one setting added
    // later: the JSON of every value at the new default is byte-identical,
    // and the JSON written before the setting existed reads back.
    #[allow(dead_code, reason = "only what the tests use of each declaration")]
    mod today {
        use super::positive;
        super::kinds! {
            pub enum Today in "thing", declared in TODAY;
            Plain = "plain", "Plain", "torch.Plain" {
                lr: f64 = R("lr = 0.1"), "a rate > 0", positive;
                momentum: f64 = D(0.0), "a momentum >= 0", |x| *x >= 0.0;
            }
            Bare = "bare", "Bare", "bare"
        }
    }

    #[allow(dead_code, reason = "only what the tests use of each declaration")]
    mod later {
        use super::positive;
        super::kinds! {
            pub enum Later in "thing", declared in LATER;
            Plain = "plain", "Plain", "torch.Plain" {
                lr: f64 = R("lr = 0.1"), "a rate > 0", positive;
                momentum: f64 = D(0.0), "a momentum >= 0", |x| *x >= 0.0;
                foreach: bool = A(false), "true or false", |_| true;
                t_max("T_max"): usize = A(0), "a whole number", |_| true;
            }
            Bare = "bare", "Bare", "bare"
        }
    }

    use later::Later;
    use today::Today;

    const RUN: RunFacts = RunFacts { epochs: 30 };

    #[test]
    fn an_added_setting_at_its_default_leaves_the_json_as_it_was() {
        let get = |f: &str| (f == "lr").then_some(toml::Value::Float(0.01));
        let today = Today::resolve_declared("plain", &get, &RUN)
            .unwrap()
            .unwrap();
        let later = Later::resolve_declared("plain", &get, &RUN)
            .unwrap()
            .unwrap();
        let json = serde_json::to_string(&today).unwrap();
        assert_eq!(json, r#"{"kind":"plain","lr":0.01,"momentum":0.0}"#);
        assert_eq!(serde_json::to_string(&later).unwrap(), json);
        // Stored before the setting: reads as its default.
        assert_eq!(serde_json::from_str::<Later>(&json).unwrap(), later);
        let bare = serde_json::to_string(&Later::Bare).unwrap();
        assert_eq!(bare, serde_json::to_string(&Today::Bare).unwrap());
        assert_eq!(bare, r#"{"kind":"bare"}"#);
        assert_eq!(serde_json::from_str::<Later>(&bare).unwrap(), Later::Bare);
        // Away from its default it is written, and reads back.
        let on = |f: &str| match f {
            "lr" => Some(toml::Value::Float(0.01)),
            "foreach" => Some(toml::Value::Boolean(true)),
            _ => None,
        };
        let changed = Later::resolve_declared("plain", &on, &RUN)
            .unwrap()
            .unwrap();
        let json = serde_json::to_string(&changed).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"plain","lr":0.01,"momentum":0.0,"foreach":true}"#
        );
        assert_eq!(serde_json::from_str::<Later>(&json).unwrap(), changed);
        // A setting that is not added stays required in the JSON.
        let err = serde_json::from_str::<Later>(r#"{"kind":"plain","lr":0.1}"#).unwrap_err();
        assert!(
            err.to_string().contains("missing field `momentum`"),
            "{err}"
        );
        let err = serde_json::from_str::<Later>(r#"{"kind":"fancy"}"#).unwrap_err();
        assert!(err.to_string().contains("unknown variant `fancy`"), "{err}");
    }

    #[test]
    fn the_declaration_gives_keys_specs_checks_and_messages() {
        assert_eq!(
            Later::KEYS,
            [
                "thing.kind",
                "thing.lr",
                "thing.momentum",
                "thing.foreach",
                "thing.t_max"
            ]
        );
        assert_eq!(
            later::LATER[0].fields,
            ["lr", "momentum", "foreach", "t_max"]
        );
        assert_eq!(
            later::LATER[0].torch_args,
            ["lr", "momentum", "foreach", "T_max"]
        );
        assert_eq!(later::LATER[1].fields, [] as [&str; 0]);
        assert!(Later::resolve_declared("fancy", &|_| None, &RUN).is_none());
        assert_eq!(
            Later::resolve_declared("plain", &|_| None, &RUN).unwrap(),
            Err(SettingError::Missing {
                field: "lr",
                example: "lr = 0.1"
            })
        );
        let bad = |f: &str| (f == "lr").then_some(toml::Value::Float(-1.0));
        assert_eq!(
            Later::resolve_declared("plain", &bad, &RUN).unwrap(),
            Err(SettingError::Invalid {
                field: "lr",
                message: "expected a rate > 0, got -1".into()
            })
        );
        let plain = Later::Plain {
            lr: f64::NAN,
            momentum: 0.0,
            foreach: false,
            t_max: 3,
        };
        assert_eq!(plain.problem().map(|(f, _)| f), Some("lr"));
        assert_eq!(Later::Bare.problem(), None);
        assert_eq!(
            Later::check_type("t_max", &toml::Value::Float(2.5)),
            Some(Err("expected a whole number >= 0, got 2.5".into()))
        );
        assert_eq!(Later::check_type("gamma", &toml::Value::Float(2.5)), None);
    }
}
