//! Obtaining verified copies of the data files in a data directory.
//!
//! For each file of the manifest the sources are tried in one order: the copy
//! already in the data directory; then every mirror the user names,
//! directories and URLs alike, in the order given; then the manifest's local
//! mirror directories (Debian's package); then its public URLs. A
//! copy or download is streamed into a temp file beside its destination,
//! hashed on the way (decompressed payload), and renamed into place only if
//! it matches the manifest, so the final name never holds unverified bytes
//! and a bad file already there is only ever replaced by a good one.

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::verify::{self, Depth, StreamError};
use crate::{DataError, FileSpec, Manifest, Source};

/// How `fetch` looks for files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchOptions {
    /// Where the .gz files end up.
    pub data_dir: PathBuf,
    /// Mirrors given by the user, directories or URLs; tried in this order,
    /// before any of the manifest's.
    pub extra_mirrors: Vec<Source>,
    /// Also try the manifest's `local_mirrors` directories.
    pub use_default_local: bool,
    /// Also try the manifest's public URL `mirrors`.
    pub use_public: bool,
    /// Limit for connecting, for the response headers, and for each read of
    /// the body (so a stalled transfer fails, a slow one does not).
    pub timeout: Duration,
    /// Extra attempts per URL after a transient failure (connection error,
    /// timeout, HTTP 5xx/408/429).
    pub retries: u32,
    /// Wait before the first retry; doubled for each further one.
    pub backoff: Duration,
}

impl FetchOptions {
    /// Defaults: local and public mirrors on, 30 s timeout,
    /// 3 retries starting at 500 ms.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        FetchOptions {
            data_dir: data_dir.into(),
            extra_mirrors: Vec::new(),
            use_default_local: true,
            use_public: true,
            timeout: Duration::from_secs(30),
            retries: 3,
            backoff: Duration::from_millis(500),
        }
    }

    /// The mirrors `fetch` will try after the data directory, in order: the
    /// user's (as given), the manifest's local directories, its public URLs;
    /// each source once.
    pub fn sources(&self, manifest: &Manifest) -> Vec<Source> {
        let local = manifest
            .local_mirrors
            .iter()
            .filter(|_| self.use_default_local)
            .map(|d| Source::Dir(d.clone()));
        let public = manifest
            .mirrors
            .iter()
            .filter(|_| self.use_public)
            .map(|u| Source::Url(u.clone()));
        let mut out: Vec<Source> = Vec::new();
        for s in self
            .extra_mirrors
            .iter()
            .cloned()
            .chain(local)
            .chain(public)
        {
            if !out.contains(&s) {
                out.push(s);
            }
        }
        out
    }
}

/// What [`fetch()`] reports as it goes. This crate draws nothing: the caller
/// turns these into progress bars or log lines (or ignores them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchEvent<'a> {
    /// One line about one file: already present, copied, downloaded, or a
    /// source that failed and why.
    Note(String),
    /// Bytes start to flow for `file`; `total` is the size of the .gz if known.
    Transfer { file: &'a str, total: Option<u64> },
    /// `n` more bytes of the current transfer have been read and hashed.
    Progress(u64),
    /// The current transfer ended, delivered or not.
    TransferEnd,
}

/// What `fetch` did, per file, in manifest order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchReport {
    pub files: Vec<(String, FetchOutcome)>,
}

/// How a file came to be in the data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchOutcome {
    /// A good copy was already there; nothing was read from any mirror.
    AlreadyPresent,
    /// Copied from this mirror directory.
    Copied(Source),
    /// Downloaded from this URL mirror.
    Downloaded(Source),
}

