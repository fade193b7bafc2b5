//! Choosing where to train: `cpu` (default), `cuda` or `cuda:N`.

use std::str::FromStr;

use candle_core::Device;

use crate::error::TrainError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceSpec {
    #[default]
    Cpu,
    Cuda(usize),
}

impl FromStr for DeviceSpec {
    type Err = TrainError;

    fn from_str(s: &str) -> Result<Self, TrainError> {
        match s.trim() {
            "cpu" => Ok(DeviceSpec::Cpu),
            "cuda" | "gpu" => Ok(DeviceSpec::Cuda(0)),
            other => other
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(DeviceSpec::Cuda)
                .ok_or_else(|| TrainError::BadDevice(s.to_string())),
        }
    }
}

impl std::fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeviceSpec::Cpu => f.write_str("cpu"),
            DeviceSpec::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

impl DeviceSpec {
    /// Opens the device, with an error that says what to do when it cannot.
    pub fn open(self) -> Result<Device, TrainError> {
        match self {
            DeviceSpec::Cpu => Ok(Device::Cpu),
            DeviceSpec::Cuda(n) => {
                if !candle_core::utils::cuda_is_available() {
                    return Err(TrainError::CudaNotCompiled(self.to_string()));
                }
                Device::new_cuda(n).map_err(|e| {
                    // candle appends a backtrace when RUST_BACKTRACE is set:
                    // the first line is the driver's answer.
                    let message = e.to_string().lines().next().unwrap_or_default().to_string();
                    // The driver API reports a machine without the NVIDIA
                    // driver as a stub library (CI links against one) or as
                    // no device; say which, and what would fix it.
                    let hint = if message.contains("STUB_LIBRARY") {
                        "the CUDA driver library here is a stub: this machine has no NVIDIA \
                         driver (and so no usable GPU); run on a machine with one, or use --device cpu"
                    } else if message.contains("NO_DEVICE") || message.contains("INVALID_DEVICE") {
                        "no such NVIDIA GPU on this machine (`nvidia-smi -L` lists them); \
                         use another cuda:N or --device cpu"
                    } else {
                        "check that an NVIDIA GPU and its driver are present (`nvidia-smi`), \
                         or use --device cpu"
                    };
                    TrainError::CudaUnavailable {
                        spec: self.to_string(),
                        message: format!("{message}; {hint}"),
                    }
                })
            }
        }
    }
}

/// A short description for manifests: "cpu" or "cuda:0".
pub fn describe_device(device: &Device) -> String {
    match device.location() {
        candle_core::DeviceLocation::Cpu => "cpu".to_string(),
        candle_core::DeviceLocation::Cuda { gpu_id } => format!("cuda:{gpu_id}"),
        candle_core::DeviceLocation::Metal { gpu_id } => format!("metal:{gpu_id}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_device_names() {
        assert_eq!("cpu".parse::<DeviceSpec>().unwrap(), DeviceSpec::Cpu);
        assert_eq!("cuda".parse::<DeviceSpec>().unwrap(), DeviceSpec::Cuda(0));
        assert_eq!("cuda:3".parse::<DeviceSpec>().unwrap(), DeviceSpec::Cuda(3));
        assert!("tpu".parse::<DeviceSpec>().is_err());
        assert!("cuda:x".parse::<DeviceSpec>().is_err());
    }

    /// In the CUDA build on a machine without a GPU (CI runs this with a stub
    /// driver library), asking for one is an error that says so, not a panic.
    #[cfg(feature = "cuda")]
    #[test]
    fn cuda_without_a_gpu_is_a_clear_error() {
        if let Err(err) = DeviceSpec::Cuda(0).open() {
            let msg = err.to_string();
            assert!(
                msg.starts_with("cannot open CUDA device `cuda:0`: "),
                "{msg}"
            );
            assert!(msg.contains("--device cpu"), "{msg}");
        }
        let err = DeviceSpec::Cuda(4096).open().unwrap_err().to_string();
        assert!(
            err.contains("cuda:4096") && err.contains("--device cpu"),
            "{err}"
        );
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn cuda_without_the_feature_is_a_clear_error() {
        let err = DeviceSpec::Cuda(0).open().unwrap_err();
        assert!(err.to_string().contains("--features cuda"), "{err}");
    }
}
