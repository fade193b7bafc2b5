//! The report directory as files: each file reaches its name by a rename,
//! is left untouched when its bytes have not changed (so modification times
//! say what changed, for make-like tools), and files an earlier report wrote
//! that this one no longer writes are removed.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use fmnist_metrics::atomic_write;

use crate::error::{FiguresError, io};

/// The subdirectories of the report directory that belong to the report:
/// stale artefacts are removed from these, and from nowhere else.
pub(crate) const OWNED_DIRS: [&str; 3] = ["figures", "tables", "details"];

/// The kinds of file the report writes; anything else in its directories is
/// someone else's and is left alone.
const ARTEFACT_EXTENSIONS: [&str; 7] = ["png", "svg", "md", "tex", "csv", "json", "pdf"];

/// `stem` with `.ext` appended; `Path::with_extension` would eat a dot in
/// the stem ("lr-0.01").
pub(crate) fn with_ext(stem: &Path, ext: &str) -> PathBuf {
    let mut s = OsString::from(stem.as_os_str());
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

/// Writes `bytes` to `path` unless it already holds exactly them; `true`
/// when the file was (re)written.
pub(crate) fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<bool, FiguresError> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(false);
    }
    atomic_write(path, bytes)?;
    Ok(true)
}

/// Renames the finished temporary file `tmp` to `path`, or removes it when
/// `path` already holds the same bytes; `true` when `path` was replaced.
pub(crate) fn publish(tmp: &Path, path: &Path) -> Result<bool, FiguresError> {
    let same = match (std::fs::read(tmp), std::fs::read(path)) {
        (Ok(new), Ok(old)) => new == old,
        _ => false,
    };
    if same {
        std::fs::remove_file(tmp).map_err(io(tmp))?;
        return Ok(false);
    }
    std::fs::rename(tmp, path).map_err(|source| {
        let _ = std::fs::remove_file(tmp);
        FiguresError::Io {
            path: path.to_path_buf(),
            source,
        }
    })?;
    Ok(true)
}

/// Removes every report artefact in `out_dir`'s [`OWNED_DIRS`] that is not in
/// `keep`, and returns what it removed, sorted. Hidden files (another
/// writer's temporary files) and subdirectories are left alone.
pub(crate) fn remove_stale(
    out_dir: &Path,
    keep: &BTreeSet<PathBuf>,
) -> Result<Vec<PathBuf>, FiguresError> {
    let mut removed = Vec::new();
    for sub in OWNED_DIRS {
        let dir = out_dir.join(sub);
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io(&dir)(e)),
        };
        for entry in entries {
            let entry = entry.map_err(io(&dir))?;
            let path = entry.path();
            let is_file = entry.file_type().map_err(io(&path))?.is_file();
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            let artefact = path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| ARTEFACT_EXTENSIONS.contains(&e));
            if is_file && !hidden && artefact && !keep.contains(&path) {
                std::fs::remove_file(&path).map_err(io(&path))?;
                removed.push(path);
            }
        }
    }
    removed.sort();
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mtime(p: &Path) -> std::time::SystemTime {
        std::fs::metadata(p).unwrap().modified().unwrap()
    }

    #[test]
    fn unchanged_bytes_are_not_rewritten() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("t/a.md");
        assert!(write_if_changed(&p, b"one").unwrap());
        // Make a rewrite visible in the modification time.
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        std::fs::File::options()
            .write(true)
            .open(&p)
            .unwrap()
            .set_modified(old)
            .unwrap();
        assert!(!write_if_changed(&p, b"one").unwrap());
        assert_eq!(mtime(&p), old);
        assert!(write_if_changed(&p, b"two").unwrap());
        assert_eq!(std::fs::read(&p).unwrap(), b"two");

        let t = tmp.path().join("t/.a.tmp");
        std::fs::write(&t, b"two").unwrap();
        assert!(!publish(&t, &p).unwrap());
        assert!(!t.exists());
        std::fs::write(&t, b"three").unwrap();
        assert!(publish(&t, &p).unwrap());
        assert!(!t.exists());
        assert_eq!(std::fs::read(&p).unwrap(), b"three");
    }

    #[test]
    fn only_unlisted_artefacts_in_owned_directories_are_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path();
        let files = [
            "figures/a.png",
            "figures/b.png",
            "figures/b.svg",
            "figures/notes.txt",
            "figures/.b.png.1.tmp.png",
            "figures/keep/c.png",
            "tables/results.md",
            "tables/old.tex",
            "REPORT.md",
            "elsewhere/d.png",
        ];
        for f in files {
            let p = out.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, f).unwrap();
        }
        let keep: BTreeSet<PathBuf> = ["figures/a.png", "tables/results.md"]
            .iter()
            .map(|f| out.join(f))
            .collect();
        let removed = remove_stale(out, &keep).unwrap();
        assert_eq!(
            removed,
            [
                out.join("figures/b.png"),
                out.join("figures/b.svg"),
                out.join("tables/old.tex")
            ]
        );
        for f in files {
            let gone = removed.contains(&out.join(f));
            assert_eq!(out.join(f).exists(), !gone, "{f}");
        }
        // Nothing to do in a directory that does not exist yet.
        assert!(remove_stale(&out.join("new"), &keep).unwrap().is_empty());
    }
}
