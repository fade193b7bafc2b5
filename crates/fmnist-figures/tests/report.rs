//! `write_report` end to end on a small fixed fixture (the experiments and
//! claims in `tests/fixtures/`, synthetic runs): every file it promises, PNGs
//! that decode as PNGs of the right size, verdicts known in advance, the
//! exact text of REPORT.md and the tables (`tests/snapshots/`; regenerate
//! with `UPDATE_EXPECT=1 cargo test -p fmnist-figures`), byte-identical
//! reruns that touch no file, and no stale files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use expect_test::expect_file;
use fmnist_data::{CLASS_NAMES, Dataset, ImageSet};
use fmnist_experiments::{Experiment, load_dir};
use fmnist_figures::{FiguresError, ReportInput, Verdict, write_report};
use fmnist_metrics::{
    ConfusionCell, DataFile, Measures, MetricRow, Mistake, Provenance, Quantity, RunManifest,
    RunStatus, Split, StoredRun,
};

/// Relative to the crate (the working directory of its tests), so that the
/// paths the report prints are the same on every machine.
const FIXTURES: &str = "tests/fixtures";

fn experiments() -> Vec<Experiment> {
    load_dir(&Path::new(FIXTURES).join("experiments")).unwrap()
}

fn claims_file() -> PathBuf {
    Path::new(FIXTURES).join("claims.toml")
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
                values: Measures::default()
                    .with(Quantity::Loss, loss)
                    .with(Quantity::Accuracy, acc),
                seconds: 1.5,
            });
        }
    }
    let mut config = exp.config.clone();
    config.train_limit = Some(600);
    StoredRun {
        manifest: RunManifest {
            run_id: format!("{:0>16x}", seed + 16 * exp.name.len() as u64),
            experiment: exp.name.clone(),
            experiment_file: format!("experiments/{}.toml", exp.name),
            seed,
            config,
            status,
            data: vec![
                DataFile {
                    name: "train-images-idx3-ubyte".into(),
                    blake3: "ab12".into(),
                },
                DataFile {
                    name: "train-labels-idx1-ubyte".into(),
                    blake3: "cd34".into(),
                },
            ],
            started_at: "2024-05-01T10:00:00Z".into(),
            finished_at: format!("2024-05-01T10:0{seed}:30Z"),
            wall_seconds: 60.0,
            epoch_seconds: vec![],
            device: "cpu".into(),
            threads: 2,
            training_code_version: 1,
            classes: vec![],
            architecture: fmnist_metrics::Architecture {
                layer_sizes: vec![784, 128, 64, 10],
                torch: String::new(),
            },
            resumed_from_epoch: None,
            stopped_early: None,
            provenance: Provenance {
                git_commit: Some("0123abc".into()),
                git_dirty: Some(false),
                project_version: "0.0.0".into(),
                rustc_version: "1.95.0".into(),
                host: "test".into(),
                machine: String::new(),
            },
        },
        rows,
        confusion: confusion(val_acc.last().copied().unwrap_or(0.0)),
        mistakes: vec![],
        dir: PathBuf::from("/nonexistent"),
    }
}

/// The confusion matrix of a network with `accuracy` on 100 validation
/// images per class: the errors go round `PAIRS` one at a time (a class
/// with none left is skipped), so shirts, T-shirts, pullovers and coats
/// lose the most, as on Fashion-MNIST.
fn confusion(accuracy: f64) -> Vec<ConfusionCell> {
    const PAIRS: [(usize, usize); 12] = [
        (6, 0),
        (0, 6),
        (2, 4),
        (4, 2),
        (6, 2),
        (6, 4),
        (3, 4),
        (4, 3),
        (9, 7),
        (7, 9),
        (5, 7),
        (2, 6),
    ];
    let mut m = [[0u32; 10]; 10];
    for (c, row) in m.iter_mut().enumerate() {
        row[c] = 100;
    }
    let errors = 1000 - (accuracy * 1000.0).round() as usize;
    let mut k = 0;
    for _ in 0..errors {
        loop {
            let (t, p) = PAIRS[k % PAIRS.len()];
            k += 1;
            if m[t][t] > 0 {
                m[t][t] -= 1;
                m[t][p] += 1;
                break;
            }
        }
    }
    let mut cells = Vec::new();
    for (t, row) in m.iter().enumerate() {
        for (p, &count) in row.iter().enumerate() {
            cells.push(ConfusionCell {
                true_class: t as u8,
                predicted_class: p as u8,
                count,
            });
        }
    }
    cells
}

