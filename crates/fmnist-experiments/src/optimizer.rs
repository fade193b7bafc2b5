//! The optimizers, declared once: each kind's name, its `torch.optim`
//! class, and every setting with its default, its valid range and the words
//! an error uses. The loader's keys, defaults and messages, the resolved
//! [`OptimizerConfig`], and the report's wording all follow from
//! [`optimizers!`]'s one invocation below; the update rules live in
//! `fmnist-train`, behind exhaustive matches on [`OptimizerConfig`].

use serde::{Deserialize, Serialize};

/// What a setting falls back to when no file writes it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Fallback<T> {
    /// No default: the example shows what to write.
    Required(&'static str),
    Default(T),
}

/// The value types an optimizer setting can have.
pub(crate) trait SettingValue: Sized + Copy {
    fn from_toml(value: &toml::Value) -> Result<Self, String>;
    fn show(&self) -> String;
}

impl SettingValue for f64 {
    fn from_toml(value: &toml::Value) -> Result<f64, String> {
        match value {
            toml::Value::Float(x) => Ok(*x),
            toml::Value::Integer(i) => Ok(*i as f64),
            other => Err(format!("expected a number, got {}", other.type_str())),
        }
    }

    fn show(&self) -> String {
        crate::format::show_number(*self)
    }
}

impl SettingValue for bool {
    fn from_toml(value: &toml::Value) -> Result<bool, String> {
        value
            .as_bool()
            .ok_or_else(|| format!("expected true or false, got {}", value.type_str()))
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
            _ => Err("expected a list of two numbers".into()),
        }
    }

    fn show(&self) -> String {
        format!("[{}, {}]", self[0].show(), self[1].show())
    }
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

/// One optimizer kind as the file format knows it.
#[derive(Debug, Clone, Copy)]
pub struct OptimizerKind {
    /// The value of `kind`: `"sgd"`.
    pub kind: &'static str,
    /// Its name in prose: "SGD".
    pub title: &'static str,
    /// The PyTorch class whose semantics and defaults it has.
    pub torch: &'static str,
    /// The `[optimizer]` settings it takes besides `kind`, in order.
    pub fields: &'static [&'static str],
}

