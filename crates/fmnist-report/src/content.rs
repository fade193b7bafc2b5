//! What the report says, computed from the experiments, the runs and the
//! claims: its facts, tables, figures (as drawings still to be rendered),
//! verdicts and hypotheses, with no file and no Markdown syntax in it.
//! `markdown` renders a [`Report`] as `REPORT.md`; `report` draws its
//! figures and writes its files.
//!
//! Everything here follows from the inputs alone (the date is that of the
//! runs, not of the call), so the same inputs give the same report.

use std::borrow::Cow;
use std::collections::BTreeSet;

use fmnist_data::{Dataset, ImageSet};
use fmnist_experiments::{Experiment, SweepValue, file_slug};
use fmnist_metrics::{Split, StoredRun};

use crate::aggregate as stats;
use crate::aggregate::Confusion;
use crate::classes;
use crate::input::ReportInput;
use crate::panels::{self, PanelFigure, Variant};
use crate::sweeps::{self, PaperLr, SweepInput, SweepSeries, SweepX};
use crate::tables::{self, Table};
use crate::text::{self, slug};
use fmnist_claims::Paper;
use fmnist_claims::Statistics;
use fmnist_claims::{self as claims, ClaimResult, Design, Op, RunIndex, Verdict};

/// The file stem of FIG. 1 in `figures/`.
pub const FIG1: &str = "fig1-examples";

#[derive(Debug)]
pub struct Report<'a> {
    /// The data set's name, from its manifest.
    pub dataset_name: String,
    /// The name of the baseline experiment.
    pub baseline: String,
    /// The paper, cited: "*Title* (Author, year)".
    pub paper: String,
    /// The optimizers of the experiments, in words: "SGD (and Adam)".
    pub optimizers: String,
    /// A smoke run (few epochs, data subset): the report says so loudly.
    pub quick: bool,
    pub about: About,
    /// `None` without a baseline (or a Table I) experiment.
    pub table1: Option<Table>,
    /// `None` when the data set was not loaded.
    pub fig1: Option<Figure<'a>>,
    /// In the report's order: paper figures by number, then the rest in
    /// the experiments' order.
    pub experiments: Vec<ExperimentEntry<'a>>,
    pub comparisons: Vec<StudyComparison<'a>>,
    pub results: Table,
    /// `None` when no run stored a confusion matrix.
    pub per_class: Option<PerClass<'a>>,
    /// One per sweep, in the order of its first experiment.
    pub sweeps: Vec<SweepSection<'a>>,
    /// Which numbers were chosen on which images, said once
    /// ([`sweeps::selection_paragraph`]).
    pub selection: String,
    /// How the claim checks are tested, in words (level, tests, power).
    pub claim_methods: String,
    /// The level of the claim checks (the claims file's), e.g. 0.95.
    pub claim_level: f64,
    /// The seed design the checks are tested under, with its simulated
    /// false-"holds" rate, in words.
    pub design: String,
    /// `experiments/claims/seeds.toml`, when there is one: the cap and the seeds
    /// decided per experiment (set by `report`, which reads files).
    pub seed_decisions: Option<(usize, Vec<fmnist_experiments::SeedDecision>)>,
    pub claims: Vec<ClaimVerdict>,
    pub claims_table: Table,
    /// `tables/checks.csv`: every check of every claim, one row each.
    pub checks_csv: DataArtefact,
    pub hypotheses: Vec<Hypothesis>,
}

/// A text file of the report that is neither a table nor a figure (a
/// machine-readable table).
#[derive(Debug, Clone, PartialEq)]
pub struct DataArtefact {
    /// Relative to the report directory, e.g. `tables/checks.csv`.
    pub path: String,
    pub text: String,
}

/// How and from what the report was produced.
#[derive(Debug, Default)]
pub struct About {
    /// The commit of the code that wrote the report; `None` outside git.
    pub commit: Option<String>,
    /// `None` when unknown.
    pub dirty: Option<bool>,
    /// "fmnist 0.1.0, rustc 1.89.0".
    pub code: String,
    /// When the last of the reported runs finished; `None` without runs.
    pub date: Option<String>,
    pub machine: String,
    pub command: String,
    pub claims_file: String,
    pub seeds: String,
    pub runs: usize,
    pub experiments: usize,
    /// Devices and thread counts, sorted.
    pub trained_on: Vec<String>,
    /// (commit, dirty) of the code that trained the runs, sorted.
    pub run_commits: Vec<(String, bool)>,
    /// (file, BLAKE3) of the data most of the runs were trained on.
    pub data: Vec<(String, String)>,
    /// The runs trained on other data than `data`, as "experiment seed N (id)".
    pub other_data: Vec<String>,
}

/// A figure: where it goes, what the report says about it, and what to draw.
#[derive(Debug)]
pub struct Figure<'a> {
    /// File stem in `figures/`.
    pub stem: String,
    pub alt: String,
    pub caption: String,
    pub drawing: Drawing<'a>,
}

#[derive(Debug)]
pub enum Drawing<'a> {
    Examples {
        dataset: &'a Dataset,
        class_names: &'a [String],
        title: String,
    },
    PanelFigure(PanelFigure),
    /// A confusion heatmap of one experiment, summed over its seeds.
    Confusion {
        runs: Vec<&'a StoredRun>,
        class_names: &'a [String],
        title: String,
    },
    /// The validation images `runs` get most confidently wrong.
    Mistakes {
        runs: Vec<&'a StoredRun>,
        /// The images the runs validated on (`validation_images`), where
        /// their mistakes' positions point.
        validation: Cow<'a, ImageSet>,
        class_names: &'a [String],
        title: String,
    },
    /// A sweep's response figure.
    Response(SweepSeries<'a>),
}

/// The per-class section: the table over every experiment, what the
/// baseline and the best experiment confuse, and the baseline's worst
/// mistakes.
#[derive(Debug)]
pub struct PerClass<'a> {
    pub table: Table,
    /// The baseline's heatmap, then the best experiment's (when another).
    pub confusions: Vec<Figure<'a>>,
    pub mistakes: Option<Figure<'a>>,
    /// Why something the section would show is not there, in words.
    pub notes: Vec<String>,
}