fn mistake(index: u32, predicted_class: u8, confidence: f32) -> Mistake {
    // The fixture's validation image `i` is of class `i % 10`.
    Mistake {
        index,
        true_class: (index % 10) as u8,
        predicted_class,
        confidence,
    }
}

/// The name of a point of the fixture's sweep.
fn point(kind: &str, lr: &str) -> String {
    format!("lr-sweep[optimizer.kind={kind},optimizer.lr={lr}]")
}

/// The runs of the fixture: claim R holds, N fails, D is undecided (its seeds
/// split), M has no runs; lr-0.01's seed 1 diverged.
fn runs(experiments: &[Experiment]) -> Vec<StoredRun> {
    let by = |name: &str| experiments.iter().find(|e| e.name == name).unwrap();
    let (base, lr, mom) = (by("baseline"), by("lr-0.01"), by("momentum"));
    let mut out = vec![
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
        run(mom, 0, &[0.75, 0.83, 0.86], RunStatus::Complete),
        run(mom, 1, &[0.74, 0.82, 0.83], RunStatus::Complete),
    ];
    out[0].mistakes = vec![
        mistake(6, 0, 0.97),
        mistake(2, 4, 0.91),
        mistake(0, 6, 0.88),
    ];
    out[1].mistakes = vec![mistake(6, 0, 0.99), mistake(4, 2, 0.8)];
    // lr-0.01 recorded its gradient norm, which grows as seed 1 diverges;
    // the other runs were stored before it was measured.
    for r in &mut out[2..4] {
        let seed = r.manifest.seed as f64;
        for row in r.rows.iter_mut().filter(|row| row.split == Split::Train) {
            row.values
                .set(Quantity::GradNorm, 1.0 + seed * f64::from(row.epoch));
        }
    }
    // The sweep: SGD is best at 0.01 (83.5 %), 4.5 pp above lr 0.001, and
    // reaches 82 % (claim N's band) only there; Adam is best at 0.001.
    let sweep = [
        ("sgd", "0.0001", [0.55, 0.57]),
        ("sgd", "0.001", [0.78, 0.80]),
        ("sgd", "0.01", [0.84, 0.83]),
        ("adam", "0.0001", [0.83, 0.82]),
        ("adam", "0.001", [0.845, 0.835]),
        ("adam", "0.01", [0.75, 0.76]),
    ];
    for (kind, lr, last) in sweep {
        let exp = by(&point(kind, lr));
        for (seed, a) in last.into_iter().enumerate() {
            let curve = [a - 0.2, a - 0.05, a];
            out.push(run(exp, seed as u64, &curve, RunStatus::Complete));
        }
    }
    out
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
        classes: class_names(),
    }
}

fn class_names() -> Vec<String> {
    CLASS_NAMES.iter().map(|s| s.to_string()).collect()
}

fn provenance() -> Provenance {
    Provenance {
        git_commit: Some("4567def".into()),
        git_dirty: Some(true),
        project_version: "0.0.0".into(),
        rustc_version: "rustc 1.95.0".into(),
        host: "reporter".into(),
        machine: "test machine".into(),
    }
}

/// Everything the fixture's report is made from, borrowed by `input`.
struct Fixture {
    experiments: Vec<Experiment>,
    runs: Vec<StoredRun>,
    dataset: Dataset,
    class_names: Vec<String>,
    claims: PathBuf,
    provenance: Provenance,
}

impl Fixture {
    fn new() -> Fixture {
        let experiments = experiments();
        Fixture {
            runs: runs(&experiments),
            experiments,
            dataset: dataset(),
            class_names: class_names(),
            claims: claims_file(),
            provenance: provenance(),
        }
    }

    fn input(&self) -> ReportInput<'_> {
        ReportInput {
            experiments: &self.experiments,
            runs: &self.runs,
            dataset: Some(&self.dataset),
            dataset_name: "Fashion-MNIST",
            class_names: &self.class_names,
            claims_file: &self.claims,
            provenance: &self.provenance,
            command: "fmnist figures --quick",
            quick: true,
        }
    }
}

