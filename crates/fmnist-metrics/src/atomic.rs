//! Replacing a file whole: what every write into the results directory
//! (tables, manifests, weights, checkpoints, locks) goes through.

use std::io::Write;
use std::path::Path;

use crate::error::{MetricsError, io};

/// Writes `bytes` to `path` through a temporary file in the same directory and
/// a rename, so that `path` holds either the old content or the new, whole.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), MetricsError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io(path))
}