/// Makes sure every file of `manifest` is in `opts.data_dir` and matches
/// its pinned digests, fetching what is missing or bad. Stops at the first
/// file no source can supply.
/// Progress goes to `on_event`.
pub fn fetch(
    manifest: &Manifest,
    opts: &FetchOptions,
    on_event: &dyn Fn(FetchEvent<'_>),
) -> Result<FetchReport, DataError> {
    fs::create_dir_all(&opts.data_dir)
        .map_err(DataError::io("creating data directory", &opts.data_dir))?;
    let sources = opts.sources(manifest);
    let ui = Ui(on_event);
    let agent = http_agent(opts.timeout);
    let mut report = FetchReport { files: Vec::new() };
    for spec in &manifest.files {
        let outcome = fetch_one(spec, &sources, opts, &agent, &ui, &manifest.help)?;
        report.files.push((spec.name.clone(), outcome));
    }
    Ok(report)
}

fn fetch_one(
    spec: &FileSpec,
    sources: &[Source],
    opts: &FetchOptions,
    agent: &ureq::Agent,
    ui: &Ui<'_>,
    help: &Option<String>,
) -> Result<FetchOutcome, DataError> {
    let name = &spec.name;
    let dest = opts.data_dir.join(name);
    if dest.exists() {
        match verify::check_file(spec, &dest) {
            Ok(()) => {
                ui.line(format!("{name}: already present and verified"));
                return Ok(FetchOutcome::AlreadyPresent);
            }
            Err(problem) => ui.line(format!(
                "{name}: copy in data directory is bad ({problem}); replacing it"
            )),
        }
    }
    let mut attempts = Vec::new();
    for source in sources {
        let location = source.location(name);
        let result = match source {
            Source::Dir(dir) => copy_from(&dir.join(name), spec, &opts.data_dir, ui),
            Source::Url(_) => download(agent, &location, spec, opts, ui),
        };
        match result {
            Ok(()) => {
                let outcome = match source {
                    Source::Dir(_) => FetchOutcome::Copied(source.clone()),
                    Source::Url(_) => FetchOutcome::Downloaded(source.clone()),
                };
                let verb = if matches!(source, Source::Dir(_)) {
                    "copied"
                } else {
                    "downloaded"
                };
                ui.line(format!("{name}: {verb} from {location} and verified"));
                return Ok(outcome);
            }
            Err(Failure::NextSource(reason)) => {
                ui.line(format!("{name}: {location}: {reason}"));
                attempts.push((location, reason));
            }
            Err(Failure::Local(e)) => return Err(e),
        }
    }
    Err(DataError::AllSourcesFailed {
        file: name.clone(),
        attempts,
        help: help.clone(),
    })
}

/// Why a source did not deliver.
enum Failure {
    /// This source cannot help (now); try the next one.
    NextSource(String),
    /// Writing to the data directory failed; no source can help.
    Local(DataError),
}

fn copy_from(path: &Path, spec: &FileSpec, data_dir: &Path, ui: &Ui<'_>) -> Result<(), Failure> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(Failure::NextSource("not present".into()));
        }
        Err(e) => return Err(Failure::NextSource(format!("cannot open: {e}"))),
    };
    let total = file.metadata().ok().map(|m| m.len());
    let bar = ui.bar(&spec.name, total);
    install(BufReader::new(file), spec, data_dir, &bar).map_err(|e| match e {
        InstallError::Source(e) => Failure::NextSource(format!("read error: {e}")),
        InstallError::Content(reason) => Failure::NextSource(reason),
        InstallError::Local(e) => Failure::Local(e),
    })
}

/// Outcome of one HTTP attempt, by what to do next.
enum HttpFailure {
    Transient(String),
    Permanent(String),
    Local(DataError),
}

fn download(
    agent: &ureq::Agent,
    url: &str,
    spec: &FileSpec,
    opts: &FetchOptions,
    ui: &Ui<'_>,
) -> Result<(), Failure> {
    let mut attempt = 0u32;
    loop {
        match download_once(agent, url, spec, &opts.data_dir, ui) {
            Ok(()) => return Ok(()),
            Err(HttpFailure::Transient(reason)) if attempt < opts.retries => {
                let delay = backoff_delay(opts.backoff, attempt);
                ui.line(format!(
                    "{}: {url}: {reason}; retrying in {delay:.1?}",
                    spec.name
                ));
                std::thread::sleep(delay);
                attempt += 1;
            }
            Err(HttpFailure::Transient(reason)) => {
                let tries = attempt + 1;
                return Err(Failure::NextSource(if tries > 1 {
                    format!("{reason} (gave up after {tries} attempts)")
                } else {
                    reason
                }));
            }
            Err(HttpFailure::Permanent(reason)) => return Err(Failure::NextSource(reason)),
            Err(HttpFailure::Local(e)) => return Err(Failure::Local(e)),
        }
    }
}