macro_rules! optimizers {
    ($(
        $(#[$doc:meta])*
        $Variant:ident = $kind:literal, $title:literal, $torch:literal {
            $( $field:ident: $ty:ty = $fallback:expr, $expected:literal, $check:expr; )+
        }
    )+) => {
        /// Optimizers with `torch.optim` semantics; every parameter explicit.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "kind", rename_all = "lowercase")]
        pub enum OptimizerConfig {
            $( $(#[$doc])* $Variant { $( $field: $ty, )+ }, )+
        }

        /// Every kind, in declaration order.
        pub const OPTIMIZER_KINDS: &[OptimizerKind] = &[$(
            OptimizerKind {
                kind: $kind,
                title: $title,
                torch: $torch,
                fields: &[$( stringify!($field), )+],
            },
        )+];

        /// Every kind's settings as dotted names, `optimizer.kind` first;
        /// a setting several kinds take appears once per kind.
        const OPTIMIZER_KEYS: &[&str] = &[
            "optimizer.kind",
            $( $( concat!("optimizer.", stringify!($field)), )+ )+
        ];

        impl OptimizerConfig {
            /// The declaration of this optimizer's kind.
            pub fn kind(&self) -> &'static OptimizerKind {
                let kind = match self { $( OptimizerConfig::$Variant { .. } => $kind, )+ };
                optimizer_kind(kind).expect("every variant is declared")
            }

            pub fn lr(&self) -> f64 {
                match self { $( OptimizerConfig::$Variant { lr, .. } => *lr, )+ }
            }

            /// The same optimizer at another learning rate.
            pub fn set_lr(&mut self, value: f64) {
                match self { $( OptimizerConfig::$Variant { lr, .. } => *lr = value, )+ }
            }

            /// Each resolved setting and its value, in declaration order.
            pub fn settings(&self) -> Vec<(&'static str, String)> {
                match self {
                    $( OptimizerConfig::$Variant { $( $field, )+ } => {
                        vec![$( (stringify!($field), SettingValue::show($field)), )+]
                    } )+
                }
            }

            /// The settings of `kind`, read through `get`, with the kind's
            /// defaults where `get` has none. `None` for an unknown kind.
            pub(crate) fn resolve(
                kind: &str,
                get: &dyn Fn(&str) -> Option<toml::Value>,
            ) -> Option<Result<OptimizerConfig, SettingError>> {
                match kind {
                    $( $kind => Some((|| {
                        $( let $field: $ty = read(stringify!($field), get, $fallback, $expected, $check)?; )+
                        let config = OptimizerConfig::$Variant { $( $field, )+ };
                        config.check().map(|()| config)
                    })()), )+
                    _ => None,
                }
            }
        }
    };
}

/// One setting: written (typed, range-checked), or its fallback.
fn read<T: SettingValue>(
    field: &'static str,
    get: &dyn Fn(&str) -> Option<toml::Value>,
    fallback: Fallback<T>,
    expected: &str,
    check: fn(&T) -> bool,
) -> Result<T, SettingError> {
    match (get(field), fallback) {
        (None, Fallback::Default(v)) => Ok(v),
        (None, Fallback::Required(example)) => Err(SettingError::Missing { field, example }),
        (Some(value), _) => {
            let invalid = |message: String| SettingError::Invalid { field, message };
            let v = T::from_toml(&value).map_err(invalid)?;
            if check(&v) {
                Ok(v)
            } else {
                Err(invalid(format!("expected {expected}, got {}", v.show())))
            }
        }
    }
}

use Fallback::{Default as D, Required as R};

fn positive(x: &f64) -> bool {
    x.is_finite() && *x > 0.0
}

fn non_negative(x: &f64) -> bool {
    x.is_finite() && *x >= 0.0
}

fn betas(b: &[f64; 2]) -> bool {
    b.iter().all(|x| (0.0..1.0).contains(x))
}

fn any(_: &bool) -> bool {
    true
}

optimizers! {
    /// torch.optim.SGD: `p -= lr * g` with optional momentum, dampening,
    /// Nesterov momentum and L2 weight decay.
    Sgd = "sgd", "SGD", "torch.optim.SGD" {
        lr: f64 = R("lr = 0.001"), "a learning rate > 0", positive;
        momentum: f64 = D(0.0), "a momentum >= 0", non_negative;
        dampening: f64 = D(0.0), "a dampening in [0, 1]", |x| (0.0..=1.0).contains(x);
        nesterov: bool = D(false), "true or false", any;
        weight_decay: f64 = D(0.0), "a weight decay >= 0", non_negative;
    }
    /// torch.optim.Adam, with weight decay as an L2 term added to the gradient.
    Adam = "adam", "Adam", "torch.optim.Adam" {
        lr: f64 = R("lr = 0.001"), "a learning rate > 0", positive;
        betas: [f64; 2] = D([0.9, 0.999]), "two numbers in [0, 1), e.g. [0.9, 0.999]", betas;
        eps: f64 = D(1e-8), "an epsilon > 0", positive;
        weight_decay: f64 = D(0.0), "a weight decay >= 0", non_negative;
    }
    /// torch.optim.AdamW: Adam with decoupled weight decay (the parameter
    /// shrinks by `lr * weight_decay` before the Adam step).
    AdamW = "adamw", "AdamW", "torch.optim.AdamW" {
        lr: f64 = R("lr = 0.001"), "a learning rate > 0", positive;
        betas: [f64; 2] = D([0.9, 0.999]), "two numbers in [0, 1), e.g. [0.9, 0.999]", betas;
        eps: f64 = D(1e-8), "an epsilon > 0", positive;
        weight_decay: f64 = D(0.01), "a weight decay >= 0", non_negative;
    }
    /// torch.optim.RMSprop: `p -= lr * g / (sqrt(v) + eps)`, `v` a running
    /// mean of `g^2` (minus the square of a running mean of `g` if centered),
    /// with optional momentum and L2 weight decay.
    Rmsprop = "rmsprop", "RMSprop", "torch.optim.RMSprop" {
        lr: f64 = R("lr = 0.001"), "a learning rate > 0", positive;
        alpha: f64 = D(0.99), "a smoothing constant in [0, 1)", |x| (0.0..1.0).contains(x);
        eps: f64 = D(1e-8), "an epsilon > 0", positive;
        weight_decay: f64 = D(0.0), "a weight decay >= 0", non_negative;
        momentum: f64 = D(0.0), "a momentum >= 0", non_negative;
        centered: bool = D(false), "true or false", any;
    }
}

impl OptimizerConfig {
    /// The value of `kind`: `"sgd"`.
    pub fn name(&self) -> &'static str {
        self.kind().kind
    }

    /// The kind's name in prose: "SGD".
    pub fn title(&self) -> &'static str {
        self.kind().title
    }

    /// The PyTorch class: "torch.optim.SGD".
    pub fn torch(&self) -> &'static str {
        self.kind().torch
    }

    /// Rules that tie settings together, as `torch.optim` enforces them.
    fn check(&self) -> Result<(), SettingError> {
        match *self {
            OptimizerConfig::Sgd {
                momentum,
                dampening,
                nesterov: true,
                ..
            } if momentum <= 0.0 || dampening != 0.0 => Err(SettingError::Invalid {
                field: "nesterov",
                message: "Nesterov momentum requires momentum > 0 and dampening = 0 (as in torch.optim.SGD)".into(),
            }),
            OptimizerConfig::Sgd { .. }
            | OptimizerConfig::Adam { .. }
            | OptimizerConfig::AdamW { .. }
            | OptimizerConfig::Rmsprop { .. } => Ok(()),
        }
    }
}

