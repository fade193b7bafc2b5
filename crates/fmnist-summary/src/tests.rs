//! Tests of the summary and the diff on small made-up runs.

use fmnist_experiments::RunConfig;
use fmnist_metrics::{
    ConfusionCell, DataFile, Measures, MetricRow, Provenance, Quantity, RunManifest, RunStatus,
    Split, StoredRun,
};

use crate::render::{self, Options};
use crate::{RunRow, Status, Summary, curves_needed, diff};

fn config(lr: f64, epochs: usize) -> RunConfig {
    let mut c = RunConfig::table_one();
    c.model.init = "torch".into();
    c.optimizer.set_lr(lr);
    c.epochs = epochs;
    c
}

/// A run whose validation accuracy per epoch is `val`; the rest derived.
fn run(experiment: &str, seed: u64, lr: f64, val: &[f64], code: u32) -> StoredRun {
    let mut rows = Vec::new();
    for (i, &a) in val.iter().enumerate() {
        for (split, acc) in [(Split::Train, a + 0.01), (Split::Val, a)] {
            let mut values = Measures::default()
                .with(Quantity::Loss, 1.0 - acc)
                .with(Quantity::Accuracy, acc);
            if split == Split::Train {
                values.set(Quantity::GradNorm, 2.0 * acc);
            }
            rows.push(MetricRow {
                epoch: i as u32 + 1,
                split,
                values,
                seconds: 1.0,
            });
        }
    }
    // Two classes: class 0 always right, class 1 right 3 times in 4.
    let confusion = vec![
        ConfusionCell {
            true_class: 0,
            predicted_class: 0,
            count: 10,
        },
        ConfusionCell {
            true_class: 0,
            predicted_class: 1,
            count: 0,
        },
        ConfusionCell {
            true_class: 1,
            predicted_class: 0,
            count: 1,
        },
        ConfusionCell {
            true_class: 1,
            predicted_class: 1,
            count: 3,
        },
    ];
    StoredRun {
        manifest: RunManifest {
            run_id: format!("{experiment}-{seed}-{lr}-{code}"),
            experiment: experiment.into(),
            experiment_file: format!("experiments/{experiment}.toml"),
            seed,
            config: config(lr, val.len()),
            status: RunStatus::Complete,
            data: vec![DataFile {
                name: "train.gz".into(),
                blake3: "abc".into(),
            }],
            classes: vec!["T-shirt/top".into(), "Trouser, long".into()],
            architecture: fmnist_metrics::Architecture {
                layer_sizes: vec![784, 128, 64, 10],
                torch: String::new(),
            },
            started_at: String::new(),
            finished_at: String::new(),
            wall_seconds: 1.0,
            epoch_seconds: vec![],
            device: "cpu".into(),
            threads: 1,
            training_code_version: code,
            resumed_from_epoch: None,
            stopped_early: None,
            provenance: Provenance::default(),
        },
        rows,
        confusion,
        mistakes: vec![],
        dir: std::path::PathBuf::from("/nonexistent"),
    }
}

/// Three experiments of three seeds; `lr_b` is experiment "b"'s lr.
fn runs(lr_b: f64, code: u32) -> Vec<StoredRun> {
    let mut out = Vec::new();
    for seed in 0..3 {
        let s = seed as f64 * 0.003;
        out.push(run("a", seed, 0.001, &[0.80 + s, 0.84 + s, 0.85 + s], code));
        let gain = if lr_b == 0.001 { 0.0 } else { 0.02 };
        out.push(run(
            "b",
            seed,
            lr_b,
            &[0.81 + s, 0.83 + s, 0.86 + s + gain],
            code,
        ));
        out.push(run("c", seed, 0.001, &[0.7 + s, 0.75 + s, 0.78 + s], code));
    }
    out
}

fn verdicts() -> Vec<(String, String)> {
    vec![("C1".into(), "reproduced".into())]
}