/// REPORT.md, then every detail page, in one text.
fn pages(out: &Path) -> String {
    let mut text = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    let mut details: Vec<PathBuf> = std::fs::read_dir(out.join("details"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    details.sort();
    for d in details {
        text.push_str(&std::fs::read_to_string(d).unwrap());
    }
    text
}

fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    assert!(bytes.len() > 1000, "{} is too small", path.display());
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", path.display());
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

/// Every file under `dir` with its bytes and modification time.
fn tree(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, SystemTime)> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                let m = std::fs::metadata(&p).unwrap().modified().unwrap();
                out.insert(
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    (std::fs::read(&p).unwrap(), m),
                );
            }
        }
    }
    out
}

#[test]
fn write_report_writes_every_figure_table_and_verdict() {
    let tmp = tempfile::tempdir().unwrap();
    let fx = Fixture::new();
    let out = tmp.path().join("reports");
    let input = fx.input();
    let summary = write_report(&input, &out).unwrap();

    assert_eq!(
        summary.verdicts,
        [
            ("R".to_string(), Verdict::Reproduced),
            ("N".to_string(), Verdict::NotReproduced),
            ("D".to_string(), Verdict::Undecided),
            ("M".to_string(), Verdict::Undecided),
        ]
    );
    let printed: Vec<String> = summary
        .verdicts
        .iter()
        .map(|(id, v)| format!("{id}: {v}"))
        .collect();
    assert_eq!(
        printed,
        [
            "R: reproduced",
            "N: not reproduced",
            "D: undecided",
            "M: undecided"
        ]
    );
    assert!(summary.removed.is_empty());

    for stem in [
        "fig1-examples",
        "baseline",
        "lr-0.01",
        "momentum",
        "compare-learning-rate",
        "compare-optimizer",
    ] {
        let png = out.join("figures").join(format!("{stem}.png"));
        let svg = out.join("figures").join(format!("{stem}.svg"));
        let (w, h) = png_size(&png);
        match stem {
            "fig1-examples" => assert!(w >= 900 && h > 1500, "{stem}: {w}x{h}"),
            // Seed 1 diverged and the runs recorded the gradient norm: a
            // third panel shows it.
            "lr-0.01" => assert_eq!((w, h), (3600, 1000), "{stem}"),
            _ => assert_eq!((w, h), (2400, 1000), "{stem}"),
        }
        let svg_text = std::fs::read_to_string(&svg).unwrap();
        assert!(svg_text.starts_with("<svg") && svg_text.trim_end().ends_with("</svg>"));
        assert!(summary.files.contains(&png) && summary.files.contains(&svg));
    }
    assert!(!out.join("figures/adam.png").exists(), "adam has no runs");
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
    // One row per check, every number in full precision.
    let csv = std::fs::read_to_string(out.join("tables/checks.csv")).unwrap();
    assert!(summary.files.contains(&out.join("tables/checks.csv")));
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("claim,check,what,test,stage,seeds,n_left,n_right,estimate,lo,hi")
    );
    assert_eq!(lines.len(), 1 + 5, "R.1, N.1, N.2, D.1, M.1");
    let n2 = lines.iter().find(|l| l.starts_with("N,N.2,")).unwrap();
    assert!(
        n2.contains("\"one-sample t, n = 2\",all seeds,\"0, 1\",2,0,")
            && n2.contains(",fails,fails,tol,0.03,ours,"),
        "{n2}"
    );
    let m1 = lines.iter().find(|l| l.starts_with("M,M.1,")).unwrap();
    assert!(
        m1.ends_with("not tested: no runs for experiment adam") || m1.contains(",,,"),
        "{m1}"
    );
    let results = std::fs::read_to_string(out.join("tables/results.md")).unwrap();
    // Final val accuracy of the baseline: 78 % and 80 %, so 79 ± t(0.975, 1) · 1 %.
    assert!(results.contains("79.00 [66.29, 91.71]"), "{results}");
    assert!(
        results.contains("seed 1 diverged at epoch 3, batch 7"),
        "{results}"
    );

    assert!(summary.files.contains(&out.join("REPORT.md")));
    let report = pages(&out);
    for needle in [
        "SMOKE RUN",
        "`4567def` (**dirty**",
        "| date | 2024-05-01T10:01:30Z",
        "BLAKE3 `ab12`",
        "fmnist figures --quick",
        "**N is not reproduced.**",
        "no runs for experiment adam",
        "## Undecided",
        // D's paired difference is 0.06 and 0.04: its mean lies on the margin.
        "5 pp better at epoch 2 (claimed region of left − right: > 0.05): observed +0.0500",
        "no affordable number of seeds would decide it",
        "## Statistics",
        "paired t on the per-seed differences",
        // Summed over both seeds: 19 + 17 of 200 T-shirts taken for shirts.
        "T-shirt/top is taken for Shirt in 18.0% of cases",
        "lr = 0.01 (the best experiment by mean final validation accuracy, 85.00 %)",
        "Most frequent among them: Shirt → T-shirt/top (1)",
        "**sgd**: best optimizer.lr = 0.01 with 83.50 % mean final validation accuracy; \
         at the paper's lr 0.001 it reaches 79.00 %, 4.50 pp below that best.",
        "**adam**: best optimizer.lr = 0.001 with 84.00 % mean final validation accuracy; \
         the paper's lr 0.001 is its best in this grid.",
        "Claim N (`baseline`, SGD at lr 0.001, ends within 3 pp of 85 %; not reproduced in the report): \
         sgd reaches 82 % or more at optimizer.lr = 0.01, but not at the paper's lr 0.001 (79.00 %)",
        // A point's figure is named by its slug: a shell and a URL take it.
        "figures/lr-sweep--optimizer.kind-sgd--optimizer.lr-0.001.png",
    ] {
        assert!(
            report.contains(needle),
            "the pages lack {needle:?}:\n{report}"
        );
    }
    let report = std::fs::read_to_string(out.join("details/figures.md")).unwrap();
    let fig1 = report.find("figures/fig1-examples.png").unwrap();
    let fig2 = report.find("figures/baseline.png").unwrap();
    let fig3 = report.find("figures/lr-0.01.png").unwrap();
    let cmp = report.find("figures/compare-learning-rate.png").unwrap();
    assert!(fig1 < fig2 && fig2 < fig3 && fig3 < cmp, "figure order");

    // Per class: the baseline's T-shirts 81 and 83 of 100, shirts 45 and
    // 49 (the weakest, bold), pooled with Wilson's interval (164 of 200:
    // [76.1, 86.7]; 94 of 200: [40.2, 53.9]), overall 78 % and 80 %.
    let per_class = std::fs::read_to_string(out.join("tables/per-class.md")).unwrap();
    assert!(
        per_class.contains("| baseline (Table I) | 2 | 82.0 [76.1, 86.7] |")
            && per_class.contains("| **47.0 [40.2, 53.9]** |")
            && per_class.contains("| 79.00 [66.29, 91.71] |"),
        "{per_class}"
    );
    for stem in [
        "confusion-baseline",
        // The best experiment by mean final validation accuracy (85 %).
        "confusion-lr-0.01",
        "mistakes-baseline",
        "sweep-lr-sweep",
        &fmnist_experiments::file_slug(&point("sgd", "0.001")),
    ] {
        for ext in ["png", "svg"] {
            let p = out.join("figures").join(format!("{stem}.{ext}"));
            assert!(summary.files.contains(&p), "{}", p.display());
        }
        png_size(&out.join("figures").join(format!("{stem}.png")));
    }
    assert!(!out.join("figures/confusion-momentum.png").exists());
    assert!(
        !out.join("figures/compare-lr-by-optimizer.png").exists(),
        "the response figure replaces a comparison of sweep points"
    );
    for t in ["per-class", "sweep-lr-sweep"] {
        assert!(
            summary
                .files
                .contains(&out.join("tables").join(format!("{t}.tex")))
        );
    }
    let sweep_tex = std::fs::read_to_string(out.join("tables/sweep-lr-sweep.tex")).unwrap();
    assert!(
        sweep_tex.contains("\\label{tab:sweep-lr-sweep}"),
        "{sweep_tex}"
    );
    let mistakes_svg = std::fs::read_to_string(out.join("figures/mistakes-baseline.svg")).unwrap();
    assert!(
        mistakes_svg.contains("pred: T-shirt/top (99.0%)"),
        "seed 1's, the more confident"
    );

    // Every figure's file name is a slug: letters, digits, `-`, `_`, `.`.
    for e in std::fs::read_dir(out.join("figures")).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(fmnist_experiments::is_slug(&name), "not a slug: {name}");
    }

    // No temporary file is left behind.
    for dir in [out.join("figures"), out.join("tables"), out.clone()] {
        for e in std::fs::read_dir(dir).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            assert!(!name.starts_with('.'), "left over: {name}");
        }
    }

    // Without a data set FIG. 1 is skipped with a note, and nothing else
    // changes (tests never read the repository's experiments/).
    let out2 = tmp.path().join("reports2");
    let again = write_report(
        &ReportInput {
            dataset: None,
            ..input
        },
        &out2,
    )
    .unwrap();
    assert_eq!(again.verdicts, summary.verdicts);
    let report = pages(&out2);
    assert!(report.contains("FIG. 1 is skipped"));
    assert!(!out2.join("figures/fig1-examples.png").exists());
}