/// The declaration of `kind`, if there is one.
pub fn optimizer_kind(kind: &str) -> Option<&'static OptimizerKind> {
    OPTIMIZER_KINDS.iter().find(|k| k.kind == kind)
}

/// Every `[optimizer]` setting some kind takes, as dotted names,
/// `optimizer.kind` first, without repeats.
pub(crate) fn all_optimizer_keys() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for k in OPTIMIZER_KEYS {
        if !out.contains(k) {
            out.push(k);
        }
    }
    out
}

/// [`all_optimizer_keys`] without the `optimizer.` prefix.
pub(crate) fn all_optimizer_fields() -> Vec<&'static str> {
    all_optimizer_keys()
        .into_iter()
        .map(|k| &k["optimizer.".len()..])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn resolve(
        kind: &str,
        written: &[(&str, toml::Value)],
    ) -> Result<OptimizerConfig, SettingError> {
        let map: BTreeMap<String, toml::Value> = written
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        OptimizerConfig::resolve(kind, &|f| map.get(f).cloned()).expect("a known kind")
    }

    #[test]
    fn every_kind_resolves_with_its_torch_defaults() {
        let lr = [("lr", toml::Value::Float(0.001))];
        assert_eq!(
            resolve("adamw", &lr).unwrap(),
            OptimizerConfig::AdamW {
                lr: 0.001,
                betas: [0.9, 0.999],
                eps: 1e-8,
                weight_decay: 0.01
            }
        );
        assert_eq!(
            resolve("rmsprop", &lr).unwrap(),
            OptimizerConfig::Rmsprop {
                lr: 0.001,
                alpha: 0.99,
                eps: 1e-8,
                weight_decay: 0.0,
                momentum: 0.0,
                centered: false
            }
        );
        for k in OPTIMIZER_KINDS {
            let c = resolve(k.kind, &lr).unwrap();
            assert_eq!(c.name(), k.kind);
            assert_eq!(c.lr(), 0.001);
            let names: Vec<&str> = c.settings().iter().map(|(n, _)| *n).collect();
            assert_eq!(names, k.fields);
            // The resolved settings serialise with their kind's tag.
            let json = serde_json::to_value(&c).unwrap();
            assert_eq!(json["kind"], k.kind);
        }
        assert!(OptimizerConfig::resolve("lion", &|_| None).is_none());
    }

    #[test]
    fn missing_wrong_and_inconsistent_settings_name_their_field() {
        assert_eq!(
            resolve("sgd", &[]),
            Err(SettingError::Missing {
                field: "lr",
                example: "lr = 0.001"
            })
        );
        let bad = resolve("rmsprop", &[("lr", 0.1.into()), ("alpha", 1.0.into())]);
        assert!(
            matches!(bad, Err(SettingError::Invalid { field: "alpha", .. })),
            "{bad:?}"
        );
        let bad = resolve(
            "adam",
            &[
                ("lr", 0.1.into()),
                ("betas", toml::Value::Array(vec![0.9.into()])),
            ],
        );
        assert!(
            matches!(bad, Err(SettingError::Invalid { field: "betas", .. })),
            "{bad:?}"
        );
        let bad = resolve("sgd", &[("lr", 0.1.into()), ("nesterov", true.into())]);
        assert!(
            matches!(
                bad,
                Err(SettingError::Invalid {
                    field: "nesterov",
                    ..
                })
            ),
            "{bad:?}"
        );
    }

    #[test]
    fn the_existing_kinds_serialise_as_before() {
        // Run ids hash this JSON: it must not change for SGD and Adam.
        let sgd = OptimizerConfig::Sgd {
            lr: 0.001,
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        };
        assert_eq!(
            serde_json::to_string(&sgd).unwrap(),
            r#"{"kind":"sgd","lr":0.001,"momentum":0.0,"dampening":0.0,"nesterov":false,"weight_decay":0.0}"#
        );
        let adam = OptimizerConfig::Adam {
            lr: 0.001,
            betas: [0.9, 0.999],
            eps: 1e-8,
            weight_decay: 0.0,
        };
        assert_eq!(
            serde_json::to_string(&adam).unwrap(),
            r#"{"kind":"adam","lr":0.001,"betas":[0.9,0.999],"eps":1e-8,"weight_decay":0.0}"#
        );
        assert_eq!(sgd.title(), "SGD");
        assert_eq!(adam.torch(), "torch.optim.Adam");
        assert_eq!(all_optimizer_fields()[..2], ["kind", "lr"]);
    }
}