/// One sweep: its response figure and table, its best points and, for a
/// learning-rate sweep, what it says about the paper's learning rate.
#[derive(Debug)]
pub struct SweepSection<'a> {
    pub name: String,
    /// What the sweep found, in one line, for the report's first screen:
    /// its best point with its number and interval; `None` when no point
    /// trained to the end has a number.
    pub headline: Option<String>,
    /// `None` when no point has runs.
    pub table: Option<Table>,
    pub figure: Option<Figure<'a>>,
    /// The best point overall, then per line.
    pub best: Vec<String>,
    pub findings: Vec<String>,
    /// (label, experiment name) of each point with runs: their own figures.
    pub points: Vec<(String, String)>,
    /// Labels of the points without runs.
    pub missing: Vec<String>,
    /// A sampled sweep's expected best of n trials ("show your work").
    pub expected_best: Option<Table>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    PaperFigure,
    TextOnly,
    Other,
}

#[derive(Debug)]
pub struct ExperimentEntry<'a> {
    pub name: String,
    pub heading: String,
    pub category: Category,
    /// The sweep the experiment is a point of: its figure is listed with
    /// the sweep, not among the figures.
    pub sweep: Option<String>,
    /// `None` when the experiment has no runs.
    pub figure: Option<Figure<'a>>,
}

#[derive(Debug)]
pub struct StudyComparison<'a> {
    pub heading: String,
    pub figure: Figure<'a>,
}

/// A claim with its verdict and the numbers behind it, in plain text.
#[derive(Debug, Clone)]
pub struct ClaimVerdict {
    pub id: String,
    pub text: String,
    pub verdict: Verdict,
    pub reason: String,
    /// One line per check.
    pub measured: String,
    /// Each undecided check: effect, interval and what would decide it.
    pub pending: Vec<String>,
    /// Every check with its numbers, decisions and flip points.
    pub checks: Vec<tables::CheckRow>,
    /// The ids ("C2.3") of the checks whose chosen thresholds the verdict
    /// turns on (`ClaimResult::turns_on_ours`).
    pub turns_on_ours: Vec<String>,
    /// The error rate the verdict carries, in words.
    pub error_rate: String,
}

#[derive(Debug)]
pub struct Hypothesis {
    pub name: String,
    pub label: String,
    pub hypothesis: String,
    pub description: String,
    pub table: Table,
    /// Claims about the baseline alone, checked on this experiment instead.
    pub moved_claims: Vec<MovedClaim>,
    /// Its mean final validation accuracy beside the literal reading's, in
    /// words; `None` without runs.
    pub headline: Option<String>,
}

#[derive(Debug, Clone)]
pub struct MovedClaim {
    pub id: String,
    pub verdict: Verdict,
    pub reason: String,
    pub literal: Verdict,
}

/// Computes the report from its inputs and the evaluated claims.
pub fn build<'a>(
    input: &ReportInput<'a>,
    paper: &Paper,
    runs: &RunIndex<'a>,
    results: &[ClaimResult<'_>],
    design: &Design,
) -> Report<'a> {
    let quick = input.quick;
    let runs_of = |name: &str| -> Vec<&StoredRun> { runs.get(name).cloned().unwrap_or_default() };
    let baseline = input.experiments.iter().find(|e| e.name == paper.baseline);
    let comparisons = studies(input.experiments)
        .into_iter()
        .filter_map(|study| comparison(input, baseline, study, runs))
        .collect();

    let table1 = baseline
        .or_else(|| {
            input
                .experiments
                .iter()
                .find(|e| e.paper.table.as_deref() == Some("Table I"))
        })
        .map(|b| tables::table1(b, &runs_of(&b.name)));

    let claims_file = input.claims_file.display().to_string();
    let statistics = results
        .first()
        .map_or_else(Statistics::default, |r| r.claim.stats);
    Report {
        dataset_name: input.dataset_name.to_string(),
        baseline: paper.baseline.clone(),
        paper: format!("*{}* ({}, {})", paper.title, paper.author, paper.year),
        optimizers: optimizer_titles(input.experiments),
        quick,
        about: about(input, runs, &claims_file),
        table1,
        fig1: fig1(input),
        experiments: experiment_entries(input, runs),
        comparisons,
        results: tables::results(input.experiments, runs),
        per_class: per_class(input, &paper.baseline, runs),
        selection: sweeps::selection_paragraph(input.experiments),
        sweeps: sweep_sections(
            input,
            runs,
            &PaperLr {
                paper,
                verdict: results
                    .iter()
                    .find(|r| r.claim.id == paper.target.claim)
                    .map_or("no verdict".into(), |r| r.verdict.to_string()),
                optimizer: baseline.map(|b| &b.config.optimizer),
            },
        ),
        seed_decisions: None,
        claim_methods: statistics.methods(),
        claim_level: statistics.level,
        design: design.describe(),
        claims: results.iter().map(claim_verdict).collect(),
        claims_table: tables::claims(results, &claims_file),
        checks_csv: DataArtefact {
            path: "tables/checks.csv".into(),
            text: tables::checks_csv(
                &results
                    .iter()
                    .flat_map(tables::check_rows)
                    .collect::<Vec<_>>(),
            ),
        },
        hypotheses: hypotheses(
            input.experiments,
            baseline,
            &paper.baseline,
            runs,
            results,
            design,
        ),
    }
}

/// FIG. 1, when the data set is loaded.
fn fig1<'a>(input: &ReportInput<'a>) -> Option<Figure<'a>> {
    input.dataset.map(|dataset| Figure {
        stem: FIG1.into(),
        alt: "FIG. 1: example images".into(),
        caption: format!(
            "FIG. 1 — Example images of {}: the first {} training images of each class, one class per row (pixels as stored, 0 black to 255 white).",
            input.dataset_name,
            panels::examples_per_class(dataset, input.class_names.len())
        ),
        drawing: Drawing::Examples {
            dataset,
            class_names: input.class_names,
            title: format!("FIG. 1 — {} training examples", input.dataset_name),
        },
    })
}

