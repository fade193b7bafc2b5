//! The binary as a user drives it: experiment errors, reuse of stored runs,
//! a killed run, the data checks and the report. Uses the real Fashion-MNIST
//! from the local Debian mirror (`dataset-fashion-mnist`), never the network.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use fmnist_metrics::Store;

const BIN: &str = env!("CARGO_BIN_EXE_fmnist");

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A scratch project: its own experiments, results and reports, sharing one
/// verified copy of the data.
struct Project {
    dir: tempfile::TempDir,
}

fn shared_data_dir() -> PathBuf {
    // One copy for all tests of this binary; fetch-data is idempotent and
    // atomic, so concurrent tests may race to fill it safely.
    let dir = std::env::temp_dir().join("fmnist-cli-test-data");
    let out = Command::new(BIN)
        .args(["fetch-data", "--offline", "--data-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "fetch-data failed (is dataset-fashion-mnist installed?): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

const SMALL: &str = r#"
description = "a small, fast configuration"
[model]
hidden = [32, 16]
dropout = 0.2
[optimizer]
kind = "sgd"
lr = 0.01
[training]
batch_size = 100
epochs = 2
seeds = [0]
train_limit = 1000
val_limit = 500
"#;

impl Project {
    fn new(files: &[(&str, &str)]) -> Project {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("experiments/claims")).unwrap();
        std::fs::copy(
            repo().join("experiments/claims/paper.toml"),
            dir.path().join("experiments/claims/paper.toml"),
        )
        .unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join("experiments").join(name), text).unwrap();
        }
        Project { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.arg("--root").arg(self.path()).args(args);
        c
    }

    fn train(&self, args: &[&str]) -> Output {
        let data = shared_data_dir();
        let mut c = self.cmd(&["run"]);
        c.args(args)
            .args(["--offline", "--jobs", "2", "--data-dir"])
            .arg(data);
        c.output().unwrap()
    }

    fn experiments(&self, names: &[&str]) -> Vec<String> {
        names
            .iter()
            .map(|n| {
                self.path()
                    .join("experiments")
                    .join(n)
                    .display()
                    .to_string()
            })
            .collect()
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_misspelt_key_fails_naming_file_line_and_key() {
    let text = SMALL.replace("lr = 0.01", "lrr = 0.01");
    let p = Project::new(&[("base.toml", &text)]);
    let out = p.cmd(&["list"]).output().unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("base.toml"), "{err}");
    assert!(err.contains("line 8"), "{err}");
    assert!(
        err.contains("lrr") && err.contains("did you mean `lr`?"),
        "{err}"
    );
}

#[test]
fn stored_runs_are_reused_and_an_edit_retrains_only_its_experiment() {
    let child = "extends = \"a.toml\"\n[optimizer]\nlr = 0.02\n";
    let p = Project::new(&[("a.toml", SMALL), ("b.toml", child)]);
    let files = p.experiments(&["a.toml", "b.toml"]);
    let files: Vec<&str> = files.iter().map(String::as_str).collect();

    let first = p.train(&files);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        stderr(&first).contains("trained 2 runs, reused 0"),
        "{}",
        stderr(&first)
    );

    let again = p.train(&files);
    assert!(
        stderr(&again).contains("trained 0 runs, reused 2"),
        "{}",
        stderr(&again)
    );

    std::fs::write(
        p.path().join("experiments/b.toml"),
        child.replace("0.02", "0.03"),
    )
    .unwrap();
    let edited = p.train(&files);
    assert!(
        stderr(&edited).contains("trained 1 runs, reused 1"),
        "{}",
        stderr(&edited)
    );

    let runs = Store::new(p.path().join("results")).read_all().unwrap();
    // The old b run stays stored (it is still a valid result of old settings).
    assert_eq!(runs.len(), 3);
    for run in &runs {
        assert_eq!(run.rows.len(), 2 * 2, "2 epochs x 2 splits");
        assert_eq!(run.manifest.config.train_limit, Some(1000));
    }

    // The report is rebuilt from stored results alone, without training.
    let out = p.cmd(&["figures"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(p.path().join("reports/REPORT.md").is_file());
    assert!(p.path().join("reports/figures/a.png").is_file());
}

#[test]
fn a_killed_run_leaves_nothing_and_is_trained_next_time() {
    let long = SMALL.replace("epochs = 2", "epochs = 400");
    let p = Project::new(&[("long.toml", &long)]);
    let files = p.experiments(&["long.toml"]);
    let data = shared_data_dir();
    let mut child = p
        .cmd(&["run", &files[0], "--offline", "--data-dir"])
        .arg(&data)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    // Plain progress lines (stderr is a pipe): wait for a finished epoch.
    for line in lines.by_ref() {
        if line.unwrap().contains("epoch 2/400") {
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    let store = Store::new(p.path().join("results"));
    assert!(
        store.read_all().unwrap().is_empty(),
        "nothing looks complete"
    );

    // Shorter now, so the retry finishes quickly; a new id, trained in full.
    std::fs::write(p.path().join("experiments/long.toml"), SMALL).unwrap();
    let out = p.train(&[&files[0]]);
    assert!(out.status.success(), "{}", stderr(&out));
    let runs = store.read_all().unwrap();
    assert_eq!(runs.len(), 1);
    let mut keys: Vec<(u32, &str)> = runs[0]
        .rows
        .iter()
        .map(|r| {
            (
                r.epoch,
                if r.split == fmnist_metrics::Split::Train {
                    "train"
                } else {
                    "val"
                },
            )
        })
        .collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), runs[0].rows.len(), "one row per (epoch, split)");
}

#[test]
fn verify_data_names_a_corrupted_file_and_fetch_data_repairs_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let fetch = |args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .arg("--data-dir")
            .arg(&data)
            .output()
            .unwrap()
    };
    assert!(fetch(&["fetch-data", "--offline"]).status.success());
    assert!(fetch(&["verify-data"]).status.success());
    let victim = data.join("t10k-labels-idx1-ubyte.gz");
    let mut bytes = std::fs::read(&victim).unwrap();
    let i = bytes.len() / 2;
    bytes[i] ^= 0x01;
    std::fs::write(&victim, bytes).unwrap();
    let out = fetch(&["verify-data"]);
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("BAD") && text.contains("t10k-labels-idx1-ubyte.gz"),
        "{text}"
    );
    assert!(fetch(&["fetch-data", "--offline"]).status.success());
    assert!(fetch(&["verify-data"]).status.success());
}