/// `base * 2^attempt`, capped at a minute.
fn backoff_delay(base: Duration, attempt: u32) -> Duration {
    base.saturating_mul(1u32 << attempt.min(16))
        .min(Duration::from_secs(60))
}

fn download_once(
    agent: &ureq::Agent,
    url: &str,
    spec: &FileSpec,
    data_dir: &Path,
    ui: &Ui<'_>,
) -> Result<(), HttpFailure> {
    let response = agent.get(url).call().map_err(classify)?;
    let total = response.body().content_length();
    let bar = ui.bar(&spec.name, total);
    let reader = response.into_body().into_reader();
    install(reader, spec, data_dir, &bar).map_err(|e| match e {
        InstallError::Source(e) => classify(ureq::Error::from(e)),
        InstallError::Content(reason) => HttpFailure::Permanent(reason),
        InstallError::Local(e) => HttpFailure::Local(e),
    })
}

/// Sorts HTTP errors into worth retrying or not. A truncated body counts as
/// permanent: the server's copy is more likely broken than the network.
fn classify(e: ureq::Error) -> HttpFailure {
    use io::ErrorKind as K;
    match &e {
        ureq::Error::StatusCode(code) => {
            let reason = format!("http status {code}");
            if *code >= 500 || *code == 408 || *code == 429 {
                HttpFailure::Transient(reason)
            } else {
                HttpFailure::Permanent(reason)
            }
        }
        ureq::Error::Timeout(_) | ureq::Error::ConnectionFailed => {
            HttpFailure::Transient(e.to_string())
        }
        ureq::Error::Io(io) => match io.kind() {
            K::UnexpectedEof => HttpFailure::Permanent(format!("truncated body ({io})")),
            K::ConnectionRefused
            | K::ConnectionReset
            | K::ConnectionAborted
            | K::NotConnected
            | K::BrokenPipe
            | K::TimedOut
            | K::WouldBlock
            | K::HostUnreachable
            | K::NetworkUnreachable
            | K::NetworkDown => HttpFailure::Transient(io.to_string()),
            _ => HttpFailure::Permanent(io.to_string()),
        },
        _ => HttpFailure::Permanent(e.to_string()),
    }
}

