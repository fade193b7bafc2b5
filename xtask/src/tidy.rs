//! Tidy checks of the repository's own text (as rust-analyzer's tidy tests):
//! ARCHITECTURE.md names only paths that exist, and the crate layering it
//! states is the one `cargo metadata` shows, including the invariants on
//! which crates may link plotters or candle.

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::{Path, PathBuf};

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    fn architecture() -> String {
        std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap()
    }

    /// The host's target triple, from `rustc -vV`.
    fn host() -> String {
        let out = std::process::Command::new("rustc")
            .arg("-vV")
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix("host: "))
            .expect("rustc -vV names the host")
            .to_string()
    }

    /// `cargo metadata` of the workspace, resolved for this host (offline:
    /// the lock file's other platforms' crates need not be downloaded).
    fn metadata() -> serde_json::Value {
        let out = std::process::Command::new(env!("CARGO"))
            .args([
                "metadata",
                "--format-version",
                "1",
                "--offline",
                "--filter-platform",
            ])
            .arg(host())
            .current_dir(root())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Every path in backquotes that starts with a top-level folder of the
    /// repository exists.
    #[test]
    fn every_path_architecture_md_names_exists() {
        let text = architecture();
        let tops = [
            "crates/",
            "xtask/",
            "experiments/",
            "data/",
            "reports/",
            "docs/",
            ".ci/",
        ];
        let mut checked = 0;
        for quoted in text.split('`').skip(1).step_by(2) {
            let Some(path) = quoted.split_whitespace().next() else {
                continue;
            };
            if !tops.iter().any(|t| path.starts_with(t)) {
                continue;
            }
            // `runs/<run_id>/...` and the like are layouts, not paths.
            if path.contains('<') || path.contains('{') || path.contains('*') {
                continue;
            }
            let path = path.trim_end_matches([',', '.', ')', ':']);
            assert!(
                root().join(path).exists(),
                "ARCHITECTURE.md names `{path}`, which does not exist"
            );
            checked += 1;
        }
        assert!(
            checked > 20,
            "only {checked} paths found: did the format change?"
        );
    }

    /// The layering list of ARCHITECTURE.md: crate -> its workspace dependencies.
    fn stated_layering() -> BTreeMap<String, BTreeSet<String>> {
        let text = architecture();
        let start = text.find("<!-- layering -->").expect("a layering list");
        let end = text.find("<!-- /layering -->").expect("its end");
        text[start..end]
            .lines()
            .filter_map(|l| l.strip_prefix("- "))
            .map(|l| {
                let (name, deps) = l.split_once(':').expect("crate: deps");
                let deps = deps
                    .split(',')
                    .map(str::trim)
                    .filter(|d| !d.is_empty())
                    .map(String::from)
                    .collect();
                (name.trim().to_string(), deps)
            })
            .collect()
    }

    /// Each workspace crate's normal (not dev, not build) dependencies on
    /// other workspace crates, from `cargo metadata`.
    fn actual_layering(meta: &serde_json::Value) -> BTreeMap<String, BTreeSet<String>> {
        let members: BTreeSet<String> = meta["packages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["source"].is_null())
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect();
        meta["packages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["source"].is_null() && p["name"] != "xtask")
            .map(|p| {
                let deps = p["dependencies"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|d| d["kind"].is_null())
                    .map(|d| d["name"].as_str().unwrap().to_string())
                    .filter(|d| members.contains(d))
                    .collect();
                (p["name"].as_str().unwrap().to_string(), deps)
            })
            .collect()
    }

    #[test]
    fn the_layering_architecture_md_states_is_cargo_s() {
        let stated = stated_layering();
        let actual = actual_layering(&metadata());
        assert_eq!(
            stated, actual,
            "ARCHITECTURE.md's layering list against cargo metadata"
        );
    }

    /// Every package `name` links, through normal dependencies.
    fn links(meta: &serde_json::Value, name: &str) -> BTreeSet<String> {
        let nodes = meta["resolve"]["nodes"].as_array().unwrap();
        let name_of = |id: &str| -> String {
            meta["packages"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["id"] == id)
                .map(|p| p["name"].as_str().unwrap().to_string())
                .unwrap()
        };
        let start = meta["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name && p["source"].is_null())
            .map(|p| p["id"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("no workspace crate {name}"));
        let mut seen = BTreeSet::new();
        let mut todo = vec![start];
        while let Some(id) = todo.pop() {
            if !seen.insert(id.clone()) {
                continue;
            }
            let node = nodes.iter().find(|n| n["id"] == id.as_str()).unwrap();
            for dep in node["deps"].as_array().unwrap() {
                let normal = dep["dep_kinds"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|k| k["kind"].is_null());
                if normal {
                    todo.push(dep["pkg"].as_str().unwrap().to_string());
                }
            }
        }
        seen.iter().map(|id| name_of(id)).collect()
    }

    #[test]
    fn nothing_that_plans_or_trains_links_plotters_and_no_report_crate_links_candle() {
        let meta = metadata();
        for name in [
            "fmnist-experiments",
            "fmnist-train",
            "fmnist-runner",
            "fmnist-metrics",
            "fmnist-claims",
        ] {
            assert!(
                !links(&meta, name).contains("plotters"),
                "{name} links plotters"
            );
        }
        for name in [
            "fmnist-experiments",
            "fmnist-metrics",
            "fmnist-stats",
            "fmnist-claims",
            "fmnist-report",
            "fmnist-summary",
        ] {
            assert!(
                !links(&meta, name).contains("candle-core"),
                "{name} links candle"
            );
        }
        assert!(
            links(&meta, "fmnist-figures").contains("plotters"),
            "the check sees plotters"
        );
    }
}