#[test]
fn metrics_windows_classes_and_curves_come_from_the_runs() {
    let s = Summary::from_runs(&runs(0.001, 1), &verdicts(), false);
    assert_eq!(s.experiments(), ["a", "b", "c"]);
    let r = &s.runs_of("a")[1];
    assert_eq!(r.seed, 1);
    assert!((r.metric("final_val_accuracy").unwrap() - 0.853).abs() < 1e-12);
    assert_eq!(r.metric("best_val_accuracy_epoch"), Some(3.0));
    let window = (0.803 + 0.843 + 0.853) / 3.0;
    assert!((r.metric("window5_val_accuracy").unwrap() - window).abs() < 1e-12);
    assert!((r.metric("final_train_loss").unwrap() - (1.0 - 0.863)).abs() < 1e-12);
    assert_eq!(r.classes[1], ("Trouser, long".to_string(), 0.75));
    assert!(
        r.settings
            .contains(&("optimizer.lr".to_string(), "0.001".to_string()))
    );
    let c = s.curves_of("a");
    assert_eq!(c.len(), 3);
    assert_eq!(c[0].n, 3);
    assert!((c[0].value("val_accuracy_mean") - 0.803).abs() < 1e-12);
    assert!((c[0].value("val_accuracy_sd") - 0.003).abs() < 1e-12);
    // The gradient norm, a diagnostic of divergence, is not a curve here.
    assert!(c[0].value("train_grad_norm_mean").is_nan());
    assert_eq!(s.meta("verdict.C1"), Some("reproduced"));
    assert_eq!(s.meta("data.train.gz"), Some("abc"));
}

#[test]
fn the_files_read_back_as_written() {
    let s = Summary::from_runs(&runs(0.002, 1), &verdicts(), true);
    let dir = tempfile::tempdir().unwrap();
    s.write_dir(dir.path()).unwrap();
    let back = Summary::read_dir(dir.path()).unwrap();
    assert_eq!(back.meta, s.meta);
    // NaN (a metric not measured) is not equal to itself: compare the rows
    // with their metrics' bits, NaN alike.
    let bits = |rows: &[RunRow]| -> Vec<(RunRow, Vec<u64>)> {
        (rows.iter())
            .map(|r| {
                let b = r
                    .metrics
                    .iter()
                    .map(|v| if v.is_nan() { u64::MAX } else { v.to_bits() });
                // Settings every run shares read back after the others.
                let mut settings = r.settings.clone();
                settings.sort();
                (
                    RunRow {
                        metrics: Vec::new(),
                        settings,
                        ..r.clone()
                    },
                    b.collect(),
                )
            })
            .collect()
    };
    assert_eq!(
        bits(&back.runs),
        bits(&s.runs),
        "the rounded numbers and quoting survive"
    );
    assert_eq!(back.curves.len(), s.curves.len());
    for (x, y) in back.curves.iter().zip(&s.curves) {
        for (u, v) in x.values.iter().zip(&y.values) {
            assert!(u == v || (u.is_nan() && v.is_nan()), "bit for bit: {u} {v}");
        }
    }
    // Writing the same summary again changes no byte.
    let before = std::fs::read(dir.path().join("runs.csv")).unwrap();
    s.write_dir(dir.path()).unwrap();
    assert_eq!(std::fs::read(dir.path().join("runs.csv")).unwrap(), before);
}

#[test]
fn a_missing_file_or_column_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let e = Summary::read_dir(dir.path()).unwrap_err().to_string();
    assert!(e.contains("meta.csv"), "{e}");
    let mut t = Summary::from_runs(&runs(0.001, 1), &[], false).to_texts();
    t.runs = t.runs.replacen("run_id", "rid", 1);
    let e = Summary::parse("REV:reports/summary", &t)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("REV:reports/summary/runs.csv") && e.contains("run_id"),
        "{e}"
    );
    // A curve quantity an older summary lacks reads as not measured.
    let mut t = Summary::from_runs(&runs(0.001, 1), &[], false).to_texts();
    t.curves = t.curves.replacen("val_loss_sd", "something_else", 1);
    let s = Summary::parse("old", &t).unwrap();
    assert!(s.curves[0].value("val_loss_sd").is_nan());
    assert!(s.curves[0].value("val_accuracy_mean").is_finite());
    t.curves = t.curves.replacen("epoch", "epoque", 1);
    assert!(Summary::parse("old", &t).is_err());
}

