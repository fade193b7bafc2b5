//! Everything a run needs to continue after its last complete epoch, as one
//! self-describing safetensors file: the network and the optimizer's buffers
//! as tensors, and in the metadata the run it belongs to (settings, seed,
//! training code version), the positions of the random streams and the
//! epoch reports so far (as the bits of each f64, so they survive exactly).
//!
//! A run resumed from a checkpoint produces the same numbers, bit for bit, as
//! one that never stopped: nothing else carries over from one epoch to the
//! next (the initialisation stream is used up before the first epoch).

use candle_core::{Device, Tensor};
use fmnist_experiments::{EpochReport, Measures, Quantity, RunConfig};
use serde_json::{Value, json};

use crate::TRAINING_CODE_VERSION;
use crate::error::TrainError;
use crate::model::Mlp;
use crate::optim::Optimizer;
use crate::rng::Rng;
use crate::schedule::SchedulerState;
use crate::stopping::StopperState;
use crate::tensor_file::{self, HostTensor};
use crate::weights::param_names;

const WHAT: &str = "checkpoint";
const FORMAT: &str = "fmnist-checkpoint";
/// The layout of the file; bump on any change to it. Version 2 stores the
/// epoch reports by quantity name (version 1 had fixed fields); a report's
/// `test` entry, present only for a run with a validation split, was added
/// within version 2, since a file without it reads as before.
const FORMAT_VERSION: u32 = 2;

/// The state of a run after a complete epoch. Build one with
/// [`crate::train_with`]'s checkpoint callback; store it with
/// [`Checkpoint::to_bytes`]; continue with [`Checkpoint::from_bytes`] and
/// `TrainOptions::resume`.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    /// `RunConfig` as JSON: with the seed and code version, what run this is.
    config: String,
    seed: u64,
    training_code_version: u32,
    epochs: Vec<EpochReport>,
    /// Under their PyTorch names (`0.weight`, ...).
    params: Vec<HostTensor>,
    optimizer_steps: u64,
    /// `torch.optim`'s names of the optimizer's per-parameter buffers.
    buffer_names: &'static [&'static str],
    /// Per buffer name, per parameter.
    optimizer_buffers: Vec<Vec<Option<HostTensor>>>,
    shuffle_pos: u128,
    dropout_pos: u128,
    /// The learning-rate schedule's and early stopping's state.
    control: Control,
    /// The weights of the best epoch so far, when the run keeps those.
    best: Option<Vec<HostTensor>>,
}

/// What a run decides from epoch to epoch besides the weights: the state
/// of its learning-rate schedule and of its early stopping (none for a run
/// without it). Serialised whole, floats as their bits.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Control {
    pub schedule: Option<SchedulerState>,
    pub stopping: Option<StopperState>,
}

/// What a run carries from one epoch to the next besides its network and
/// optimizer: the random streams it draws from after initialisation, its
/// schedule's and stopping rule's state, and the best epoch's network where
/// it keeps that one.
#[derive(Debug)]
pub(crate) struct Carried<'a> {
    pub shuffle: &'a Rng,
    pub dropout: &'a Rng,
    pub control: Control,
    pub best: Option<&'a Mlp>,
}

/// The identity of a run: its settings as JSON. Compared as text, since
/// that is exact where re-parsed floats might not be.
pub(crate) fn identity(config: &RunConfig) -> String {
    serde_json::to_string(config).expect("a RunConfig serialises")
}