/// Every experiment with its figure (when it has runs): paper figures by
/// number, then the rest in the experiments' order.
fn experiment_entries<'a>(
    input: &ReportInput<'a>,
    runs: &RunIndex<'a>,
) -> Vec<ExperimentEntry<'a>> {
    let mut experiments: Vec<ExperimentEntry<'a>> = input
        .experiments
        .iter()
        .map(|exp| {
            let rs = runs.get(exp.name.as_str()).cloned().unwrap_or_default();
            let figure = (!rs.is_empty()).then(|| Figure {
                stem: file_slug(&exp.name),
                alt: figure_title(exp, false),
                caption: experiment_caption(exp, &rs),
                drawing: Drawing::PanelFigure(panels::experiment_figure(
                    figure_title(exp, input.quick),
                    &rs,
                )),
            });
            ExperimentEntry {
                name: exp.name.clone(),
                heading: figure_title(exp, false),
                category: category(exp),
                sweep: exp.sweep.as_ref().map(|s| s.sweep.clone()),
                figure,
            }
        })
        .collect();
    let number = |name: &str| {
        input
            .experiments
            .iter()
            .find(|e| e.name == name)
            .and_then(|e| e.paper.figure.as_deref())
            .and_then(figure_number)
            .unwrap_or(u32::MAX)
    };
    // Stable: experiments of one category keep their order.
    experiments.sort_by_key(|e| match e.category {
        Category::PaperFigure => (0, number(&e.name)),
        Category::TextOnly => (1, 0),
        Category::Other => (2, 0),
    });
    experiments
}

fn claim_verdict(r: &ClaimResult<'_>) -> ClaimVerdict {
    ClaimVerdict {
        id: r.claim.id.clone(),
        text: r.claim.text.clone(),
        verdict: r.verdict,
        reason: r.reason.clone(),
        measured: tables::measured(r),
        pending: tables::pending(r),
        checks: tables::check_rows(r),
        turns_on_ours: (r.turns_on_ours().into_iter())
            .map(|i| format!("{}.{}", r.claim.id, i + 1))
            .collect(),
        error_rate: error_rate(r),
    }
}

/// The error rate a verdict carries: at most α/2 for a claim of `>`/`<`
/// checks and α with an `approx` check among them (one-sided tests at α/2
/// behind a two-sided interval; TOST at α), family-wise over its checks
/// after Holm's correction; "reproduced" needs every check to hold, so its
/// chance of being false is bounded by that of one check.
fn error_rate(r: &ClaimResult<'_>) -> String {
    let approx = r.claim.checks.iter().any(|c| c.op == Op::Approx);
    let bound = if approx { r.alpha } else { r.alpha / 2.0 };
    let k = r.claim.checks.len();
    let family = match k {
        1 => "its one check".to_string(),
        k => format!("Holm's correction over its {k} checks"),
    };
    match r.verdict {
        Verdict::Reproduced => format!(
            "the chance of a false \"reproduced\" is at most {bound:.3} (every check must hold; \
             {family})"
        ),
        Verdict::NotReproduced => format!(
            "the chance of a false \"not reproduced\" is at most {bound:.3} (family-wise, \
             {family})"
        ),
        Verdict::Undecided => "an undecided verdict asserts nothing".into(),
    }
}

fn comparison<'a>(
    input: &ReportInput<'a>,
    baseline: Option<&Experiment>,
    study: &str,
    runs: &RunIndex<'_>,
) -> Option<StudyComparison<'a>> {
    let runs_of = |name: &str| -> Vec<&StoredRun> { runs.get(name).cloned().unwrap_or_default() };
    let mut variants: Vec<Variant<'_>> = Vec::new();
    if let Some(b) = baseline {
        let rs = runs_of(&b.name);
        if !rs.is_empty() {
            variants.push(Variant {
                label: b.label().to_string(),
                runs: rs,
                dashed: b.report.hypothesis.is_some(),
                baseline: true,
            });
        }
    }
    let members: Vec<&Experiment> = input
        .experiments
        .iter()
        // A sweep's points are drawn by its response figure; fifteen
        // validation curves in one panel would say less.
        .filter(|e| {
            baseline.is_none_or(|b| b.name != e.name)
                && e.sweep.is_none()
                && e.report.study.as_deref() == Some(study)
        })
        .collect();
    for e in &members {
        let rs = runs_of(&e.name);
        if !rs.is_empty() {
            variants.push(Variant {
                label: e.label().to_string(),
                runs: rs,
                dashed: e.report.hypothesis.is_some(),
                baseline: false,
            });
        }
    }
    if variants.iter().all(|v| v.baseline) {
        return None;
    }
    let smoke = if input.quick { " [smoke run]" } else { "" };
    Some(StudyComparison {
        heading: format!("Study: {study}"),
        figure: Figure {
            stem: format!("compare-{}", slug(study)),
            alt: format!("comparison: {study}"),
            caption: comparison_caption(study, &variants, &members, runs),
            drawing: Drawing::PanelFigure(panels::comparison_figure(
                format!("Study: {study} — validation curves{smoke}"),
                &variants,
            )),
        },
    })
}

/// The runs of every experiment that has some, in the experiments' order.
fn with_runs<'a>(
    input: &ReportInput<'a>,
    runs: &RunIndex<'a>,
) -> Vec<(&'a Experiment, Vec<&'a StoredRun>)> {
    input
        .experiments
        .iter()
        .filter_map(|e| {
            runs.get(e.name.as_str())
                .filter(|r| !r.is_empty())
                .map(|r| (e, r.clone()))
        })
        .collect()
}

fn mean_final_accuracy(runs: &[&StoredRun]) -> Option<f64> {
    stats::mean(
        runs.iter()
            .filter_map(|r| stats::final_value(r, Split::Val, stats::Quantity::Accuracy))
            .filter(|a| a.is_finite()),
    )
}