#[test]
fn the_report_and_its_tables_match_their_snapshots() {
    let tmp = tempfile::tempdir().unwrap();
    let fx = Fixture::new();
    write_report(&fx.input(), tmp.path()).unwrap();
    // For a person to look at the figures: FIGS_LOOK_DIR=/tmp/look.
    if let Ok(dir) = std::env::var("FIGS_LOOK_DIR") {
        write_report(&fx.input(), &Path::new(&dir).join("report")).unwrap();
    }
    let read = |rel: &str| std::fs::read_to_string(tmp.path().join(rel)).unwrap();
    expect_file!["snapshots/REPORT.md"].assert_eq(&read("REPORT.md"));
    expect_file!["snapshots/table1.md"].assert_eq(&read("tables/table1.md"));
    expect_file!["snapshots/results.md"].assert_eq(&read("tables/results.md"));
    expect_file!["snapshots/claims.md"].assert_eq(&read("tables/claims.md"));
    expect_file!["snapshots/claims.tex"].assert_eq(&read("tables/claims.tex"));
    expect_file!["snapshots/details/figures.md"].assert_eq(&read("details/figures.md"));
    expect_file!["snapshots/details/results.md"].assert_eq(&read("details/results.md"));
    expect_file!["snapshots/details/per-class.md"].assert_eq(&read("details/per-class.md"));
    expect_file!["snapshots/details/sweep-lr-sweep.md"]
        .assert_eq(&read("details/sweep-lr-sweep.md"));
    expect_file!["snapshots/details/claims.md"].assert_eq(&read("details/claims.md"));
    expect_file!["snapshots/details/hypotheses.md"].assert_eq(&read("details/hypotheses.md"));
}

