//! Locking a run, so that two processes sharing a results directory never
//! train (and write) the same run at once.
//!
//! A lock file names its holder (`host pid N`) and carries a lease: the time
//! until which the holder vouches for it. The holder renews the lease while it
//! trains. A lock is stale, and taken over, when its holder is a dead process
//! on this host (seen at once) or when its lease has expired (a process on a
//! node that crashed, whose processes this host cannot see).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::error::{MetricsError, io};
use crate::time::unix_seconds;

/// How long a lease lasts without renewal. A holder renews it every
/// [`RENEW_EVERY`], so only a holder that stopped running lets it expire.
pub const LEASE: Duration = Duration::from_secs(120);
/// How often [`RunLock::renew`] actually rewrites the lease.
pub const RENEW_EVERY: Duration = Duration::from_secs(20);

/// Holding a lock means this process alone may train the run; dropping it
/// releases the run.
#[derive(Debug)]
pub struct RunLock {
    path: PathBuf,
    renewed: SystemTime,
    lease: Duration,
    took_over: Option<String>,
}

impl RunLock {
    /// Extends the lease if it was last renewed more than [`RENEW_EVERY`]
    /// ago; cheap enough to call after every batch.
    pub fn renew(&mut self) -> Result<(), MetricsError> {
        let now = SystemTime::now();
        if now
            .duration_since(self.renewed)
            .is_ok_and(|d| d < RENEW_EVERY)
        {
            return Ok(());
        }
        crate::atomic::atomic_write(&self.path, holder_text(now + self.lease).as_bytes())?;
        self.renewed = now;
        Ok(())
    }

