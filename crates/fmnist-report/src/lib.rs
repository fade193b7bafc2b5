//! What the report says, as data: from the experiments, the stored runs and
//! the claims' verdicts (`fmnist-claims`), the report's facts, tables,
//! per-class results, sweep sections, pruning statements, the figures still
//! to draw (as [`content::Drawing`]s) and `REPORT.md`'s Markdown. Nothing
//! here draws or writes a file: `fmnist-figures` renders a [`Page`] into
//! files.
//!
//! # Layers
//!
//! The modules run one way, each using only those above it:
//!
//! 1. base: `error`, `input` ([`ReportInput`]), `text` (phrases shared with
//!    the binary), `fixture` (synthetic runs and confusion matrices for the
//!    tests of this crate and of `fmnist-figures`);
//! 2. analysis: `aggregate` (aggregates over seeds: means with intervals,
//!    curve bands, confusion matrices; every single number out of a run
//!    comes from `fmnist_metrics::StoredRun::value`);
//! 3. content: `tables` (tables as cells), `classes` (per class), `sweeps`
//!    (sweep series, best points, findings), `sweep_figure` (what a sweep's
//!    figure shows: curves or one panel per setting, pruned points,
//!    identical lines, its caption), `pruning` (what successive
//!    halving kept, saved and missed), `show_work` (a sampled sweep's
//!    expected best of n trials), `search_study` (the opt-in comparison of
//!    search methods: regret against epochs spent), `panels` (what the curve figures
//!    show), `content` (the whole report: facts, figures still to draw,
//!    verdicts, hypotheses);
//! 4. rendering to text: `markdown` (`REPORT.md`, its detail pages under
//!    `details/` and the list of artefacts they show).
//!
//! A new figure is its builder in `content` (a `Drawing`), its drawing in
//! `fmnist-figures` (an arm of its `match` on `Drawing`, which the compiler
//! requires) and its place in `markdown`.

pub mod aggregate;
pub mod classes;
pub mod content;
mod error;
pub mod fixture;
mod input;
pub mod markdown;
pub mod panels;
pub mod pruning;
pub mod search_study;
pub mod show_work;
pub mod sweep_figure;
pub mod sweeps;
pub mod tables;
pub mod text;

pub use error::ReportError;
pub use fmnist_claims::Verdict;
pub use input::ReportInput;
pub use markdown::{Artefact, Detail, Page};

use fmnist_claims::{ClaimResult, Design};

/// Evaluates the claims, computes the report's content and renders its
/// Markdown, then hands the page (its text and every artefact it shows) and
/// the verdicts to `f`, which writes them.
///
/// The claims file is read first: a typo in it stops the report before any
/// file is replaced.
pub fn with_page<T>(
    input: &ReportInput<'_>,
    f: impl FnOnce(&Page<'_, '_>, &[(String, Verdict)]) -> T,
) -> Result<T, ReportError> {
    let names: Vec<&str> = input.experiments.iter().map(|e| e.name.as_str()).collect();
    let claims = fmnist_claims::load(input.claims_file, &names)?;
    let paper = fmnist_claims::load_paper(input.claims_file, input.experiments, &claims)?;
    let runs = fmnist_claims::index(input.runs);
    // experiments/claims/seeds.toml beside experiments/claims/paper.toml
    // (not in experiments/, where every file is an experiment).
    let seeds_file = input.claims_file.with_file_name("seeds.toml");
    let design = design(input, &seeds_file, &claims)?;
    let results: Vec<ClaimResult<'_>> = claims
        .iter()
        .map(|c| fmnist_claims::evaluate(c, &runs, &design))
        .collect();
    let mut report = content::build(input, &paper, &runs, &results, &design);
    report.seed_decisions = fmnist_experiments::read_seeds_file(&seeds_file)?;
    let verdicts: Vec<(String, Verdict)> = report
        .claims
        .iter()
        .map(|c| (c.id.clone(), c.verdict))
        .collect();
    let page = markdown::render(&report);
    Ok(f(&page, &verdicts))
}

/// The seed design the seeds file records, for the plan's experiments; a
/// smoke run (one seed, few epochs) is tested as it is, without it.
fn design(
    input: &ReportInput<'_>,
    seeds_file: &std::path::Path,
    claims: &[fmnist_claims::Claim],
) -> Result<Design, ReportError> {
    let Some(record) = fmnist_experiments::read_seeds_design(seeds_file)? else {
        return Ok(Design::Single);
    };
    if input.quick {
        return Ok(Design::Single);
    }
    let alpha = claims.first().map_or_else(
        || fmnist_claims::Statistics::default().alpha(),
        |c| c.stats.alpha(),
    );
    Design::from_record(&record, input.experiments, alpha).map_err(|message| {
        ReportError::Claims(fmnist_claims::ClaimsError::Design {
            path: seeds_file.to_path_buf(),
            message,
        })
    })
}