/// The results and per-class tables: one row per experiment that is not a
/// sweep's point, each named by its file, no two rows alike.
#[test]
fn no_two_rows_of_the_results_are_alike_and_each_names_its_file() {
    let tmp = tempfile::tempdir().unwrap();
    let fx = Fixture::new();
    write_report(&fx.input(), tmp.path()).unwrap();
    for table in ["results", "per-class"] {
        let md = std::fs::read_to_string(tmp.path().join(format!("tables/{table}.md"))).unwrap();
        let rows: Vec<&str> = md
            .lines()
            .filter(|l| l.starts_with("| ") && !l.starts_with("| ---"))
            .skip(1)
            .collect();
        let firsts: std::collections::BTreeSet<&str> = rows
            .iter()
            .map(|r| r.split(" | ").next().unwrap())
            .collect();
        assert_eq!(firsts.len(), rows.len(), "{table}: two rows alike:\n{md}");
        assert!(
            !md.contains("lr-sweep["),
            "{table} repeats a sweep's points:\n{md}"
        );
    }
    let md = std::fs::read_to_string(tmp.path().join("tables/results.md")).unwrap();
    let rows: Vec<&str> = (md.lines())
        .filter(|l| l.starts_with("| ") && !l.starts_with("| ---"))
        .skip(1)
        .collect();
    let named: Vec<&Experiment> = (fx.experiments.iter())
        .filter(|e| e.sweep.is_none())
        .collect();
    assert_eq!(rows.len(), named.len(), "{md}");
    for (row, e) in rows.iter().zip(named) {
        let file = format!("| {}.toml |", e.name);
        assert!(row.contains(&file), "{row} lacks {file}");
    }
    assert!(md.contains("each sweep's table lists them"), "{md}");
}