fn per_class<'a>(
    input: &ReportInput<'a>,
    baseline_name: &str,
    runs: &RunIndex<'a>,
) -> Option<PerClass<'a>> {
    let all = with_runs(input, runs);
    if !all
        .iter()
        .any(|(_, rs)| rs.iter().any(|r| !r.confusion.is_empty()))
    {
        return None;
    }
    // A sweep's points are compared in the sweep's table; here they would
    // repeat (a sweep and its pruned copy share points and labels).
    let rows: Vec<(&str, &[&StoredRun])> = (all.iter())
        .filter(|(e, _)| e.sweep.is_none())
        .map(|(e, rs)| (e.label(), rs.as_slice()))
        .collect();
    let table = classes::per_class_table(&rows, input.class_names);
    let mut notes = Vec::new();
    if all.iter().any(|(e, _)| e.sweep.is_some()) {
        notes.push(
            "The table leaves out the sweeps' points (their own tables compare them); the \
             best experiment below is chosen among all experiments."
                .into(),
        );
    }

    let baseline = all.iter().find(|(e, _)| e.name == baseline_name);
    // The earliest experiment wins a tie, as in the sweeps.
    let best = all
        .iter()
        .filter_map(|(e, rs)| mean_final_accuracy(rs).map(|a| (e, rs, a)))
        .fold(
            None::<(&&Experiment, &Vec<&StoredRun>, f64)>,
            |b, x| match b {
                Some(b) if b.2 >= x.2 => Some(b),
                _ => Some(x),
            },
        );
    let mut shown: Vec<(&Experiment, &Vec<&'a StoredRun>, String)> = Vec::new();
    match baseline {
        Some((e, rs)) => shown.push((e, rs, "the baseline".into())),
        None => notes.push(format!(
            "No runs of `{baseline_name}` in this plan: no confusion matrix or mistakes of the baseline."
        )),
    }
    if let Some((e, rs, acc)) = best {
        let role = format!(
            "the best experiment by mean final validation accuracy, {:.2} %",
            100.0 * acc
        );
        if e.name == baseline_name {
            notes.push(format!(
                "The baseline is also {role}, so its confusion matrix is the only one shown."
            ));
        } else {
            shown.push((e, rs, role));
        }
    }
    let confusions = shown
        .into_iter()
        .filter_map(|(e, rs, role)| confusion_figure(input, e, rs, &role))
        .collect();

    let mistakes = mistakes_figure(
        input,
        baseline.map(|(e, rs)| (*e, rs.as_slice())),
        &mut notes,
    );
    Some(PerClass {
        table,
        confusions,
        mistakes,
        notes,
    })
}

/// How many validation images each class has per seed, from the confusion
/// matrices of `runs`: "1000", or the range "980–1032" when classes (or
/// seeds) differ; `None` without images.
fn class_images(runs: &[&StoredRun], classes: usize) -> Option<String> {
    let mats: Vec<Confusion> = runs
        .iter()
        .filter(|r| !r.confusion.is_empty())
        .map(|r| Confusion::from_cells(&r.confusion, classes))
        .collect();
    let (lo, hi) = stats::images_per_class(&mats)?;
    Some(if lo == hi {
        lo.to_string()
    } else {
        format!("{lo}–{hi}")
    })
}

/// The confusion heatmap of experiment `e` (its `runs`), in the role `role`
/// ("the baseline"); `None` when no run stored a confusion matrix.
fn confusion_figure<'a>(
    input: &ReportInput<'a>,
    e: &Experiment,
    rs: &[&'a StoredRun],
    role: &str,
) -> Option<Figure<'a>> {
    let n = input.class_names.len();
    let smoke = if input.quick { " [smoke run]" } else { "" };
    let m = Confusion::summed(rs, n)?;
    let summary = classes::confusion_summary(&m, input.class_names, 4)?;
    let images = class_images(rs, n)?;
    Some(Figure {
        stem: format!("confusion-{}", file_slug(&e.name)),
        alt: format!("confusion matrix: {}", e.label()),
        caption: format!(
            "Confusion matrix of {label} ({role}): rows are the true class, columns the \
             prediction, each row in % of that class's validation images ({images} per seed), \
             summed over seeds {seeds}; the colour scale is a square root, so that confusions \
             of a few percent stand out. {summary}",
            label = e.label(),
            seeds = text::seeds_of(rs)
        ),
        drawing: Drawing::Confusion {
            runs: rs.to_vec(),
            class_names: input.class_names,
            title: format!("{}{smoke}", e.label()),
        },
    })
}

/// The baseline's most confidently wrong images, or why they are not
/// shown (in `notes`).
fn mistakes_figure<'a>(
    input: &ReportInput<'a>,
    baseline: Option<(&Experiment, &[&'a StoredRun])>,
    notes: &mut Vec<String>,
) -> Option<Figure<'a>> {
    let smoke = if input.quick { " [smoke run]" } else { "" };
    match (baseline, input.dataset) {
        (None, _) => None,
        (Some((_, rs)), _) if rs.iter().all(|r| r.mistakes.is_empty()) => {
            notes.push(
                "No run of the baseline stored its mistakes: no figure of its most confidently \
                 wrong images."
                    .into(),
            );
            None
        }
        (Some(_), None) => {
            notes.push(
                "The baseline's most confidently wrong images are skipped: the data set was not \
                 loaded for this report."
                    .into(),
            );
            None
        }
        (Some((e, rs)), Some(dataset)) => {
            let config = &rs[0].manifest.config;
            let hold_out = config.validation.map(|s| fmnist_data::HoldOut {
                images: s.images,
                seed: s.seed,
            });
            let validation = match dataset.validation_images(hold_out, config.val_limit) {
                Ok(v) => v,
                Err(err) => {
                    notes.push(format!(
                        "The baseline's most confidently wrong images are skipped: its validation \
                         images could not be carved from the data ({err})."
                    ));
                    return None;
                }
            };
            let picked = classes::pick_mistakes(rs, classes::MISTAKES_SHOWN);
            let pairs = classes::frequent_pairs(&picked, input.class_names, 3);
            Some(Figure {
                stem: format!("mistakes-{}", file_slug(&e.name)),
                alt: format!("most confidently wrong images: {}", e.label()),
                caption: format!(
                    "The {} validation images the baseline gets most confidently wrong (seeds {}, \
                     each image once, at its most confident): above each image its true class, \
                     below it the prediction (bold) with the network's confidence. Most frequent \
                     among them: {}.",
                    picked.len(),
                    text::seeds_of(rs),
                    pairs.join(", ")
                ),
                drawing: Drawing::Mistakes {
                    runs: rs.to_vec(),
                    validation,
                    class_names: input.class_names,
                    title: format!("{}{smoke}", e.label()),
                },
            })
        }
    }
}

