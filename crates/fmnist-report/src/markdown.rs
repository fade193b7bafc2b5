//! `REPORT.md` and its detail pages: a [`Report`] rendered as GitHub
//! Markdown. Nothing here computes a number or chooses what the report
//! says; it only lays out what `content` decided.
//!
//! `REPORT.md` holds what a reader needs first (the answer, what the
//! studies beyond the paper found, how the report was made, the statistics
//! in short) and a table of contents; the details live in linked pages
//! under `details/`, each with its own contents and a link back.
//!
//! Rendering also lists the report's artefacts: every figure a page shows
//! or links and every table it shows as a file. `report` draws and writes
//! exactly that list and the pages, so no page can link a file that is
//! never written, and nothing is drawn that no page shows.

use std::fmt::{self, Write as _};

use crate::aggregate as stats;
use crate::content::{
    About, Category, ClaimVerdict, DataArtefact, ExperimentEntry, Figure, Hypothesis, PerClass,
    Report, SweepSection,
};
use crate::tables::Table;
use crate::text::slug;
use fmnist_claims::Verdict;

/// The folder of the detail pages, under the report directory.
pub const DETAILS: &str = "details";

/// A file of the report besides the Markdown pages.
#[derive(Debug, Clone, Copy)]
pub enum Artefact<'r, 'a> {
    /// `figures/<stem>.{png,svg}`.
    Figure(&'r Figure<'a>),
    /// `tables/<label>.{md,tex}`.
    Table(&'r Table),
    /// A machine-readable file at its own path (`tables/checks.csv`).
    Data(&'r DataArtefact),
}

/// A Markdown page of the report besides `REPORT.md`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detail {
    /// Relative to the report directory: `details/results.md`.
    pub path: String,
    /// Its title, as `REPORT.md`'s contents list it.
    pub title: String,
    pub text: String,
}

/// `REPORT.md`, its detail pages and the artefacts they show, in the order
/// they show them.
#[derive(Debug)]
pub struct Page<'r, 'a> {
    /// The text of the page being written: `REPORT.md` once rendered.
    pub text: String,
    pub details: Vec<Detail>,
    pub artefacts: Vec<Artefact<'r, 'a>>,
    /// What a link from the page being written puts before a path relative
    /// to the report directory: "" in `REPORT.md`, "../" in a detail page.
    up: &'static str,
    /// A smoke run: every page says so first.
    quick: bool,
}

/// What every page of a smoke run says first.
const SMOKE: &str = "> [!WARNING]\n> **SMOKE RUN: few epochs on a data subset — not the paper's settings.**\n\
> The numbers and verdicts below only show that the pipeline works end to end; \
they say nothing about whether the paper reproduces.\n\n";

impl fmt::Write for Page<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.text.push_str(s);
        Ok(())
    }
}

impl<'r, 'a> Page<'r, 'a> {
    fn new(up: &'static str) -> Self {
        Page {
            text: String::new(),
            details: Vec::new(),
            artefacts: Vec::new(),
            up,
            quick: false,
        }
    }

    fn push(&mut self, c: char) {
        self.text.push(c);
    }

    /// Lists `f` once, however often the pages show or link it.
    fn uses_figure(&mut self, f: &'r Figure<'a>) {
        let known = self
            .artefacts
            .iter()
            .any(|a| matches!(a, Artefact::Figure(g) if g.stem == f.stem));
        if !known {
            self.artefacts.push(Artefact::Figure(f));
        }
    }

    /// Shows `t` and lists it as `tables/<label>.{md,tex}`.
    fn table_file(&mut self, t: &'r Table) {
        let _ = writeln!(self, "{}", t.markdown());
        self.artefacts.push(Artefact::Table(t));
    }

