//! `write_report` end to end on synthetic runs: every file it promises, PNGs
//! that decode as PNGs of the right size, and verdicts known in advance.

use std::path::{Path, PathBuf};

use fmnist_data::{Dataset, ImageSet};
use fmnist_experiments::{Experiment, load_file};
use fmnist_figures::{FiguresError, Provenance, ReportInput, Verdict, write_report};
use fmnist_metrics::{MetricRow, RunManifest, RunStatus, Split, StoredRun};

fn experiments_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments")
}

fn experiment(name: &str) -> Experiment {
    load_file(&experiments_dir().join(format!("{name}.toml"))).unwrap()
}

/// A run with the given validation accuracy per epoch; training accuracy is
/// 2 pp higher, losses fall as accuracy rises.
fn run(exp: &Experiment, seed: u64, val_acc: &[f64], status: RunStatus) -> StoredRun {
    let mut rows = Vec::new();
    for (i, &a) in val_acc.iter().enumerate() {
        for (split, acc, loss) in [
            (Split::Train, a + 0.02, 1.5 - 1.2 * a),
            (Split::Val, a, 1.6 - 1.2 * a),
        ] {
            rows.push(MetricRow {
                epoch: i as u32 + 1,
                split,
                loss,
                accuracy: acc,
                seconds: 1.5,
            });
        }
    }
    let mut config = exp.config.clone();
    // A diverged run stops early but was planned for as many epochs as the others.
    config.epochs = 3;
    config.train_limit = Some(600);
    StoredRun {
        manifest: RunManifest {
            run_id: format!("{}-{seed}", exp.name),
            experiment: exp.name.clone(),
            experiment_file: format!("experiments/{}.toml", exp.name),
            seed,
            config,
            status,
            data: vec![],
            started_at: "2024-05-01T10:00:00Z".into(),
            finished_at: "2024-05-01T10:01:00Z".into(),
            wall_seconds: 60.0,
            device: "cpu".into(),
            threads: 2,
            training_code_version: 1,

            provenance: fmnist_metrics::Provenance {
                git_commit: Some("0123abc".into()),
                git_dirty: Some(false),
                project_version: "0.0.0".into(),
                rustc_version: "1.95.0".into(),
                host: "test".into(),
                machine: String::new(),
            },
        },
        rows,
        confusion: vec![],
        mistakes: vec![],
        dir: PathBuf::from("/nonexistent"),
    }
}

fn dataset() -> Dataset {
    let split = |n: usize| {
        let mut images = Vec::with_capacity(n * 784);
        for i in 0..n {
            for p in 0..784usize {
                let (r, c) = (p / 28, p % 28);
                // A bright square whose size depends on the class, on black.
                let k = 4 + (i % 10);
                let on = r.abs_diff(14) < k && c.abs_diff(14) < k;
                images.push(if on { 120 + (i % 10) as u8 * 13 } else { 0 });
            }
        }
        ImageSet {
            images,
            labels: (0..n).map(|i| (i % 10) as u8).collect(),
            len: n,
            rows: 28,
            cols: 28,
        }
    };
    Dataset {
        train: split(20),
        test: split(10),
    }
}

const CLAIMS: &str = r#"
[[claim]]
id = "R"
section = "III.A"
text = "lr = 0.01 beats the baseline."
[[claim.check]]
what = "higher final validation accuracy"
left = "lr-0.01:val:accuracy@last"
op = ">"
right = "baseline:val:accuracy@last"

[[claim]]
id = "N"
section = "III"
text = "The baseline reaches 85%."
[[claim.check]]
what = "final validation accuracy within 3 pp of 85%"
left = "baseline:val:accuracy@last"
op = "approx"
right = 0.85
tol = 0.03

[[claim]]
id = "D"
section = "III.A"
text = "lr = 0.01 beats the baseline by 5 pp at epoch 2."
[[claim.check]]
what = "5 pp better at epoch 2"
left = "lr-0.01:val:accuracy@2"
op = ">"
right = "baseline:val:accuracy@2"
margin = 0.05

[[claim]]
id = "M"
section = "III.D"
text = "Adam beats the baseline."
[[claim.check]]
what = "higher final validation accuracy"
left = "adam:val:accuracy@last"
op = ">"
right = "baseline:val:accuracy@last"
"#;

fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    assert!(bytes.len() > 1000, "{} is too small", path.display());
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", path.display());
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

