//! The binary as a user drives it: experiment errors, reuse of stored runs,
//! a killed run resuming bit for bit, stored weights evaluated again, the data
//! checks and the report. These tests need no real data and no network: they
//! write a small MNIST-format data set of their own, describe it with
//! `fmnist data-manifest`, and run everything with `--dataset`.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use fmnist_metrics::{Quantity, Split, Store, StoredRun};

const BIN: &str = env!("CARGO_BIN_EXE_fmnist");

/// Images of ten classes, each a bright block at its own place on a noisy
/// background: learnable in a few epochs, not in one batch.
fn synthetic(n: usize, salt: u64) -> (Vec<u8>, Vec<u8>) {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64 ^ salt;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut pixels, mut labels) = (Vec::with_capacity(n * 784), Vec::with_capacity(n));
    for i in 0..n {
        let class = (i * 7 + salt as usize) % 10;
        let (r0, c0) = (2 + (class / 5) * 12, 2 + (class % 5) * 5);
        for r in 0..28 {
            for c in 0..28 {
                let noise = (next() % 140) as u8;
                let inside = (r0..r0 + 6).contains(&r) && (c0..c0 + 4).contains(&c);
                pixels.push(if inside {
                    noise.saturating_add(100)
                } else {
                    noise
                });
            }
        }
        labels.push(class as u8);
    }
    (pixels, labels)
}

fn gzip(raw: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(raw).unwrap();
    e.finish().unwrap()
}

/// The test data set: a mirror directory with the four .gz files and the
/// manifest `fmnist data-manifest` wrote for it. Made once per test binary.
fn tiny_dataset() -> &'static (PathBuf, PathBuf) {
    static DATASET: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    DATASET.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("fmnist-cli-tiny-{}", std::process::id()));
        let mirror = dir.join("mirror");
        std::fs::create_dir_all(&mirror).unwrap();
        let (train_x, train_y) = synthetic(1000, 1);
        let (test_x, test_y) = synthetic(500, 2);
        for (name, raw) in [
            (
                "train-images-idx3-ubyte.gz",
                fmnist_data::idx::encode_images(1000, 28, 28, &train_x),
            ),
            (
                "train-labels-idx1-ubyte.gz",
                fmnist_data::idx::encode_labels(&train_y),
            ),
            (
                "t10k-images-idx3-ubyte.gz",
                fmnist_data::idx::encode_images(500, 28, 28, &test_x),
            ),
            (
                "t10k-labels-idx1-ubyte.gz",
                fmnist_data::idx::encode_labels(&test_y),
            ),
        ] {
            std::fs::write(mirror.join(name), gzip(&raw)).unwrap();
        }
        let manifest = dir.join("tiny.toml");
        let out = Command::new(BIN)
            .arg("data-manifest")
            .arg(&mirror)
            .args(["--name", "tiny", "--classes"])
            .arg("zero,one,two,three,four,five,six,seven,eight,nine")
            .arg("--output")
            .arg(&manifest)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        (manifest, mirror)
    })
}

/// A scratch project: its own experiments, results, reports and data
/// directory, on the tiny data set.
struct Project {
    dir: tempfile::TempDir,
}

const SMALL: &str = r#"
description = "a small, fast configuration"
[model]
hidden = [32, 16]
dropout = 0.2
[optimizer]
kind = "sgd"
lr = 0.01
momentum = 0.9
[training]
batch_size = 100
epochs = 2
seeds = [0]
"#;

