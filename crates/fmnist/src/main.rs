//! `fmnist`: the project binary. It fetches and verifies the data, trains the
//! experiments, stores their metrics and writes the report. `cargo xtask`
//! builds it with optimisations and drives it; a cluster's compute nodes run
//! it directly.

mod bench;
mod cli;
mod commands;
mod decide;
mod diff;
mod errors;
mod evaluate;
mod export;
mod gpu_check;
mod list;
mod progress;
mod provenance;
mod report;
mod setup;
mod slurm;
mod study;

use clap::Parser;

fn main() -> std::process::ExitCode {
    one_polars_thread();
    let cli = cli::Cli::parse();
    match commands::dispatch(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {}", errors::describe(&err));
            std::process::ExitCode::FAILURE
        }
    }
}

/// Polars writes and reads tables of a few hundred rows here, where a pool of
/// one thread per core only costs memory (each worker keeps its own malloc
/// arena) beside the training runs that use the cores. Polars reads the
/// setting once, when its pool starts; a user's own value is kept.
#[allow(unsafe_code)] // setting an environment variable
fn one_polars_thread() {
    if std::env::var_os("POLARS_MAX_THREADS").is_none() {
        // SAFETY: called first thing in `main`, before this process starts
        // any thread, so nothing can read the environment concurrently.
        unsafe { std::env::set_var("POLARS_MAX_THREADS", "1") };
    }
}