#[test]
fn a_summary_against_itself_is_no_change() {
    let s = Summary::from_runs(&runs(0.001, 1), &verdicts(), false);
    let d = diff("A", &s, "B", &s);
    assert!(d.experiments.iter().all(|e| e.status == Status::Unchanged));
    assert!(!d.drift.any());
    assert!(d.verdicts.is_empty());
    for e in &d.experiments {
        for m in &e.metrics {
            assert_eq!(m.change, 0.0);
            assert!(!m.significant);
        }
    }
    let text = render::text(&d, Options::default());
    assert!(text.contains("summary: no change"), "{text}");
    assert_eq!(text.matches(" unchanged\n").count(), 3);
    let changed = render::text(&d, Options { changed_only: true });
    assert!(!changed.contains("= a"), "{changed}");
    assert!(text.contains("; 0 verdicts changed"), "{text}");
}

#[test]
fn verdicts_not_compared_are_not_counted_as_unchanged() {
    let s = Summary::from_runs(&runs(0.001, 1), &verdicts(), false);
    let mut d = diff("A", &s, "B", &s);
    d.verdicts_known = (true, false);
    let line = render::one_line(&d);
    assert!(line.contains("; verdicts not compared"), "{line}");
    assert!(!line.contains("verdicts changed"), "{line}");
}

#[test]
fn an_edited_lr_is_exactly_that_experiment_with_its_setting_and_interval() {
    let a = Summary::from_runs(&runs(0.001, 1), &verdicts(), false);
    let b = Summary::from_runs(
        &runs(0.01, 1),
        &[("C1".into(), "inconclusive".into())],
        false,
    );
    let d = diff("A", &a, "B", &b);
    let changed: Vec<_> = d.experiments.iter().filter(|e| e.is_change()).collect();
    assert_eq!(changed.len(), 1);
    let e = changed[0];
    assert_eq!((e.name.as_str(), e.status), ("b", Status::Changed));
    assert_eq!(e.settings.len(), 1);
    assert_eq!(e.settings[0].key, "optimizer.lr");
    assert_eq!(
        (e.settings[0].a.as_deref(), e.settings[0].b.as_deref()),
        (Some("0.001"), Some("0.01"))
    );
    let fin = &e.metrics[0];
    assert_eq!(fin.metric, "final_val_accuracy");
    assert!((fin.change - 0.02).abs() < 1e-12);
    let (lo, hi) = fin.interval.unwrap();
    assert!(lo <= 0.02 + 1e-9 && 0.02 - 1e-9 <= hi, "{lo} {hi}");
    assert_eq!(fin.pairing, Some(fmnist_stats::Pairing::Paired));
    assert!(fin.significant, "the same +2 pp on every seed");
    assert_eq!(d.verdicts.len(), 1);
    let text = render::text(&d, Options::default());
    assert!(
        text.contains("setting optimizer.lr: 0.001 -> 0.01"),
        "{text}"
    );
    assert!(text.contains("+2.00 pp"), "{text}");
    assert!(
        text.contains("verdict C1: reproduced -> inconclusive"),
        "{text}"
    );
    let md = render::markdown(&d, Options::default());
    assert!(
        md.contains("| final validation accuracy |") && md.contains("| yes |"),
        "{md}"
    );
}

