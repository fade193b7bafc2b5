//! `write_report`: every figure and table, the claim verdicts, and
//! `REPORT.md`, which puts them together for a reader on GitHub.
//!
//! The report is derived from the experiments, the runs and the claims file
//! only: rerunning it on the same inputs gives the same files, and an
//! experiment added to `experiments/` appears in it without code changes.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use fmnist_data::Dataset;
use fmnist_experiments::Experiment;
use fmnist_metrics::{RunStatus, Split, StoredRun, atomic_write};

use crate::claims::{self, ClaimResult, RunIndex, Verdict};
use crate::error::FiguresError;
use crate::plot::{self, Variant};
use crate::stats::Quantity;
use crate::tables::{self, Table};

/// How and from what the report was produced; printed at its top.
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    pub commit: String,
    pub dirty: bool,
    pub date: String,
    /// (file, BLAKE3) of the data the report's runs were trained on.
    pub data_hashes: Vec<(String, String)>,
    pub machine: String,
    pub command: String,
    /// A smoke run (few epochs, data subset): the report says so loudly.
    pub quick: bool,
}

#[derive(Debug)]
pub struct ReportInput<'a> {
    /// In report order; `experiments[i].name` matches `StoredRun::manifest.experiment`.
    pub experiments: &'a [Experiment],
    /// The runs of the current plan only; several seeds per experiment.
    pub runs: &'a [StoredRun],
    /// For FIG. 1; `None` skips it with a note.
    pub dataset: Option<&'a Dataset>,
    /// `experiments/claims/paper.toml`.
    pub claims_file: &'a Path,
    pub provenance: Provenance,
}

#[derive(Debug, Clone)]
pub struct ReportSummary {
    /// Every file written, in the order written.
    pub files: Vec<PathBuf>,
    /// (claim id, verdict), in the claims file's order.
    pub verdicts: Vec<(String, Verdict)>,
}

/// The file name of a figure (without extension) in `figures/`.
const FIG1: &str = "fig1-examples";

/// The experiment whose settings are Table I and which every study is compared to.
const BASELINE: &str = "baseline";

struct Out {
    dir: PathBuf,
    files: Vec<PathBuf>,
}

impl Out {
    fn text(&mut self, rel: &str, text: &str) -> Result<(), FiguresError> {
        let path = self.dir.join(rel);
        atomic_write(&path, text.as_bytes())?;
        self.files.push(path);
        Ok(())
    }

    fn figure(&mut self, stem: &str) -> (PathBuf, PathBuf) {
        let png = self.dir.join("figures").join(format!("{stem}.png"));
        let svg = self.dir.join("figures").join(format!("{stem}.svg"));
        self.files.push(png.clone());
        self.files.push(svg.clone());
        (png, svg)
    }

    fn table(&mut self, stem: &str, table: &Table) -> Result<(), FiguresError> {
        self.text(&format!("tables/{stem}.md"), &table.markdown())?;
        self.text(&format!("tables/{stem}.tex"), &table.latex())
    }
}

/// A figure as REPORT.md shows it.
struct Shown {
    stem: String,
    alt: String,
    caption: String,
}

impl Shown {
    fn markdown(&self) -> String {
        format!(
            "![{alt}](figures/{stem}.png)\n\n*{caption}* ([SVG](figures/{stem}.svg))\n\n",
            alt = self.alt.replace(['[', ']'], ""),
            // A name is a file stem and may hold spaces, which end a Markdown link.
            stem = self.stem.replace(' ', "%20"),
            caption = self.caption
        )
    }
}