    /// Writes the detail page `details/<name>.md` with `body`: its title, a
    /// link back to `REPORT.md`, its contents (the body's `##` and `###`
    /// headings), then the body. Returns its path from `REPORT.md`.
    fn detail(&mut self, name: &str, title: &str, body: impl FnOnce(&mut Page<'r, 'a>)) -> String {
        let mut sub = Page::new("../");
        sub.artefacts = std::mem::take(&mut self.artefacts);
        sub.quick = self.quick;
        body(&mut sub);
        self.artefacts = sub.artefacts;
        let path = format!("{DETAILS}/{name}.md");
        let smoke = if self.quick { SMOKE } else { "" };
        let text = format!(
            "# {title}\n\n[← Back to the report](../REPORT.md)\n\n{smoke}{}{}",
            contents(&sub.text),
            sub.text
        );
        self.details.push(Detail {
            path: path.clone(),
            title: title.to_string(),
            text,
        });
        path
    }
}

/// GitHub's anchor of a heading: lower case, spaces to `-`, other
/// punctuation dropped (`FIG. 2 — baseline` → `fig-2--baseline`).
pub fn anchor(heading: &str) -> String {
    let mut out = String::new();
    for c in heading.chars() {
        if c.is_alphanumeric() || c == '-' || c == '_' {
            out.extend(c.to_lowercase());
        } else if c == ' ' {
            out.push('-');
        }
    }
    out
}

/// A list of the `##` and `###` headings of `text`, linked to their
/// anchors (a repeated heading gets GitHub's `-1`, `-2`); empty without
/// headings.
fn contents(text: &str) -> String {
    let mut seen: Vec<String> = Vec::new();
    let mut lines = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        }
        let (depth, heading) = match line {
            _ if fenced => continue,
            l if l.starts_with("## ") => (0, &l[3..]),
            l if l.starts_with("### ") => (1, &l[4..]),
            _ => continue,
        };
        let base = anchor(heading);
        let n = seen.iter().filter(|a| **a == base).count();
        seen.push(base.clone());
        let id = if n == 0 { base } else { format!("{base}-{n}") };
        lines.push(format!(
            "{}- [{}](#{id})",
            "  ".repeat(depth),
            heading.replace(['[', ']'], "")
        ));
    }
    if lines.is_empty() {
        return String::new();
    }
    format!("**Contents**\n\n{}\n\n", lines.join("\n"))
}

/// The whole report: `REPORT.md` with its detail pages and the artefacts
/// they show.
pub fn render<'r, 'a>(report: &'r Report<'a>) -> Page<'r, 'a> {
    let mut page = Page::new("");
    page.quick = report.quick;
    let w = &mut page;
    let _ = writeln!(
        w,
        "# Reproduction report: a feed-forward network on {}\n",
        report.dataset_name
    );
    let _ = writeln!(
        w,
        "Reproduces {}: \
         a 784-n1-n2-10 ReLU network with dropout, trained with {} on {}. \
         Every figure, table and verdict of this report is generated from the stored runs; none is written by hand.\n",
        report.paper, report.optimizers, report.dataset_name
    );
    if report.quick {
        w.text.push_str(SMOKE);
    }
    // The detail pages first, so that the first screen can link them.
    let pages = detail_pages(w, report);
    answer(w, report);
    beyond(w, report, &pages);
    let _ = writeln!(w, "## Contents\n");
    for (path, title, what) in &pages {
        let _ = writeln!(w, "- [{title}]({path}): {what}");
    }
    w.push('\n');
    about(w, &report.about);
    statistics_short(w, report);
    page
}

