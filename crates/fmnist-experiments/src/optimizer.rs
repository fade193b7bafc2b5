//! The optimizers, declared once: each kind's name, its `torch.optim`
//! class, and every setting with its default, its valid range and the words
//! an error uses. The loader's keys, defaults and messages, the resolved
//! [`OptimizerConfig`], its JSON (and so the run id), and the report's
//! wording all follow from [`optimizers!`]'s one invocation below (the
//! machinery is [`kinds!`](crate::declare)); the update rules live in
//! `fmnist-train`, behind exhaustive matches on [`OptimizerConfig`].
//!
//! A setting added to an existing optimizer takes `A(default)`: at that
//! default it stays out of the run's JSON, so no stored run of that
//! optimizer changes its id, and manifests written before it read back.

use crate::declare::{KindSpec, RunFacts, SettingError, kinds, unique};

/// One optimizer kind as the file format knows it.
pub type OptimizerKind = KindSpec;

/// [`kinds!`] for optimizers, which all take a learning rate: also
/// `lr` and `set_lr`.
macro_rules! optimizers {
    ($(
        $(#[$doc:meta])*
        $Variant:ident = $kind:literal, $title:literal, $torch:literal {
            $( $field:ident: $ty:ty = $fallback:expr, $expected:literal, $check:expr; )+
        }
    )+) => {
        kinds! {
            /// Optimizers with `torch.optim` semantics; every parameter explicit.
            pub enum OptimizerConfig in "optimizer", declared in OPTIMIZER_KINDS;
            $(
                $(#[$doc])*
                $Variant = $kind, $title, $torch {
                    $( $field: $ty = $fallback, $expected, $check; )+
                }
            )+
        }

        impl OptimizerConfig {
            pub fn lr(&self) -> f64 {
                match self { $( OptimizerConfig::$Variant { lr, .. } => *lr, )+ }
            }

            /// The same optimizer at another learning rate.
            pub fn set_lr(&mut self, value: f64) {
                match self { $( OptimizerConfig::$Variant { lr, .. } => *lr = value, )+ }
            }
        }
    };
}

fn positive(x: &f64) -> bool {
    x.is_finite() && *x > 0.0
}

fn non_negative(x: &f64) -> bool {
    x.is_finite() && *x >= 0.0
}

fn valid_betas(b: &[f64; 2]) -> bool {
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
        betas: [f64; 2] = D([0.9, 0.999]), "two numbers in [0, 1), e.g. [0.9, 0.999]", valid_betas;
        eps: f64 = D(1e-8), "an epsilon > 0", positive;
        weight_decay: f64 = D(0.0), "a weight decay >= 0", non_negative;
    }
    /// torch.optim.AdamW: Adam with decoupled weight decay (the parameter
    /// shrinks by `lr * weight_decay` before the Adam step).
    AdamW = "adamw", "AdamW", "torch.optim.AdamW" {
        lr: f64 = R("lr = 0.001"), "a learning rate > 0", positive;
        betas: [f64; 2] = D([0.9, 0.999]), "two numbers in [0, 1), e.g. [0.9, 0.999]", valid_betas;
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
    /// The declaration of this optimizer's kind.
    pub fn kind(&self) -> &'static OptimizerKind {
        self.spec()
    }

    /// The kind's name in prose: "SGD".
    pub fn title(&self) -> &'static str {
        self.kind().title
    }

    /// The PyTorch class: "torch.optim.SGD".
    pub fn torch(&self) -> &'static str {
        self.kind().torch
    }

    /// The settings of `kind`, read through `get`, with the kind's
    /// defaults where `get` has none, checked together. `None` for an
    /// unknown kind.
    pub(crate) fn resolve(
        kind: &str,
        get: &dyn Fn(&str) -> Option<toml::Value>,
    ) -> Option<Result<OptimizerConfig, SettingError>> {
        let run = RunFacts { epochs: 0 };
        let resolved = OptimizerConfig::resolve_declared(kind, get, &run)?;
        Some(resolved.and_then(|config| config.check().map(|()| config)))
    }

    /// Rules that tie settings together, as `torch.optim` enforces them.
    fn check(&self) -> Result<(), SettingError> {
        if let OptimizerConfig::Sgd {
            momentum,
            dampening,
            nesterov: true,
            ..
        } = *self
            && (momentum <= 0.0 || dampening != 0.0)
        {
            return Err(SettingError::Invalid {
                field: "nesterov",
                message: "Nesterov momentum requires momentum > 0 and dampening = 0 (as in torch.optim.SGD)".into(),
            });
        }
        Ok(())
    }
}

/// The declaration of `kind`, if there is one.
pub fn optimizer_kind(kind: &str) -> Option<&'static OptimizerKind> {
    OPTIMIZER_KINDS.iter().find(|k| k.kind == kind)
}

/// Every `[optimizer]` setting some kind takes, as dotted names,
/// `optimizer.kind` first, without repeats.
pub(crate) fn all_optimizer_keys() -> Vec<&'static str> {
    unique(OptimizerConfig::KEYS)
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
        // AdamW and RMSprop at their torch defaults, as the shipped
        // adamw.toml and rmsprop.toml resolve them.
        let json = |kind: &str| {
            let lr = |f: &str| (f == "lr").then_some(toml::Value::Float(0.001));
            let c = OptimizerConfig::resolve(kind, &lr).unwrap().unwrap();
            serde_json::to_string(&c).unwrap()
        };
        assert_eq!(
            json("adamw"),
            r#"{"kind":"adamw","lr":0.001,"betas":[0.9,0.999],"eps":1e-8,"weight_decay":0.01}"#
        );
        assert_eq!(
            json("rmsprop"),
            r#"{"kind":"rmsprop","lr":0.001,"alpha":0.99,"eps":1e-8,"weight_decay":0.0,"momentum":0.0,"centered":false}"#
        );
        for k in OPTIMIZER_KINDS {
            let text = json(k.kind);
            let back: OptimizerConfig = serde_json::from_str(&text).unwrap();
            assert_eq!(serde_json::to_string(&back).unwrap(), text, "{}", k.kind);
        }
        assert_eq!(sgd.title(), "SGD");
        assert_eq!(adam.torch(), "torch.optim.Adam");
        assert_eq!(all_optimizer_fields()[..2], ["kind", "lr"]);
    }
}