impl Project {
    fn new(files: &[(&str, &str)]) -> Project {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("experiments/claims")).unwrap();
        // Claims name experiments, and a name that matches none is an error:
        // one claim about the project's first experiment.
        let first = files
            .first()
            .map_or("a", |(name, _)| name.trim_end_matches(".toml"));
        // The [paper] table names the baseline (the first experiment), its
        // learning rate and the claim that states its accuracy.
        let lr = (files.first())
            .and_then(|(_, text)| text.lines().find_map(|l| l.strip_prefix("lr = ")))
            .unwrap_or("0.01");
        std::fs::write(
            dir.path().join("experiments/claims/paper.toml"),
            format!(
                "[paper]\ntitle = \"A test\"\nauthor = \"T. Est\"\nyear = 2026\n\
                 baseline = \"{first}\"\nlearning_rate = {lr}\ntarget = \"T1\"\n\n\
                 [[claim]]\nid = \"T1\"\nsection = \"test\"\ntext = \"It learns.\"\n\n\
                 [[claim.check]]\nwhat = \"better than chance\"\nleft = \"{first}:val:accuracy@last\"\n\
                 op = \">\"\nright = 0.2\nthreshold = \"ours\"\nwhy = \"a test's bound\"\n\n\
                 [[claim.check]]\nwhat = \"an accuracy\"\nleft = \"{first}:val:accuracy@last\"\n\
                 op = \"approx\"\nright = 0.5\ntol = 0.5\nthreshold = \"ours\"\nwhy = \"a test's bound\"\n"
            ),
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

    /// `fmnist --root P --dataset tiny.toml ARGS`.
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.arg("--root")
            .arg(self.path())
            .arg("--dataset")
            .arg(&tiny_dataset().0)
            .args(args)
            .env_remove("FMNIST_MIRROR");
        c
    }