impl Checkpoint {
    pub(crate) fn capture(
        config: &str,
        seed: u64,
        epochs: &[EpochReport],
        model: &Mlp,
        optimizer: &Optimizer,
        carried: Carried<'_>,
    ) -> Result<Checkpoint, TrainError> {
        let names = param_names(model.layers());
        let optimizer_buffers = optimizer
            .buffers()
            .iter()
            .map(|buffer| {
                buffer
                    .per_param
                    .iter()
                    .zip(&names)
                    .map(|(b, name)| {
                        b.as_ref()
                            .map(|t| HostTensor::from_tensor(name.clone(), t))
                            .transpose()
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<_, _>>()?;
        Ok(Checkpoint {
            config: config.to_string(),
            seed,
            training_code_version: TRAINING_CODE_VERSION,
            epochs: epochs.to_vec(),
            params: model.host_params()?,
            optimizer_steps: optimizer.steps(),
            buffer_names: optimizer_buffer_names(optimizer),
            optimizer_buffers,
            shuffle_pos: carried.shuffle.word_pos(),
            dropout_pos: carried.dropout.word_pos(),
            control: carried.control,
            best: carried.best.map(Mlp::host_params).transpose()?,
        })
    }

    /// The schedule's and early stopping's state after the last epoch.
    pub(crate) fn control(&self) -> &Control {
        &self.control
    }

    /// The weights of the best epoch, where the run keeps those.
    pub(crate) fn best_model(&self, device: &Device) -> Result<Option<Mlp>, TrainError> {
        self.best.as_ref().map(|p| model_of(p, device)).transpose()
    }

    /// The number of epochs completed.
    pub fn epoch(&self) -> usize {
        self.epochs.len()
    }

    /// The reports of the epochs completed, first epoch first.
    pub fn reports(&self) -> &[EpochReport] {
        &self.epochs
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The network after the last complete epoch.
    pub fn model(&self, device: &Device) -> Result<Mlp, TrainError> {
        model_of(&self.params, device)
    }

    pub(crate) fn optimizer(
        &self,
        config: &RunConfig,
        device: &Device,
    ) -> Result<Optimizer, TrainError> {
        let buffers = self
            .optimizer_buffers
            .iter()
            .map(|buffers| {
                buffers
                    .iter()
                    .map(|b| b.as_ref().map(|t| t.to_tensor(device)).transpose())
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<_, _>>()?;
        Ok(Optimizer::restore(
            &config.optimizer,
            self.optimizer_steps,
            self.params.len(),
            buffers,
        ))
    }

    pub(crate) fn stream_positions(&self) -> (u128, u128) {
        (self.shuffle_pos, self.dropout_pos)
    }

    /// Refuses a checkpoint of another run: other settings, another seed or
    /// training code that computes other numbers. The error names the first
    /// setting that differs.
    pub fn check(&self, config: &RunConfig, seed: u64) -> Result<(), TrainError> {
        let refuse = |what: String| {
            Err(TrainError::CheckpointMismatch(format!(
                "{what}; delete the checkpoint to train this run from the start"
            )))
        };
        if self.training_code_version != TRAINING_CODE_VERSION {
            return refuse(format!(
                "it was written by training code version {}, this is version {TRAINING_CODE_VERSION}",
                self.training_code_version
            ));
        }
        if self.seed != seed {
            return refuse(format!(
                "it is of seed {}, this run has seed {seed}",
                self.seed
            ));
        }
        let ours = identity(config);
        if self.config != ours {
            let theirs: Value = serde_json::from_str(&self.config).unwrap_or(Value::Null);
            let ours: Value = serde_json::from_str(&ours).expect("our own JSON parses");
            let (key, a, b) = first_difference("", &theirs, &ours)
                .unwrap_or_else(|| ("config".into(), self.config.clone(), identity(config)));
            return refuse(format!("its setting `{key}` is {a}, this run has {b}"));
        }
        if self.epoch() > config.epochs {
            return refuse(format!(
                "it has {} epochs, this run has only {}",
                self.epoch(),
                config.epochs
            ));
        }
        Ok(())
    }

    /// One safetensors file: tensors `model.<name>` (PyTorch names) and
    /// `optimizer.<buffer>.<name>` (`momentum_buffer`, `exp_avg`,
    /// `exp_avg_sq`), and the rest as metadata.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut names: Vec<(String, &HostTensor)> = self
            .params
            .iter()
            .map(|t| (format!("model.{}", t.name), t))
            .collect();
        let buffer_names = self.buffer_names;
        for (buffer, tensors_of) in buffer_names.iter().zip(&self.optimizer_buffers) {
            for t in tensors_of.iter().flatten() {
                names.push((format!("optimizer.{buffer}.{}", t.name), t));
            }
        }
        for t in self.best.iter().flatten() {
            names.push((format!("best.{}", t.name), t));
        }
        let tensors: Vec<(&str, &HostTensor)> =
            names.iter().map(|(name, t)| (name.as_str(), *t)).collect();
        let reports: Vec<Value> = self.epochs.iter().map(report_bits).collect();
        tensor_file::write_named(
            &tensors,
            &[
                ("format", FORMAT.to_string()),
                ("format_version", FORMAT_VERSION.to_string()),
                (
                    "training_code_version",
                    self.training_code_version.to_string(),
                ),
                ("seed", self.seed.to_string()),
                ("config", self.config.clone()),
                ("layers", (self.params.len() / 2).to_string()),
                ("optimizer_steps", self.optimizer_steps.to_string()),
                ("optimizer_buffers", buffer_names.join(",")),
                ("shuffle_word_pos", self.shuffle_pos.to_string()),
                ("dropout_word_pos", self.dropout_pos.to_string()),
                (
                    "control",
                    serde_json::to_string(&self.control).expect("JSON serialises"),
                ),
                (
                    "epochs",
                    serde_json::to_string(&reports).expect("JSON serialises"),
                ),
            ],
        )
    }

    /// Reads [`Checkpoint::to_bytes`]; any missing or malformed part is an
    /// error naming it.
    pub fn from_bytes(bytes: &[u8]) -> Result<Checkpoint, TrainError> {
        let mut c = tensor_file::read(bytes, WHAT)?;
        let bad =
            |key: &str, why: String| TrainError::File(format!("{WHAT}: metadata `{key}` {why}"));
        let format = c.meta("format", WHAT)?;
        if format != FORMAT {
            return Err(bad("format", format!("is `{format}`, expected `{FORMAT}`")));
        }
        let number = |c: &tensor_file::Contents, key: &str| -> Result<u128, TrainError> {
            let text = c.meta(key, WHAT)?;
            text.parse()
                .map_err(|_| bad(key, format!("is `{text}`, expected a non-negative integer")))
        };
        let version = number(&c, "format_version")?;
        if version != u128::from(FORMAT_VERSION) {
            return Err(bad(
                "format_version",
                format!("is {version}: this build reads version {FORMAT_VERSION} only"),
            ));
        }
        let Numbers {
            training_code_version,
            seed,
            optimizer_steps,
            shuffle_pos,
            dropout_pos,
            layers,
        } = numbers(&c, &number, &bad)?;
        let config = c.meta("config", WHAT)?.to_string();
        let parsed: RunConfig = serde_json::from_str(&config)
            .map_err(|e| bad("config", format!("is not a run configuration: {e}")))?;
        let epochs = parse_reports(c.meta("epochs", WHAT)?).map_err(|why| bad("epochs", why))?;

        let names = param_names(layers);
        let params = read_params(&mut c, &names)?;
        let buffer_names = Optimizer::buffer_names(&parsed.optimizer);
        let listed = c.meta("optimizer_buffers", WHAT)?;
        if listed != buffer_names.join(",") {
            return Err(bad(
                "optimizer_buffers",
                format!(
                    "is `{listed}`, expected `{}` for this optimizer",
                    buffer_names.join(",")
                ),
            ));
        }
        let optimizer_buffers = read_buffers(&mut c, buffer_names, &names, &params)?;
        let control: Control = serde_json::from_str(c.meta("control", WHAT)?).map_err(|e| {
            bad(
                "control",
                format!("is not a schedule and stopping state: {e}"),
            )
        })?;
        let best = read_best(&mut c, &names, &params)?;
        if let Some(name) = c.tensors.keys().min() {
            return Err(TrainError::File(format!(
                "{WHAT}: unexpected tensor `{name}`"
            )));
        }
        let checkpoint = Checkpoint {
            config,
            seed,
            training_code_version,
            epochs,
            params,
            optimizer_steps,
            buffer_names,
            optimizer_buffers,
            shuffle_pos,
            dropout_pos,
            control,
            best,
        };
        check_chain(&checkpoint.params)?;
        Ok(checkpoint)
    }
}

/// The optimizer's buffers `optimizer.<buffer>.<param>`, per buffer name,
/// per parameter; a missing one is a buffer the optimizer never created.
fn read_buffers(
    c: &mut tensor_file::Contents,
    buffer_names: &[&str],
    names: &[String],
    params: &[HostTensor],
) -> Result<Vec<Vec<Option<HostTensor>>>, TrainError> {
    let mut optimizer_buffers = Vec::new();
    for buffer in buffer_names {
        let mut of_buffer = Vec::new();
        for (name, param) in names.iter().zip(params) {
            let key = format!("optimizer.{buffer}.{name}");
            of_buffer.push(if c.tensors.contains_key(&key) {
                let t = c.take(&key, Some(param.shape.as_slice()), WHAT)?;
                Some(HostTensor {
                    name: name.clone(),
                    ..t
                })
            } else {
                None
            });
        }
        optimizer_buffers.push(of_buffer);
    }
    Ok(optimizer_buffers)
}

/// Refuses weights whose shapes do not chain into a network.
fn check_chain(params: &[HostTensor]) -> Result<(), TrainError> {
    let mut probe = tensor_file::Contents {
        metadata: Default::default(),
        tensors: params.iter().map(|t| (t.name.clone(), t.clone())).collect(),
    };
    Mlp::from_contents(&mut probe, "", &Device::Cpu, WHAT).map(|_| ())
}

/// The network's tensors `model.<param>`.
fn read_params(
    c: &mut tensor_file::Contents,
    names: &[String],
) -> Result<Vec<HostTensor>, TrainError> {
    names
        .iter()
        .map(|name| {
            let t = c.take(&format!("model.{name}"), None, WHAT)?;
            Ok(HostTensor {
                name: name.clone(),
                ..t
            })
        })
        .collect()
}

/// The checkpoint's numeric metadata.
struct Numbers {
    training_code_version: u32,
    seed: u64,
    optimizer_steps: u64,
    shuffle_pos: u128,
    dropout_pos: u128,
    layers: usize,
}

fn numbers(
    c: &tensor_file::Contents,
    number: &dyn Fn(&tensor_file::Contents, &str) -> Result<u128, TrainError>,
    bad: &dyn Fn(&str, String) -> TrainError,
) -> Result<Numbers, TrainError> {
    let narrow = |key: &str, v: u128| -> Result<u64, TrainError> {
        u64::try_from(v).map_err(|_| bad(key, "is out of range".into()))
    };
    let training_code_version = u32::try_from(number(c, "training_code_version")?)
        .map_err(|_| bad("training_code_version", "is out of range".into()))?;
    let seed = narrow("seed", number(c, "seed")?)?;
    let optimizer_steps = narrow("optimizer_steps", number(c, "optimizer_steps")?)?;
    let shuffle_pos = number(c, "shuffle_word_pos")?;
    let dropout_pos = number(c, "dropout_word_pos")?;
    let layers = number(c, "layers")?;
    if !(1..=1000).contains(&layers) {
        return Err(bad("layers", format!("is {layers}, expected 1 to 1000")));
    }
    let layers = layers as usize;
    Ok(Numbers {
        training_code_version,
        seed,
        optimizer_steps,
        shuffle_pos,
        dropout_pos,
        layers,
    })
}

/// The best epoch's weights `best.<param>`, shaped as the network's, if the
/// checkpoint has them.
fn read_best(
    c: &mut tensor_file::Contents,
    names: &[String],
    params: &[HostTensor],
) -> Result<Option<Vec<HostTensor>>, TrainError> {
    if !c.tensors.keys().any(|k| k.starts_with("best.")) {
        return Ok(None);
    }
    names
        .iter()
        .zip(params)
        .map(|(name, p)| {
            let t = c.take(&format!("best.{name}"), Some(p.shape.as_slice()), WHAT)?;
            Ok(HostTensor {
                name: name.clone(),
                ..t
            })
        })
        .collect::<Result<Vec<_>, TrainError>>()
        .map(Some)
}

/// An epoch report with every f64 as its bits, so that it survives JSON
/// exactly: `{"epoch": 3, "seconds": bits, "train": {"loss": bits, ...},
/// "val": {...}}`, every quantity of the vocabulary by its name, and
/// `"test": {...}` where the run measured the test set apart.
fn report_bits(e: &EpochReport) -> Value {
    let split = |m: &Measures| -> Value {
        m.iter()
            .map(|(q, v)| (q.name().to_string(), Value::from(v.to_bits())))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let mut report = json!({
        "epoch": e.epoch,
        "seconds": e.seconds.to_bits(),
        "train": split(&e.train),
        "val": split(&e.val),
    });
    if !e.test.is_empty() {
        report["test"] = split(&e.test);
    }
    report
}

/// The network of `params` (weights then biases, PyTorch names) on `device`.
fn model_of(params: &[HostTensor], device: &Device) -> Result<Mlp, TrainError> {
    let layers = params.len() / 2;
    let mut weights: Vec<Tensor> = params
        .iter()
        .map(|t| t.to_tensor(device))
        .collect::<Result<_, _>>()?;
    let biases = weights.split_off(layers);
    Ok(Mlp { weights, biases })
}

/// The names of `optimizer`'s buffers, which are those its kind declares.
fn optimizer_buffer_names(optimizer: &Optimizer) -> &'static [&'static str] {
    let names = Optimizer::buffer_names(optimizer.config());
    debug_assert!(names.iter().eq(optimizer.buffers().iter().map(|b| &b.name)));
    names
}

fn parse_reports(text: &str) -> Result<Vec<EpochReport>, String> {
    let values: Vec<Value> =
        serde_json::from_str(text).map_err(|e| format!("is not a JSON list: {e}"))?;
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let number = |key: &str| {
                v.get(key)
                    .and_then(Value::as_u64)
                    .ok_or_else(|| format!("entry {i}: `{key}` is missing or not an integer"))
            };
            let split = |key: &str| -> Result<Measures, String> {
                let map = v
                    .get(key)
                    .and_then(Value::as_object)
                    .ok_or_else(|| format!("entry {i}: `{key}` is missing or not an object"))?;
                let mut m = Measures::default();
                for (name, bits) in map {
                    let q = Quantity::parse(name)
                        .ok_or_else(|| format!("entry {i}: unknown quantity `{key}.{name}`"))?;
                    let bits = bits
                        .as_u64()
                        .ok_or_else(|| format!("entry {i}: `{key}.{name}` is not an integer"))?;
                    m.set(q, f64::from_bits(bits));
                }
                Ok(m)
            };
            let report = EpochReport {
                epoch: number("epoch")? as usize,
                seconds: f64::from_bits(number("seconds")?),
                train: split("train")?,
                val: split("val")?,
                test: match v.get("test") {
                    Some(_) => split("test")?,
                    None => Measures::default(),
                },
            };
            if report.epoch != i + 1 {
                return Err(format!(
                    "entry {i} is epoch {}, expected {}",
                    report.epoch,
                    i + 1
                ));
            }
            Ok(report)
        })
        .collect()
}

/// The first leaf where two JSON values differ: its dotted path and both
/// values.
fn first_difference(path: &str, a: &Value, b: &Value) -> Option<(String, String, String)> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| {
                let sub = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                first_difference(
                    &sub,
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                )
            })
        }
        _ if a == b => None,
        _ => Some((path.to_string(), a.to_string(), b.to_string())),
    }
}
