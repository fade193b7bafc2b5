//! Facts about the code and machine that every run manifest and the report
//! record: git commit and dirtiness, versions, host.

use std::path::Path;
use std::process::Command;

use fmnist_metrics::Provenance;

/// Reads the facts of [`Provenance`] from git, the build and `/proc`.
pub fn collect(root: &Path) -> Provenance {
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let git_commit = git(&["rev-parse", "HEAD"]);
    let git_dirty = git_commit
        .as_ref()
        // The report directories are what the program writes: a report
        // regenerated into a tracked `reports/` must not call its own
        // output a dirty tree.
        .and_then(|_| {
            git(&[
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                ".",
                ":(exclude)reports",
                ":(exclude)reports-quick",
            ])
        })
        .map(|s| !s.is_empty());
    Provenance {
        git_commit,
        git_dirty,
        project_version: env!("CARGO_PKG_VERSION").to_string(),
        rustc_version: env!("FMNIST_RUSTC_VERSION").to_string(),
        host: read_trimmed("/proc/sys/kernel/hostname").unwrap_or_else(|| "unknown".into()),
        machine: machine(),
    }
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

/// "Intel(R) Xeon(R) ... , 2 cores, 23.4 GiB, linux x86_64".
fn machine() -> String {
    let cpu = read_trimmed("/proc/cpuinfo")
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mem = read_trimmed("/proc/meminfo")
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| format!(", {:.1} GiB", kb / 1024.0 / 1024.0))
        .unwrap_or_default();
    format!(
        "{cpu}, {cores} cores{mem}, {} {}",
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}
