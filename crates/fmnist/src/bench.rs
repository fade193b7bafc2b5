//! `fmnist bench`: training throughput of the baseline, stated against the
//! machine's own matrix-multiply speed measured in the same process.

use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use fmnist_train::{DeviceSpec, matmul_gflops};

use crate::cli::BenchArgs;
use crate::setup;
use crate::setup::Global;

pub fn bench(global: &Global, args: &BenchArgs) -> anyhow::Result<ExitCode> {
    setup::set_threads(1);
    let data = setup::dataset_for_measuring(global.dataset.as_deref(), args.data_dir.clone())?;
    let baseline = setup::baseline()?;
    let mut config = baseline.config.clone();
    config.epochs = args.epochs.max(1);
    let device = DeviceSpec::Cpu.open()?;

    let Single {
        seconds,
        median,
        profile,
        flops,
        peak_before,
        peak_after,
    } = single(&config, &data, &device, args.matmul)?;
    let gflops_peak = peak_before.max(peak_after);
    let achieved = flops / median / 1e9;

    let jobs = 2;
    let (grid_epoch, grid_rate) = grid_speed(&config, jobs, &data, &device)?;
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());

    println!(
        "baseline epoch (784-128-64-10, batch 100, SGD, dropout 0.2; train 60,000 + eval 10,000), 1 thread, \
         training loops with {}:",
        fmnist_train::vector_instructions()
    );
    let matmul = format!("machine f32 matmul {0}x{0}x{0}", args.matmul);
    let rows = [
        (
            "median seconds per epoch",
            format!(
                "{median:.3} s  (over {} epoch{})",
                seconds.len(),
                if seconds.len() == 1 { "" } else { "s" }
            ),
        ),
        (
            "matrix-product work per epoch",
            format!("{:.1} GFLOP", flops / 1e9),
        ),
        ("achieved", format!("{achieved:.1} GFLOP/s")),
        (
            matmul.as_str(),
            format!(
                "{gflops_peak:.1} GFLOP/s (1 thread, candle, same process; the higher of \
                 {peak_before:.1} before and {peak_after:.1} after the epochs)"
            ),
        ),
        (
            "ratio achieved / peak",
            format!("{:.1}%", 100.0 * achieved / gflops_peak),
        ),
    ];
    // One column for the values, however long the matmul's label is.
    let width = rows.iter().map(|(label, _)| label.len()).max().unwrap_or(0);
    for (label, value) in rows {
        println!("  {label:<width$}  {value}");
    }
    print_breakdown(&profile);
    println!(
        "grid, --jobs {jobs} (1 thread per run): median epoch {grid_epoch:.3} s, \
         {:.2}x the single-job epoch; {grid_rate:.2} epochs/s in all",
        grid_epoch / median
    );
    if cpus < jobs as usize {
        println!(
            "  (only {cpus} CPU is available to this process, so the {jobs} runs shared it; \
             run bench without taskset for the grid's speed)"
        );
    }
    torch_comparison(args.epochs.max(1), median, &data_dir_of(global, args)?);
    Ok(ExitCode::SUCCESS)
}

/// One run's epochs, one thread, between two measurements of the machine.
struct Single {
    /// Each epoch's seconds, sorted.
    seconds: Vec<f64>,
    median: f64,
    /// The breakdown of the median epoch, so its parts add up to the total shown.
    profile: fmnist_train::EpochProfile,
    /// The matrix-product work of an epoch.
    flops: f64,
    /// GFLOP/s of the matmul before and after the epochs.
    peak_before: f64,
    peak_after: f64,
}

/// Measures [`Single`] on `config` (one thread).
fn single(
    config: &fmnist_experiments::RunConfig,
    data: &fmnist_data::Dataset,
    device: &candle_core::Device,
    matmul: usize,
) -> anyhow::Result<Single> {
    // The machine's speed is measured before and after the epochs and the
    // higher of the two is the peak: on a shared machine either can be
    // slowed by a neighbour, and the ratio must not flatter the training.
    let peak_before = matmul_gflops(matmul, 11, device)?;
    let stop = AtomicBool::new(false);
    let (_, profiles) = fmnist_train::train_profiled(config, 0, data, &stop, &mut |_| {})?;
    let peak_after = matmul_gflops(matmul, 11, device)?;
    let mut seconds: Vec<f64> = profiles.iter().map(|p| p.total).collect();
    seconds.sort_by(f64::total_cmp);
    let median = seconds[seconds.len() / 2];
    let profile = *profiles
        .iter()
        .find(|p| p.total == median)
        .expect("the median is one of the epochs");
    let mut sizes = vec![784];
    sizes.extend(&config.model.hidden);
    sizes.push(10);
    let flops = fmnist_runner::flops_per_epoch(&sizes, data.train.len, data.test.len);
    Ok(Single {
        seconds,
        median,
        profile,
        flops,
        peak_before,
        peak_after,
    })
}