#[test]
fn added_and_removed_experiments_are_named() {
    let all = runs(0.001, 1);
    let a = Summary::from_runs(
        &all.iter()
            .filter(|r| r.manifest.experiment != "c")
            .cloned()
            .collect::<Vec<_>>(),
        &[],
        false,
    );
    let b = Summary::from_runs(
        &all.iter()
            .filter(|r| r.manifest.experiment != "a")
            .cloned()
            .collect::<Vec<_>>(),
        &[],
        false,
    );
    let d = diff("A", &a, "B", &b);
    let status = |n: &str| d.experiments.iter().find(|e| e.name == n).unwrap().status;
    assert_eq!(status("a"), Status::Removed);
    assert_eq!(status("b"), Status::Unchanged);
    assert_eq!(status("c"), Status::Added);
    let line = render::one_line(&d);
    assert!(line.contains("1 added, 1 removed, 1 unchanged"), "{line}");
    let text = render::text(&d, Options::default());
    // c's final validation accuracy: 0.78, 0.783, 0.786 over seeds 0, 1, 2.
    assert!(
        text.contains(
            "+ c added\n    seeds: 0,1,2\n    final validation accuracy 78.30% (mean of 3 seeds)"
        ),
        "{text}"
    );
    assert!(text.contains("- a removed"), "{text}");
    assert_eq!(
        d.experiments
            .iter()
            .find(|e| e.name == "b")
            .unwrap()
            .one_side,
        None
    );
    assert!(line.contains("verdicts"), "{line}");
}

#[test]
fn a_new_code_version_is_drift_shown_per_experiment() {
    let a = Summary::from_runs(&runs(0.001, 1), &[], false);
    let mut moved = runs(0.001, 2);
    // The new code changes experiment c's numbers only.
    for r in moved.iter_mut().filter(|r| r.manifest.experiment == "c") {
        for row in &mut r.rows {
            let v = row.values[Quantity::Accuracy];
            row.values.set(Quantity::Accuracy, v + 0.001);
        }
    }
    let b = Summary::from_runs(&moved, &[], false);
    let d = diff("A", &a, "B", &b);
    assert_eq!(d.drift.code, Some(("1".to_string(), "2".to_string())));
    let status = |n: &str| d.experiments.iter().find(|e| e.name == n).unwrap();
    assert_eq!(status("c").status, Status::Drift);
    assert_eq!(status("a").status, Status::Unchanged);
    assert!(status("a").run_ids_changed);
    let text = render::text(&d, Options::default());
    assert!(
        text.contains("code drift: TRAINING_CODE_VERSION 1 (A) -> 2 (B)"),
        "{text}"
    );
    assert!(text.contains("~ c drift"), "{text}");
    assert!(text.contains("training code: 1 -> 2"), "{text}");
}

#[test]
fn one_seed_a_side_gives_the_change_without_an_interval() {
    let one: Vec<StoredRun> = runs(0.001, 1)
        .into_iter()
        .filter(|r| r.manifest.seed == 0)
        .collect();
    let mut other = one.clone();
    let v = other[0].rows[5].values[Quantity::Accuracy];
    other[0].rows[5].values.set(Quantity::Accuracy, v + 0.01);
    let d = diff(
        "A",
        &Summary::from_runs(&one, &[], true),
        "B",
        &Summary::from_runs(&other, &[], true),
    );
    let e = &d.experiments[0];
    assert_eq!(e.status, Status::Drift);
    assert!(e.metrics[0].interval.is_none() && !e.metrics[0].significant);
    assert!(render::text(&d, Options::default()).contains("no interval (1 vs 1 seeds)"));
}

#[test]
fn bands_are_t_intervals_of_the_epoch_means() {
    let mut s = Summary::from_runs(&runs(0.001, 1), &[], false);
    let b = crate::band(&s.curves_of("a"), "val", "accuracy", 0.95);
    assert_eq!(b.len(), 3);
    // sd 0.003 over 3 seeds: half-width t_{0.975,2} 0.003 / sqrt 3.
    let h = 4.302652729749462 * 0.003 / 3f64.sqrt();
    assert!((b[0].hi - b[0].mean - h).abs() < 1e-6, "{:?}", b[0]);
    let rows = s.curves_of("c").into_iter().cloned().collect::<Vec<_>>();
    s.replace_curves("a", rows[..1].to_vec());
    assert_eq!(
        s.curves_of("a").len(),
        0,
        "the rows keep their own experiment"
    );
    assert_eq!(s.curves.len(), 7);
}

