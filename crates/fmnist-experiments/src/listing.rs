//! The text of `fmnist list`, as pure functions of the experiments and
//! their planned runs: one block per experiment (its place in the paper,
//! the settings that differ from its parent, its runs), and one line per
//! pruned sweep with what its runs cost. Whether a run is stored is the
//! caller's to say (it reads the store); the wording is decided here.

use crate::{Experiment, RunConfig, RunSpec};

/// Lines of settings are wrapped at this width.
const WIDTH: usize = 100;

/// One experiment's block: its heading, its settings (all of them with
/// `all`), the settings the plan changes, and one line per planned run
/// with the caller's mark of it (`stored`, `missing`, ...).
pub fn block(exp: &Experiment, runs: &[(&RunSpec, String)], all: bool) -> String {
    let mut out = format!("{}\n", heading(exp));
    for line in settings_lines(exp, all) {
        out.push_str(&format!("    {line}\n"));
    }
    if let Some((planned, _)) = runs.first() {
        let changed = differing(&exp.config, &planned.config);
        if !changed.is_empty() {
            out.push_str(&format!(
                "    this plan trains it with {}\n",
                changed.join(", ")
            ));
        }
    }
    for (r, mark) in runs {
        out.push_str(&format!(
            "    seed {:<3} run {}  {mark}\n",
            r.seed, r.run_id
        ));
    }
    out
}

/// One line per pruned sweep: its rungs and what its runs cost in epochs,
/// pruned (at most: a point that early stopping ends costs less) and not.
pub fn pruning_costs(experiments: &[Experiment], runs: &[RunSpec]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for exp in experiments {
        let Some(point) = &exp.sweep else { continue };
        let Some(prune) = &point.prune else { continue };
        if seen.contains(&point.sweep.as_str()) {
            continue;
        }
        seen.push(&point.sweep);
        let points: Vec<&Experiment> = (experiments.iter())
            .filter(|e| e.sweep.as_ref().is_some_and(|p| p.sweep == point.sweep))
            .collect();
        let planned: Vec<&RunSpec> = (runs.iter())
            .filter(|r| points.iter().any(|e| e.name == r.experiment))
            .collect();
        let (Some(first), false) = (planned.first(), points.is_empty()) else {
            continue;
        };
        let seeds = planned.len() / points.len();
        let epochs = first.config.epochs;
        let (pruned, full) = prune.cost(points.len(), epochs);
        let rungs: Vec<String> = prune.rungs(epochs).iter().map(|r| r.to_string()).collect();
        lines.push(format!(
            "pruned sweep {}: {} points x {seeds} seed(s), rungs at epochs {} (eta {}, best by {} over the seeds): {} epochs pruned, {} unpruned ({:.0}%)\n",
            point.sweep,
            points.len(),
            rungs.join(", "),
            prune.eta,
            prune.metric(),
            pruned * seeds,
            full * seeds,
            100.0 * pruned as f64 / full.max(1) as f64
        ));
    }
    lines
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
    let (intro, items) = match (&exp.parent, all) {
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
            (exp.config.settings().into_iter())
                .map(|(k, v)| format!("{k} = {v}"))
                .collect(),
        ),
    };
    wrap(intro, &items, WIDTH)
}

/// `key = value` for each setting of `config` whose value differs from
/// `base`'s (or that `base` lacks), in `config`'s order.
fn differing(base: &RunConfig, config: &RunConfig) -> Vec<String> {
    let base = base.settings();
    (config.settings().into_iter())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata::shipped;
    use crate::{Overrides, load_dir, plan};

    fn shipped_plan(overrides: &Overrides) -> (Vec<Experiment>, Vec<RunSpec>) {
        let experiments = load_dir(&shipped()).unwrap();
        let runs = plan(&experiments, overrides, &["data".to_string()], 1);
        (experiments, runs)
    }

    fn find<'a>(experiments: &'a [Experiment], name: &str) -> &'a Experiment {
        experiments.iter().find(|e| e.name == name).unwrap()
    }

    fn marked<'a>(runs: &'a [RunSpec], name: &str) -> Vec<(&'a RunSpec, String)> {
        (runs.iter().filter(|r| r.experiment == name))
            .map(|r| (r, format!("mark{}", r.seed)))
            .collect()
    }

    #[test]
    fn a_block_places_the_experiment_and_lists_its_runs_with_their_marks() {
        let (experiments, runs) = shipped_plan(&Overrides::default());
        let text = block(
            find(&experiments, "baseline"),
            &marked(&runs, "baseline"),
            false,
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "baseline  (FIG. 2, Table I, section III; claims C1, C2)"
        );
        // No parent: every setting, wrapped.
        assert!(lines[1].starts_with("    settings: "), "{text}");
        assert!(text.contains("optimizer.lr = 0.001"), "{text}");
        assert!(lines.iter().all(|l| l.len() <= WIDTH + 4), "{text}");
        let seeds: Vec<&str> = lines
            .iter()
            .copied()
            .filter(|l| l.contains(" run "))
            .collect();
        assert_eq!(seeds.len(), 3);
        let first = runs.iter().find(|r| r.experiment == "baseline").unwrap();
        assert_eq!(
            seeds[0],
            format!("    seed 0   run {}  mark0", first.run_id)
        );
        assert!(!text.contains("this plan trains it with"), "{text}");
    }

    #[test]
    fn a_variation_shows_what_differs_from_its_parent_and_from_the_plan() {
        let overrides = Overrides {
            epochs: Some(3),
            ..Overrides::default()
        };
        let (experiments, runs) = shipped_plan(&overrides);
        let name = "hypothesis-momentum-0.9";
        let exp = find(&experiments, name);
        let text = block(exp, &marked(&runs, name), false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], format!("{name}  (section II)  (hypothesis)"));
        assert_eq!(
            lines[1],
            "    differs from the file it extends in optimizer.momentum = 0.9"
        );
        assert_eq!(lines[2], "    this plan trains it with training.epochs = 3");
        // `--all` shows every setting instead.
        let all = block(exp, &marked(&runs, name), true);
        assert!(
            all.lines().nth(1).unwrap().starts_with("    settings: "),
            "{all}"
        );
        assert!(all.contains("optimizer.momentum = 0.9"), "{all}");
    }

    #[test]
    fn a_pruned_sweep_costs_what_its_rungs_keep() {
        let (experiments, runs) = shipped_plan(&Overrides::default());
        let lines = pruning_costs(&experiments, &runs);
        let pruned: Vec<&String> = (lines.iter())
            .filter(|l| l.starts_with("pruned sweep lr-sweep-pruned:"))
            .collect();
        assert_eq!(
            pruned.len(),
            1,
            "one line per sweep, not per point: {lines:?}"
        );
        // The file's own comment: 111 of the full grid's 420 epochs per seed.
        assert!(
            pruned[0].starts_with(
                "pruned sweep lr-sweep-pruned: 14 points x 3 seed(s), rungs at epochs 3, 9, 27"
            ),
            "{}",
            pruned[0]
        );
        assert!(
            pruned[0].ends_with(": 333 epochs pruned, 1260 unpruned (26%)\n"),
            "{}",
            pruned[0]
        );
        // A sweep without `[sweep.prune]` has no line.
        assert!(
            lines
                .iter()
                .all(|l| !l.starts_with("pruned sweep lr-sweep:"))
        );
    }

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