/// A report of another data set, of seed 0 only: its name from the input
/// wherever the report names its data, Table I's seeds those stored.
#[test]
fn the_report_names_its_data_set_and_the_seeds_it_has() {
    let tmp = tempfile::tempdir().unwrap();
    let mut fx = Fixture::new();
    fx.runs.retain(|r| r.manifest.seed == 0);
    let input = ReportInput {
        dataset_name: "MNIST",
        ..fx.input()
    };
    write_report(&input, tmp.path()).unwrap();
    let md = pages(tmp.path());
    assert!(md.starts_with("# Reproduction report: a feed-forward network on MNIST\n"));
    assert!(md.contains("FIG. 1 — Example images of MNIST:"), "{md}");
    let svg = std::fs::read_to_string(tmp.path().join("figures/fig1-examples.svg")).unwrap();
    assert!(svg.contains("FIG. 1 — MNIST training examples"));
    // The paper's own title is the only mention of its data set.
    let other: Vec<&str> = md
        .lines()
        .filter(|l| l.contains("Fashion-MNIST"))
        .filter(|l| !l.contains("*Red neuronal feed-forward junto a Fashion-MNIST*"))
        .collect();
    assert!(other.is_empty(), "{other:#?}");
    let table1 = std::fs::read_to_string(tmp.path().join("tables/table1.md")).unwrap();
    assert!(table1.contains("| seeds | 0 |"), "{table1}");
}

/// Every relative link of every page (REPORT.md and the detail pages it
/// links) names a file of the report, resolved from the page's own folder,
/// and an anchor one of the target page's headings; every figure of the
/// report is shown or linked by a page, and every detail page is linked
/// from REPORT.md.
#[test]
fn every_link_of_every_page_points_to_a_file_written() {
    let tmp = tempfile::tempdir().unwrap();
    let fx = Fixture::new();
    let root = tmp.path();
    let summary = write_report(&fx.input(), root).unwrap();
    let unescape = |url: &str| {
        let mut out = Vec::new();
        let b = url.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' {
                out.push(u8::from_str_radix(&url[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    };
    // `dir/../x` as `x`, without touching the file system.
    let resolve = |dir: &Path, rel: &str| -> PathBuf {
        let mut p = dir.to_path_buf();
        for part in rel.split('/') {
            match part {
                ".." => assert!(p.pop() && p.starts_with(root), "{rel} leaves the report"),
                "." | "" => {}
                x => p.push(x),
            }
        }
        p
    };
    let anchors = |page: &Path| -> Vec<String> {
        std::fs::read_to_string(page)
            .unwrap()
            .lines()
            .filter_map(|l| l.strip_prefix("## ").or_else(|| l.strip_prefix("### ")))
            .map(fmnist_report::markdown::anchor)
            .collect()
    };
    let pages: Vec<&PathBuf> = (summary.files.iter())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .filter(|p| !p.starts_with(root.join("tables")))
        .collect();
    assert!(pages.len() > 5, "{pages:?}");
    let mut linked = std::collections::BTreeSet::new();
    for page in &pages {
        let text = std::fs::read_to_string(page).unwrap();
        let urls: Vec<&str> = (text.split("](").skip(1))
            .filter_map(|rest| rest.split(')').next())
            .filter(|url| !url.starts_with("http"))
            .collect();
        assert!(!urls.is_empty(), "{} links nothing", page.display());
        for url in urls {
            let (file, fragment) = url.split_once('#').unwrap_or((url, ""));
            let target = if file.is_empty() {
                page.to_path_buf()
            } else {
                resolve(page.parent().unwrap(), &unescape(file))
            };
            assert!(
                summary.files.contains(&target),
                "{} links {url}, which is not written",
                page.display()
            );
            if !fragment.is_empty() {
                assert!(
                    anchors(&target).contains(&fragment.to_string()),
                    "{} links {url}: no such heading",
                    page.display()
                );
            }
            linked.insert(target);
        }
    }
    for p in &summary.files {
        if p.extension().is_some_and(|e| e == "png") {
            assert!(linked.contains(p), "drawn, not shown: {}", p.display());
        }
    }
    let report = std::fs::read_to_string(root.join("REPORT.md")).unwrap();
    for page in pages.iter().filter(|p| p.starts_with(root.join("details"))) {
        let rel = page.strip_prefix(root).unwrap().to_str().unwrap();
        assert!(
            report.contains(&format!("]({rel})")),
            "REPORT.md does not link {rel}"
        );
        let text = std::fs::read_to_string(page).unwrap();
        assert!(text.contains("](../REPORT.md)"), "{rel} has no link back");
        assert!(text.contains("**Contents**"), "{rel} has no contents");
    }
}

#[test]
fn a_second_report_from_the_same_inputs_is_identical_and_rewrites_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let fx = Fixture::new();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let written = write_report(&fx.input(), &a).unwrap();
    assert_eq!(
        written.written, written.files,
        "a new report writes every file"
    );
    // Back-date every file, so that a rewrite shows in its modification time.
    let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    for p in tree(&a).keys() {
        std::fs::File::options()
            .write(true)
            .open(a.join(p))
            .unwrap()
            .set_modified(old)
            .unwrap();
    }
    let first = tree(&a);
    let summary = write_report(&fx.input(), &a).unwrap();
    assert!(summary.removed.is_empty());
    assert!(summary.written.is_empty(), "{:?}", summary.written);
    let second = tree(&a);
    assert_eq!(first.len(), summary.files.len());
    for (p, (bytes, mtime)) in &second {
        assert_eq!(*mtime, old, "{} was rewritten", p.display());
        assert!(first[p].0 == *bytes, "{} changed", p.display());
    }
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        second.keys().collect::<Vec<_>>()
    );

    // Another directory, another process state: the same bytes, PNGs included.
    write_report(&fx.input(), &b).unwrap();
    let other = tree(&b);
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        other.keys().collect::<Vec<_>>()
    );
    for (p, (bytes, _)) in &other {
        assert!(
            first[p].0 == *bytes,
            "{} differs between reports",
            p.display()
        );
    }
}