/// Writes every detail page; returns (path, title, what it holds) of each,
/// in the order `REPORT.md`'s contents list them.
fn detail_pages<'r, 'a>(
    w: &mut Page<'r, 'a>,
    report: &'r Report<'a>,
) -> Vec<(String, String, String)> {
    let mut pages = Vec::new();
    let mut add = |path: String, title: &str, what: &str| {
        pages.push((path, title.to_string(), what.to_string()));
    };
    let title = "The paper's Table I and figures, redrawn";
    let p = w.detail("figures", title, |w| {
        table1(w, report);
        figures(w, report);
    });
    add(
        p,
        title,
        "Table I's settings, each experiment's learning curves and the comparisons by study.",
    );
    let title = "Results per experiment";
    let p = w.detail("results", title, |w| {
        let _ = writeln!(w, "## Results\n");
        w.table_file(&report.results);
    });
    add(
        p,
        title,
        "final and best accuracy, losses, seeds, time and status of every experiment that is not a sweep's point, with the file it comes from.",
    );
    let title = "Per class";
    let p = w.detail("per-class", title, |w| {
        per_class(w, report.per_class.as_ref())
    });
    add(
        p,
        title,
        "accuracy per class, confusion matrices and the baseline's most confident mistakes.",
    );
    for s in &report.sweeps {
        let title = format!("Sweep `{}`", s.name);
        let p = w.detail(&format!("sweep-{}", slug(&s.name)), &title, |w| {
            sweep(w, report, s)
        });
        add(
            p,
            &title,
            "its response figure, its table of points, its best points and each point's curves.",
        );
    }
    let title = "The paper's claims";
    let p = w.detail("claims", title, |w| {
        claims(w, report);
        statistics(w, report);
    });
    add(
        p,
        title,
        "each claim's checks with their estimates, intervals, tests, flip points and error rates, and how they are tested.",
    );
    let title = "Hypotheses";
    let p = w.detail("hypotheses", title, |w| hypotheses(w, report));
    add(
        p,
        title,
        "other readings of settings the paper leaves unstated, beside the literal one.",
    );
    pages
}

/// What the studies beyond the paper found, one line each: each sweep's
/// best point and each hypothesis against the literal reading.
fn beyond(w: &mut Page<'_, '_>, report: &Report<'_>, pages: &[(String, String, String)]) {
    let page_of = |title: &str| {
        (pages.iter())
            .find(|(_, t, _)| t == title)
            .map_or(String::new(), |(p, _, _)| p.clone())
    };
    let mut lines: Vec<String> = Vec::new();
    for s in &report.sweeps {
        let found = s
            .headline
            .as_deref()
            .unwrap_or("no point trained to the end has runs yet");
        lines.push(format!(
            "- [Sweep `{}`]({}): {found}.",
            s.name,
            page_of(&format!("Sweep `{}`", s.name))
        ));
    }
    let hyp = page_of("Hypotheses");
    for h in &report.hypotheses {
        let found = h.headline.as_deref().unwrap_or("no runs in this plan");
        let moved: Vec<String> = (h.moved_claims.iter())
            .filter(|m| m.verdict != m.literal)
            .map(|m| {
                format!(
                    "{} {} under it ({} under the literal reading)",
                    m.id, m.verdict, m.literal
                )
            })
            .collect();
        let moved = if moved.is_empty() {
            String::new()
        } else {
            format!("; {}", moved.join(", "))
        };
        lines.push(format!(
            "- [{}]({hyp}#{}): {found}{moved}.",
            h.label,
            anchor(&h.label)
        ));
    }
    if lines.is_empty() {
        return;
    }
    let _ = writeln!(w, "## Beyond the paper\n");
    let _ = writeln!(
        w,
        "What the sweeps and hypotheses found, one line each (every verdict above uses the \
         paper's literal settings only):\n"
    );
    for l in lines {
        let _ = writeln!(w, "{l}");
    }
    w.push('\n');
    let _ = writeln!(w, "{}\n", report.selection);
}

fn table1<'r, 'a>(w: &mut Page<'r, 'a>, report: &'r Report<'a>) {
    let _ = writeln!(w, "## Table I\n");
    match &report.table1 {
        Some(t) => w.table_file(t),
        None => {
            let _ = writeln!(
                w,
                "No experiment named `{}` in this plan: Table I is not generated.\n",
                report.baseline
            );
        }
    }
}

/// A cell of a two-column key/value table.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