fn sweep_sections<'a>(
    input: &ReportInput<'a>,
    runs: &RunIndex<'a>,
    paper: &PaperLr<'_>,
) -> Vec<SweepSection<'a>> {
    let mut names: Vec<&str> = Vec::new();
    for e in input.experiments {
        if let Some(s) = &e.sweep
            && !names.contains(&s.sweep.as_str())
        {
            names.push(&s.sweep);
        }
    }
    names
        .into_iter()
        .map(|name| sweep_section(input, runs, paper, name))
        .collect()
}

/// The series input of a sweep point: its swept values and runs.
fn sweep_input<'a>(e: &Experiment, rs: Vec<&'a StoredRun>) -> SweepInput<'a> {
    let values = e.sweep.as_ref().map_or(Vec::new(), |s| {
        s.values
            .iter()
            .map(|(k, v)| {
                let x = match v {
                    SweepValue::Number(x) => SweepX::Number(*x),
                    SweepValue::Text(t) => SweepX::Text(t.clone()),
                };
                (k.clone(), x)
            })
            .collect()
    });
    SweepInput {
        experiment: e.name.clone(),
        values,
        runs: rs,
    }
}

fn sweep_section<'a>(
    input: &ReportInput<'a>,
    runs: &RunIndex<'a>,
    paper: &PaperLr<'_>,
    name: &str,
) -> SweepSection<'a> {
    let mut inputs = Vec::new();
    let mut section = SweepSection {
        name: name.to_string(),
        headline: None,
        table: None,
        figure: None,
        best: Vec::new(),
        findings: Vec::new(),
        points: Vec::new(),
        missing: Vec::new(),
        expected_best: None,
    };
    let members = input
        .experiments
        .iter()
        .filter(|e| e.sweep.as_ref().is_some_and(|s| s.sweep == name));
    let mut pruning: Vec<crate::pruning::Point<'_>> = Vec::new();
    for e in members {
        let rs = runs.get(e.name.as_str()).cloned().unwrap_or_default();
        pruning.push((e, rs.clone()));
        if rs.is_empty() {
            section.missing.push(e.label().to_string());
        } else {
            section.points.push((e.label().to_string(), e.name.clone()));
            inputs.push(sweep_input(e, rs));
        }
    }
    let no_curve = match crate::show_work::expected_best(name, &pruning) {
        Some(Ok(t)) => {
            section.expected_best = Some(t);
            None
        }
        Some(Err(why)) => Some(why),
        None => None,
    };
    if inputs.is_empty() {
        return section;
    }
    let series = SweepSeries::from_inputs(name, inputs);
    let best = sweeps::best_point(&series);
    let prunes = input.experiments.iter().any(|e| {
        e.sweep
            .as_ref()
            .is_some_and(|s| s.sweep == name && s.prune.is_some())
    });
    let provisional = sweeps::provisional(&series, section.missing.len(), prunes);
    let so_far = provisional
        .as_ref()
        .map_or(String::new(), |p| format!(" so far ({p})"));
    section.headline = best
        .overall
        .as_ref()
        .map(|b| sweep_headline(&series, b, provisional.as_deref()));
    let sampled = input.experiments.iter().any(|e| {
        e.sweep
            .as_ref()
            .is_some_and(|s| s.sweep == name && s.sampled)
    });
    section.best = best_lines(&series, &best, &so_far, sampled);
    section.best.extend(crate::pruning::statements(&pruning));
    section.best.extend(no_curve);
    section.findings = sweeps::lr_findings(&series, paper);
    if section.findings.is_empty() {
        section
            .findings
            .extend(sweeps::target_reach(&series, paper));
    }
    section.table = Some(sweeps::response_table(&series, provisional.as_deref()));
    section.figure = Some(response_figure(series));
    section
}

/// One line per sweep for the report's first screen: the chosen point
/// (the best by mean final validation accuracy) with its accuracy on the
/// official test set and its 95% t interval over seeds
/// (`sweeps::test_accuracy`), the honest number, where its runs held a
/// validation split out; otherwise its validation accuracy, said to be
/// optimistic (the images it was chosen on).
/// The sweep's best points in words: which images chose them, the best
/// point overall and, in a grid with lines, each line's best (in a sampled
/// sweep each point is its own line, so its "line best" says nothing).
fn best_lines(
    series: &SweepSeries<'_>,
    best: &sweeps::Best,
    so_far: &str,
    sampled: bool,
) -> Vec<String> {
    let mut out = vec![sweeps::selection_sentence(series)];
    if let Some(b) = &best.overall {
        out.push(format!(
            "Best point{so_far}, among the points trained to the end: {}.",
            sweeps::best_sentence(series, b)
        ));
    }
    if !sampled && !series.line_keys.is_empty() && best.per_line.len() < series.points.len() {
        for b in &best.per_line {
            out.push(format!(
                "Best of {}{so_far}: {}.",
                b.line.as_deref().unwrap_or("—"),
                sweeps::best_sentence(series, b)
            ));
        }
    }
    out
}

fn sweep_headline(
    series: &SweepSeries<'_>,
    b: &sweeps::BestPoint,
    provisional: Option<&str>,
) -> String {
    let so_far = provisional.map_or(String::new(), |p| format!(" so far ({p})"));
    let chosen = sweeps::describe(series, b);
    match sweeps::test_accuracy(&series.points[b.index]) {
        Some(t) => format!(
            "chose{so_far} {chosen}: {} mean final accuracy on the official test set ({}; \
             chosen on validation images held out of training, never on the test set)",
            pct_interval(t),
            seeds_count(t.n)
        ),
        None => format!(
            "best{so_far} {chosen}: {} mean final validation accuracy ({}; chosen on these \
             same images, so optimistic)",
            pct_interval(b.final_acc),
            seeds_count(b.final_acc.n)
        ),
    }
}

