//! `fmnist list`: the experiments, one block each (its place in the paper,
//! the settings that differ from its parent, its runs with their full ids
//! and whether they are stored), then what training the rest would cost.
//! `--ids` prints only the runs, one tab-separated line each, for scripts.

use std::process::ExitCode;

use fmnist_experiments::{Experiment, RunConfig, RunSpec};
use fmnist_metrics::Store;

use crate::cli::ListArgs;
use crate::setup::{DataSet, Global, load_experiments, plan, results_dir};

/// Lines of settings are wrapped at this width.
const WIDTH: usize = 100;

pub fn list(global: &Global, args: &ListArgs) -> anyhow::Result<ExitCode> {
    let experiments = load_experiments()?;
    let data = DataSet::choose(global.dataset.as_deref(), None)?;
    let store = Store::new(results_dir(args.results.clone(), args.quick));
    let runs = plan(&experiments, &args.plan, args.quick, &data);
    if args.ids {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        for r in &runs {
            let stored = store.finished(&r.run_id).is_some();
            let line = writeln!(
                out,
                "{}\t{}\t{}\t{}",
                r.experiment,
                r.seed,
                r.run_id,
                if stored { "stored" } else { "missing" }
            );
            // A reader that stops early (`| head`) is not an error.
            if line.is_err() {
                break;
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut stored_total = 0;
    for exp in &experiments {
        let mine: Vec<&RunSpec> = runs.iter().filter(|r| r.experiment == exp.name).collect();
        stored_total += block(exp, &mine, &store, args.all)
            .iter()
            .filter(|d| **d)
            .count();
    }
    let unique = crate::runner::unique_runs(&runs);
    let missing: Vec<&RunSpec> = unique
        .iter()
        .copied()
        .filter(|r| store.finished(&r.run_id).is_none())
        .collect();
    println!(
        "{} experiments, {} ({} distinct), {stored_total} stored in {}",
        experiments.len(),
        crate::runner::runs(runs.len()),
        unique.len(),
        store.root().display()
    );
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "to train: {}, {}",
        crate::runner::runs(missing.len()),
        crate::estimate::describe(
            &missing,
            &[store.clone(), Store::new(results_dir(None, !args.quick))],
            jobs
        )
    );
    Ok(ExitCode::SUCCESS)
}

/// Prints one experiment's block; returns whether each of its runs is stored.
fn block(exp: &Experiment, runs: &[&RunSpec], store: &Store, all: bool) -> Vec<bool> {
    println!("{}", heading(exp));
    for line in settings_lines(exp, all) {
        println!("    {line}");
    }
    if let Some(planned) = runs.first() {
        let changed = differing(&exp.config, &planned.config);
        if !changed.is_empty() {
            println!("    this plan trains it with {}", changed.join(", "));
        }
    }
    runs.iter()
        .map(|r| {
            let done = store.finished(&r.run_id).is_some();
            let mark = if done { "stored" } else { "missing" };
            println!("    seed {:<3} run {}  {mark}", r.seed, r.run_id);
            done
        })
        .collect()
}

/// "baseline  (FIG. 2, Table I, section III; claims C1, C2)", "(hypothesis)" after.
fn heading(exp: &Experiment) -> String {
    let p = &exp.paper;
    let mut place: Vec<String> = Vec::new();
    place.extend(p.figure.iter().cloned());
    place.extend(p.table.iter().cloned());
    place.extend(p.section.iter().map(|s| format!("section {s}")));
    let mut notes = place.join(", ");
    if !p.claims.is_empty() {
        if !notes.is_empty() {
            notes.push_str("; ");
        }
        notes.push_str(&format!("claims {}", p.claims.join(", ")));
    }
    let mut line = exp.name.clone();
    if !notes.is_empty() {
        line.push_str(&format!("  ({notes})"));
    }
    if exp.report.hypothesis.is_some() {
        line.push_str("  (hypothesis)");
    }
    line
}

/// The settings to show: those that differ from the parent's (all of them
/// when there is no parent, or with `all`), wrapped.
fn settings_lines(exp: &Experiment, all: bool) -> Vec<String> {
    let parent = parent(exp);
    let (intro, items) = match (parent, all) {
        (Some(parent), false) => {
            let items = differing(parent, &exp.config);
            let intro = if exp.sweep.is_some() {
                "differs from its sweep's base settings in"
            } else {
                "differs from the file it extends in"
            };
            if items.is_empty() {
                return vec![format!("{intro} nothing")];
            }
            (intro, items)
        }
        _ => (
            "settings:",
            settings(&exp.config)
                .into_iter()
                .map(|(k, v)| format!("{k} = {v}"))
                .collect(),
        ),
    };
    wrap(intro, &items, WIDTH)
}

/// `key = value` for each setting of `config` whose value differs from
/// `base`'s (or that `base` lacks), in `config`'s order.
fn differing(base: &RunConfig, config: &RunConfig) -> Vec<String> {
    let base = settings(base);
    settings(config)
        .into_iter()
        .filter(|(k, v)| !base.iter().any(|(bk, bv)| bk == k && bv == v))
        .map(|(k, v)| format!("{k} = {v}"))
        .collect()
}

/// `intro item, item, ...` in lines of at most `width` characters (a single
/// item longer than that stands on its own line).
fn wrap(intro: &str, items: &[String], width: usize) -> Vec<String> {
    let mut lines = vec![intro.to_string()];
    for (i, item) in items.iter().enumerate() {
        let sep = if i + 1 < items.len() { "," } else { "" };
        let last = lines.last_mut().expect("never empty");
        if last.len() + 1 + item.len() + sep.len() <= width || last.trim().is_empty() {
            last.push(' ');
            last.push_str(item);
            last.push_str(sep);
        } else {
            lines.push(format!("  {item}{sep}"));
        }
    }
    lines
}

/// Every resolved setting of `config`, as (dotted key, value).
// SHIM until the API commit: `config.settings()`.
fn settings(config: &RunConfig) -> Vec<(String, String)> {
    fn flat(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    flat(&key, v, out);
                }
            }
            other => out.push((prefix.to_string(), other.to_string())),
        }
    }
    let mut out = Vec::new();
    flat(
        "",
        &serde_json::to_value(config).expect("serialisable"),
        &mut out,
    );
    out
}

/// The resolved settings of the experiment's parent, if it has one.
// SHIM until the API commit: `exp.parent.as_ref()`.
fn parent(exp: &Experiment) -> Option<&RunConfig> {
    let text = std::fs::read_to_string(&exp.path).ok()?;
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("extends"))?;
    let target = line.split('"').nth(1)?;
    let path = exp.path.parent()?.join(target);
    let config = fmnist_experiments::load_file(&path).ok()?.remove(0).config;
    Some(Box::leak(Box::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lists_wrap_and_short_ones_do_not() {
        let items: Vec<String> = (0..3).map(|i| format!("key.{i} = {i}")).collect();
        assert_eq!(
            wrap("settings:", &items, 100),
            ["settings: key.0 = 0, key.1 = 1, key.2 = 2"]
        );
        assert_eq!(
            wrap("settings:", &items, 30),
            ["settings: key.0 = 0,", "  key.1 = 1, key.2 = 2"]
        );
    }
}