fn about(w: &mut Page<'_, '_>, a: &About) {
    let _ = writeln!(w, "## How this report was produced\n");
    let _ = writeln!(w, "| | |\n| --- | --- |");
    let state = match a.dirty {
        Some(true) => " (**dirty**: the working tree had uncommitted changes)",
        Some(false) => " (clean working tree)",
        None => "",
    };
    let _ = writeln!(
        w,
        "| commit | `{}`{state} |",
        a.commit.as_deref().unwrap_or("unknown")
    );
    let _ = writeln!(w, "| code | {} |", cell(&a.code));
    let date = a.date.as_deref().map_or("no runs".to_string(), |d| {
        format!("{d} (when the last of these runs finished)")
    });
    let _ = writeln!(w, "| date | {date} |");
    let _ = writeln!(w, "| machine | {} |", cell(&a.machine));
    let _ = writeln!(w, "| command | `{}` |", cell(&a.command));
    let _ = writeln!(w, "| claims | `{}` |", cell(&a.claims_file));
    let _ = writeln!(w, "| seeds | {} |", a.seeds);
    let _ = writeln!(
        w,
        "| runs | {} runs of {} experiments |",
        a.runs, a.experiments
    );
    if !a.trained_on.is_empty() {
        let _ = writeln!(w, "| trained on | {} |", a.trained_on.join(", "));
    }
    if !a.run_commits.is_empty() {
        let commits: Vec<String> = a
            .run_commits
            .iter()
            .map(|(c, dirty)| {
                if *dirty {
                    format!("`{c}` (dirty)")
                } else {
                    format!("`{c}`")
                }
            })
            .collect();
        let _ = writeln!(w, "| runs trained at | {} |", commits.join(", "));
    }
    for (file, hash) in &a.data {
        let _ = writeln!(w, "| data `{file}` | BLAKE3 `{hash}` |");
    }
    w.push('\n');
    if !a.other_data.is_empty() {
        let _ = writeln!(
            w,
            "> [!CAUTION]\n> These runs were trained on data with other hashes than the above: {}.\n",
            a.other_data.join(", ")
        );
    }
}

/// What a reader needs of the statistics on the first screen; the whole
/// of it is [`statistics`], on the claims page.
fn statistics_short(w: &mut Page<'_, '_>, report: &Report<'_>) {
    let alpha = 1.0 - report.claim_level;
    let _ = writeln!(w, "## Statistics\n");
    let _ = writeln!(
        w,
        "A number `mean [lo, hi]` is a mean over seeds with its {:.0}% Student's t confidence \
         interval (the tables give the number of seeds). A claim is decided by its checks, each \
         a t test over seeds (one-sample, paired by seed, or Welch's) of a difference against a bound \
         from the paper or, where the paper gives no number, one this repository chose (the \
         answer says where a verdict turns on such a bound). Within a claim, Holm's correction \
         keeps the chance of any false \"holds\" and of any false \"fails\" at most α/2 = \
         {:.3} (α = {alpha:.2}; α for an equivalence check); there is no correction across \
         claims. A claim is reproduced when every check holds, not reproduced when one fails, \
         undecided otherwise. The full statement, the seed design and the seeds each experiment \
         was given are on [the claims page]({DETAILS}/claims.md#how-the-claims-are-tested).\n",
        100.0 * stats::LEVEL,
        alpha / 2.0,
    );
}

/// How every interval in the report is computed, stated once.
fn statistics(w: &mut Page<'_, '_>, report: &Report<'_>) {
    let _ = writeln!(w, "## How the claims are tested\n");
    let _ = writeln!(
        w,
        "Every mean over seeds in the tables comes with its {:.0}% confidence interval, \
         written `mean [lo, hi]`: the {}. \
         n is the number of seeds, given in each table's seeds column; a mean over one seed has \
         no interval and says `(n = 1)`. Losses, best epochs and timings in the results table \
         are plain means. The per-class table is the exception: each class's accuracy from its \
         counts pooled over seeds, with Wilson's score interval (see its note). The shaded \
         bands of the curve figures are the min–max range over seeds, not a confidence \
         interval.\n",
        100.0 * stats::LEVEL,
        stats::INTERVAL_METHOD
    );
    let _ = writeln!(w, "{}\n", report.claim_methods);
    let _ = writeln!(w, "{}\n", report.design);
    match &report.seed_decisions {
        None => {
            let _ = writeln!(
                w,
                "Every experiment runs the seeds its file lists (no `experiments/claims/seeds.toml`).\n"
            );
        }
        Some((cap, d)) if d.is_empty() => {
            let _ = writeln!(
                w,
                "`experiments/claims/seeds.toml` (decided once, at most {cap} seeds in all) gives \
                 no experiment more seeds: no undecided check asked for them.\n"
            );
        }
        Some((cap, d)) => {
            let _ = writeln!(
                w,
                "Seeds beyond the experiment files, decided once by `reproduce --decide` from the \
                 pilot seeds alone (at most {cap} in all), as `experiments/claims/seeds.toml` \
                 records:\n"
            );
            for x in d {
                let _ = writeln!(w, "- `{}`: {} seeds. {}.", x.experiment, x.seeds, x.reason);
            }
            w.push('\n');
        }
    }
}

