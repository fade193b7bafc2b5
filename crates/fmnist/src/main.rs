//! `fmnist`: the project binary. It fetches and verifies the data, trains the
//! experiments, stores their metrics and writes the report. `cargo xtask`
//! builds it with optimisations and drives it; a cluster's compute nodes run
//! it directly.

mod bench;
mod cli;
mod commands;
mod estimate;
mod evaluate;
mod gpu_check;
mod progress;
mod provenance;
mod report;
mod runner;
mod setup;
mod slurm;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    match commands::dispatch(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
