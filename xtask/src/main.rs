//! `cargo xtask`: builds the project binary `fmnist` with optimisations and
//! runs it. It holds no pipeline logic: everything it does can be done by
//! running `target/debug/fmnist` directly, which is what a cluster's
//! compute nodes do.
//!
//! The binary is built in the `dev` profile, whose hot crates (training,
//! candle, gemm, decompression, hashing) are optimised as in `--release` (see
//! the workspace `Cargo.toml`), so that `cargo xtask reproduce` and
//! `cargo test` compile the dependency tree once between them, not twice.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

mod cuda;
mod tidy;

#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    about = "Build the project binary (optimised) and run one of its commands."
)]
struct Xtask {
    /// Build with CUDA support (candle's `cuda` feature; needs the CUDA toolkit),
    /// into `target/cuda`, beside the CPU build.
    #[arg(long, global = true)]
    cuda: bool,
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Data, every experiment, figures, tables, claims and REPORT.md, in one go.
    Reproduce(Passthrough),
    /// Train the given experiment files.
    Run(Passthrough),
    /// List experiments and which of their runs are stored.
    List(Passthrough),
    /// Regenerate figures, tables and REPORT.md from stored results (no training).
    Figures(Passthrough),
    /// Fill data/fashion-mnist from local mirrors or the public URLs, verified.
    FetchData(Passthrough),
    /// Re-hash the data directory against the pinned manifest (for CI).
    VerifyData(Passthrough),
    /// Measure training throughput against the machine's matmul speed.
    Bench(Passthrough),
    /// Evaluate stored weights again and check them against the stored accuracy.
    Evaluate(Passthrough),
    /// Describe another MNIST-format data set (four .gz files) as a manifest for `--dataset`.
    DataManifest(Passthrough),
    /// Build with CUDA, train the smoke configuration on the GPU and on the CPU,
    /// compare them and print one verdict (needs a GPU).
    GpuCheck(Passthrough),
    /// What changed between two reproductions (git revisions, report directories, `results`).
    Diff(Passthrough),
    /// Opt-in studies with their own files, results and pages, never part of
    /// `reproduce`: `cargo xtask study search` (about 5 minutes on 2 cores).
    Study(Passthrough),
    /// Send the stored runs to another tool: `cargo xtask export mlflow --tracking-uri URL`.
    Export(Passthrough),
}

#[derive(Debug, clap::Args)]
struct Passthrough {
    /// Arguments for `fmnist <command>`; see `cargo xtask <command> -- --help`.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let xtask = Xtask::parse();
    let (name, pass) = match &xtask.task {
        Task::Reproduce(p) => ("reproduce", p),
        Task::Run(p) => ("run", p),
        Task::List(p) => ("list", p),
        Task::Figures(p) => ("figures", p),
        Task::FetchData(p) => ("fetch-data", p),
        Task::VerifyData(p) => ("verify-data", p),
        Task::Bench(p) => ("bench", p),
        Task::Evaluate(p) => ("evaluate", p),
        Task::DataManifest(p) => ("data-manifest", p),
        Task::GpuCheck(p) => ("gpu-check", p),
        Task::Diff(p) => ("diff", p),
        Task::Export(p) => ("export", p),
        Task::Study(p) => ("study", p),
    };
    let root = workspace_root();
    let cuda = xtask.cuda || matches!(xtask.task, Task::GpuCheck(_));
    let binary = build(&root, cuda)?;
    // The child handles Ctrl-C itself (finishing cleanly); this process only
    // waits for it, so it must not die first.
    let _ = ctrlc::set_handler(|| {});
    let status = Command::new(&binary)
        .arg("--root")
        .arg(&root)
        .arg(name)
        .args(&pass.args)
        .status()
        .with_context(|| format!("running {}", binary.display()))?;
    Ok(match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(c) => ExitCode::from(c.clamp(1, 255) as u8),
        None => ExitCode::from(130),
    })
}

fn workspace_root() -> PathBuf {
    // `cargo run` sets CARGO_MANIFEST_DIR for the program it runs; prefer it to
    // the compile-time value, which is stale when several checkouts share one
    // target directory.
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest_dir
        .parent()
        .expect("xtask lives in the workspace root")
        .to_path_buf()
}

/// `cargo build -p fmnist`: the `dev` profile optimises everything that
/// trains, and shares its dependencies with `cargo test`.
fn build(root: &Path, cuda: bool) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let mut cmd = Command::new(cargo);
    // `cargo run` gave this process the variables of the xtask package
    // (CARGO_MANIFEST_DIR, CARGO_PKG_NAME, ...). Build scripts that watch
    // them (ring's watches CARGO_MANIFEST_DIR) would see them change between
    // this build and a plain `cargo test`, and rebuild half the tree each
    // time one follows the other.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("CARGO_PKG_")
            || [
                "CARGO_MANIFEST_DIR",
                "CARGO_MANIFEST_PATH",
                "CARGO_MANIFEST_LINKS",
                "CARGO_CRATE_NAME",
                "CARGO_BIN_NAME",
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_RUSTC_CURRENT_DIR",
            ]
            .contains(&key.as_ref())
        {
            cmd.env_remove(key.as_ref());
        }
    }
    cmd.current_dir(root)
        // Not quiet: the first build takes minutes and should be seen.
        .args(["build", "-p", "fmnist"]);
    if cuda {
        // Before anything compiles: without a usable toolkit the build would
        // fail minutes in, leaving hundreds of megabytes behind.
        let toolkit = cuda::check(&cuda::Env::from_process()).map_err(anyhow::Error::msg)?;
        eprintln!(
            "xtask: CUDA {}.{} toolkit: {}",
            toolkit.version.0,
            toolkit.version.1,
            toolkit.nvcc.display()
        );
        cmd.env("PATH", &toolkit.path);
        // Its own target directory, so that the CPU binary (which starts on
        // machines without the NVIDIA driver) is not replaced.
        target = target.join("cuda");
        cmd.args(["--features", "cuda", "--target-dir"])
            .arg(&target);
    }
    let status = cmd.status().context("running cargo build")?;
    if !status.success() {
        bail!("building the fmnist binary failed (see cargo's output above)");
    }
    Ok(target.join("debug").join("fmnist"))
}