/// A file stem as a relative URL: experiment names may hold spaces and, for
/// sweep points, brackets and `=`, which Markdown links must not see raw.
fn url(stem: &str) -> String {
    let mut out = String::with_capacity(stem.len());
    for b in stem.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn figure<'r, 'a>(w: &mut Page<'r, 'a>, f: &'r Figure<'a>) {
    w.uses_figure(f);
    let up = w.up;
    let _ = write!(
        w,
        "![{alt}]({up}figures/{stem}.png)\n\n*{caption}* ([SVG]({up}figures/{stem}.svg))\n\n",
        alt = f.alt.replace(['[', ']'], ""),
        stem = url(&f.stem),
        caption = f.caption
    );
}

fn figures<'r, 'a>(w: &mut Page<'r, 'a>, report: &'r Report<'a>) {
    let _ = writeln!(w, "## Figures\n");
    let _ = writeln!(
        w,
        "Each experiment's figure shows loss (left) and accuracy (right) per epoch on the training \
         and validation sets: lines are means over seeds, shaded bands the min–max range over seeds; \
         that of an experiment with a diverged run also shows the gradient norm (right), where the runs \
         recorded it. \
         The comparison figures at the end draw the validation curves of each study beside the baseline.\n"
    );
    let _ = writeln!(w, "### FIG. 1 — example images\n");
    match &report.fig1 {
        Some(f) => figure(w, f),
        None => {
            let _ = writeln!(
                w,
                "*FIG. 1 is skipped: the data set was not loaded for this report.*\n"
            );
        }
    }
    let groups = [
        (Category::PaperFigure, None),
        (
            Category::TextOnly,
            Some("Runs the paper describes without a figure"),
        ),
        (
            Category::Other,
            Some("Other experiments (not in the paper)"),
        ),
    ];
    for (category, title) in groups {
        let members: Vec<_> = report
            .experiments
            .iter()
            // A sweep's points are listed with their sweep.
            .filter(|e| e.category == category && e.sweep.is_none())
            .collect();
        if members.is_empty() {
            continue;
        }
        let level = match title {
            Some(t) => {
                let _ = writeln!(w, "### {t}\n");
                "####"
            }
            None => "###",
        };
        for e in members {
            let _ = writeln!(w, "{level} {}\n", e.heading);
            match &e.figure {
                Some(f) => figure(w, f),
                None => {
                    let _ = writeln!(w, "*No runs of `{}` in this plan: no figure.*\n", e.name);
                }
            }
        }
    }
    if !report.comparisons.is_empty() {
        let _ = writeln!(w, "### Comparisons by study\n");
        for c in &report.comparisons {
            let _ = writeln!(w, "#### {}\n", c.heading);
            figure(w, &c.figure);
        }
    }
}

fn per_class<'r, 'a>(w: &mut Page<'r, 'a>, p: Option<&'r PerClass<'a>>) {
    let _ = writeln!(w, "## Accuracy per class\n");
    let Some(p) = p else {
        let _ = writeln!(
            w,
            "No run in this plan stored a confusion matrix: no per-class results.\n"
        );
        return;
    };
    w.table_file(&p.table);
    if !p.confusions.is_empty() {
        let _ = writeln!(w, "## Confusion matrices\n");
        for f in &p.confusions {
            figure(w, f);
        }
    }
    if let Some(f) = &p.mistakes {
        let _ = writeln!(w, "## The baseline's most confident mistakes\n");
        figure(w, f);
    }
    for note in &p.notes {
        let _ = writeln!(w, "*{note}*\n");
    }
}

/// A link to the figure of experiment `name`, which the page thereby shows;
/// `None` when it has none.
fn link<'r, 'a>(
    w: &mut Page<'r, 'a>,
    experiments: &'r [ExperimentEntry<'a>],
    name: &str,
    text: &str,
) -> Option<String> {
    let f = experiments
        .iter()
        .find(|e| e.name == name)?
        .figure
        .as_ref()?;
    w.uses_figure(f);
    Some(format!(
        "[{}]({}figures/{}.png)",
        text.replace(['[', ']'], ""),
        w.up,
        url(&f.stem)
    ))
}