    /// The holder whose stale lock this one replaced, and why it was stale.
    pub fn took_over(&self) -> Option<&str> {
        self.took_over.as_deref()
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[derive(Debug)]
pub enum LockOutcome {
    Acquired(RunLock),
    /// Another live process holds it; `holder` says which ("host pid N, lease
    /// until ...").
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

fn holder_text(expires: SystemTime) -> String {
    format!(
        "{} pid {}\nlease until {:.0} ({})\n",
        host_name(),
        std::process::id(),
        unix_seconds(expires),
        crate::time::rfc3339(expires)
    )
}

pub(crate) fn acquire(lock_dir: &Path, run_id: &str) -> Result<LockOutcome, MetricsError> {
    acquire_with_lease(lock_dir, run_id, LEASE)
}

fn acquire_with_lease(
    lock_dir: &Path,
    run_id: &str,
    lease: Duration,
) -> Result<LockOutcome, MetricsError> {
    std::fs::create_dir_all(lock_dir).map_err(io(lock_dir))?;
    let path = lock_dir.join(format!("{run_id}.lock"));
    let mut took_over = None;
    for _ in 0..3 {
        let now = SystemTime::now();
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(f) => {
                drop(f);
                // Written whole by rename, so a reader never sees half a lease.
                crate::atomic::atomic_write(&path, holder_text(now + lease).as_bytes())?;
                return Ok(LockOutcome::Acquired(RunLock {
                    path,
                    renewed: now,
                    lease,
                    took_over,
                }));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let holder = std::fs::read_to_string(&path).unwrap_or_default();
                if let Some(why) = stale(&holder, now, &path) {
                    took_over = Some(format!("{} ({why})", first_line(&holder)));
                    let _ = std::fs::remove_file(&path);
                    continue;
                }
                return Ok(LockOutcome::HeldBy {
                    holder: holder.trim().replace('\n', ", "),
                });
            }
            Err(e) => return Err(io(&path)(e)),
        }
    }
    Ok(LockOutcome::HeldBy {
        holder: std::fs::read_to_string(&path)
            .unwrap_or_default()
            .trim()
            .replace('\n', ", "),
    })
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("").trim()
}

/// Why the lock is stale, or `None` if its holder may still be training.
fn stale(holder: &str, now: SystemTime, path: &Path) -> Option<String> {
    let mut parts = first_line(holder).rsplitn(3, ' ');
    let (Some(pid), Some("pid"), Some(host)) = (parts.next(), parts.next(), parts.next()) else {
        // Empty: its writer is between create and the first write, or died
        // there. Give a live writer a moment before calling it dead.
        let age = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|m| now.duration_since(m).ok());
        return age
            .is_none_or(|a| a > Duration::from_secs(5))
            .then(|| "empty lock file".to_string());
    };
    if host == host_name() && pid.parse().is_ok_and(|pid: u32| !process_alive(pid)) {
        return Some("that process is gone".into());
    }
    let until = holder
        .lines()
        .nth(1)
        .and_then(|l| l.strip_prefix("lease until "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|s| s.parse::<f64>().ok());
    match until {
        Some(until) if unix_seconds(now) > until => Some(format!(
            "its lease expired {:.0} s ago",
            unix_seconds(now) - until
        )),
        Some(_) => None,
        // A lock written by an older version, without a lease: judged by its
        // file's age against one lease.
        None => std::fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .is_some_and(|age| age > LEASE)
            .then(|| "no lease, and older than one".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_excludes_others_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = acquire(dir.path(), "r1").unwrap();
        assert!(matches!(first, LockOutcome::Acquired(_)));
        match acquire(dir.path(), "r1").unwrap() {
            LockOutcome::HeldBy { holder } => {
                assert!(holder.contains(&std::process::id().to_string()));
                assert!(holder.contains("lease until"), "{holder}");
            }
            LockOutcome::Acquired(_) => panic!("locked twice"),
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
            format!(
                "{} pid 99999999\nlease until 99999999999 (far)\n",
                host_name()
            ),
        )
        .unwrap();
        let LockOutcome::Acquired(lock) = acquire(dir.path(), "r").unwrap() else {
            panic!("not taken over");
        };
        assert!(lock.took_over().unwrap().contains("that process is gone"));
        // Another host's process with a live lease is trusted.
        std::fs::write(
            dir.path().join("s.lock"),
            "other-host pid 1\nlease until 99999999999 (far)\n",
        )
        .unwrap();
        assert!(matches!(
            acquire(dir.path(), "s").unwrap(),
            LockOutcome::HeldBy { .. }
        ));
    }

    #[test]
    fn an_expired_lease_of_another_host_is_taken_over_saying_so() {
        let dir = tempfile::tempdir().unwrap();
        let expired = unix_seconds(SystemTime::now()) - 30.0;
        std::fs::write(
            dir.path().join("r.lock"),
            format!("crashed-node pid 4242\nlease until {expired:.0} (then)\n"),
        )
        .unwrap();
        let LockOutcome::Acquired(lock) = acquire(dir.path(), "r").unwrap() else {
            panic!("an expired lease must not block the run");
        };
        let why = lock.took_over().unwrap();
        assert!(why.starts_with("crashed-node pid 4242"), "{why}");
        assert!(why.contains("lease expired"), "{why}");
    }

    #[test]
    fn renewing_extends_the_lease_so_others_keep_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let LockOutcome::Acquired(mut lock) =
            acquire_with_lease(dir.path(), "r", Duration::from_secs(1)).unwrap()
        else {
            panic!()
        };
        let read_until = || {
            let text = std::fs::read_to_string(dir.path().join("r.lock")).unwrap();
            text.lines()
                .nth(1)
                .unwrap()
                .split_whitespace()
                .nth(2)
                .unwrap()
                .parse::<f64>()
                .unwrap()
        };
        let before = read_until();
        // Pretend the last renewal is old, so this call rewrites the lease.
        lock.renewed = SystemTime::now() - RENEW_EVERY * 2;
        lock.lease = LEASE;
        lock.renew().unwrap();
        assert!(read_until() >= before + LEASE.as_secs_f64() - 2.0);
        // A fresh renewal is a no-op (no write per batch).
        let text = std::fs::read_to_string(dir.path().join("r.lock")).unwrap();
        lock.renew().unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("r.lock")).unwrap(),
            text
        );
    }
}