/// Writes the report into `out_dir`: `REPORT.md`, `figures/` and `tables/`.
pub fn write_report(
    input: &ReportInput<'_>,
    out_dir: &Path,
) -> Result<ReportSummary, FiguresError> {
    // The claims file first: a typo in it should stop the report before any
    // file is replaced.
    let claims = claims::load(input.claims_file)?;
    let runs = claims::index(input.runs);
    let results: Vec<ClaimResult<'_>> = claims.iter().map(|c| claims::evaluate(c, &runs)).collect();
    let quick = input.provenance.quick;
    let mut out = Out {
        dir: out_dir.to_path_buf(),
        files: Vec::new(),
    };
    let runs_of = |name: &str| -> Vec<&StoredRun> { runs.get(name).cloned().unwrap_or_default() };

    // ---- figures
    let fig1 = match input.dataset {
        Some(ds) => {
            let (png, svg) = out.figure(FIG1);
            let per_class = plot::write_examples(ds, &png, &svg)?;
            Some(Shown {
                stem: FIG1.into(),
                alt: "FIG. 1: example images".into(),
                caption: format!(
                    "FIG. 1 — Example images of Fashion-MNIST: the first {} training images of each class, one class per row (pixels as stored, 0 black to 255 white).",
                    per_class
                ),
            })
        }
        None => None,
    };

    let mut experiment_figures: Vec<(&Experiment, Option<Shown>)> = Vec::new();
    for exp in input.experiments {
        let rs = runs_of(&exp.name);
        if rs.is_empty() {
            experiment_figures.push((exp, None));
            continue;
        }
        let fig = plot::experiment_figure(figure_title(exp, quick), &rs);
        let (png, svg) = out.figure(&exp.name);
        plot::write_two_panel(&fig, &png, &svg)?;
        experiment_figures.push((
            exp,
            Some(Shown {
                stem: exp.name.clone(),
                alt: figure_title(exp, false),
                caption: experiment_caption(exp, &rs),
            }),
        ));
    }

    let baseline = input.experiments.iter().find(|e| e.name == BASELINE);
    let mut comparisons: Vec<Shown> = Vec::new();
    for study in studies(input.experiments) {
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
            .filter(|e| e.name != BASELINE && e.report.study.as_deref() == Some(study))
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
            continue;
        }
        let stem = format!("compare-{}", slug(study));
        let smoke = if quick { " [smoke run]" } else { "" };
        let fig = plot::comparison_figure(
            format!("Study: {study} — validation curves{smoke}"),
            &variants,
        );
        let (png, svg) = out.figure(&stem);
        plot::write_two_panel(&fig, &png, &svg)?;
        comparisons.push(Shown {
            stem,
            alt: format!("comparison: {study}"),
            caption: comparison_caption(study, &variants, &members, &runs),
        });
    }

    // ---- tables
    let table1 = baseline
        .or_else(|| {
            input
                .experiments
                .iter()
                .find(|e| e.paper.table.as_deref() == Some("Table I"))
        })
        .map(|b| {
            let ran = runs_of(&b.name).first().map(|r| r.manifest.config.clone());
            tables::table1(b, ran.as_ref())
        });
    if let Some(t) = &table1 {
        out.table("table1", t)?;
    }
    let results_table = tables::results(input.experiments, &runs);
    out.table("results", &results_table)?;
    let claims_source = input.claims_file.display().to_string();
    let claims_table = tables::claims(&results, &claims_source);
    out.table("claims", &claims_table)?;

    // ---- REPORT.md
    let mut md = String::new();
    let w = &mut md;
    let _ = writeln!(
        w,
        "# Reproduction report: a feed-forward network on Fashion-MNIST\n"
    );
    let _ = writeln!(
        w,
        "Reproduces *Red neuronal feed-forward junto a Fashion-MNIST* (I. Martinez Goloboff, 2024): \
         a 784-n1-n2-10 ReLU network with dropout, trained with SGD (and Adam) on Fashion-MNIST. \
         Every figure, table and verdict below is generated from the stored runs; none is written by hand.\n"
    );
    if quick {
        let _ = writeln!(
            w,
            "> [!WARNING]\n> **SMOKE RUN: few epochs on a data subset — not the paper's settings.**\n\
             > The numbers and verdicts below only show that the pipeline works end to end; \
             they say nothing about whether the paper reproduces.\n"
        );
    }
    provenance_section(w, input, &runs);

    let _ = writeln!(w, "## Table I\n");
    match &table1 {
        Some(t) => {
            let _ = writeln!(w, "{}", t.markdown());
        }
        None => {
            let _ = writeln!(
                w,
                "No experiment named `{BASELINE}` in this plan: Table I is not generated.\n"
            );
        }
    }

    let _ = writeln!(w, "## Figures\n");
    let _ = writeln!(
        w,
        "Each experiment's figure shows loss (left) and accuracy (right) per epoch on the training \
         and validation sets: lines are means over seeds, shaded bands the min–max range over seeds. \
         The comparison figures at the end draw the validation curves of each study beside the baseline.\n"
    );
    let _ = writeln!(w, "### FIG. 1 — example images\n");
    match &fig1 {
        Some(s) => w.push_str(&s.markdown()),
        None => {
            let _ = writeln!(
                w,
                "*FIG. 1 is skipped: the data set was not loaded for this report.*\n"
            );
        }
    }
    let mut paper_figs: Vec<&(&Experiment, Option<Shown>)> = experiment_figures
        .iter()
        .filter(|(e, _)| e.paper.figure.is_some())
        .collect();
    paper_figs.sort_by_key(|(e, _)| {
        e.paper
            .figure
            .as_deref()
            .and_then(figure_number)
            .unwrap_or(u32::MAX)
    });
    let text_only: Vec<_> = experiment_figures
        .iter()
        .filter(|(e, _)| category(e) == Category::TextOnly)
        .collect();
    let others: Vec<_> = experiment_figures
        .iter()
        .filter(|(e, _)| category(e) == Category::Other)
        .collect();
    for (exp, shown) in &paper_figs {
        let _ = writeln!(w, "### {}\n", figure_title(exp, false));
        show(w, exp, shown.as_ref());
    }
    if !text_only.is_empty() {
        let _ = writeln!(w, "### Runs the paper describes without a figure\n");
        for (exp, shown) in &text_only {
            let _ = writeln!(w, "#### {}\n", figure_title(exp, false));
            show(w, exp, shown.as_ref());
        }
    }
    if !others.is_empty() {
        let _ = writeln!(w, "### Other experiments (not in the paper)\n");
        for (exp, shown) in &others {
            let _ = writeln!(w, "#### {}\n", figure_title(exp, false));
            show(w, exp, shown.as_ref());
        }
    }
    if !comparisons.is_empty() {
        let _ = writeln!(w, "### Comparisons by study\n");
        for s in &comparisons {
            let _ = writeln!(w, "#### {}\n", s.alt.replacen("comparison: ", "Study: ", 1));
            w.push_str(&s.markdown());
        }
    }

    let _ = writeln!(w, "## Results\n\n{}", results_table.markdown());

    claims_section(w, &results, &claims_table, quick);
    hypotheses_section(w, input.experiments, baseline, &runs, &results);

    out.text("REPORT.md", &md)?;
    Ok(ReportSummary {
        files: out.files,
        verdicts: results
            .iter()
            .map(|r| (r.claim.id.clone(), r.verdict))
            .collect(),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Category {
    PaperFigure,
    TextOnly,
    Other,
}

fn category(exp: &Experiment) -> Category {
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

fn seed_list(runs: &[&StoredRun]) -> String {
    runs.iter()
        .map(|r| r.manifest.seed.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a reader must know about how the runs were made, beyond the figure.
fn run_notes(exp: &Experiment, runs: &[&StoredRun]) -> String {
    let mut notes = String::new();
    for r in runs {
        if let RunStatus::Diverged { epoch, batch } = r.manifest.status {
            let _ = write!(
                notes,
                " **Seed {} diverged** (non-finite loss) at epoch {epoch}, batch {batch}: its curves stop at the last finite epoch, and later means are over the remaining seeds.",
                r.manifest.seed
            );
        }
    }
    let mut diffs: Vec<String> = runs
        .iter()
        .flat_map(|r| tables::differences(&exp.config, &r.manifest.config))
        .collect();
    diffs.sort();
    diffs.dedup();
    if !diffs.is_empty() {
        let _ = write!(
            notes,
            " These runs used {} (not the experiment's settings).",
            diffs.join(", ")
        );
    }
    notes
}

fn experiment_caption(exp: &Experiment, runs: &[&StoredRun]) -> String {
    let fig = match &exp.paper.figure {
        Some(f) => format!("{f} of the paper, redrawn from these runs"),
        None => "Not among the paper's figures".to_string(),
    };
    let seeds = if runs.len() == 1 {
        format!("one seed ({}), so no band", seed_list(runs))
    } else {
        format!(
            "mean over {} seeds ({}); shaded band: min–max over seeds",
            runs.len(),
            seed_list(runs)
        )
    };
    let desc = if exp.description.is_empty() {
        String::new()
    } else {
        format!(" {}", exp.description.trim())
    };
    format!(
        "{fig} — {label}.{desc} Left: cross-entropy loss; right: accuracy; per epoch, on the training set (blue) and the validation set (orange). Lines: {seeds}.{notes}",
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
        let _ = write!(s, " Not shown, no runs: {}.", missing.join(", "));
    }
    s
}

fn show(w: &mut String, exp: &Experiment, shown: Option<&Shown>) {
    match shown {
        Some(s) => w.push_str(&s.markdown()),
        None => {
            let _ = writeln!(w, "*No runs of `{}` in this plan: no figure.*\n", exp.name);
        }
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

/// "learning rate" -> "learning-rate".
pub(crate) fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() { "study".into() } else { out }
}

fn provenance_section(w: &mut String, input: &ReportInput<'_>, runs: &RunIndex<'_>) {
    let p = &input.provenance;
    let _ = writeln!(w, "## How this report was produced\n");
    let _ = writeln!(w, "| | |\n| --- | --- |");
    let dirty = if p.dirty {
        "**dirty**: the working tree had uncommitted changes"
    } else {
        "clean working tree"
    };
    let _ = writeln!(w, "| commit | `{}` ({dirty}) |", p.commit);
    let _ = writeln!(w, "| date | {} |", p.date);
    let _ = writeln!(w, "| machine | {} |", p.machine.replace('|', "\\|"));
    let _ = writeln!(w, "| command | `{}` |", p.command.replace('|', "\\|"));
    let _ = writeln!(w, "| claims | `{}` |", input.claims_file.display());

    let mut seed_sets: Vec<(String, Vec<&str>)> = Vec::new();
    for e in input.experiments {
        let Some(rs) = runs.get(e.name.as_str()).filter(|r| !r.is_empty()) else {
            continue;
        };
        let seeds = seed_list(rs);
        match seed_sets.iter_mut().find(|(s, _)| *s == seeds) {
            Some((_, names)) => names.push(&e.name),
            None => seed_sets.push((seeds, vec![&e.name])),
        }
    }
    let seeds = match seed_sets.as_slice() {
        [] => "no runs".to_string(),
        [(s, _)] => format!("{s} (every experiment)"),
        many => many
            .iter()
            .map(|(s, names)| format!("{s}: {}", names.join(", ")))
            .collect::<Vec<_>>()
            .join("; "),
    };
    let _ = writeln!(w, "| seeds | {seeds} |");
    let n_runs: usize = runs.values().map(Vec::len).sum();
    let _ = writeln!(w, "| runs | {n_runs} runs of {} experiments |", runs.len());
    let devices: BTreeSet<String> = runs
        .values()
        .flatten()
        .map(|r| {
            let t = r.manifest.threads;
            format!(
                "{} ({t} thread{})",
                r.manifest.device,
                if t == 1 { "" } else { "s" }
            )
        })
        .collect();
    if !devices.is_empty() {
        let _ = writeln!(
            w,
            "| trained on | {} |",
            devices.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    let commits: BTreeSet<String> = runs
        .values()
        .flatten()
        .map(|r| {
            let c = r
                .manifest
                .provenance
                .git_commit
                .clone()
                .unwrap_or_else(|| "unknown".into());
            match r.manifest.provenance.git_dirty {
                Some(true) => format!("`{c}` (dirty)"),
                _ => format!("`{c}`"),
            }
        })
        .collect();
    if !commits.is_empty() {
        let _ = writeln!(
            w,
            "| runs trained at | {} |",
            commits.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    for (file, hash) in &p.data_hashes {
        let _ = writeln!(w, "| data `{file}` | BLAKE3 `{hash}` |");
    }
    let expected: BTreeSet<(&str, &str)> = p
        .data_hashes
        .iter()
        .map(|(f, h)| (f.as_str(), h.as_str()))
        .collect();
    let odd: Vec<String> = runs
        .values()
        .flatten()
        .filter(|r| {
            !expected.is_empty()
                && !r.manifest.data.is_empty()
                && r.manifest
                    .data
                    .iter()
                    .any(|d| !expected.contains(&(d.name.as_str(), d.blake3.as_str())))
        })
        .map(|r| format!("{} seed {}", r.manifest.experiment, r.manifest.seed))
        .collect();
    w.push('\n');
    if !odd.is_empty() {
        let _ = writeln!(
            w,
            "> [!CAUTION]\n> These runs were trained on data with other hashes than the above: {}.\n",
            odd.join(", ")
        );
    }
}

fn claims_section(w: &mut String, results: &[ClaimResult<'_>], table: &Table, quick: bool) {
    let count = |v: Verdict| results.iter().filter(|r| r.verdict == v).count();
    let _ = writeln!(w, "## Claims\n");
    if quick {
        let _ = writeln!(
            w,
            "> [!WARNING]\n> Smoke run: these verdicts are computed on a few epochs of a data subset and do not speak to the paper.\n"
        );
    }
    let _ = writeln!(
        w,
        "Of {} claims, **{} reproduced**, **{} not reproduced**, **{} inconclusive**.\n",
        results.len(),
        count(Verdict::Reproduced),
        count(Verdict::NotReproduced),
        count(Verdict::Inconclusive)
    );
    let _ = writeln!(w, "{}", table.markdown());
    let not: Vec<&ClaimResult<'_>> = results
        .iter()
        .filter(|r| r.verdict == Verdict::NotReproduced)
        .collect();
    if !not.is_empty() {
        let _ = writeln!(w, "### Not reproduced\n");
        for r in not {
            let _ = writeln!(
                w,
                "- **{} is not reproduced.** The paper says: \"{}\" Our runs do not show this: {}.\n  Measured (seed means): {}\n",
                r.claim.id,
                r.claim.text,
                r.reason,
                tables::measured(r).replace('\n', "; ")
            );
        }
    }
    let unclear: Vec<&ClaimResult<'_>> = results
        .iter()
        .filter(|r| r.verdict == Verdict::Inconclusive)
        .collect();
    if !unclear.is_empty() {
        let _ = writeln!(w, "### Inconclusive\n");
        for r in unclear {
            let _ = writeln!(w, "- **{}**: {}", r.claim.id, r.reason);
        }
        w.push('\n');
    }
}

fn hypotheses_section(
    w: &mut String,
    experiments: &[Experiment],
    baseline: Option<&Experiment>,
    runs: &RunIndex<'_>,
    verdicts: &[ClaimResult<'_>],
) {
    let _ = writeln!(w, "## Hypotheses\n");
    let hyps: Vec<&Experiment> = experiments
        .iter()
        .filter(|e| e.report.hypothesis.is_some())
        .collect();
    if hyps.is_empty() {
        let _ = writeln!(w, "No hypothesis experiments in this plan.\n");
        return;
    }
    let _ = writeln!(
        w,
        "These experiments test other readings of settings the paper leaves unstated. They are shown \
         beside the literal reading (the baseline); every verdict above uses the literal reading only.\n"
    );
    let runs_of = |name: &str| -> Vec<&StoredRun> { runs.get(name).cloned().unwrap_or_default() };
    for h in hyps {
        let _ = writeln!(w, "### {}\n", h.label());
        let _ = writeln!(
            w,
            "**Hypothesis.** {}\n",
            h.report.hypothesis.as_deref().unwrap_or_default()
        );
        if !h.description.is_empty() {
            let _ = writeln!(w, "{}\n", h.description.trim());
        }
        let literal = baseline.map(|b| (b, runs_of(&b.name)));
        let hr = runs_of(&h.name);
        let cell = |rs: &[&StoredRun], f: &dyn Fn(&StoredRun) -> Option<f64>, percent: bool| {
            let values: Vec<f64> = rs
                .iter()
                .filter_map(|r| f(r))
                .filter(|v| v.is_finite())
                .collect();
            match crate::stats::summarize(&values) {
                None => "—".to_string(),
                Some(s) if percent => format!("{:.2} ± {:.2}", 100.0 * s.mean, 100.0 * s.std),
                Some(s) => format!("{:.4} ± {:.4}", s.mean, s.std),
            }
        };
        type Getter = Box<dyn Fn(&StoredRun) -> Option<f64>>;
        let quantities: Vec<(&str, Getter, bool)> = vec![
            (
                "final training accuracy (%)",
                Box::new(|r| tables::final_value(r, Split::Train, Quantity::Accuracy)),
                true,
            ),
            (
                "final validation accuracy (%)",
                Box::new(|r| tables::final_value(r, Split::Val, Quantity::Accuracy)),
                true,
            ),
            (
                "best validation accuracy (%)",
                Box::new(tables::best_val_accuracy),
                true,
            ),
            (
                "final training loss",
                Box::new(|r| tables::final_value(r, Split::Train, Quantity::Loss)),
                false,
            ),
            (
                "final validation loss",
                Box::new(|r| tables::final_value(r, Split::Val, Quantity::Loss)),
                false,
            ),
        ];
        let literal_label = literal
            .as_ref()
            .map_or("literal reading (no baseline)".to_string(), |(b, _)| {
                format!("literal reading: {}", b.label())
            });
        let rows = quantities
            .iter()
            .map(|(name, f, percent)| {
                vec![
                    name.to_string(),
                    literal
                        .as_ref()
                        .map_or("—".into(), |(_, rs)| cell(rs, f.as_ref(), *percent)),
                    cell(&hr, f.as_ref(), *percent),
                ]
            })
            .collect();
        let t = Table {
            caption: format!(
                "{} beside the literal reading (mean ± std over seeds)",
                h.label()
            ),
            label: "hypothesis",
            columns: vec![
                ("".into(), tables::Align::Left),
                (literal_label, tables::Align::Right),
                (format!("hypothesis: {}", h.label()), tables::Align::Right),
            ],
            rows,
            notes: vec![],
        };
        let _ = writeln!(w, "{}", t.markdown());
        // Claims about the baseline alone can be read under the hypothesis;
        // comparative claims cannot, since their other side keeps the
        // literal settings.
        let alone: Vec<&ClaimResult<'_>> = verdicts
            .iter()
            .filter(|r| r.claim.experiments().into_iter().eq([BASELINE]))
            .collect();
        if !hr.is_empty() && !alone.is_empty() {
            let _ = writeln!(
                w,
                "Claims about the baseline alone, checked on this run instead (for comparison only; the verdicts above stand):\n"
            );
            for r in alone {
                let moved = r.claim.renamed(BASELINE, &h.name);
                let under = claims::evaluate(&moved, runs);
                let _ = writeln!(
                    w,
                    "- **{}**: {} under this hypothesis ({}); {} under the literal reading.",
                    r.claim.id, under.verdict, under.reason, r.verdict
                );
            }
            w.push('\n');
        }
        if hr.is_empty() {
            let _ = writeln!(w, "*No runs of `{}` in this plan.*\n", h.name);
        } else {
            let _ = writeln!(
                w,
                "Its figure: [figures/{0}.png](figures/{0}.png).\n",
                h.name
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_figure_numbers() {
        assert_eq!(slug("learning rate"), "learning-rate");
        assert_eq!(slug("Hidden  sizes!"), "hidden-sizes");
        assert_eq!(slug("??"), "study");
        assert_eq!(figure_number("FIG. 7"), Some(7));
        assert_eq!(figure_number("FIG. 12"), Some(12));
        assert_eq!(figure_number("Figure"), None);
    }
}