/// One sweep's page: its response, its best points, what it says about the
/// paper's learning rate, and each point's own figure.
fn sweep<'r, 'a>(w: &mut Page<'r, 'a>, report: &'r Report<'a>, s: &'r SweepSection<'a>) {
    let _ = writeln!(w, "## Response\n");
    if let Some(f) = &s.figure {
        figure(w, f);
    }
    match &s.table {
        Some(t) => w.table_file(t),
        None => {
            let _ = writeln!(w, "*No point of `{}` has runs in this plan.*\n", s.name);
        }
    }
    if !s.best.is_empty() {
        let _ = writeln!(w, "## Best points\n");
        for b in &s.best {
            let _ = writeln!(w, "- {b}");
        }
        w.push('\n');
    }
    if let Some(t) = &s.expected_best {
        let _ = writeln!(w, "## Show your work: expected best against trials\n");
        w.table_file(t);
    }
    if !s.findings.is_empty() {
        let _ = writeln!(w, "## Against the paper's learning rate and accuracy\n");
        for f in &s.findings {
            let _ = writeln!(w, "- {f}");
        }
        w.push('\n');
    }
    let links: Vec<String> = s
        .points
        .iter()
        .filter_map(|(label, name)| link(w, &report.experiments, name, label))
        .collect();
    if !links.is_empty() || !s.missing.is_empty() {
        let _ = writeln!(w, "## Each point's curves\n");
    }
    if !links.is_empty() {
        let _ = writeln!(
            w,
            "Loss and accuracy per epoch of each point:\n\n{}\n",
            links
                .iter()
                .map(|l| format!("- {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    if !s.missing.is_empty() {
        let _ = writeln!(w, "*Not shown, no runs: {}.*\n", s.missing.join(", "));
    }
}

/// "11 claims, **8 reproduced**, **3 not reproduced**, **0 undecided**".
fn verdict_counts(results: &[ClaimVerdict]) -> String {
    let count = |v: Verdict| results.iter().filter(|r| r.verdict == v).count();
    format!(
        "{} claims, **{} {}**, **{} {}**, **{} {}**",
        results.len(),
        count(Verdict::Reproduced),
        Verdict::Reproduced,
        count(Verdict::NotReproduced),
        Verdict::NotReproduced,
        count(Verdict::Undecided),
        Verdict::Undecided,
    )
}

/// The first screen: each claim's verdict in a line, and whether it turns
/// on a threshold this repository chose (the details are under Claims).
fn answer(w: &mut Page<'_, '_>, report: &Report<'_>) {
    let results = &report.claims;
    if results.is_empty() {
        return;
    }
    let _ = writeln!(
        w,
        "## The answer
"
    );
    let _ = writeln!(
        w,
        "Of the paper's {} (each decided over seeds, Holm-corrected within the claim; \
         the numbers, tests and flip points are on [the claims page]({DETAILS}/claims.md)).\n",
        verdict_counts(results)
    );
    let _ = writeln!(
        w,
        "| claim | the paper says | verdict | turns on a threshold this repository chose |\n\
         | --- | --- | --- | --- |"
    );
    for r in results {
        let ours: Vec<String> = (r.checks.iter())
            .filter(|c| r.turns_on_ours.contains(&c.id))
            .map(|c| match &c.tested {
                Some(t) => format!(
                    "{}: {} {} (ours) flips at {:.4}",
                    c.id,
                    c.bound.name(),
                    fmnist_experiments::show_number(c.threshold),
                    t.flip_adjusted
                ),
                None => c.id.clone(),
            })
            .collect();
        let _ = writeln!(
            w,
            "| {} | {} | **{}** | {} |",
            r.id,
            cell(&r.text),
            r.verdict,
            if ours.is_empty() {
                "no".to_string()
            } else {
                format!("yes: {}", ours.join("; "))
            }
        );
    }
    let _ = writeln!(w);
}

fn claims<'r, 'a>(w: &mut Page<'r, 'a>, report: &'r Report<'a>) {
    let results = &report.claims;
    let up = w.up;
    // A smoke run's page says so first (`Page::detail`).
    let _ = writeln!(w, "## Verdicts\n");
    let _ = writeln!(w, "Of {}.\n", verdict_counts(results));
    let _ = writeln!(
        w,
        "Each verdict follows from its checks after Holm's correction over the claim's checks \
         and carries the error rate its row of the list below states; there is no correction \
         across claims. The machine-readable table of every check is \
         [`tables/checks.csv`]({up}{}).\n",
        report.checks_csv.path
    );
    w.artefacts.push(Artefact::Data(&report.checks_csv));
    turns_on_ours(w, results);
    w.table_file(&report.claims_table);
    let _ = writeln!(w, "Error rates:\n");
    for r in results {
        let _ = writeln!(w, "- {} ({}): {}.", r.id, r.verdict, r.error_rate);
    }
    w.push('\n');
    let of =
        |v: Verdict| -> Vec<&ClaimVerdict> { results.iter().filter(|r| r.verdict == v).collect() };
    let not = of(Verdict::NotReproduced);
    if !not.is_empty() {
        let _ = writeln!(w, "## Not reproduced\n");
        for r in not {
            let _ = writeln!(
                w,
                "- **{} is not reproduced.** The paper says: \"{}\" Our runs do not show this: {}.\n  Measured: {}\n",
                r.id,
                r.text,
                r.reason,
                r.measured.replace('\n', "; ")
            );
        }
    }
    let unclear = of(Verdict::Undecided);
    if !unclear.is_empty() {
        let _ = writeln!(w, "## Undecided\n");
        for r in unclear {
            let _ = writeln!(w, "- **{}**: {}.", r.id, r.reason);
            for p in &r.pending {
                let _ = writeln!(w, "  - {p}.");
            }
        }
        w.push('\n');
    }
}

/// The verdicts that turn on a threshold this repository chose, each with
/// the checks, their bounds and where they flip.
fn turns_on_ours(w: &mut Page<'_, '_>, results: &[ClaimVerdict]) {
    let turning: Vec<String> = results
        .iter()
        .filter(|r| !r.turns_on_ours.is_empty())
        .map(|r| {
            let checks: Vec<String> = (r.checks.iter())
                .filter(|c| r.turns_on_ours.contains(&c.id))
                .map(|c| {
                    let flip = c.tested.as_ref().map_or(String::new(), |n| {
                        format!(", which flips at {:.4}", n.flip_adjusted)
                    });
                    format!(
                        "{} ({} {}{flip}; {})",
                        c.id,
                        c.bound.name(),
                        crate::tables::setting(c.threshold),
                        c.why
                    )
                })
                .collect();
            format!("**{}** ({}): {}", r.id, r.verdict, checks.join("; "))
        })
        .collect();
    if turning.is_empty() {
        let _ = writeln!(
            w,
            "No verdict turns on a threshold this repository chose: none rests on a check whose \
             chosen bound lies within {:.0}% of its flip point.\n",
            100.0 * fmnist_claims::NEAR_FLIP
        );
        return;
    }
    let _ = writeln!(
        w,
        "**Verdicts that turn on a threshold this repository chose** (a check the verdict rests \
         on would change its decision, after Holm, if its chosen bound moved by less than {:.0}% \
         of itself):\n",
        100.0 * fmnist_claims::NEAR_FLIP
    );
    for t in turning {
        let _ = writeln!(w, "- {t}.");
    }
    w.push('\n');
}

fn hypotheses<'r, 'a>(w: &mut Page<'r, 'a>, report: &'r Report<'a>) {
    let hyps: &[Hypothesis] = &report.hypotheses;
    if hyps.is_empty() {
        let _ = writeln!(w, "No hypothesis experiments in this plan.\n");
        return;
    }
    let _ = writeln!(
        w,
        "These experiments test other readings of settings the paper leaves unstated. They are shown \
         beside the literal reading (the baseline); every verdict of the report uses the literal reading only.\n"
    );
    for h in hyps {
        let _ = writeln!(w, "## {}\n", h.label);
        let _ = writeln!(w, "**Hypothesis.** {}\n", h.hypothesis);
        if !h.description.is_empty() {
            let _ = writeln!(w, "{}\n", h.description);
        }
        let _ = writeln!(w, "{}", h.table.markdown());
        if !h.moved_claims.is_empty() {
            let _ = writeln!(
                w,
                "Claims about the baseline alone, checked on this run instead (for comparison only; the report's verdicts stand):\n"
            );
            for m in &h.moved_claims {
                let _ = writeln!(
                    w,
                    "- **{}**: {} under this hypothesis ({}); {} under the literal reading.",
                    m.id, m.verdict, m.reason, m.literal
                );
            }
            w.push('\n');
        }
        let text = format!("figures/{}.png", h.name);
        match link(w, &report.experiments, &h.name, &text) {
            Some(l) => {
                let _ = writeln!(w, "Its figure: {l}.\n");
            }
            None => {
                let _ = writeln!(w, "*No runs of `{}` in this plan.*\n", h.name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::{CheckNumbers, CheckRow};
    use fmnist_claims::BoundKind;
    use fmnist_stats::Decision;

    fn verdict(id: &str, v: Verdict, turns: &[&str], rows: Vec<CheckRow>) -> ClaimVerdict {
        ClaimVerdict {
            id: id.into(),
            text: String::new(),
            verdict: v,
            reason: String::new(),
            measured: String::new(),
            pending: Vec::new(),
            checks: rows,
            turns_on_ours: turns.iter().map(|s| s.to_string()).collect(),
            error_rate: String::new(),
        }
    }

    fn row(id: &str, threshold: f64, flip: f64) -> CheckRow {
        CheckRow {
            claim: id[..2].into(),
            id: id.into(),
            what: "w".into(),
            tested: Some(CheckNumbers {
                test: "one-sample t, n = 3".into(),
                stage: "pilot",
                seeds: vec![0, 1, 2],
                n_left: 3,
                n_right: 0,
                estimate: 0.0,
                lo: 0.0,
                hi: 0.0,
                level: 0.98,
                p_holds: 1.0,
                p_fails: 0.001,
                p_holds_holm: 1.0,
                p_fails_holm: 0.002,
                raw: Decision::Fails,
                adjusted: Decision::Fails,
                flip_raw: flip,
                flip_adjusted: flip,
                near: true,
                prediction: None,
                asked: None,
                per_seed: (0, 3),
                pilot: None,
            }),
            bound: BoundKind::Tol,
            threshold,
            source: "ours",
            why: "our reading".into(),
            note: None,
        }
    }

    #[test]
    fn the_verdicts_that_turn_on_our_thresholds_are_named_with_their_flips() {
        let mut page = Page::new("");
        let results = [
            verdict(
                "C2",
                Verdict::NotReproduced,
                &["C2.3"],
                vec![row("C2.3", 0.02, 0.0263)],
            ),
            verdict(
                "C1",
                Verdict::NotReproduced,
                &[],
                vec![row("C1.2", 0.03, 0.064)],
            ),
        ];
        turns_on_ours(&mut page, &results);
        assert!(
            page.text
                .contains("**Verdicts that turn on a threshold this repository chose**")
        );
        assert!(
            page.text.contains(
                "- **C2** (not reproduced): C2.3 (tol 0.02, which flips at 0.0263; our reading)."
            ),
            "{}",
            page.text
        );
        assert!(!page.text.contains("C1"), "{}", page.text);
        let mut none = Page::new("");
        turns_on_ours(&mut none, &results[1..]);
        assert!(
            none.text
                .starts_with("No verdict turns on a threshold this repository chose")
        );
    }

    #[test]
    fn stems_become_urls_that_markdown_keeps_whole() {
        assert_eq!(url("lr-0.01"), "lr-0.01");
        assert_eq!(
            url("lr-sweep[optimizer.lr=0.003]"),
            "lr-sweep%5Boptimizer.lr%3D0.003%5D"
        );
        assert_eq!(url("a b(c)"), "a%20b%28c%29");
        assert_eq!(url("é"), "%C3%A9");
    }
}
