//! Locking a run, so that two processes sharing a results directory never
//! train (and write) the same run at once.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{MetricsError, io};

/// Holding a lock means this process alone may train the run; dropping it
/// releases the run.
#[derive(Debug)]
pub struct RunLock {
    path: PathBuf,
}

impl Drop for RunLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[derive(Debug)]
pub enum LockOutcome {
    Acquired(RunLock),
    /// Another live process holds it; `holder` says which ("host pid N").
    HeldBy {
        holder: String,
    },
}

pub(crate) fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown-host".to_string())
}

pub(crate) fn process_alive(pid: u32) -> bool {
    // Without /proc (not Linux) a lock is never judged stale: safe, if slower.
    !Path::new("/proc/self").exists() || Path::new(&format!("/proc/{pid}")).exists()
}

pub(crate) fn acquire(lock_dir: &Path, run_id: &str) -> Result<LockOutcome, MetricsError> {
    std::fs::create_dir_all(lock_dir).map_err(io(lock_dir))?;
    let path = lock_dir.join(format!("{run_id}.lock"));
    let me = format!("{} pid {}", host_name(), std::process::id());
    for _ in 0..3 {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                f.write_all(me.as_bytes()).map_err(io(&path))?;
                return Ok(LockOutcome::Acquired(RunLock { path }));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let holder = std::fs::read_to_string(&path).unwrap_or_default();
                if is_stale(&holder) {
                    // The holder died without releasing (SIGKILL): take over.
                    let _ = std::fs::remove_file(&path);
                    continue;
                }
                return Ok(LockOutcome::HeldBy { holder });
            }
            Err(e) => return Err(io(&path)(e)),
        }
    }
    Ok(LockOutcome::HeldBy {
        holder: std::fs::read_to_string(&path).unwrap_or_default(),
    })
}

/// A lock is stale when it names a dead process on this host. Locks of other
/// hosts (a cluster's nodes) are trusted: we cannot see their processes.
fn is_stale(holder: &str) -> bool {
    let mut parts = holder.rsplitn(3, ' ');
    let (Some(pid), Some("pid"), Some(host)) = (parts.next(), parts.next(), parts.next()) else {
        // Empty or half-written: its writer died between create and write.
        return true;
    };
    host == host_name() && pid.parse().is_ok_and(|pid: u32| !process_alive(pid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_excludes_others_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = acquire(dir.path(), "r1").unwrap();
        assert!(matches!(first, LockOutcome::Acquired(_)));
        match acquire(dir.path(), "r1").unwrap() {
            LockOutcome::HeldBy { holder } => {
                assert!(holder.contains(&std::process::id().to_string()))
            }
            LockOutcome::Acquired(_) => panic!("claimed twice"),
        }
        assert!(matches!(
            acquire(dir.path(), "r2").unwrap(),
            LockOutcome::Acquired(_)
        ));
        drop(first);
        assert!(matches!(
            acquire(dir.path(), "r1").unwrap(),
            LockOutcome::Acquired(_)
        ));
    }

    #[test]
    fn a_lock_of_a_dead_process_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        // pid_max on Linux is at most 2^22, so this pid cannot be alive.
        std::fs::write(
            dir.path().join("r.lock"),
            format!("{} pid 99999999", host_name()),
        )
        .unwrap();
        assert!(matches!(
            acquire(dir.path(), "r").unwrap(),
            LockOutcome::Acquired(_)
        ));
        std::fs::write(dir.path().join("s.lock"), "other-host pid 99999999").unwrap();
        assert!(matches!(
            acquire(dir.path(), "s").unwrap(),
            LockOutcome::HeldBy { .. }
        ));
    }
}