    fn train(&self, args: &[&str]) -> Output {
        let mut c = self.cmd(&["run"]);
        c.args(args).args(["--offline", "--jobs", "2"]);
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

    fn store(&self) -> Store {
        Store::new(self.path().join("results"))
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Losses and accuracies of every epoch and split, as bits: what must be
/// identical between two runs of one seed (the seconds are wall time).
fn numbers(run: &StoredRun) -> Vec<(u32, bool, u64, u64)> {
    run.rows
        .iter()
        .map(|r| {
            (
                r.epoch,
                r.split == Split::Train,
                r.values[Quantity::Loss].to_bits(),
                r.values[Quantity::Accuracy].to_bits(),
            )
        })
        .collect()
}

#[test]
fn a_misspelt_key_fails_naming_file_line_and_key() {
    let text = SMALL.replace("lr = 0.01", "lrr = 0.01");
    let p = Project::new(&[("base.toml", &text)]);
    let out = p.cmd(&["list"]).output().unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    // file:line:column of the key.
    assert!(err.contains("base.toml:8:"), "{err}");
    assert!(
        err.contains("lrr") && err.contains("did you mean `lr`?"),
        "{err}"
    );
}

#[test]
fn stored_runs_are_reused_and_an_edit_retrains_only_its_experiment() {
    let child = "extends = \"a.toml\"\n[optimizer]\nlr = 0.02\n";
    // Same settings as a.toml under another name: content-addressed, so
    // it shares a.toml's run instead of training its own.
    let twin = "extends = \"a.toml\"\ndescription = \"a twin\"\n";
    let p = Project::new(&[("a.toml", SMALL), ("b.toml", child), ("twin.toml", twin)]);
    let files = p.experiments(&["a.toml", "b.toml", "twin.toml"]);
    let files: Vec<&str> = files.iter().map(String::as_str).collect();

    let first = p.train(&files);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        // Three experiments, two distinct runs, none stored before.
        stderr(&first).contains("trained 2 runs, reused 0 stored runs"),
        "{}",
        stderr(&first)
    );

    let again = p.train(&files);
    assert!(
        stderr(&again).contains("trained 0 runs, reused 2 stored runs"),
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
        stderr(&edited).contains("trained 1 run, reused 1 stored run"),
        "{}",
        stderr(&edited)
    );

    let runs = p.store().read_all().unwrap();
    // The old b run stays stored (it is still a valid result of old settings).
    assert_eq!(runs.len(), 3);
    for run in &runs {
        assert_eq!(run.rows.len(), 2 * 2, "2 epochs x 2 splits");
        // The confusion matrix covers every validation image.
        assert_eq!(run.confusion.len(), 100);
        let total: u32 = run.confusion.iter().map(|c| c.count).sum();
        let right: u32 = run
            .confusion
            .iter()
            .filter(|c| c.true_class == c.predicted_class)
            .map(|c| c.count)
            .sum();
        assert_eq!(total, 500);
        let last = run.rows.iter().rfind(|r| r.split == Split::Val).unwrap();
        assert_eq!(f64::from(right) / 500.0, last.values[Quantity::Accuracy]);
        assert!(p.store().model_path(&run.manifest.run_id).is_file());
    }

    // The report is rebuilt from stored results alone, without training;
    // the twin gets its own figure from the shared run.
    let out = p.cmd(&["figures"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(p.path().join("reports/REPORT.md").is_file());
    assert!(p.path().join("reports/figures/a.png").is_file());
    assert!(p.path().join("reports/figures/twin.png").is_file());

    // Stored weights, loaded again, give the stored accuracy to the image.
    let out = p.cmd(&["evaluate", "--offline"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", stderr(&out));
    assert!(
        text.contains("3 runs reproduce their stored accuracy, 0 do not"),
        "{text}"
    );

    // A stored manifest that no longer parses is named, moved aside with
    // the rest of its run, and the run is trained again.
    let a = runs.iter().find(|r| r.manifest.experiment == "a").unwrap();
    let id = &a.manifest.run_id;
    let manifest = p.store().run_dir(id).join("manifest.json");
    std::fs::write(&manifest, b"{\"run_id\": ").unwrap();
    let repaired = p.train(&files);
    let err = stderr(&repaired);
    assert!(repaired.status.success(), "{err}");
    let moved = p.path().join("results/corrupt").join(format!("{id}-1"));
    // Paths are relative to the repository root, as the store is.
    assert!(
        err.contains(&format!("cannot read results/runs/{id}/manifest.json"))
            && err.contains(&format!("moved the run's files to results/corrupt/{id}-1")),
        "{err}"
    );
    assert!(err.contains("trained 1 run, reused 1 stored run"), "{err}");
    assert!(moved.join("run/manifest.json").is_file());
    assert!(moved.join("metrics.parquet").is_file());
    assert!(p.store().finished(id).is_some());
}

#[test]
fn a_killed_run_resumes_from_its_checkpoint_with_the_same_numbers() {
    // A plateau schedule and early stopping keeping the best epoch: their
    // state must survive the kills too. The run stops early, long before
    // its 300 epochs, but not before epoch 6 (patience 5).
    let long = SMALL.replace("epochs = 2", "epochs = 300")
        + "[training.early_stopping]\nmonitor = \"val_loss\"\npatience = 5\nkeep = \"best\"\n"
        + "[schedule]\nkind = \"plateau\"\npatience = 1\nfactor = 0.5\n";
    let p = Project::new(&[("long.toml", &long)]);
    let files = p.experiments(&["long.toml"]);
    // Killed twice: during epoch 4, then (resumed) during epoch 6.
    for until in ["epoch 3/300", "epoch 5/300"] {
        let mut child = p
            .cmd(&["run", &files[0], "--offline"])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        // Plain progress lines (stderr is a pipe): wait for a finished epoch.
        for line in lines.by_ref() {
            if line.unwrap().contains(until) {
                break;
            }
        }
        child.kill().unwrap(); // SIGKILL: no chance to clean up
        child.wait().unwrap();
    }
    let store = p.store();
    assert!(
        store.read_all().unwrap().is_empty(),
        "nothing looks complete"
    );

    let out = p.train(&[&files[0]]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("from its checkpoint after epoch"), "{err}");
    assert!(err.contains("1 resumed from a checkpoint"), "{err}");
    let resumed = store.read_all().unwrap();
    assert_eq!(resumed.len(), 1);
    // The line for an epoch is printed just before its checkpoint is written.
    assert!(resumed[0].manifest.resumed_from_epoch.unwrap() >= 4);
    let stopped = resumed[0]
        .manifest
        .stopped_early
        .clone()
        .expect("stopped early");
    assert!(
        stopped.epoch < 300 && stopped.kept_epoch <= stopped.epoch,
        "{stopped:?}"
    );
    assert!(
        !p.path().join("results/.checkpoints").exists()
            || std::fs::read_dir(p.path().join("results/.checkpoints"))
                .unwrap()
                .next()
                .is_none(),
        "a finished run keeps no checkpoint"
    );

    // The same run uninterrupted, in another results directory.
    let fresh = p.path().join("fresh");
    let out = p
        .cmd(&["run", &files[0], "--offline", "--results"])
        .arg(&fresh)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let straight = Store::new(&fresh).read_all().unwrap();
    assert_eq!(straight[0].manifest.run_id, resumed[0].manifest.run_id);
    assert_eq!(
        straight[0].manifest.stopped_early,
        resumed[0].manifest.stopped_early
    );
    assert_eq!(numbers(&straight[0]), numbers(&resumed[0]));
    assert_eq!(straight[0].confusion, resumed[0].confusion);
    let id = &resumed[0].manifest.run_id;
    assert_eq!(
        std::fs::read(Store::new(&fresh).model_path(id)).unwrap(),
        std::fs::read(store.model_path(id)).unwrap(),
        "the weights are identical byte for byte"
    );
    for table in ["metrics", "confusion"] {
        let file = format!("{table}/{id}.parquet");
        assert_eq!(
            std::fs::read(fresh.join(&file)).unwrap(),
            std::fs::read(p.path().join("results").join(&file)).unwrap(),
            "{file} is identical byte for byte"
        );
    }
}

#[test]
fn verify_data_names_a_corrupted_file_and_fetch_data_repairs_it() {
    let p = Project::new(&[]);
    let data = p.path().join("data/tiny");
    let run = |args: &[&str]| p.cmd(args).output().unwrap();
    assert!(run(&["fetch-data", "--offline"]).status.success());
    assert!(run(&["verify-data"]).status.success());
    let victim = data.join("t10k-labels-idx1-ubyte.gz");
    let mut bytes = std::fs::read(&victim).unwrap();
    let i = bytes.len() / 2;
    bytes[i] ^= 0x01;
    std::fs::write(&victim, bytes).unwrap();
    let out = run(&["verify-data"]);
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("BAD") && text.contains("t10k-labels-idx1-ubyte.gz"),
        "{text}"
    );
    assert!(run(&["fetch-data", "--offline"]).status.success());
    assert!(run(&["verify-data"]).status.success());
}

#[test]
fn with_no_source_the_error_says_what_to_do() {
    let p = Project::new(&[]);
    let mut c = Command::new(BIN);
    let empty = p.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    // A manifest whose mirror directory holds nothing.
    let text = std::fs::read_to_string(&tiny_dataset().0).unwrap().replace(
        &tiny_dataset().1.display().to_string(),
        &empty.display().to_string(),
    );
    let manifest = p.path().join("nowhere.toml");
    std::fs::write(&manifest, text).unwrap();
    let out = c
        .arg("--root")
        .arg(p.path())
        .arg("--dataset")
        .arg(&manifest)
        .args(["fetch-data", "--offline"])
        .env_remove("FMNIST_MIRROR")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    let last = err.trim_end().lines().last().unwrap();
    assert!(last.starts_with("to fix: "), "{err}");
    assert!(
        last.contains("--mirror DIR") && last.contains("network"),
        "{err}"
    );
}

#[test]
fn list_shows_what_differs_from_the_parent_and_the_full_run_ids() {
    let child = "extends = \"a.toml\"\n[optimizer]\nmomentum = 0.5\n";
    let sweep = "extends = \"a.toml\"\n[sweep]\n\"model.dropout\" = [0.0, 0.3]\n";
    let p = Project::new(&[("a.toml", SMALL), ("b.toml", child), ("s.toml", sweep)]);
    let out = p.cmd(&["list"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}{}", stderr(&out));
    // An experiment's block: its name line, then its indented lines.
    let block = |name: &str| -> String {
        let mut lines = text
            .lines()
            .skip_while(|l| l.split("  ").next() != Some(name));
        let head = lines
            .next()
            .unwrap_or_else(|| panic!("no block for {name}:\n{text}"));
        let body: Vec<&str> = lines.take_while(|l| l.starts_with(' ')).collect();
        format!("{head}\n{}", body.join("\n"))
    };
    // a extends nothing: every setting is shown.
    let a = block("a");
    assert!(
        a.contains("optimizer.lr = 0.01") && a.contains("optimizer.momentum = 0.9"),
        "{a}"
    );
    // b shows only what it changes.
    let b = block("b");
    assert!(b.contains("optimizer.momentum = 0.5"), "{b}");
    assert!(!b.contains("optimizer.lr"), "{b}");
    // A sweep point shows its swept value against the sweep's base.
    let s = block("s[model.dropout=0.3]");
    assert!(
        s.contains("model.dropout = 0.3") && !s.contains("optimizer"),
        "{s}"
    );
    // --all shows every setting.
    let all = p.cmd(&["list", "--all"]).output().unwrap();
    let all = String::from_utf8_lossy(&all.stdout).into_owned();
    let b_all = &all[all.find("\nb").unwrap()..];
    assert!(b_all.contains("optimizer.lr = 0.01"), "{all}");

    // `--ids` gives the full id of each run: the name of its directory.
    let ids = p.cmd(&["list", "--ids"]).output().unwrap();
    let ids = String::from_utf8_lossy(&ids.stdout).into_owned();
    let line = ids
        .lines()
        .find(|l| l.starts_with("b\t0\t"))
        .expect("b's run");
    let fields: Vec<&str> = line.split('\t').collect();
    assert_eq!(fields[3], "missing", "{ids}");
    let files = p.experiments(&["b.toml"]);
    let trained = p.train(&[files[0].as_str()]);
    assert!(trained.status.success(), "{}", stderr(&trained));
    assert!(
        p.store()
            .run_dir(fields[2])
            .join("model.safetensors")
            .is_file()
    );
    assert!(
        text.contains(fields[2]),
        "list prints the full id too:\n{text}"
    );
}

#[test]
fn figures_right_after_reproduce_leaves_the_report_as_it_is() {
    let p = Project::new(&[("a.toml", SMALL)]);
    let out = p
        .cmd(&["reproduce", "--offline", "--jobs", "2", "--seeds", "0"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let report = p.path().join("reports/REPORT.md");
    let first = std::fs::read_to_string(&report).unwrap();
    // The recorded command regenerates this report, whichever wrote it.
    assert!(
        first.contains("`cargo xtask figures -- --dataset ") && first.contains(" --seeds 0`"),
        "{first}"
    );
    let out = p.cmd(&["figures", "--seeds", "0"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&report).unwrap(), first);
}

#[test]
fn diff_names_exactly_the_edited_experiment_and_bad_sides() {
    let child = "extends = \"a.toml\"\n[optimizer]\nlr = 0.02\n";
    let p = Project::new(&[("a.toml", SMALL), ("b.toml", child)]);
    let files = p.experiments(&["a.toml", "b.toml"]);
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    assert!(p.train(&files).status.success());
    let report = p.cmd(&["figures"]).output().unwrap();
    assert!(report.status.success(), "{}", stderr(&report));
    assert!(p.path().join("reports/summary/runs.csv").is_file());
    let diff = |args: &[&str]| {
        let o = p.cmd(&[&["diff"], args].concat()).output().unwrap();
        (
            o.status.success(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr(&o),
        )
    };
    let (ok, same, err) = diff(&["reports", "results"]);
    assert!(ok, "{err}");
    assert!(same.contains("summary: no change"), "{same}");

    std::fs::write(files[1], child.replace("0.02", "0.05")).unwrap();
    assert!(p.train(&files).status.success());
    let (ok, out, err) = diff(&["reports", "results", "--changed"]);
    assert!(ok, "{err}");
    assert!(out.contains("~ b changed"), "{out}");
    assert!(out.contains("setting optimizer.lr: 0.02 -> 0.05"), "{out}");
    assert!(!out.contains("~ a ") && !out.contains("= a"), "{out}");
    assert!(
        out.contains("summary: 1 changed, 0 drifted, 0 added, 0 removed, 1 unchanged"),
        "{out}"
    );

    let (ok, _, err) = diff(&["experiments"]);
    assert!(!ok && err.contains("is not a report"), "{err}");
    let (ok, _, err) = diff(&["no-such-rev"]);
    assert!(
        !ok && err.contains("\"no-such-rev\" is neither a git revision"),
        "{err}"
    );
}

/// A stored run's id, status, numbers and weights.
type RunBytes = (String, String, Vec<(u32, bool, u64, u64)>, Vec<u8>);

/// Every stored run of `p`, by run id.
fn stored_state(p: &Project) -> Vec<RunBytes> {
    let store = p.store();
    let mut runs: Vec<_> = (store.read_all().unwrap().iter())
        .map(|r| {
            let id = r.manifest.run_id.clone();
            let model = std::fs::read(store.model_path(&id)).unwrap();
            (id, r.manifest.status.to_string(), numbers(r), model)
        })
        .collect();
    runs.sort();
    runs
}

#[test]
fn a_pruned_sobol_sweep_prunes_alike_on_one_and_two_workers_and_unprunes_to_the_full_numbers() {
    let base = SMALL.replace("epochs = 2", "epochs = 4");
    // Four Sobol points, as the README writes a sampled sweep.
    let sweep = "extends = \"a.toml\"\n[sweep]\nmode = \"sobol\"\nsamples = 4\nseed = 1\n\"optimizer.lr\" = { log_uniform = [1e-3, 0.3] }\n";
    let prune = "[sweep.prune]\nmetric = \"val:accuracy\"\neta = 2\nmin_epochs = 1\n";
    let pruned = format!("{sweep}{prune}");
    let run = |p: &Project, jobs: &str, extra: &[&str]| {
        let files = p.experiments(&["s.toml"]);
        let out = (p.cmd(&["run"]).args(&files).args(extra))
            .args(["--offline", "--jobs", jobs])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        stderr(&out)
    };
    let one = Project::new(&[("a.toml", &base), ("s.toml", &pruned)]);
    let two = Project::new(&[("a.toml", &base), ("s.toml", &pruned)]);
    let before = one.cmd(&["list"]).output().unwrap();
    let text = String::from_utf8_lossy(&before.stdout).into_owned();
    // a's 4 epochs, and the sweep's 8 pruned epochs shared out over 4 points.
    assert!(text.contains("to train: 5 runs, 12 epochs"), "{text}");
    let log = run(&one, "1", &[]);
    run(&two, "2", &[]);
    // Rungs at epochs 1, 2 and 4: two of four points go on after epoch 1,
    // one after epoch 2.
    let state = stored_state(&one);
    let statuses = |state: &[RunBytes]| -> Vec<String> {
        let mut s: Vec<String> = state.iter().map(|r| r.1.clone()).collect();
        s.sort();
        s
    };
    assert_eq!(
        statuses(&state),
        [
            "complete",
            "pruned at epoch 1",
            "pruned at epoch 1",
            "pruned at epoch 2"
        ],
        "{log}"
    );
    assert!(
        log.contains("at epoch 1 by val:accuracy, 2 of 4 go on"),
        "{log}"
    );
    assert_eq!(
        state,
        stored_state(&two),
        "the same survivors and numbers on 2 workers"
    );

    // Killed once the first rung is decided, then run again: the same again.
    let killed = Project::new(&[("a.toml", &base), ("s.toml", &pruned)]);
    let files = killed.experiments(&["s.toml"]);
    let mut child = (killed.cmd(&["run", &files[0], "--offline", "--jobs", "2"]))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stderr.take().unwrap()).lines();
    for line in lines {
        if line.unwrap().contains("prune  s: rung 2 of 3") {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    run(&killed, "1", &[]);
    assert_eq!(state, stored_state(&killed), "the same after a kill");

    // Run again: the rungs are decided again from the stored numbers, nothing trains.
    let again = run(&one, "2", &[]);
    assert!(!again.contains("rung   "), "{again}");
    assert_eq!(state, stored_state(&one));

    let listed = one.cmd(&["list"]).output().unwrap();
    let text = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(text.contains("stored, pruned at epoch 1"), "{text}");
    assert!(
        text.contains("pruned sweep s: 4 points x 1 seed(s), rungs at epochs 1, 2, 4")
            && text.contains("8 epochs pruned, 16 unpruned (50%)"),
        "{text}"
    );

    // --unprune trains the pruned runs on, to exactly the never-pruned numbers.
    run(&one, "2", &["--unprune"]);
    let full = Project::new(&[("a.toml", &base), ("s.toml", sweep)]);
    run(&full, "2", &[]);
    let unpruned = stored_state(&one);
    assert_eq!(statuses(&unpruned), ["complete"; 4]);
    assert_eq!(unpruned, stored_state(&full));
}

/// The bytes of every stored metrics table of `p`, by file name.
fn metrics_tables(p: &Project) -> Vec<(String, Vec<u8>)> {
    let dir = p.path().join("results/metrics");
    let mut out: Vec<(String, Vec<u8>)> = (std::fs::read_dir(&dir).unwrap())
        .map(|f| {
            let f = f.unwrap();
            let name = f.file_name().to_string_lossy().into_owned();
            (name, std::fs::read(f.path()).unwrap())
        })
        .collect();
    out.sort();
    out
}

/// The experiments `list --ids` shows, in order, deduplicated.
fn listed_trials(p: &Project) -> Vec<String> {
    let out = p.cmd(&["list", "--ids"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let mut names: Vec<String> = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let name = line.split('\t').next().unwrap().to_string();
        if name.starts_with("t[") && !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

#[test]
fn a_tpe_search_is_the_same_on_one_and_two_workers_after_a_kill_and_extended() {
    // As the guide writes a TPE search: rounds of 2 trials, each round
    // proposed from the scores of the rounds before it.
    let tpe = |rounds: usize| {
        format!(
            "extends = \"a.toml\"\n[sweep]\nmode = \"tpe\"\nrounds = {rounds}\nround_size = 2\nseed = 3\n\
             metric = \"val:accuracy\"\n\"optimizer.lr\" = {{ log_uniform = [1e-3, 0.3] }}\n\
             \"model.dropout\" = {{ uniform = [0.0, 0.5] }}\n"
        )
    };
    let run = |p: &Project, jobs: &str| {
        let files = p.experiments(&["a.toml", "t.toml"]);
        let out = (p.cmd(&["run"]).args(&files))
            .args(["--offline", "--jobs", jobs])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        stderr(&out)
    };
    let one = Project::new(&[("a.toml", SMALL), ("t.toml", &tpe(3))]);
    let two = Project::new(&[("a.toml", SMALL), ("t.toml", &tpe(3))]);
    let before = listed_trials(&one);
    assert_eq!(before.len(), 2, "only round 1 is known before training");
    let listed = one.cmd(&["list"]).output().unwrap();
    let text = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(
        text.contains("tpe sweep t: 2 trials of rounds 1 to 1 of 3 proposed so far")
            && text.contains("unknown until those are trained"),
        "{text}"
    );
    let log = run(&one, "1");
    for r in 1..=3 {
        assert!(
            log.contains(&format!("tpe    t: round {r} of 3, 2 trial(s)")),
            "{log}"
        );
    }
    run(&two, "2");
    let state = stored_state(&one);
    assert_eq!(state.len(), 7, "a and 3 rounds of 2 trials");
    assert_eq!(
        state,
        stored_state(&two),
        "the same trials and numbers on 2 workers"
    );
    assert_eq!(metrics_tables(&one), metrics_tables(&two), "byte for byte");
    let trials = listed_trials(&one);
    assert_eq!(trials.len(), 6);
    assert_eq!(trials[..2], before[..], "round 1 is the loader's");
    assert_eq!(trials, listed_trials(&two));

    // Killed in the middle of the search, then run again: the same.
    let killed = Project::new(&[("a.toml", SMALL), ("t.toml", &tpe(3))]);
    let files = killed.experiments(&["a.toml", "t.toml"]);
    let mut child = (killed.cmd(&["run"]).args(&files))
        .args(["--offline", "--jobs", "2"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stderr.take().unwrap()).lines();
    for line in lines {
        if line.unwrap().contains("tpe    t: round 2 of 3") {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(listed_trials(&killed).len() < 6, "round 3 is not known yet");
    run(&killed, "1");
    assert_eq!(state, stored_state(&killed), "the same after a kill");
    assert_eq!(metrics_tables(&one), metrics_tables(&killed));

    // Run again: every round proposed again from the stored scores, nothing trains.
    let again = run(&one, "2");
    assert!(again.contains("trained 0 runs"), "{again}");

    // One more round: the six trials kept, two new ones trained.
    std::fs::write(one.path().join("experiments/t.toml"), tpe(4)).unwrap();
    let more = run(&one, "2");
    assert!(more.contains("trained 2 runs"), "{more}");
    let extended = stored_state(&one);
    assert_eq!(extended.len(), 9);
    assert!(
        state.iter().all(|r| extended.contains(r)),
        "every earlier run kept as it was"
    );
    let longer = listed_trials(&one);
    assert_eq!(longer[..6], trials[..]);

    // The report shows the search's expected best of n trials.
    let out = one.cmd(&["figures"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let report = std::fs::read_to_string(one.path().join("reports/details/sweep-t.md")).unwrap();
    assert!(
        report.contains("Show your work, sweep `t`")
            && report.contains("from the 8 trials trained to the end"),
        "{report}"
    );
}

#[test]
fn a_pruned_tpe_search_prunes_alike_on_one_and_two_workers() {
    // Rounds of 4 trials, each one bracket of successive halving (eta 2
    // from epoch 1: rungs 1, 2, 4); each round proposed from the rungs
    // the rounds before it reached.
    let base = SMALL.replace("epochs = 2", "epochs = 4");
    let tpe = "extends = \"a.toml\"\n[sweep]\nmode = \"tpe\"\nrounds = 2\nround_size = 4\nseed = 1\n\
               metric = \"val:accuracy\"\n\"optimizer.lr\" = { log_uniform = [1e-3, 0.3] }\n\
               [sweep.prune]\neta = 2\nmin_epochs = 1\n";
    let run = |p: &Project, jobs: &str| {
        let files = p.experiments(&["t.toml"]);
        let out = (p.cmd(&["run"]).args(&files))
            .args(["--offline", "--jobs", jobs])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        stderr(&out)
    };
    let one = Project::new(&[("a.toml", &base), ("t.toml", tpe)]);
    let two = Project::new(&[("a.toml", &base), ("t.toml", tpe)]);
    let log = run(&one, "1");
    run(&two, "2");
    let state = stored_state(&one);
    let mut statuses: Vec<&str> = state.iter().map(|r| r.1.as_str()).collect();
    statuses.sort();
    let round = [
        "complete",
        "pruned at epoch 1",
        "pruned at epoch 1",
        "pruned at epoch 2",
    ];
    let both: Vec<&str> = {
        let mut v = [round, round].concat();
        v.sort();
        v
    };
    assert_eq!(statuses, both, "{log}");
    assert!(log.contains("tpe    t: round 2 of 2, 4 trial(s)"), "{log}");
    assert_eq!(state, stored_state(&two), "the same on 2 workers");
    assert_eq!(metrics_tables(&one), metrics_tables(&two), "byte for byte");
    assert_eq!(listed_trials(&one), listed_trials(&two));
    assert_eq!(listed_trials(&one).len(), 8);
}