fn http_agent(timeout: Duration) -> ureq::Agent {
    let t = Some(timeout);
    ureq::Agent::config_builder()
        .timeout_resolve(t)
        .timeout_connect(t)
        .timeout_send_request(t)
        .timeout_recv_response(t)
        // No total body timeout: a 26 MB file on a slow link may take
        // minutes. A body that stops arriving is caught per read.
        .timeout_per_read(t)
        // The .gz must arrive as stored, not re-encoded in transit.
        .accept_encoding("identity")
        .user_agent(concat!("fmnist-data/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

enum InstallError {
    Source(io::Error),
    Content(String),
    Local(DataError),
}

/// Streams a .gz from `src` into a temp file in `data_dir`, verifies it and
/// renames it to its final name.
fn install(
    src: impl Read,
    spec: &FileSpec,
    data_dir: &Path,
    bar: &Bar<'_>,
) -> Result<(), InstallError> {
    let tmp = TempFile::create(data_dir, &spec.name).map_err(InstallError::Local)?;
    let sink = BufWriter::with_capacity(1 << 16, tmp.file());
    let digest = verify::digest_gz(src, sink, Depth::Full, spec, |n| bar.inc(n));
    bar.finish();
    let digest = digest.map_err(|e| match e {
        StreamError::Source(e) => InstallError::Source(e),
        StreamError::Content(reason) => InstallError::Content(reason),
        StreamError::Sink(error) => InstallError::Local(DataError::Io {
            action: "writing",
            path: tmp.path.clone(),
            error,
        }),
    })?;
    digest.check(spec).map_err(InstallError::Content)?;
    tmp.persist(&data_dir.join(&spec.name))
        .map_err(InstallError::Local)
}

/// A temp file that deletes itself unless persisted, so no failure path
/// can leave a partial download behind.
struct TempFile {
    path: PathBuf,
    file: Option<File>,
}

impl TempFile {
    fn create(dir: &Path, name: &str) -> Result<TempFile, DataError> {
        // Unique per process and call, so concurrent fetches into one
        // directory cannot trample each other's temp files.
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(DataError::io("creating temp file", &path))?;
        Ok(TempFile {
            path,
            file: Some(file),
        })
    }

    fn file(&self) -> &File {
        self.file
            .as_ref()
            .expect("temp file is open until persisted")
    }

    /// Makes the contents durable, then atomically replaces `dest`.
    fn persist(mut self, dest: &Path) -> Result<(), DataError> {
        let file = self.file.take().expect("temp file is open until persisted");
        file.sync_all()
            .map_err(DataError::io("syncing", &self.path))?;
        drop(file);
        fs::rename(&self.path, dest).map_err(DataError::io("renaming into place", dest))?;
        // Renamed: nothing left for Drop to delete.
        self.path = PathBuf::new();
        sync_dir(dest.parent().unwrap_or(Path::new(".")));
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        self.file = None;
        if !self.path.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Makes a rename durable. Best effort: not every platform or filesystem
/// can sync a directory, and the data is already safe in the file.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Where progress goes: the caller's callback.
struct Ui<'a>(&'a dyn Fn(FetchEvent<'_>));

impl Ui<'_> {
    fn line(&self, msg: String) {
        (self.0)(FetchEvent::Note(msg));
    }

    fn bar(&self, name: &str, total: Option<u64>) -> Bar<'_> {
        (self.0)(FetchEvent::Transfer { file: name, total });
        Bar(self.0)
    }
}

/// The transfer in progress, as the caller sees it.
struct Bar<'a>(&'a dyn Fn(FetchEvent<'_>));

impl Bar<'_> {
    fn inc(&self, n: u64) {
        (self.0)(FetchEvent::Progress(n));
    }

    fn finish(&self) {
        (self.0)(FetchEvent::TransferEnd);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let o = FetchOptions::new("d");
        assert_eq!(o.data_dir, PathBuf::from("d"));
        assert!(o.use_default_local && o.use_public);
        assert_eq!((o.timeout, o.retries), (Duration::from_secs(30), 3));
        assert_eq!(o.backoff, Duration::from_millis(500));
    }

    #[test]
    fn source_order_is_user_mirrors_as_given_then_debian_then_public_urls() {
        let m = Manifest::pinned();
        let mut o = FetchOptions::new("d");
        o.extra_mirrors = vec![
            "http://a/".parse().unwrap(),
            "/x".parse().unwrap(),
            "/usr/share/datasets/fashion-mnist".parse().unwrap(),
        ];
        let got: Vec<String> = o.sources(&m).iter().map(Source::to_string).collect();
        assert_eq!(
            got,
            [
                "http://a/",
                "/x",
                "/usr/share/datasets/fashion-mnist",
                "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
            ]
        );
        o.use_public = false;
        o.use_default_local = false;
        assert_eq!(o.sources(&m).len(), 3);
        o.extra_mirrors.clear();
        assert!(o.sources(&m).is_empty());
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let b = Duration::from_millis(500);
        assert_eq!(backoff_delay(b, 0), b);
        assert_eq!(backoff_delay(b, 2), Duration::from_secs(2));
        assert_eq!(backoff_delay(b, 40), Duration::from_secs(60));
    }

    #[test]
    fn temp_file_is_removed_unless_persisted() {
        let dir = tempfile::tempdir().unwrap();
        let t = TempFile::create(dir.path(), "a.gz").unwrap();
        let path = t.path.clone();
        assert!(
            path.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with(".a.gz.")
        );
        drop(t);
        assert!(!path.exists());
        let t = TempFile::create(dir.path(), "a.gz").unwrap();
        t.persist(&dir.path().join("a.gz")).unwrap();
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["a.gz"]);
    }
}