#[test]
fn figures_of_a_deleted_experiment_disappear_and_nothing_else_does() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("reports");
    let mut fx = Fixture::new();
    write_report(&fx.input(), &out).unwrap();
    std::fs::write(out.join("figures/notes.txt"), "mine").unwrap();
    std::fs::write(out.join("details/sweep-gone.md"), "stale").unwrap();
    std::fs::write(out.join("elsewhere.png"), "mine").unwrap();
    assert!(out.join("figures/momentum.png").exists());

    // The hypothesis file is deleted: its experiment and runs are gone.
    fx.experiments.retain(|e| e.name != "momentum");
    fx.runs.retain(|r| r.manifest.experiment != "momentum");
    let summary = write_report(&fx.input(), &out).unwrap();
    // The optimizer study is left with no drawn member (adam has no runs).
    let gone: Vec<PathBuf> = [
        "details/sweep-gone.md",
        "figures/compare-optimizer.png",
        "figures/compare-optimizer.svg",
        "figures/momentum.png",
        "figures/momentum.svg",
    ]
    .iter()
    .map(|f| out.join(f))
    .collect();
    assert_eq!(summary.removed, gone);
    for p in &gone {
        assert!(!p.exists(), "{}", p.display());
    }
    for kept in [
        "figures/baseline.png",
        "figures/lr-0.01.svg",
        "figures/compare-learning-rate.png",
        "figures/notes.txt",
        "elsewhere.png",
        "tables/results.md",
    ] {
        assert!(out.join(kept).exists(), "{kept}");
    }
    let report = pages(&out);
    assert!(!report.contains("momentum 0.9 (hypothesis)"), "{report}");
    assert!(report.contains("No hypothesis experiments"), "{report}");
}

#[test]
fn a_misspelt_experiment_in_the_claims_file_is_an_error_with_the_nearest_name() {
    let tmp = tempfile::tempdir().unwrap();
    let claims = tmp.path().join("paper.toml");
    let text = std::fs::read_to_string(claims_file()).unwrap().replacen(
        "right = \"baseline:",
        "right = \"baselin:",
        1,
    );
    std::fs::write(&claims, text).unwrap();
    let fx = Fixture::new();
    let err = write_report(
        &ReportInput {
            claims_file: &claims,
            ..fx.input()
        },
        &tmp.path().join("out"),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:47:10: no experiment named `baselin`; did you mean `baseline`?",
            claims.display()
        )
    );
    assert!(!tmp.path().join("out").exists(), "nothing written");
}

