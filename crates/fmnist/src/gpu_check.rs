//! `fmnist gpu-check`: the CUDA path against the CPU path on the smoke
//! configuration (the baseline, two epochs, a data subset), with one verdict.
//! Same seed, so the same initial weights bit for bit, the same shuffles and
//! dropout masks (all drawn on the host from the project's streams); the
//! arithmetic differs (cuBLAS against gemm), so losses and accuracies are
//! compared within stated tolerances.

use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use anyhow::bail;
use candle_core::DType;
use fmnist_experiments::{Overrides, Quantity};
use fmnist_train::{DeviceSpec, Event, Mlp, Streams, describe_device, seeded};

use crate::cli::GpuCheckArgs;
use crate::setup;
use crate::setup::Global;

/// Largest relative difference allowed between the first epoch's training
/// losses: float32 sums in another order drift by about 1e-6.
const LOSS_REL_TOL: f64 = 1e-4;
/// Largest difference allowed in validation accuracy after the last epoch, in
/// percentage points: a few borderline images may flip.
const ACCURACY_PP_TOL: f64 = 0.5;

pub fn gpu_check(global: &Global, args: &GpuCheckArgs) -> anyhow::Result<ExitCode> {
    setup::set_threads(1);
    let gpu: DeviceSpec = args.device.parse()?;
    if gpu == DeviceSpec::Cpu {
        bail!("--device must name a GPU (cuda or cuda:N)");
    }
    let cuda = gpu.open()?;
    let cpu = DeviceSpec::Cpu.open()?;
    let data = setup::dataset_for_measuring(global.dataset.as_deref(), args.data_dir.clone())?;
    let baseline = setup::baseline()?;
    let (config, _) = Overrides::quick().apply(&baseline);

    let mut sizes = vec![data.train.rows * data.train.cols];
    sizes.extend(&config.model.hidden);
    sizes.push(data.classes.len());
    let weights = |device| -> anyhow::Result<Vec<u32>> {
        let model = Mlp::new(&sizes, &mut seeded(0, Streams::Init), DType::F32, device)?;
        let mut bits = Vec::new();
        for t in model.weights.iter().chain(&model.biases) {
            let v: Vec<f32> = t.flatten_all()?.to_device(&cpu)?.to_vec1()?;
            bits.extend(v.iter().map(|x| x.to_bits()));
        }
        Ok(bits)
    };
    let same_init = weights(&cpu)? == weights(&cuda)?;

    let stop = AtomicBool::new(false);
    let run = |device| -> anyhow::Result<Vec<fmnist_train::EpochReport>> {
        let mut epochs = Vec::new();
        fmnist_train::train(&config, 0, &data, device, &stop, &mut |e| {
            if let Event::Epoch(r) = e {
                epochs.push(r.clone());
            }
        })?;
        Ok(epochs)
    };
    let on_cpu = run(&cpu)?;
    let on_gpu = run(&cuda)?;
    let pass = compare(same_init, &on_cpu, &on_gpu, &describe_device(&cuda));
    Ok(if pass {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Prints the comparison of the two runs' epochs, line by line, and the
/// verdict; whether it passes.
fn compare(
    same_init: bool,
    on_cpu: &[fmnist_train::EpochReport],
    on_gpu: &[fmnist_train::EpochReport],
    gpu_name: &str,
) -> bool {
    let (c1, g1) = (&on_cpu[0], &on_gpu[0]);
    let (cn, gn) = (
        on_cpu.last().expect("2 epochs"),
        on_gpu.last().expect("2 epochs"),
    );
    let loss_rel = (c1.train[Quantity::Loss] - g1.train[Quantity::Loss]).abs()
        / c1.train[Quantity::Loss].abs();
    let acc_pp = 100.0 * (cn.val[Quantity::Accuracy] - gn.val[Quantity::Accuracy]).abs();
    let pass = same_init && loss_rel <= LOSS_REL_TOL && acc_pp <= ACCURACY_PP_TOL;
    println!(
        "initial weights: {}",
        if same_init {
            "identical bit for bit"
        } else {
            "DIFFERENT"
        }
    );
    println!(
        "epoch 1 training loss: cpu {:.7}, {} {:.7}, relative difference {loss_rel:.1e} (at most {LOSS_REL_TOL:.0e})",
        c1.train[Quantity::Loss],
        gpu_name,
        g1.train[Quantity::Loss]
    );
    println!(
        "validation accuracy after {} epochs: cpu {:.2}%, gpu {:.2}%, difference {acc_pp:.2} pp (at most {ACCURACY_PP_TOL})",
        on_cpu.len(),
        100.0 * cn.val[Quantity::Accuracy],
        100.0 * gn.val[Quantity::Accuracy]
    );
    println!(
        "seconds per epoch (6,000 + 2,000 images): cpu {:.3}, gpu {:.3}",
        cn.seconds, gn.seconds
    );
    println!(
        "gpu-check: {} on {}",
        if pass { "PASS" } else { "FAIL" },
        gpu_name
    );
    pass
}
