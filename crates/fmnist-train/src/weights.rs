//! The trained network as a file PyTorch loads: safetensors with the names
//! and shapes of the `state_dict` of the paper's `nn.Sequential`.
//!
//! That model puts `Linear, ReLU, Dropout` per hidden layer (a Dropout module
//! even when p = 0) and a final `Linear`, so linear layer `i` is module
//! `3 * i`: `0.weight` `[out, in]`, `0.bias` `[out]`, `3.weight`, ...
//! [`Mlp`] already keeps weights as `[out, in]`, so nothing is transposed.

use candle_core::Device;

use crate::error::TrainError;
use crate::model::Mlp;
use crate::tensor_file::{self, HostTensor};

/// The `nn.Sequential` index of linear layer `layer`.
fn module(layer: usize) -> usize {
    3 * layer
}

/// The PyTorch `state_dict` name of each parameter, in the order of
/// [`Mlp::params`]: every weight, then every bias.
pub(crate) fn param_names(layers: usize) -> Vec<String> {
    let weights = (0..layers).map(|l| format!("{}.weight", module(l)));
    let biases = (0..layers).map(|l| format!("{}.bias", module(l)));
    weights.chain(biases).collect()
}

fn sizes_json(sizes: &[usize]) -> String {
    serde_json::to_string(sizes).expect("a list of numbers serialises")
}

impl Mlp {
    /// The parameters on the host under their PyTorch names.
    pub(crate) fn host_params(&self) -> Result<Vec<HostTensor>, TrainError> {
        param_names(self.layers())
            .into_iter()
            .zip(self.weights.iter().chain(&self.biases))
            .map(|(name, t)| HostTensor::from_tensor(name, t))
            .collect()
    }

    /// Rebuilds a network from named host tensors (taken out of `contents`),
    /// checking that the shapes chain.
    pub(crate) fn from_contents(
        contents: &mut tensor_file::Contents,
        prefix: &str,
        device: &Device,
        what: &str,
    ) -> Result<Mlp, TrainError> {
        let (mut weights, mut biases) = (Vec::new(), Vec::new());
        let mut fan_in = None;
        for l in 0.. {
            let name = format!("{prefix}{}.weight", module(l));
            if l > 0 && !contents.tensors.contains_key(&name) {
                break;
            }
            let w = contents.take(&name, None, what)?;
            let [out, inp] = w.shape[..] else {
                return Err(TrainError::File(format!(
                    "{what}: tensor `{name}` has shape {:?}, expected [out, in]",
                    w.shape
                )));
            };
            if let Some(expected) = fan_in
                && inp != expected
            {
                return Err(TrainError::File(format!(
                    "{what}: tensor `{name}` has shape {:?}, expected [_, {expected}] (the previous layer has {expected} outputs)",
                    w.shape
                )));
            }
            let b = contents.take(&format!("{prefix}{}.bias", module(l)), Some(&[out]), what)?;
            fan_in = Some(out);
            weights.push(w.to_tensor(device)?);
            biases.push(b.to_tensor(device)?);
        }
        Ok(Mlp { weights, biases })
    }

    /// The network as safetensors bytes, f32, with the names and shapes of
    /// the PyTorch `state_dict`, so that
    /// `model.load_state_dict(safetensors.torch.load_file(path))` works on
    /// the model [`torch_architecture`] describes. The metadata holds
    /// `format = "pt"` and the layer sizes (`sizes = "[784,128,64,10]"`).
    pub fn to_safetensors(&self) -> Result<Vec<u8>, TrainError> {
        Ok(tensor_file::write(
            &self.host_params()?,
            &[
                ("format", "pt".to_string()),
                ("sizes", sizes_json(&self.sizes())),
            ],
        ))
    }

    /// The inverse of [`Mlp::to_safetensors`]: the network on `device`, in
    /// f32. Refuses a missing or misshapen tensor, a tensor it does not know
    /// and sizes that disagree with the metadata.
    pub fn from_safetensors(bytes: &[u8], device: &Device) -> Result<Mlp, TrainError> {
        const WHAT: &str = "weights";
        let mut contents = tensor_file::read(bytes, WHAT)?;
        let mlp = Mlp::from_contents(&mut contents, "", device, WHAT)?;
        if let Some(name) = contents.tensors.keys().min() {
            return Err(TrainError::File(format!(
                "{WHAT}: unexpected tensor `{name}`; a {}-layer network has exactly {} \
                 (linear layer i is module 3*i of nn.Sequential(Linear, ReLU, Dropout, ..., Linear))",
                mlp.layers(),
                param_names(mlp.layers()).join(", ")
            )));
        }
        if let Some(sizes) = contents.metadata.get("sizes")
            && *sizes != sizes_json(&mlp.sizes())
        {
            return Err(TrainError::File(format!(
                "{WHAT}: metadata `sizes` is {sizes} but the tensors have sizes {}",
                sizes_json(&mlp.sizes())
            )));
        }
        Ok(mlp)
    }
}