#[test]
fn a_malformed_claims_file_is_an_error_naming_file_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let claims = tmp.path().join("bad.toml");
    std::fs::write(
        &claims,
        std::fs::read_to_string(claims_file())
            .unwrap()
            .replace("lr-0.01:val:loss@last", "lr-0.01:val@last"),
    )
    .unwrap();
    let provenance = Provenance::default();
    let err = write_report(
        &ReportInput {
            experiments: &[],
            runs: &[],
            dataset: None,
            dataset_name: "",
            class_names: &[],
            claims_file: &claims,
            provenance: &provenance,
            command: "",
            quick: false,
        },
        &tmp.path().join("out"),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            FiguresError::Report(fmnist_report::ReportError::Claims(
                fmnist_claims::ClaimsError::Invalid {
                    line: 12,
                    column: 8,
                    ..
                }
            ))
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with(&format!("{}:12:8:", claims.display())),
        "{err}"
    );
    assert!(!tmp.path().join("out").exists(), "nothing written");
}

#[test]
fn the_report_states_the_seeds_that_seeds_toml_decided() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("experiments");
    std::fs::create_dir_all(dir.join("claims")).unwrap();
    let claims = dir.join("claims/paper.toml");
    std::fs::copy(claims_file(), &claims).unwrap();
    let fx = Fixture::new();
    let input = ReportInput {
        claims_file: &claims,
        ..fx.input()
    };
    let out = tmp.path().join("out");
    write_report(&input, &out).unwrap();
    let report = pages(&out);
    assert!(
        report.contains("no `experiments/claims/seeds.toml`"),
        "{report}"
    );
    fmnist_experiments::write_seeds_file(
        &dir.join("claims/seeds.toml"),
        10,
        &[fmnist_experiments::SeedDecision {
            experiment: "baseline".into(),
            seeds: 5,
            reason: "D needs about 5".into(),
        }],
    )
    .unwrap();
    write_report(&input, &out).unwrap();
    let report = pages(&out);
    assert!(
        report.contains("at most 10") && report.contains("- `baseline`: 5 seeds. D needs about 5."),
        "{report}"
    );
    assert!(report.contains("No seed design is recorded"), "{report}");
    // With the two-stage design recorded, a full report tests each check as
    // the design says and states its simulated error rate.
    let design = fmnist_claims::Design::record(&fmnist_claims::TwoStage::STANDARD, &[0, 1]);
    fmnist_experiments::write_seeds_file_with_design(
        &dir.join("claims/seeds.toml"),
        32,
        Some(&design),
        &[],
    )
    .unwrap();
    let full = ReportInput {
        quick: false,
        ..input
    };
    write_report(&full, &out).unwrap();
    let report = pages(&out);
    for needle in [
        "Seed design (recorded by `reproduce --decide`",
        "0.01 + 0.04 = 0.05",
        // Two pilot seeds: not the standard design, so simulated now.
        "(20000 simulations, ChaCha8 seed 29, simulated as this report was written): a false \"holds\" in 0.0",
        "The pilot seeds are 0, 1.",
        // D's pilot (two seeds, 98% for > at α = 0.01) is undecided, and no
        // new seeds are planned.
        "pilot, seeds 0–1, 99% interval",
        "no new seeds are planned for its experiments",
    ] {
        assert!(report.contains(needle), "lacks {needle:?}:\n{report}");
    }
    // A design for another level than the claims file's is an error.
    let other = fmnist_experiments::SeedsDesign {
        alpha: 0.1,
        alpha_pilot: 0.02,
        ..design
    };
    fmnist_experiments::write_seeds_file_with_design(
        &dir.join("claims/seeds.toml"),
        32,
        Some(&other),
        &[],
    )
    .unwrap();
    let err = write_report(&full, &out).unwrap_err().to_string();
    assert!(err.contains("seeds.toml: [design] alpha = 0.1"), "{err}");
}

/// The provenance groups the experiments by their seeds, names each once
/// and counts a sweep's points under the sweep, fewest seeds first.
#[test]
fn the_provenance_groups_the_seeds_and_names_each_experiment_once() {
    let tmp = tempfile::tempdir().unwrap();
    let mut fx = Fixture::new();
    fx.runs
        .retain(|r| !(r.manifest.experiment == "baseline" && r.manifest.seed == 1));
    write_report(&fx.input(), tmp.path()).unwrap();
    let md = std::fs::read_to_string(tmp.path().join("REPORT.md")).unwrap();
    assert!(
        md.contains(
            "| seeds | 1 seed (0): baseline; 2 seeds (0, 1): lr-0.01, momentum and the 6 points \
             of sweep `lr-sweep` |"
        ),
        "{md}"
    );
}