#[test]
fn write_report_writes_every_figure_table_and_verdict() {
    let tmp = tempfile::tempdir().unwrap();
    let claims = tmp.path().join("claims.toml");
    std::fs::write(&claims, CLAIMS).unwrap();
    let experiments = vec![experiment("baseline"), experiment("lr-0.01")];
    let (base, lr) = (&experiments[0], &experiments[1]);
    let runs = vec![
        run(base, 0, &[0.60, 0.70, 0.78], RunStatus::Complete),
        run(base, 1, &[0.62, 0.78, 0.80], RunStatus::Complete),
        // Seed 0 is 6 pp ahead at epoch 2, seed 1 only 4 pp: claim D splits.
        // Seed 1 diverged: its last epoch is 2, still above the baseline's last.
        run(lr, 0, &[0.70, 0.76, 0.88], RunStatus::Complete),
        run(
            lr,
            1,
            &[0.70, 0.82],
            RunStatus::Diverged { epoch: 3, batch: 7 },
        ),
    ];
    let ds = dataset();
    let out = tmp.path().join("reports");
    let input = ReportInput {
        experiments: &experiments,
        runs: &runs,
        dataset: Some(&ds),
        claims_file: &claims,
        provenance: Provenance {
            commit: "0123abc".into(),
            dirty: true,
            date: "2024-05-01".into(),
            data_hashes: vec![("train-images-idx3-ubyte".into(), "ab12".into())],
            machine: "test machine".into(),
            command: "fmnist report --quick".into(),
            quick: true,
        },
    };
    let summary = write_report(&input, &out).unwrap();

    assert_eq!(
        summary.verdicts,
        [
            ("R".to_string(), Verdict::Reproduced),
            ("N".to_string(), Verdict::NotReproduced),
            ("D".to_string(), Verdict::Inconclusive),
            ("M".to_string(), Verdict::Inconclusive),
        ]
    );

    for stem in [
        "fig1-examples",
        "baseline",
        "lr-0.01",
        "compare-learning-rate",
    ] {
        let png = out.join("figures").join(format!("{stem}.png"));
        let svg = out.join("figures").join(format!("{stem}.svg"));
        let (w, h) = png_size(&png);
        if stem == "fig1-examples" {
            assert!(w >= 900 && h > 1500, "{stem}: {w}x{h}");
        } else {
            assert_eq!((w, h), (2400, 1000), "{stem}");
        }
        let svg_text = std::fs::read_to_string(&svg).unwrap();
        assert!(svg_text.starts_with("<svg") && svg_text.trim_end().ends_with("</svg>"));
        assert!(summary.files.contains(&png) && summary.files.contains(&svg));
    }
    let fig1_svg = std::fs::read_to_string(out.join("figures/fig1-examples.svg")).unwrap();
    assert!(fig1_svg.contains("Ankle boot") && fig1_svg.contains("data:image/png;base64,"));
    let base_svg = std::fs::read_to_string(out.join("figures/baseline.svg")).unwrap();
    assert!(base_svg.contains("FIG. 2") && base_svg.contains("validation"));

    for t in ["table1", "results", "claims"] {
        for ext in ["md", "tex"] {
            let p = out.join("tables").join(format!("{t}.{ext}"));
            assert!(
                std::fs::metadata(&p).unwrap().len() > 100,
                "{}",
                p.display()
            );
            assert!(summary.files.contains(&p));
        }
    }
    let table1 = std::fs::read_to_string(out.join("tables/table1.md")).unwrap();
    assert!(
        table1.contains("| learning rate | 0.001 | Table I |"),
        "{table1}"
    );
    assert!(table1.contains("not stated in the paper"), "{table1}");
    let results = std::fs::read_to_string(out.join("tables/results.md")).unwrap();
    // Final val accuracy of the baseline: 79 ± 1.41 %.
    assert!(results.contains("79.00 ± 1.41"), "{results}");
    assert!(results.contains("seed 1 diverged at epoch 3"), "{results}");

    let report = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    assert!(summary.files.contains(&out.join("REPORT.md")));
    for needle in [
        "SMOKE RUN",
        "`0123abc` (**dirty**",
        "BLAKE3 `ab12`",
        "fmnist report --quick",
        "![FIG. 1: example images](figures/fig1-examples.png)",
        "](figures/baseline.png)",
        "](figures/lr-0.01.png)",
        "](figures/compare-learning-rate.png)",
        "**N is not reproduced.**",
        "no runs for experiment adam",
        "seeds disagree",
        "## Hypotheses",
        "Seed 1 diverged",
        "These runs used",
    ] {
        assert!(
            report.contains(needle),
            "REPORT.md lacks {needle:?}:\n{report}"
        );
    }
    let fig1 = report.find("figures/fig1-examples.png").unwrap();
    let fig2 = report.find("figures/baseline.png").unwrap();
    let fig3 = report.find("figures/lr-0.01.png").unwrap();
    let cmp = report.find("figures/compare-learning-rate.png").unwrap();
    assert!(fig1 < fig2 && fig2 < fig3 && fig3 < cmp, "figure order");

    // No temporary file is left behind.
    for dir in [out.join("figures"), out.join("tables"), out.clone()] {
        for e in std::fs::read_dir(dir).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            assert!(!name.starts_with('.'), "left over: {name}");
        }
    }

    // Without a data set FIG. 1 is skipped with a note; the real claims file
    // works on the same runs (claims about experiments not run are inconclusive).
    let out2 = tmp.path().join("reports2");
    let paper_claims = experiments_dir().join("claims/paper.toml");
    let summary = write_report(
        &ReportInput {
            dataset: None,
            claims_file: &paper_claims,
            ..input
        },
        &out2,
    )
    .unwrap();
    assert_eq!(summary.verdicts.len(), 11);
    let c3 = summary.verdicts.iter().find(|(id, _)| id == "C3").unwrap();
    assert_eq!(c3.1, Verdict::Inconclusive);
    let report = std::fs::read_to_string(out2.join("REPORT.md")).unwrap();
    assert!(report.contains("FIG. 1 is skipped"));
    assert!(!out2.join("figures/fig1-examples.png").exists());
}

#[test]
fn a_malformed_claims_file_is_an_error_naming_file_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let claims = tmp.path().join("bad.toml");
    std::fs::write(
        &claims,
        CLAIMS.replace("lr-0.01:val:accuracy@last", "lr-0.01:val@last"),
    )
    .unwrap();
    let err = write_report(
        &ReportInput {
            experiments: &[],
            runs: &[],
            dataset: None,
            claims_file: &claims,
            provenance: Provenance::default(),
        },
        &tmp.path().join("out"),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            FiguresError::ClaimsInvalid {
                line: 8,
                column: 8,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with(&format!("{}:8:8:", claims.display())),
        "{err}"
    );
    assert!(!tmp.path().join("out").exists(), "nothing written");
}