/// Two runs (seeds 0, 1, ...) at once, one thread each, as the grid runs:
/// the median epoch of all (each run's start-up is not an epoch), and the
/// epochs per second in all.
fn grid_speed(
    config: &fmnist_experiments::RunConfig,
    jobs: u64,
    data: &fmnist_data::Dataset,
    device: &candle_core::Device,
) -> anyhow::Result<(f64, f64)> {
    let stop = AtomicBool::new(false);
    let mut grid = config.clone();
    grid.epochs = config.epochs.max(3);
    let t = Instant::now();
    let mut grid_epochs: Vec<f64> = std::thread::scope(|s| -> anyhow::Result<Vec<f64>> {
        let handles: Vec<_> = (0..jobs)
            .map(|seed| {
                let (grid, stop) = (&grid, &stop);
                s.spawn(move || fmnist_train::train(grid, seed, data, device, stop, &mut |_| {}))
            })
            .collect();
        let mut seconds = Vec::new();
        for h in handles {
            let result = h.join().expect("training does not panic")?;
            seconds.extend(result.epochs.iter().map(|e| e.seconds));
        }
        Ok(seconds)
    })?;
    let rate = grid_epochs.len() as f64 / t.elapsed().as_secs_f64();
    grid_epochs.sort_by(f64::total_cmp);
    Ok((grid_epochs[grid_epochs.len() / 2], rate))
}

/// Where the median epoch's time goes, part by part.
fn print_breakdown(profile: &fmnist_train::EpochProfile) {
    println!("  where the median epoch's time goes:");
    let parts = [
        ("matrix products (gemm), training", profile.matmul),
        ("elementwise passes", profile.elementwise),
        ("batch gathering (u8 -> f32)", profile.gather),
        ("dropout masks", profile.dropout),
        ("optimizer update", profile.optimizer),
        ("evaluation (10,000 images)", profile.evaluation),
    ];
    let accounted: f64 = parts.iter().map(|(_, s)| s).sum();
    for (what, s) in parts
        .into_iter()
        .chain([("other (loop, events)", profile.total - accounted)])
    {
        println!(
            "    {what:<36} {:>7.1} ms  {:>5.1}%",
            1e3 * s,
            100.0 * s / profile.total
        );
    }
}

fn data_dir_of(global: &Global, args: &BenchArgs) -> anyhow::Result<std::path::PathBuf> {
    Ok(setup::DataSet::choose(global.dataset.as_deref(), args.data_dir.clone())?.dir)
}

/// The same epoch in PyTorch, in this run, when `import torch` works
/// (`bench/torch_epoch.py`; PyTorch is never a dependency of the project).
fn torch_comparison(epochs: usize, ours: f64, data_dir: &std::path::Path) {
    let script = std::path::Path::new("bench/torch_epoch.py");
    let has_torch = std::process::Command::new("python3")
        .args(["-c", "import torch"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_torch || !script.is_file() {
        println!(
            "PyTorch: not importable by python3 here (`pip install torch` adds the comparison)"
        );
        return;
    }
    let out = std::process::Command::new("python3")
        .arg(script)
        .args([
            "--torch-only",
            "--epochs",
            &epochs.to_string(),
            "--data-dir",
        ])
        .arg(data_dir)
        .output();
    let text = match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        Ok(o) => {
            println!(
                "PyTorch: {} failed: {}",
                script.display(),
                String::from_utf8_lossy(&o.stderr).trim()
            );
            return;
        }
        Err(e) => {
            println!("PyTorch: cannot run {}: {e}", script.display());
            return;
        }
    };
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim().to_string())
    };
    match field("torch-seconds-per-epoch ").and_then(|s| s.parse::<f64>().ok()) {
        Some(torch) => println!(
            "PyTorch {}, 1 thread, same epoch, same run: {torch:.3} s per epoch; PyTorch / fmnist = {:.2}",
            field("torch-version ").unwrap_or_default(),
            torch / ours
        ),
        None => println!("PyTorch: no timing in the output of {}", script.display()),
    }
}
