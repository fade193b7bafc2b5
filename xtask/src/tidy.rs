//! Tidy checks of the repository's own text (as rust-analyzer's tidy tests):
//! ARCHITECTURE.md names only paths that exist, the crate layering it
//! states is the one `cargo metadata` shows, including the invariants on
//! which crates may link plotters or candle, and no function outside the
//! tests is longer than 80 lines.

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

    // ------------------------------------------------------ function length

    /// The longest a function may be, from its `fn` line to its closing
    /// brace, outside the tests.
    const MAX_FN_LINES: usize = 80;

    /// `src` with comments, string and character literals blanked (each
    /// character a space, newlines kept), so that every brace and `fn` left
    /// is code.
    fn blank(src: &str) -> Vec<char> {
        let c: Vec<char> = src.chars().collect();
        let mut out = c.clone();
        let clear = |out: &mut Vec<char>, from: usize, to: usize| {
            for x in &mut out[from..to.min(c.len())] {
                if *x != '\n' {
                    *x = ' ';
                }
            }
        };
        let ident = |i: usize| i > 0 && (c[i - 1].is_alphanumeric() || c[i - 1] == '_');
        let at = |i: usize, s: &str| s.chars().enumerate().all(|(k, x)| c.get(i + k) == Some(&x));
        let mut i = 0;
        while i < c.len() {
            let end = if at(i, "//") {
                (i..c.len()).find(|&j| c[j] == '\n').unwrap_or(c.len())
            } else if at(i, "/*") {
                block_comment_end(&c, i)
            } else if (at(i, "r\"") || at(i, "r#") || at(i, "br\"") || at(i, "br#")) && !ident(i) {
                raw_string_end(&c, i)
            } else if c[i] == '"' {
                let mut j = i + 1;
                while j < c.len() && c[j] != '"' {
                    j += if c[j] == '\\' { 2 } else { 1 };
                }
                j + 1
            } else if c[i] == '\'' && c.get(i + 1) == Some(&'\\') {
                (i + 3..c.len())
                    .find(|&j| c[j] == '\'')
                    .map_or(c.len(), |j| j + 1)
            } else if c[i] == '\'' && c.get(i + 2) == Some(&'\'') {
                i + 3
            } else {
                // Code, or a lifetime or label (`'a`).
                i += 1;
                continue;
            };
            clear(&mut out, i, end);
            i = end;
        }
        out
    }

    /// Where the (nested) block comment starting at `i` ends.
    fn block_comment_end(c: &[char], mut i: usize) -> usize {
        let mut depth = 0;
        while i < c.len() {
            if c[i..].starts_with(&['/', '*']) {
                depth += 1;
                i += 2;
            } else if c[i..].starts_with(&['*', '/']) {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return i;
                }
            } else {
                i += 1;
            }
        }
        c.len()
    }

    /// Where the raw string (`r"..."`, `br##"..."##`) starting at `i` ends.
    fn raw_string_end(c: &[char], i: usize) -> usize {
        let mut j = i + if c[i] == 'b' { 2 } else { 1 };
        let hashes = c[j..].iter().take_while(|&&x| x == '#').count();
        j += hashes;
        if c.get(j) != Some(&'"') {
            return i + 1; // `r#ident`, not a string
        }
        let close: Vec<char> = std::iter::once('"')
            .chain(std::iter::repeat_n('#', hashes))
            .collect();
        (j + 1..c.len())
            .find(|&k| c[k..].starts_with(&close))
            .map_or(c.len(), |k| k + close.len())
    }

    /// The index of the brace closing the one at `open`.
    fn closing(c: &[char], open: usize) -> usize {
        let mut depth = 0;
        for (j, &x) in c.iter().enumerate().skip(open) {
            match x {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        return j;
                    }
                }
                _ => {}
            }
        }
        c.len() - 1
    }

    /// Where the item starting at `i` has its body (`{`), or `None` where it
    /// ends with `;` first (outside parentheses and brackets).
    fn body_start(c: &[char], i: usize) -> Option<usize> {
        let mut depth = 0i32;
        for (j, &x) in c.iter().enumerate().skip(i) {
            match x {
                '(' | '[' => depth += 1,
                ')' | ']' => depth -= 1,
                ';' if depth == 0 => return None,
                '{' if depth == 0 => return Some(j),
                _ => {}
            }
        }
        None
    }

    /// What a `#[cfg(test)]` item spans: (the code blocks to skip, the names
    /// of the modules declared in files of their own).
    fn test_items(c: &[char]) -> (Vec<(usize, usize)>, Vec<String>) {
        let text: String = c.iter().collect();
        let (mut blocks, mut files) = (Vec::new(), Vec::new());
        // Byte offsets of an ASCII marker in `text`, turned into char offsets.
        for (byte, _) in text.match_indices("#[cfg(test)]") {
            let i = text[..byte].chars().count();
            match body_start(c, i) {
                Some(open) => blocks.push((i, closing(c, open))),
                None => {
                    let end = (i..c.len()).find(|&j| c[j] == ';').unwrap_or(c.len());
                    let item: String = c[i + "#[cfg(test)]".len()..end].iter().collect();
                    let words: Vec<&str> = item.split_whitespace().collect();
                    if let Some(k) = words.iter().position(|w| *w == "mod") {
                        files.extend(words.get(k + 1).map(|n| n.to_string()));
                    }
                }
            }
        }
        (blocks, files)
    }

    /// The functions of `src` outside `#[cfg(test)]` items: (name, line of
    /// `fn`, lines from `fn` to the closing brace); and the modules it
    /// declares as `#[cfg(test)] mod NAME;`.
    fn functions(src: &str) -> (Vec<(String, usize, usize)>, Vec<String>) {
        let c = blank(src);
        let (skip, test_files) = test_items(&c);
        let line = |i: usize| c[..i].iter().filter(|&&x| x == '\n').count() + 1;
        let word = |i: usize| i == 0 || !(c[i - 1].is_alphanumeric() || c[i - 1] == '_');
        let mut found = Vec::new();
        for i in 0..c.len().saturating_sub(3) {
            let is_fn = c[i] == 'f' && c[i + 1] == 'n' && c[i + 2].is_whitespace() && word(i);
            if !is_fn || skip.iter().any(|&(a, b)| a <= i && i <= b) {
                continue;
            }
            let name: String = c[i + 2..]
                .iter()
                .skip_while(|x| x.is_whitespace())
                .take_while(|x| x.is_alphanumeric() || **x == '_' || **x == '$')
                .collect();
            if name.is_empty() {
                continue;
            }
            if let Some(open) = body_start(&c, i) {
                found.push((name, line(i), line(closing(&c, open)) - line(i) + 1));
            }
        }
        (found, test_files)
    }

    /// The `.rs` files under `dir`, recursively, sorted.
    fn rust_files(dir: &Path) -> Vec<PathBuf> {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files.extend(rust_files(&path));
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
        files.sort();
        files
    }

    /// Every function longer than [`MAX_FN_LINES`] in the `src` folders of
    /// the crates and of xtask, tests left out, as `path:line name (n lines)`.
    fn long_functions() -> Vec<String> {
        let mut dirs = vec![root().join("xtask/src")];
        for krate in std::fs::read_dir(root().join("crates")).unwrap() {
            dirs.push(krate.unwrap().path().join("src"));
        }
        dirs.sort();
        let files: Vec<PathBuf> = dirs
            .iter()
            .filter(|d| d.is_dir())
            .flat_map(|d| rust_files(d))
            .collect();
        let mut tests = BTreeSet::new();
        let mut long = Vec::new();
        for path in &files {
            let (found, test_files) = functions(&std::fs::read_to_string(path).unwrap());
            let stem = path.file_stem().unwrap().to_str().unwrap();
            let dir = match stem {
                "lib" | "main" | "mod" => path.parent().unwrap().to_path_buf(),
                _ => path.with_extension(""),
            };
            for name in test_files {
                tests.insert(dir.join(format!("{name}.rs")));
                tests.insert(dir.join(&name).join("mod.rs"));
            }
            for (name, line, n) in found.into_iter().filter(|f| f.2 > MAX_FN_LINES) {
                long.push((path.clone(), format!("{line} {name} ({n} lines)")));
            }
        }
        long.into_iter()
            .filter(|(path, _)| !tests.contains(path))
            .map(|(path, what)| {
                let path = path
                    .strip_prefix(root())
                    .unwrap_or(&path)
                    .display()
                    .to_string();
                format!("{path}:{what}")
            })
            .collect()
    }

    #[test]
    fn no_function_outside_the_tests_is_longer_than_80_lines() {
        let long = long_functions();
        assert!(
            long.is_empty(),
            "functions longer than {MAX_FN_LINES} lines (split them):\n{}",
            long.join("\n")
        );
    }

    /// A function of `body` lines between its `fn` line and its brace.
    fn synthetic(name: &str, body: usize) -> String {
        let lines: Vec<String> = (0..body).map(|k| format!("    let x{k} = {k};")).collect();
        format!("fn {name}() {{\n{}\n}}\n", lines.join("\n"))
    }

    #[test]
    fn the_length_scanner_counts_code_not_text_and_leaves_out_tests() {
        let src = format!(
            "{}\n{}\n#[cfg(test)]\nmod tests {{\n{}}}\n#[cfg(test)]\nmod more;\n",
            synthetic("short", 78),
            synthetic("long", 79),
            synthetic("in_tests", 200),
        );
        let (found, test_files) = functions(&src);
        let lengths: Vec<(&str, usize)> = found.iter().map(|f| (f.0.as_str(), f.2)).collect();
        assert_eq!(lengths, [("short", 80), ("long", 81)]);
        assert_eq!(test_files, ["more"]);
        // Braces and `fn` inside comments, strings, raw strings and character
        // literals are text; lifetimes are code; a declaration has no body.
        let tricky = "/// fn doc() {\nfn a<'x>(s: &'x str) -> char {\n    let _ = \"}\\\"}\";\n    \
            let _ = r#\"}\"}\"#;\n    /* } /* } */ */\n    let _ = '}';\n    let _ = '\\'';\n    \
            '{'\n}\ntrait T { fn b(&self) -> [u8; 2]; }\nfn c(f: fn(u8) -> u8) {}\n";
        let (found, _) = functions(tricky);
        let lengths: Vec<(&str, usize, usize)> =
            found.iter().map(|f| (f.0.as_str(), f.1, f.2)).collect();
        assert_eq!(lengths, [("a", 2, 8), ("c", 11, 1)]);
    }
}