#[test]
fn numbers_keep_the_digits_the_files_keep_and_an_older_full_precision_summary_agrees() {
    use crate::{CURVE_SIGNIFICANT, SD_SIGNIFICANT, SIGNIFICANT, rounded};
    assert_eq!(rounded(0.5773333544935042, SIGNIFICANT), 0.577333);
    assert_eq!(
        rounded(0.78374, SIGNIFICANT),
        0.78374,
        "a mean of five is exact"
    );
    assert_eq!(rounded(2.2272184, CURVE_SIGNIFICANT), 2.227);
    assert_eq!(rounded(0.0150371, SD_SIGNIFICANT), 0.015);
    assert_eq!(rounded(1234567.0, SIGNIFICANT), 1234570.0);
    assert!(rounded(f64::NAN, SIGNIFICANT).is_nan());
    assert_eq!(rounded(0.0, SIGNIFICANT), 0.0);
    // Runs whose numbers have many digits: the file keeps six, and reads
    // back bit for bit.
    let mut rs = runs(0.001, 1);
    for r in &mut rs {
        for row in &mut r.rows {
            let a = row.values[Quantity::Accuracy];
            row.values.set(Quantity::Loss, (1.0 - a) / 3.0);
        }
    }
    let s = Summary::from_runs(&rs, &verdicts(), false);
    let texts = s.to_texts();
    assert!(texts.runs.contains(",0.0456667,"), "{}", texts.runs);
    let back = Summary::parse("new", &texts).unwrap();
    // Debug text compares the empty cells (NaN, never equal to itself) too.
    assert_eq!(format!("{:?}", back.runs), format!("{:?}", s.runs));
    // The same runs as an older summary wrote them, every digit kept: the
    // diff finds no change.
    let mut old = s.clone();
    for r in &mut old.runs {
        for v in r.metrics.iter_mut().filter(|v| !v.is_nan()) {
            *v += 1e-9;
        }
    }
    let d = diff("old", &old, "new", &s);
    assert!(
        d.experiments.iter().all(|e| e.status == Status::Unchanged),
        "{d:?}"
    );
    // A change at the digits kept is one.
    old.runs[0].metrics[0] += 1e-4;
    let d = diff("old", &old, "new", &s);
    assert_eq!(d.experiments[0].status, Status::Drift);
}

#[test]
fn only_the_curves_the_caller_keeps_are_written() {
    let mut s = Summary::from_runs(&runs(0.001, 1), &verdicts(), false);
    assert!(!s.curves_of("b").is_empty());
    s.retain_curves(|name| name != "b");
    assert!(s.curves_of("b").is_empty() && !s.curves_of("a").is_empty());
    let texts = s.to_texts();
    assert!(!texts.curves.lines().any(|l| l.starts_with("b,")));
    // Its runs stay.
    assert!(texts.runs.lines().any(|l| l.starts_with("b,")));
}