/// The PyTorch model of a network with these layer sizes (input first) and
/// dropout probability, as Python source valid after `from torch import nn`:
/// `nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Dropout(0.2), ...,
/// nn.Linear(64, 10))`. There is a Dropout module after every hidden ReLU,
/// even when p = 0, so the parameter names match [`Mlp::to_safetensors`].
pub fn torch_architecture(sizes: &[usize], dropout: f64) -> String {
    let mut modules = Vec::new();
    for (l, pair) in sizes.windows(2).enumerate() {
        modules.push(format!("nn.Linear({}, {})", pair[0], pair[1]));
        if l + 2 < sizes.len() {
            modules.push("nn.ReLU()".to_string());
            // Rust's `{:?}` of an f64 is its shortest round-trip form with
            // a decimal point ("0.0", "0.2", "1e-5"): a valid Python float.
            modules.push(format!("nn.Dropout({dropout:?})"));
        }
    }
    format!("nn.Sequential({})", modules.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Streams, seeded};
    use candle_core::DType;

    fn network(sizes: &[usize]) -> Mlp {
        Mlp::new(
            sizes,
            &mut seeded(4, Streams::Init),
            DType::F32,
            &Device::Cpu,
        )
        .unwrap()
    }

    fn bits(m: &Mlp) -> Vec<u32> {
        m.host_params()
            .unwrap()
            .iter()
            .flat_map(|t| t.data.iter().map(|v| v.to_bits()).collect::<Vec<_>>())
            .collect()
    }

    #[test]
    fn round_trip_is_bit_exact_with_pytorch_names_and_shapes() {
        let m = network(&[12, 7, 5, 3]);
        let bytes = m.to_safetensors().unwrap();
        let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let mut names: Vec<(String, Vec<usize>)> = file
            .tensors()
            .into_iter()
            .map(|(n, v)| (n, v.shape().to_vec()))
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                ("0.bias", vec![7]),
                ("0.weight", vec![7, 12]),
                ("3.bias", vec![5]),
                ("3.weight", vec![5, 7]),
                ("6.bias", vec![3]),
                ("6.weight", vec![3, 5]),
            ]
            .map(|(n, s)| (n.to_string(), s))
        );
        // `0.weight` is [out, in]: row 1 is the weights into hidden unit 1.
        let w0: Vec<Vec<f32>> = m.weights[0].to_vec2().unwrap();
        let stored = file.tensor("0.weight").unwrap();
        let row1: Vec<f32> = stored.data()[4 * 12..4 * 24]
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        assert_eq!(row1, w0[1]);
        let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
        let meta = meta.metadata().clone().unwrap();
        assert_eq!(meta["format"], "pt");
        assert_eq!(meta["sizes"], "[12,7,5,3]");

        let back = Mlp::from_safetensors(&bytes, &Device::Cpu).unwrap();
        assert_eq!(back.sizes(), vec![12, 7, 5, 3]);
        assert_eq!(bits(&back), bits(&m));
        assert_eq!(back.to_safetensors().unwrap(), bytes);
    }

    #[test]
    fn missing_misshapen_and_unknown_tensors_are_refused() {
        let m = network(&[6, 4, 3]);
        let mut tensors = m.host_params().unwrap();
        let write = |t: &[HostTensor]| tensor_file::write(t, &[]);
        let err_of = |t: &[HostTensor]| {
            Mlp::from_safetensors(&write(t), &Device::Cpu)
                .unwrap_err()
                .to_string()
        };
        assert!(Mlp::from_safetensors(&write(&tensors), &Device::Cpu).is_ok());

        let mut no_bias = tensors.clone();
        no_bias.retain(|t| t.name != "3.bias");
        let err = err_of(&no_bias);
        assert!(err.contains("tensor `3.bias` is missing"), "{err}");

        // A model without Dropout modules numbers its layers 0, 2: refused,
        // naming the names expected.
        let mut renamed = tensors.clone();
        for t in &mut renamed {
            t.name = t.name.replace("3.", "2.");
        }
        let err = err_of(&renamed);
        assert!(err.contains("unexpected tensor `2.bias`"), "{err}");
        assert!(err.contains("has exactly 0.weight, 0.bias"), "{err}");

        tensors[1].shape = vec![3, 2, 2];
        tensors[1].data.truncate(12);
        let err = err_of(&tensors);
        assert!(err.contains("`3.weight` has shape [3, 2, 2]"), "{err}");
        tensors[1].shape = vec![4, 3];
        let err = err_of(&tensors);
        assert!(err.contains("expected [_, 4]"), "{err}");

        let lying = tensor_file::write(
            &m.host_params().unwrap(),
            &[("sizes", "[6,5,3]".to_string())],
        );
        let err = Mlp::from_safetensors(&lying, &Device::Cpu)
            .unwrap_err()
            .to_string();
        assert!(err.contains("metadata `sizes` is [6,5,3]"), "{err}");
    }

    #[test]
    fn torch_architecture_is_the_papers_sequential() {
        assert_eq!(
            torch_architecture(&[784, 128, 64, 10], 0.2),
            "nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Dropout(0.2), \
             nn.Linear(128, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 10))"
        );
        assert_eq!(
            torch_architecture(&[784, 256, 10], 0.0),
            "nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.0), nn.Linear(256, 10))"
        );
        assert_eq!(
            torch_architecture(&[784, 10], 0.5),
            "nn.Sequential(nn.Linear(784, 10))"
        );
    }
}
