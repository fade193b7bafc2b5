//! Reading and writing f32 tensors as safetensors bytes, the format PyTorch
//! (`safetensors.torch.load_file`) and candle both read.
//!
//! The writer is our own rather than `safetensors::serialize`: that one emits
//! its metadata map in `HashMap` order, so two saves of the same network could
//! differ byte for byte. Here the header is built in a fixed order, which
//! makes equal networks give equal files. Reading goes through the
//! `safetensors` crate, which validates the header, offsets and lengths.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::error::TrainError;

/// A tensor on the host, row-major.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HostTensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

impl HostTensor {
    /// Copies `tensor` to the host as f32 (exact for f32 tensors).
    pub fn from_tensor(
        name: String,
        tensor: &candle_core::Tensor,
    ) -> Result<HostTensor, TrainError> {
        Ok(HostTensor {
            name,
            shape: tensor.dims().to_vec(),
            data: tensor
                .to_dtype(candle_core::DType::F32)?
                .flatten_all()?
                .to_vec1::<f32>()?,
        })
    }

    pub fn to_tensor(
        &self,
        device: &candle_core::Device,
    ) -> Result<candle_core::Tensor, TrainError> {
        Ok(candle_core::Tensor::from_vec(
            self.data.clone(),
            self.shape.as_slice(),
            device,
        )?)
    }
}

/// The safetensors bytes of `tensors` (in this order in the data section)
/// with string `metadata` (in this order in the header).
pub(crate) fn write(tensors: &[HostTensor], metadata: &[(&str, String)]) -> Vec<u8> {
    let named: Vec<(&str, &HostTensor)> = tensors.iter().map(|t| (t.name.as_str(), t)).collect();
    write_named(&named, metadata)
}