#[test]
fn the_curves_needed_are_those_of_a_figure_or_a_claim_and_not_of_sweep_points() {
    let dir = tempfile::tempdir().unwrap();
    let base = "[model]\nhidden = [8]\ndropout = 0.0\n[optimizer]\nkind = \"sgd\"\nlr = 0.01\n\
        [training]\nbatch_size = 100\nepochs = 2\nseeds = [0]\n";
    let files = [
        ("fig.toml", "[paper]\nfigure = \"FIG. 2\"\n"),
        ("claim.toml", "[paper]\nclaims = [\"C1\"]\n"),
        ("table.toml", "[paper]\ntable = \"Table I\"\n"),
        (
            "sweep.toml",
            "[paper]\nfigure = \"FIG. 3\"\n[sweep]\n\"optimizer.lr\" = [0.1]\n",
        ),
    ];
    for (name, paper) in files {
        let text = format!("description = \"{name}\"\n{paper}{base}");
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let experiments = fmnist_experiments::load_dir(dir.path()).unwrap();
    let needed = |name: &str| curves_needed(&experiments, name);
    assert!(needed("fig") && needed("claim"));
    assert!(!needed("table") && !needed("sweep[optimizer.lr=0.1]"));
    assert!(!needed("unknown"));
}

#[test]
fn a_run_with_a_validation_split_gives_its_test_accuracy_and_older_files_read_without_it() {
    let mut runs = runs(0.001, 1);
    // Run "a" seed 0 held images out: its test rows sit 2 pp below validation.
    let held_out = &mut runs[0];
    let tests: Vec<MetricRow> = (held_out.rows.iter())
        .filter(|r| r.split == Split::Val)
        .map(|r| MetricRow {
            split: Split::Test,
            values: Measures::default()
                .with(Quantity::Accuracy, r.values[Quantity::Accuracy] - 0.02),
            ..r.clone()
        })
        .collect();
    held_out.rows.extend(tests);
    let s = Summary::from_runs(&runs, &verdicts(), false);
    let (a, b) = (&s.runs_of("a")[0], &s.runs_of("b")[0]);
    assert!((a.metric("final_test_accuracy").unwrap() - 0.83).abs() < 1e-12);
    assert_eq!(b.metric("final_test_accuracy"), None, "no test rows");

    // Written, read back alike; a file written before the column existed
    // reads it as not measured.
    let dir = tempfile::tempdir().unwrap();
    s.write_dir(dir.path()).unwrap();
    let back = Summary::read_dir(dir.path()).unwrap();
    assert_eq!(
        back.runs_of("a")[0].metric("final_test_accuracy"),
        a.metric("final_test_accuracy")
    );
    assert_eq!(back.runs_of("b")[0].metric("final_test_accuracy"), None);
    let path = dir.path().join("runs.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let header = text.lines().next().unwrap();
    let col = header
        .split(',')
        .position(|h| h == "final_test_accuracy")
        .unwrap();
    let older: String = text
        .lines()
        .map(|l| {
            let mut cells: Vec<&str> = l.split(',').collect();
            cells.remove(col);
            cells.join(",") + "\n"
        })
        .collect();
    std::fs::write(&path, older).unwrap();
    let read = Summary::read_dir(dir.path()).unwrap();
    assert_eq!(read.runs_of("a")[0].metric("final_test_accuracy"), None);
    assert_eq!(
        read.runs_of("a")[0].metric("final_val_accuracy"),
        a.metric("final_val_accuracy")
    );
}

#[test]
fn a_setting_every_run_shares_is_one_row_of_meta_and_reads_back_on_every_run() {
    let s = Summary::from_runs(&runs(0.003, 1), &verdicts(), false);
    let texts = s.to_texts();
    let header = texts.runs.lines().next().unwrap();
    // The learning rate differs between runs: a column; the batch size is
    // the same on every run: one row of meta, no column.
    assert!(header.split(',').any(|h| h == "optimizer.lr"), "{header}");
    assert!(
        !header.split(',').any(|h| h == "training.batch_size"),
        "{header}"
    );
    assert!(
        texts.meta.contains("\nsetting.training.batch_size,100\n"),
        "{}",
        texts.meta
    );
    let back = Summary::parse("s", &texts).unwrap();
    assert_eq!(
        back.meta, s.meta,
        "the shared settings are not meta of the summary"
    );
    for (a, b) in back.runs.iter().zip(&s.runs) {
        let sorted = |r: &crate::RunRow| {
            let mut v = r.settings.clone();
            v.sort();
            v
        };
        assert_eq!(sorted(a), sorted(b), "{}", a.experiment);
    }
    // One run alone shares nothing with another: every setting a column.
    let one = Summary::from_runs(&runs(0.003, 1)[..1], &verdicts(), false);
    assert!(!one.to_texts().meta.contains("setting."));
}