/// "3 seeds", or "1 seed, so no interval".
fn seeds_count(n: usize) -> String {
    match n {
        1 => "1 seed, so no interval".into(),
        n => format!("{n} seeds"),
    }
}

/// "86.83 % [86.38, 87.28]": a fraction's mean over seeds in percent with
/// its 95% t interval, or "86.83 %" for one seed.
fn pct_interval(s: stats::SeedStats) -> String {
    match s.ci {
        Some((lo, hi)) => format!(
            "{:.2} % [{:.2}, {:.2}]",
            100.0 * s.mean,
            100.0 * lo,
            100.0 * hi
        ),
        None => format!("{:.2} %", 100.0 * s.mean),
    }
}

fn response_figure(series: SweepSeries<'_>) -> Figure<'_> {
    let name = series.sweep.clone();
    let seeds: BTreeSet<u64> = series
        .points
        .iter()
        .flat_map(|p| p.runs.iter().map(|r| r.manifest.seed))
        .collect();
    Figure {
        stem: format!("sweep-{}", slug(&name)),
        alt: format!("sweep {name}: response to {}", series.x_key),
        caption: crate::sweep_figure::caption(&series, &text::seed_list(seeds)),
        drawing: Drawing::Response(series),
    }
}

fn about(input: &ReportInput<'_>, runs: &RunIndex<'_>, claims_file: &str) -> About {
    let p = input.provenance;
    let all: Vec<&StoredRun> = runs.values().flatten().copied().collect();

    let seeds = seeds_summary(input, runs);

    let trained_on: BTreeSet<String> = all
        .iter()
        .map(|r| {
            let t = r.manifest.threads;
            format!(
                "{} ({t} thread{})",
                r.manifest.device,
                if t == 1 { "" } else { "s" }
            )
        })
        .collect();
    let run_commits: BTreeSet<(String, bool)> = all
        .iter()
        .map(|r| {
            let p = &r.manifest.provenance;
            (
                p.git_commit.clone().unwrap_or_else(|| "unknown".into()),
                p.git_dirty == Some(true),
            )
        })
        .collect();

    let (data, other_data) = data_summary(&all);

    About {
        commit: p.git_commit.clone(),
        dirty: p.git_dirty,
        code: format!(
            "fmnist {}, rustc {}",
            p.project_version,
            p.rustc_version.trim_start_matches("rustc ")
        ),
        // RFC 3339 in UTC sorts as text.
        date: all.iter().map(|r| r.manifest.finished_at.clone()).max(),
        machine: if p.machine.is_empty() {
            p.host.clone()
        } else {
            p.machine.clone()
        },
        command: input.command.to_string(),
        claims_file: claims_file.to_string(),
        seeds,
        runs: all.len(),
        experiments: runs.values().filter(|r| !r.is_empty()).count(),
        trained_on: trained_on.into_iter().collect(),
        run_commits: run_commits.into_iter().collect(),
        data,
        other_data,
    }
}

/// The seeds of the runs, grouped by seed set, each experiment named once
/// and a sweep's points counted under the sweep's name: "3 seeds (0–2):
/// lr-0.01, adam and the 14 points of sweep `lr-sweep`; 10 seeds (0–9):
/// baseline", fewest seeds first.
fn seeds_summary(input: &ReportInput<'_>, runs: &RunIndex<'_>) -> String {
    // (seeds, experiments, (sweep, points)), in the experiments' order.
    type Group<'e> = (Vec<u64>, Vec<&'e str>, Vec<(&'e str, usize)>);
    let mut groups: Vec<Group<'_>> = Vec::new();
    for e in input.experiments {
        let Some(rs) = runs.get(e.name.as_str()).filter(|r| !r.is_empty()) else {
            continue;
        };
        let mut seeds: Vec<u64> = rs.iter().map(|r| r.manifest.seed).collect();
        seeds.sort_unstable();
        seeds.dedup();
        let at = match groups.iter().position(|g| g.0 == seeds) {
            Some(i) => i,
            None => {
                groups.push((seeds, Vec::new(), Vec::new()));
                groups.len() - 1
            }
        };
        let g = &mut groups[at];
        match &e.sweep {
            None => g.1.push(&e.name),
            Some(p) => match g.2.iter_mut().find(|(s, _)| *s == p.sweep) {
                Some((_, n)) => *n += 1,
                None => g.2.push((&p.sweep, 1)),
            },
        }
    }
    if groups.is_empty() {
        return "no runs".to_string();
    }
    groups.sort_by(|a, b| a.0.len().cmp(&b.0.len()).then_with(|| a.0.cmp(&b.0)));
    let single = groups.len() == 1;
    (groups.iter())
        .map(|(seeds, names, sweeps)| {
            let mut members: Vec<String> = names.iter().map(|n| n.to_string()).collect();
            members.extend(sweeps.iter().map(|(s, n)| match n {
                1 => format!("the point of sweep `{s}`"),
                n => format!("the {n} points of sweep `{s}`"),
            }));
            let who = if single {
                "every experiment".to_string()
            } else {
                text::and_list(&members.iter().map(String::as_str).collect::<Vec<_>>())
            };
            let n = seeds.len();
            format!(
                "{n} seed{} ({}): {who}",
                if n == 1 { "" } else { "s" },
                seed_span(seeds)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Sorted seeds as a range where they run without a gap: "0–6", "0, 2, 5".
fn seed_span(seeds: &[u64]) -> String {
    match seeds {
        [first, .., last] if last - first + 1 == seeds.len() as u64 && seeds.len() > 2 => {
            format!("{first}–{last}")
        }
        _ => text::seed_list(seeds.iter().copied()),
    }
}

/// (file, BLAKE3) of the data most runs were trained on, and the runs
/// trained on other data, as "experiment seed N (id)".
fn data_summary(all: &[&StoredRun]) -> (Vec<(String, String)>, Vec<String>) {
    // The data most runs were trained on (the first such set in report
    // order on ties); runs on any other data are named.
    let data_of = |r: &StoredRun| -> Vec<(String, String)> {
        let mut d: Vec<(String, String)> = r
            .manifest
            .data
            .iter()
            .map(|f| (f.name.clone(), f.blake3.clone()))
            .collect();
        d.sort();
        d
    };
    let mut data_sets: Vec<(Vec<(String, String)>, usize)> = Vec::new();
    for r in all.iter().filter(|r| !r.manifest.data.is_empty()) {
        let d = data_of(r);
        match data_sets.iter_mut().find(|(s, _)| *s == d) {
            Some((_, n)) => *n += 1,
            None => data_sets.push((d, 1)),
        }
    }
    let data = data_sets
        .iter()
        .rev()
        .max_by_key(|(_, n)| *n)
        .map(|(d, _)| d.clone())
        .unwrap_or_default();
    let other_data = all
        .iter()
        .filter(|r| !r.manifest.data.is_empty() && data_of(r) != data)
        .map(|r| {
            format!(
                "{} seed {} ({})",
                r.manifest.experiment,
                r.manifest.seed,
                text::short_run_id(&r.manifest.run_id)
            )
        })
        .collect();
    (data, other_data)
}

fn hypotheses(
    experiments: &[Experiment],
    baseline: Option<&Experiment>,
    baseline_name: &str,
    runs: &RunIndex<'_>,
    results: &[ClaimResult<'_>],
    design: &Design,
) -> Vec<Hypothesis> {
    let runs_of = |name: &str| -> Vec<&StoredRun> { runs.get(name).cloned().unwrap_or_default() };
    // Claims about the baseline alone can be read under a hypothesis;
    // comparative claims cannot, since their other side keeps the literal
    // settings.
    let alone: Vec<&ClaimResult<'_>> = results
        .iter()
        .filter(|r| r.claim.experiments().into_iter().eq([baseline_name]))
        .collect();
    let literal_runs = baseline.map(|b| runs_of(&b.name));
    experiments
        .iter()
        .filter(|e| e.report.hypothesis.is_some())
        .map(|h| {
            let hr = runs_of(&h.name);
            let literal = baseline.zip(literal_runs.as_deref());
            let moved_claims = if hr.is_empty() {
                Vec::new()
            } else {
                alone
                    .iter()
                    .map(|r| {
                        let moved = r.claim.renamed(baseline_name, &h.name);
                        let under = claims::evaluate(&moved, runs, design);
                        MovedClaim {
                            id: r.claim.id.clone(),
                            verdict: under.verdict,
                            reason: under.reason,
                            literal: r.verdict,
                        }
                    })
                    .collect()
            };
            let acc = |rs: &[&StoredRun]| stats::point_stats(rs).final_acc;
            let headline = acc(&hr).map(|a| {
                let literal = literal.and_then(|(b, rs)| Some((b, acc(rs)?))).map_or(
                    String::new(),
                    |(b, l)| {
                        format!(
                            " against {} ({}) for {}",
                            pct_interval(l),
                            seeds_count(l.n),
                            b.label()
                        )
                    },
                );
                format!(
                    "{} mean final validation accuracy ({}){literal}",
                    pct_interval(a),
                    seeds_count(a.n)
                )
            });
            Hypothesis {
                headline,
                name: h.name.clone(),
                label: h.label().to_string(),
                hypothesis: h.report.hypothesis.clone().unwrap_or_default(),
                description: h.description.trim().to_string(),
                table: tables::hypothesis(h, &hr, literal),
                moved_claims,
            }
        })
        .collect()
}

pub fn category(exp: &Experiment) -> Category {
    let p = &exp.paper;
    if p.figure.is_some() {
        Category::PaperFigure
    } else if exp.report.hypothesis.is_none()
        && (p.section.is_some() || p.table.is_some() || !p.claims.is_empty())
    {
        Category::TextOnly
    } else {
        Category::Other
    }
}

fn figure_number(fig: &str) -> Option<u32> {
    let digits: String = fig
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    digits.parse().ok()
}

fn figure_title(exp: &Experiment, quick: bool) -> String {
    let base = match (
        &exp.paper.figure,
        &exp.report.hypothesis,
        &exp.paper.section,
    ) {
        (Some(f), _, _) => format!("{f} — {}", exp.label()),
        (None, Some(_), _) => format!("{} — hypothesis, not the paper's setting", exp.label()),
        (None, None, Some(s)) => format!("{} — §{s}, no figure in the paper", exp.label()),
        (None, None, None) => exp.label().to_string(),
    };
    if quick {
        format!("{base} [smoke run]")
    } else {
        base
    }
}

/// What a reader must know about how the runs were made, beyond the figure.
fn run_notes(exp: &Experiment, runs: &[&StoredRun]) -> String {
    let mut notes = String::new();
    let diverged = text::diverged_runs(runs);
    if !diverged.is_empty() {
        notes.push_str(&format!(
            " **Diverged** (non-finite loss): {}. The curves of a diverged seed stop at its last finite epoch, and later means are over the remaining seeds.",
            diverged.join("; ")
        ));
    }
    let pruned = text::pruned_runs(runs);
    if !pruned.is_empty() {
        notes.push_str(&format!(
            " **Pruned** by successive halving: {}. Their curves stop at that epoch.",
            pruned.join("; ")
        ));
    }
    let stopped: Vec<String> = (runs.iter())
        .filter_map(|r| {
            let s = r.manifest.stopped_early.as_ref()?;
            Some(format!(
                "seed {} at epoch {}, keeping epoch {}",
                r.manifest.seed, s.epoch, s.kept_epoch
            ))
        })
        .collect();
    if !stopped.is_empty() {
        notes.push_str(&format!(
            " **Stopped early** (its stopping rule): {}. A stopped seed's curves end at its last epoch, and later means are over the remaining seeds.",
            stopped.join("; ")
        ));
    }
    let mut diffs: Vec<String> = runs
        .iter()
        .flat_map(|r| tables::differences(&exp.config, &r.manifest.config))
        .collect();
    diffs.sort();
    diffs.dedup();
    if !diffs.is_empty() {
        notes.push_str(&format!(
            " These runs used {} (not the experiment's settings).",
            diffs.join(", ")
        ));
    }
    notes
}

fn experiment_caption(exp: &Experiment, runs: &[&StoredRun]) -> String {
    let fig = match &exp.paper.figure {
        Some(f) => format!("{f} of the paper, redrawn from these runs"),
        None => "Not among the paper's figures".to_string(),
    };
    let seeds = if runs.len() == 1 {
        format!("one seed ({}), so no band", text::seeds_of(runs))
    } else {
        format!(
            "mean over {} seeds ({}); shaded band: min–max over seeds",
            runs.len(),
            text::seeds_of(runs)
        )
    };
    let desc = if exp.description.is_empty() {
        String::new()
    } else {
        format!(" {}", exp.description.trim())
    };
    format!(
        "{fig} — {label}.{desc} {panels}; per epoch, on the training set (blue) and the validation set (orange). Lines: {seeds}.{notes}",
        panels = text::positions(&panels::experiment_panels(runs)),
        label = exp.label(),
        notes = run_notes(exp, runs)
    )
}

fn comparison_caption(
    study: &str,
    variants: &[Variant<'_>],
    members: &[&Experiment],
    runs: &RunIndex<'_>,
) -> String {
    let labels: Vec<String> = variants
        .iter()
        .filter(|v| !v.baseline)
        .map(|v| v.label.clone())
        .collect();
    let mut s = format!(
        "Study: {study}. Validation loss (left) and validation accuracy (right) per epoch of {} ",
        labels.join(", ")
    );
    if variants.iter().any(|v| v.baseline) {
        s.push_str("beside the baseline (black)");
    } else {
        s.push_str("(no baseline runs in this plan)");
    }
    s.push_str("; lines are means over seeds, shaded bands the min–max over seeds; both panels share the epoch axis.");
    if variants.iter().any(|v| v.dashed) {
        s.push_str(" Dashed: hypotheses, not the paper's settings.");
    }
    let missing: Vec<&str> = members
        .iter()
        .filter(|e| runs.get(e.name.as_str()).is_none_or(|r| r.is_empty()))
        .map(|e| e.label())
        .collect();
    if !missing.is_empty() {
        s.push_str(&format!(" Not shown, no runs: {}.", missing.join(", ")));
    }
    s
}

/// The optimizers the experiments train with, in words: the first
/// experiment's, then the others in parentheses, "SGD (and Adam)".
fn optimizer_titles(experiments: &[Experiment]) -> String {
    let mut titles: Vec<&str> = Vec::new();
    for e in experiments {
        let t = e.config.optimizer.title();
        if !titles.contains(&t) {
            titles.push(t);
        }
    }
    match titles.as_slice() {
        [] => "no optimizer".into(),
        [one] => one.to_string(),
        [first, rest @ ..] => format!("{first} (and {})", text::and_list(rest)),
    }
}

/// The studies present, in the order of their first experiment.
fn studies(experiments: &[Experiment]) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for e in experiments {
        if let Some(s) = e.report.study.as_deref()
            && !out.contains(&s)
        {
            out.push(s);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_date_and_data_come_from_the_runs_and_odd_data_is_named() {
        use crate::fixture::simple;
        use fmnist_metrics::DataFile;

        let data = |hash: &str| {
            vec![DataFile {
                name: "train".into(),
                blake3: hash.into(),
            }]
        };
        let mut runs = vec![
            simple("a", 0, &[0.5]),
            simple("a", 1, &[0.5]),
            simple("b", 0, &[0.5]),
        ];
        runs[0].manifest.data = data("aaaa");
        runs[1].manifest.data = data("aaaa");
        runs[2].manifest.data = data("bbbb");
        runs[2].manifest.run_id = "0123456789abcdef".into();
        runs[1].manifest.finished_at = "2024-03-02T00:00:00Z".into();
        let provenance = fmnist_metrics::Provenance::default();
        let input = ReportInput {
            experiments: &[],
            runs: &runs,
            dataset: None,
            dataset_name: "Fashion-MNIST",
            class_names: &[],
            claims_file: std::path::Path::new("claims.toml"),
            provenance: &provenance,
            command: "fmnist figures",
            quick: false,
        };
        let a = about(&input, &claims::index(&runs), "claims.toml");
        assert_eq!(a.date.as_deref(), Some("2024-03-02T00:00:00Z"));
        assert_eq!(a.data, [("train".to_string(), "aaaa".to_string())]);
        assert_eq!(a.other_data, ["b seed 0 (01234567)"]);
        assert_eq!((a.runs, a.experiments), (3, 2));

        let none = about(&ReportInput { runs: &[], ..input }, &claims::index(&[]), "");
        assert_eq!(none.date, None);
        assert!(none.data.is_empty() && none.other_data.is_empty());
    }

    #[test]
    fn class_image_counts_come_from_the_confusion_rows() {
        use crate::fixture::simple;
        use fmnist_metrics::ConfusionCell;

        let cells = |rows: &[u32]| -> Vec<ConfusionCell> {
            rows.iter()
                .enumerate()
                .map(|(c, &count)| ConfusionCell {
                    true_class: c as u8,
                    predicted_class: c as u8,
                    count,
                })
                .collect()
        };
        let mut a = simple("a", 0, &[0.5]);
        let mut b = simple("a", 1, &[0.5]);
        a.confusion = cells(&[200, 200, 200]);
        b.confusion = cells(&[200, 200, 200]);
        assert_eq!(class_images(&[&a, &b], 3).as_deref(), Some("200"));
        b.confusion = cells(&[180, 211, 200]);
        assert_eq!(class_images(&[&a, &b], 3).as_deref(), Some("180–211"));
        assert_eq!(class_images(&[&simple("c", 0, &[0.5])], 3), None);
    }

    #[test]
    fn figure_numbers() {
        assert_eq!(figure_number("FIG. 7"), Some(7));
        assert_eq!(figure_number("FIG. 12"), Some(12));
        assert_eq!(figure_number("Figure"), None);
    }
}