/// [`write`] with each tensor stored under the name beside it, instead of
/// its own: a checkpoint prefixes the names without copying the data.
pub(crate) fn write_named(tensors: &[(&str, &HostTensor)], metadata: &[(&str, String)]) -> Vec<u8> {
    let mut header = Map::new();
    if !metadata.is_empty() {
        let meta: Map<String, Value> = metadata
            .iter()
            .map(|(k, v)| ((*k).to_string(), Value::String(v.clone())))
            .collect();
        header.insert("__metadata__".into(), Value::Object(meta));
    }
    let mut offset = 0usize;
    for (name, t) in tensors {
        let len = 4 * t.data.len();
        header.insert(
            (*name).to_string(),
            json!({"dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + len]}),
        );
        offset += len;
    }
    let mut header = serde_json::to_vec(&Value::Object(header)).expect("a JSON value serialises");
    // The format pads the header with spaces so the data starts 8-aligned.
    header.resize(header.len().next_multiple_of(8), b' ');
    let mut out = Vec::with_capacity(8 + header.len() + offset);
    out.extend((header.len() as u64).to_le_bytes());
    out.extend(header);
    for (_, t) in tensors {
        for v in &t.data {
            out.extend(v.to_le_bytes());
        }
    }
    out
}

/// What a safetensors file holds: its string metadata and its f32 tensors.
#[derive(Debug)]
pub(crate) struct Contents {
    pub metadata: HashMap<String, String>,
    pub tensors: HashMap<String, HostTensor>,
}

impl Contents {
    /// Removes and returns the tensor `name`, checking its shape.
    pub fn take(
        &mut self,
        name: &str,
        shape: Option<&[usize]>,
        what: &str,
    ) -> Result<HostTensor, TrainError> {
        let t = self.tensors.remove(name).ok_or_else(|| {
            TrainError::File(format!(
                "{what}: tensor `{name}` is missing{}",
                nearest_hint(name, self.tensors.keys())
            ))
        })?;
        if let Some(shape) = shape
            && t.shape != shape
        {
            return Err(TrainError::File(format!(
                "{what}: tensor `{name}` has shape {:?}, expected {shape:?}",
                t.shape
            )));
        }
        Ok(t)
    }

    pub fn meta(&self, key: &str, what: &str) -> Result<&str, TrainError> {
        self.metadata.get(key).map(String::as_str).ok_or_else(|| {
            TrainError::File(format!(
                "{what}: metadata key `{key}` is missing{}",
                nearest_hint(key, self.metadata.keys())
            ))
        })
    }
}

/// Parses safetensors bytes; every tensor must be f32. `what` names the file
/// in errors ("weights", "checkpoint").
pub(crate) fn read(bytes: &[u8], what: &str) -> Result<Contents, TrainError> {
    let invalid = |e: safetensors::SafeTensorError| {
        TrainError::File(format!("{what}: not a safetensors file ({e})"))
    };
    let (_, header) = safetensors::SafeTensors::read_metadata(bytes).map_err(invalid)?;
    let metadata = header.metadata().clone().unwrap_or_default();
    let file = safetensors::SafeTensors::deserialize(bytes).map_err(invalid)?;
    let mut tensors = HashMap::new();
    for (name, view) in file.tensors() {
        if view.dtype() != safetensors::Dtype::F32 {
            return Err(TrainError::File(format!(
                "{what}: tensor `{name}` is {:?}, expected F32",
                view.dtype()
            )));
        }
        let data = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let shape = view.shape().to_vec();
        tensors.insert(name.clone(), HostTensor { name, shape, data });
    }
    Ok(Contents { metadata, tensors })
}

/// ", did you mean `x`?" for the candidate closest to `name`, if any is close.
pub(crate) fn nearest_hint<'a>(name: &str, candidates: impl Iterator<Item = &'a String>) -> String {
    let candidates: Vec<&str> = candidates.map(String::as_str).collect();
    fmnist_experiments::nearest(name, &candidates)
        .map(|c| format!(", did you mean `{c}`?"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_files_are_valid_safetensors_and_read_back_exactly() {
        let tensors = vec![
            HostTensor {
                name: "0.weight".into(),
                shape: vec![2, 3],
                data: vec![1.0, -0.0, f32::MIN_POSITIVE, 3.5e-39, f32::MAX, -1e-7],
            },
            HostTensor {
                name: "0.bias".into(),
                shape: vec![1],
                data: vec![0.25],
            },
        ];
        let bytes = write(
            &tensors,
            &[("format", "pt".into()), ("sizes", "[3,2]".into())],
        );
        let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        assert_eq!(header_len % 8, 0, "data section is 8-aligned");
        assert_eq!(bytes.len(), 8 + header_len + 4 * 7);
        let mut c = read(&bytes, "weights").unwrap();
        assert_eq!(c.meta("sizes", "weights").unwrap(), "[3,2]");
        assert_eq!(c.metadata["format"], "pt");
        let w = c.take("0.weight", Some(&[2, 3]), "weights").unwrap();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&w.data), bits(&tensors[0].data));
        let err = c.take("0.bais", None, "weights").unwrap_err().to_string();
        assert!(err.contains("did you mean `0.bias`"), "{err}");
        let err = c
            .take("0.bias", Some(&[2]), "weights")
            .unwrap_err()
            .to_string();
        assert!(err.contains("shape [1], expected [2]"), "{err}");
        // Writing is deterministic: the same tensors give the same bytes.
        assert_eq!(
            bytes,
            write(
                &tensors,
                &[("format", "pt".into()), ("sizes", "[3,2]".into())]
            )
        );
    }

    #[test]
    fn garbage_and_truncation_are_refused() {
        let t = HostTensor {
            name: "a".into(),
            shape: vec![4],
            data: vec![1.0; 4],
        };
        let bytes = write(&[t], &[]);
        let err = read(&bytes[..bytes.len() - 1], "weights").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("weights: not a safetensors file"),
            "{err}"
        );
        assert!(read(b"not a file", "checkpoint").is_err());
    }
}
