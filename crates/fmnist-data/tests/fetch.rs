//! End-to-end tests of fetch/verify/load against a local HTTP server and
//! local mirror directories, plus one test against the real Fashion-MNIST
//! files of Debian's `dataset-fashion-mnist` package.
//!
//! Nothing here contacts any address but 127.0.0.1: every test sets
//! `use_public: false`, and the real-data test copies from the local mirror.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use fmnist_data::{
    DataError, FetchEvent, FetchOptions, FetchOutcome, FileSpec, Manifest, Role, Source, fetch,
    idx, load, verify,
};
use md5::Md5;
use sha2::{Digest, Sha256};

// ---------------------------------------------------------------------------
// A tiny HTTP/1.1 server with per-path misbehaviour.

#[derive(Clone)]
enum Behaviour {
    /// 200 with these bytes.
    Serve(Vec<u8>),
    /// Content-Length of the full body, then half of it, then close.
    Truncate(Vec<u8>),
    /// 500 for the first `fails` requests, then 200 with the bytes.
    FailThenServe { fails: usize, body: Vec<u8> },
    /// 500, always.
    Fail,
    /// Headers, then silence for `stall`, then close.
    Stall { body: Vec<u8>, stall: Duration },
}

struct Server {
    addr: String,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

impl Server {
    /// Serves `routes` (path -> behaviour); any other path is a 404.
    fn start(routes: HashMap<String, Behaviour>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let hits: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let routes = Arc::new(routes);
        let server_hits = Arc::clone(&hits);
        // Detached: the threads die with the test process.
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (routes, hits) = (Arc::clone(&routes), Arc::clone(&server_hits));
                std::thread::spawn(move || handle(stream, &routes, &hits));
            }
        });
        Server { addr, hits }
    }

    /// URL prefix for the routes under `/{dir}/`.
    fn url(&self, dir: &str) -> Source {
        Source::Url(format!("http://{}/{dir}/", self.addr))
    }

    fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }

    fn total_hits(&self) -> usize {
        self.hits.lock().unwrap().values().sum()
    }
}

fn handle(
    mut stream: TcpStream,
    routes: &HashMap<String, Behaviour>,
    hits: &Mutex<HashMap<String, usize>>,
) {
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let request = String::from_utf8_lossy(&request);
    let path = request.split(' ').nth(1).unwrap_or("").to_owned();
    let hit = {
        let mut hits = hits.lock().unwrap();
        let n = hits.entry(path.clone()).or_default();
        *n += 1;
        *n
    };
    let head = |status: &str, len: usize| {
        format!(
            "HTTP/1.1 {status}\r\nContent-Length: {len}\r\nContent-Type: application/gzip\r\nConnection: close\r\n\r\n"
        )
    };
    let mut send = |status: &str, body: &[u8]| {
        let _ = stream.write_all(head(status, body.len()).as_bytes());
        let _ = stream.write_all(body);
    };
    match routes.get(&path) {
        None => send("404 Not Found", b"no such file"),
        Some(Behaviour::Serve(body)) => send("200 OK", body),
        Some(Behaviour::Fail) => send("500 Internal Server Error", b"oops"),
        Some(Behaviour::FailThenServe { fails, body }) => {
            if hit <= *fails {
                send("500 Internal Server Error", b"oops");
            } else {
                send("200 OK", body);
            }
        }
        Some(Behaviour::Truncate(body)) => {
            let _ = stream.write_all(head("200 OK", body.len()).as_bytes());
            let _ = stream.write_all(&body[..body.len() / 2]);
        }
        Some(Behaviour::Stall { body, stall }) => {
            let _ = stream.write_all(head("200 OK", body.len()).as_bytes());
            let _ = stream.flush();
            std::thread::sleep(*stall);
        }
    }
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Both);
}

// ---------------------------------------------------------------------------
// A small fake data set and a manifest describing it.

const NAMES: [&str; 4] = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
];

struct Fixture {
    manifest: Manifest,
    /// Good .gz per file, in manifest order.
    gz: Vec<Vec<u8>>,
}

impl Fixture {
    fn new() -> Fixture {
        let images = |n: usize, seed: usize| {
            let px: Vec<u8> = (0..n * 784).map(|i| ((i * 7 + seed) % 256) as u8).collect();
            idx::encode_images(n, 28, 28, &px)
        };
        let raws = [
            images(4, 1),
            idx::encode_labels(&[0, 3, 9, 3]),
            images(2, 2),
            idx::encode_labels(&[5, 1]),
        ];
        let files = Role::ALL
            .iter()
            .zip(NAMES)
            .zip(&raws)
            .map(|((&role, name), raw)| spec(name, role, raw))
            .collect();
        Fixture {
            manifest: Manifest {
                name: "test".into(),
                classes: (0..10).map(|c| c.to_string()).collect(),
                help: None,
                files,
                mirrors: vec![],
                local_mirrors: vec![],
            },
            gz: raws.iter().map(|r| gzip(r)).collect(),
        }
    }

    /// Routes serving every file under `/{dir}/`, each as `make` decides.
    fn routes(&self, dir: &str, make: impl Fn(&[u8]) -> Behaviour) -> Vec<(String, Behaviour)> {
        NAMES
            .iter()
            .zip(&self.gz)
            .map(|(name, gz)| (format!("/{dir}/{name}"), make(gz)))
            .collect()
    }

    fn write_all(&self, dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        for (name, gz) in NAMES.iter().zip(&self.gz) {
            std::fs::write(dir.join(name), gz).unwrap();
        }
    }
}

fn spec(name: &str, role: Role, raw: &[u8]) -> FileSpec {
    FileSpec {
        name: name.into(),
        role,
        gz_size: None,
        gz_md5: None,
        raw_len: raw.len() as u64,
        raw_md5: hex(&Md5::digest(raw)),
        raw_sha256: hex(&Sha256::digest(raw)),
        raw_blake3: blake3::hash(raw).to_hex().to_string(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn gzip(raw: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(raw).unwrap();
    enc.finish().unwrap()
}

/// A gzip of the payload with one byte flipped: valid gzip, wrong data.
fn tampered(gz: &[u8]) -> Vec<u8> {
    let mut raw = Vec::new();
    MultiGzDecoder::new(gz).read_to_end(&mut raw).unwrap();
    let mid = raw.len() / 2;
    raw[mid] ^= 0xff;
    gzip(&raw)
}

/// The .gz bytes with one byte in the compressed stream flipped.
fn flipped(gz: &[u8]) -> Vec<u8> {
    let mut out = gz.to_vec();
    let mid = out.len() / 2;
    out[mid] ^= 0x01;
    out
}

fn options(data_dir: &Path, mirrors: Vec<Source>) -> FetchOptions {
    FetchOptions {
        extra_mirrors: mirrors,
        use_default_local: false,
        use_public: false,
        timeout: Duration::from_millis(500),
        retries: 2,
        backoff: Duration::from_millis(10),
        ..FetchOptions::new(data_dir)
    }
}

fn dir_listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn all_sources_failed(err: DataError) -> (String, Vec<(String, String)>) {
    match err {
        DataError::AllSourcesFailed { file, attempts, .. } => (file, attempts),
        other => panic!("expected AllSourcesFailed, got {other}"),
    }
}

fn server(routes: impl IntoIterator<Item = Vec<(String, Behaviour)>>) -> Server {
    Server::start(routes.into_iter().flatten().collect())
}

// ---------------------------------------------------------------------------

#[test]
fn falls_back_past_failing_sources_to_a_good_one() {
    let fx = Fixture::new();
    let srv = server([
        fx.routes("bad", |gz| Behaviour::Serve(tampered(gz))),
        fx.routes("good", |gz| Behaviour::Serve(gz.to_vec())),
    ]);
    let tmp = tempfile::tempdir().unwrap();
    let empty_mirror = tmp.path().join("empty");
    std::fs::create_dir(&empty_mirror).unwrap();
    let data = tmp.path().join("data");
    let opts = options(
        &data,
        vec![
            srv.url("missing"),
            srv.url("bad"),
            Source::Dir(empty_mirror),
            srv.url("good"),
        ],
    );

    let report = fetch(&fx.manifest, &opts, &|_| {}).unwrap();

    let names: Vec<&str> = report.files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, NAMES);
    for (_, outcome) in &report.files {
        assert_eq!(outcome, &FetchOutcome::Downloaded(srv.url("good")));
    }
    for name in NAMES {
        // Tried in order: the directory first, then the URLs as given.
        assert_eq!(srv.hits(&format!("/missing/{name}")), 1);
        assert_eq!(
            srv.hits(&format!("/bad/{name}")),
            1,
            "no retry after a hash mismatch"
        );
        assert_eq!(srv.hits(&format!("/good/{name}")), 1);
    }
    assert_eq!(dir_listing(&data), {
        let mut n = NAMES.map(String::from).to_vec();
        n.sort();
        n
    });
    assert!(
        verify(&fx.manifest, &data)
            .unwrap()
            .iter()
            .all(|c| c.is_ok())
    );
    let ds = load(&fx.manifest, &data).unwrap();
    assert_eq!((ds.train.len, ds.test.len), (4, 2));
    assert_eq!(ds.train.labels, [0, 3, 9, 3]);
}

#[test]
fn mirrors_are_tried_in_the_order_given_directories_and_urls_alike() {
    let fx = Fixture::new();
    let srv = server([fx.routes("good", |gz| Behaviour::Serve(gz.to_vec()))]);
    let tmp = tempfile::tempdir().unwrap();
    let mirror = tmp.path().join("mirror");
    fx.write_all(&mirror);
    let data = tmp.path().join("data");
    let opts = options(&data, vec![Source::Dir(mirror.clone()), srv.url("good")]);
    let report = fetch(&fx.manifest, &opts, &|_| {}).unwrap();
    for (_, outcome) in &report.files {
        assert_eq!(outcome, &FetchOutcome::Copied(Source::Dir(mirror.clone())));
    }
    assert_eq!(srv.total_hits(), 0);
    load(&fx.manifest, &data).unwrap();

    // The URL named first is tried first, although a directory follows.
    let data = tmp.path().join("data2");
    let opts = options(&data, vec![srv.url("good"), Source::Dir(mirror.clone())]);
    let report = fetch(&fx.manifest, &opts, &|_| {}).unwrap();
    for (_, outcome) in &report.files {
        assert!(
            matches!(outcome, FetchOutcome::Downloaded(_)),
            "{outcome:?}"
        );
    }
    assert_eq!(srv.total_hits(), 4);
    load(&fx.manifest, &data).unwrap();
}

#[test]
fn named_mirrors_come_before_the_manifests_directories() {
    // A manifest's local mirror (Debian's, for the pinned data set) is tried
    // after every mirror the user names, so that `--mirror` and
    // $FMNIST_MIRROR are reached where the package is installed.
    let fx = Fixture::new();
    let tmp = tempfile::tempdir().unwrap();
    let (named, packaged) = (tmp.path().join("named"), tmp.path().join("packaged"));
    fx.write_all(&named);
    fx.write_all(&packaged);
    let mut manifest = fx.manifest.clone();
    manifest.local_mirrors = vec![packaged.clone()];
    let mut opts = options(&tmp.path().join("data"), vec![Source::Dir(named.clone())]);
    opts.use_default_local = true;
    let report = fetch(&manifest, &opts, &|_| {}).unwrap();
    for (_, outcome) in &report.files {
        assert_eq!(outcome, &FetchOutcome::Copied(Source::Dir(named.clone())));
    }
}

#[test]
fn corrupted_or_truncated_downloads_never_land() {
    let fx = Fixture::new();
    let srv = server([
        fx.routes("flipped", |gz| Behaviour::Serve(flipped(gz))),
        fx.routes("tampered", |gz| Behaviour::Serve(tampered(gz))),
        fx.routes("truncated", |gz| Behaviour::Truncate(gz.to_vec())),
    ]);
    let tmp = tempfile::tempdir().unwrap();
    for dir in ["flipped", "tampered", "truncated"] {
        let data = tmp.path().join(dir);
        let err = fetch(&fx.manifest, &options(&data, vec![srv.url(dir)]), &|_| {}).unwrap_err();
        let (file, attempts) = all_sources_failed(err);
        assert_eq!(file, NAMES[0]);
        assert_eq!(attempts.len(), 1);
        let reason = &attempts[0].1;
        match dir {
            "tampered" => assert!(reason.starts_with("raw blake3 expected"), "{reason}"),
            "truncated" => assert!(reason.contains("truncated"), "{reason}"),
            _ => assert!(!reason.is_empty()),
        }
        // No retry for bad content, and nothing left behind: no final
        // file, no temp file.
        assert_eq!(srv.hits(&format!("/{dir}/{}", NAMES[0])), 1, "{dir}");
        assert_eq!(dir_listing(&data), Vec::<String>::new(), "{dir}");
    }
}

#[test]
fn bad_file_in_data_dir_is_kept_until_a_verified_replacement_exists() {
    let fx = Fixture::new();
    let srv = server([
        fx.routes("tampered", |gz| Behaviour::Serve(tampered(gz))),
        fx.routes("good", |gz| Behaviour::Serve(gz.to_vec())),
    ]);
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    fx.write_all(&data);
    let bad = flipped(&fx.gz[1]);
    std::fs::write(data.join(NAMES[1]), &bad).unwrap();

    // verify() spots exactly the damaged file.
    let checks = verify(&fx.manifest, &data).unwrap();
    let problems: Vec<_> = checks.iter().map(|c| c.problem.is_some()).collect();
    assert_eq!(problems, [false, true, false, false], "{checks:?}");
    assert_eq!(checks[1].path, data.join(NAMES[1]));

    // Only a bad source: the error names it, and the old file is untouched.
    let err = fetch(
        &fx.manifest,
        &options(&data, vec![srv.url("tampered")]),
        &|_| {},
    )
    .unwrap_err();
    assert_eq!(all_sources_failed(err).0, NAMES[1]);
    assert_eq!(std::fs::read(data.join(NAMES[1])).unwrap(), bad);

    // A good source repairs it; the others are not fetched again.
    let report = fetch(
        &fx.manifest,
        &options(&data, vec![srv.url("good")]),
        &|_| {},
    )
    .unwrap();
    let outcomes: Vec<_> = report.files.iter().map(|(_, o)| o.clone()).collect();
    assert_eq!(
        outcomes,
        [
            FetchOutcome::AlreadyPresent,
            FetchOutcome::Downloaded(srv.url("good")),
            FetchOutcome::AlreadyPresent,
            FetchOutcome::AlreadyPresent,
        ]
    );
    assert_eq!(srv.hits(&format!("/good/{}", NAMES[1])), 1);
    assert_eq!(srv.total_hits(), 2, "one tampered, one good");
    assert!(
        verify(&fx.manifest, &data)
            .unwrap()
            .iter()
            .all(|c| c.is_ok())
    );
    assert_eq!(dir_listing(&data).len(), 4, "no temp files left");
}

#[test]
fn present_good_files_are_not_refetched() {
    let fx = Fixture::new();
    let srv = server([fx.routes("good", |gz| Behaviour::Serve(gz.to_vec()))]);
    let tmp = tempfile::tempdir().unwrap();
    fx.write_all(tmp.path());
    let report = fetch(
        &fx.manifest,
        &options(tmp.path(), vec![srv.url("good")]),
        &|_| {},
    )
    .unwrap();
    assert!(
        report
            .files
            .iter()
            .all(|(_, o)| *o == FetchOutcome::AlreadyPresent)
    );
    assert_eq!(srv.total_hits(), 0);
}

#[test]
fn server_error_then_success_is_retried() {
    let fx = Fixture::new();
    let srv = server([fx.routes("flaky", |gz| Behaviour::FailThenServe {
        fails: 1,
        body: gz.to_vec(),
    })]);
    let tmp = tempfile::tempdir().unwrap();
    let opts = options(tmp.path(), vec![srv.url("flaky")]);
    let notes = std::sync::Mutex::new(Vec::new());
    let bytes = std::sync::atomic::AtomicU64::new(0);
    let report = fetch(&fx.manifest, &opts, &|e| match e {
        FetchEvent::Note(n) => notes.lock().unwrap().push(n),
        FetchEvent::Progress(n) => {
            bytes.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        }
        _ => {}
    })
    .unwrap();
    // The caller is told of the retry and of each file's delivery, and sees
    // the bytes flow.
    let notes = notes.into_inner().unwrap();
    assert!(notes.iter().any(|n| n.contains("retrying in")), "{notes:?}");
    assert_eq!(
        notes
            .iter()
            .filter(|n| n.contains("downloaded from"))
            .count(),
        4,
        "{notes:?}"
    );
    assert!(bytes.into_inner() > 0);
    for (name, outcome) in &report.files {
        assert_eq!(outcome, &FetchOutcome::Downloaded(srv.url("flaky")));
        assert_eq!(srv.hits(&format!("/flaky/{name}")), 2);
    }
}

#[test]
fn stalled_transfer_times_out_and_fails_over() {
    let fx = Fixture::new();
    let stall = Duration::from_secs(3);
    let srv = server([
        fx.routes("stalled", |gz| Behaviour::Stall {
            body: gz.to_vec(),
            stall,
        }),
        fx.routes("good", |gz| Behaviour::Serve(gz.to_vec())),
    ]);
    let tmp = tempfile::tempdir().unwrap();
    let mut opts = options(tmp.path(), vec![srv.url("stalled"), srv.url("good")]);
    opts.timeout = Duration::from_millis(200);
    opts.retries = 0;
    let start = Instant::now();
    let report = fetch(&fx.manifest, &opts, &|_| {}).unwrap();
    assert!(
        start.elapsed() < stall,
        "gave up on the stall before it ended"
    );
    for (name, outcome) in &report.files {
        assert_eq!(outcome, &FetchOutcome::Downloaded(srv.url("good")));
        assert_eq!(srv.hits(&format!("/stalled/{name}")), 1);
    }
    assert_eq!(dir_listing(tmp.path()).len(), 4, "no temp files left");

    // Alone, the stalled source is retried (a timeout is transient), then
    // reported as a timeout.
    opts.extra_mirrors = vec![srv.url("stalled")];
    opts.retries = 1;
    let data = tmp.path().join("again");
    let (_, attempts) = all_sources_failed(
        fetch(
            &fx.manifest,
            &FetchOptions {
                data_dir: data.clone(),
                ..opts
            },
            &|_| {},
        )
        .unwrap_err(),
    );
    let reason = &attempts[0].1;
    assert!(reason.contains("timeout"), "{reason}");
    assert!(reason.contains("gave up after 2 attempts"), "{reason}");
    assert_eq!(srv.hits(&format!("/stalled/{}", NAMES[0])), 3);
    assert_eq!(dir_listing(&data), Vec::<String>::new());
}

#[test]
fn all_sources_failed_lists_every_source() {
    let fx = Fixture::new();
    let srv = server([
        fx.routes("error", |_| Behaviour::Fail),
        fx.routes("flipped", |gz| Behaviour::Serve(flipped(gz))),
        fx.routes("truncated", |gz| Behaviour::Truncate(gz.to_vec())),
    ]);
    // A port nobody listens on: connection refused.
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/", l.local_addr().unwrap())
    };
    let tmp = tempfile::tempdir().unwrap();
    let absent_dir = tmp.path().join("no-such-mirror");
    let data = tmp.path().join("data");
    let mirrors = vec![
        Source::Dir(absent_dir.clone()),
        srv.url("missing"),
        srv.url("error"),
        srv.url("flipped"),
        srv.url("truncated"),
        Source::Url(closed.clone()),
    ];
    let err = fetch(&fx.manifest, &options(&data, mirrors), &|_| {}).unwrap_err();
    let msg = err.to_string();
    eprintln!("{msg}"); // for --nocapture readers
    let (file, attempts) = all_sources_failed(err);
    assert_eq!(file, NAMES[0]);
    let locations: Vec<&str> = attempts.iter().map(|(s, _)| s.as_str()).collect();
    let url = |dir: &str| format!("http://{}/{dir}/{}", srv.addr, NAMES[0]);
    assert_eq!(
        locations,
        [
            absent_dir.join(NAMES[0]).display().to_string(),
            url("missing"),
            url("error"),
            url("flipped"),
            url("truncated"),
            format!("{closed}{}", NAMES[0]),
        ]
    );
    let reasons: Vec<&str> = attempts.iter().map(|(_, r)| r.as_str()).collect();
    assert_eq!(reasons[0], "not present");
    assert_eq!(reasons[1], "http status 404");
    assert_eq!(reasons[2], "http status 500 (gave up after 3 attempts)");
    assert!(!reasons[3].is_empty());
    assert!(reasons[4].contains("truncated"), "{}", reasons[4]);
    assert!(
        reasons[5].contains("gave up after 3 attempts"),
        "{}",
        reasons[5]
    );
    assert_eq!(srv.hits(&format!("/error/{}", NAMES[0])), 3);
    for (location, reason) in &attempts {
        assert!(msg.contains(&format!("{location}: {reason}")), "{msg}");
    }
    assert!(!data.join(NAMES[0]).exists());
    assert_eq!(dir_listing(&data), Vec::<String>::new());
}

// ---------------------------------------------------------------------------
// The real data set, obtained the way the pipeline obtains it.

/// The real Fashion-MNIST in one cache shared by the workspace's tests,
/// filled through the pipeline's own source order: what the cache already
/// holds, any mirrors in `$FMNIST_MIRROR` (comma-separated directories or
/// URLs, e.g. an http server on 127.0.0.1), the manifest's local mirrors
/// (Debian's `dataset-fashion-mnist`), then the public URLs.
fn real_data() -> (PathBuf, Vec<(String, FetchOutcome)>) {
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fashion-mnist");
    let mut opts = FetchOptions::new(&cache);
    opts.extra_mirrors = std::env::var("FMNIST_MIRROR")
        .unwrap_or_default()
        .split(',')
        .filter(|m| !m.trim().is_empty())
        .map(|m| m.trim().parse().unwrap())
        .collect();
    let report = fetch(&Manifest::pinned(), &opts, &|e| {
        if let FetchEvent::Note(n) = e {
            eprintln!("{n}");
        }
    })
    .unwrap_or_else(|e| panic!("no source had the real data: {e}"));
    (cache, report.files)
}

/// As published in the zalandoresearch/fashion-mnist README: name, size and
/// MD5 of the official .gz files.
const PUBLISHED: [(&str, u64, &str); 4] = [
    (
        "train-images-idx3-ubyte.gz",
        26421880,
        "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    ),
    (
        "train-labels-idx1-ubyte.gz",
        29515,
        "25c81989df183df01b3e8a0aad5dffbe",
    ),
    (
        "t10k-images-idx3-ubyte.gz",
        4422102,
        "bef4ecab320f06d8554ea6380940ec79",
    ),
    (
        "t10k-labels-idx1-ubyte.gz",
        5148,
        "bb300cfdad3c16e7a12a480ee83cd310",
    ),
];

/// The official form of a .gz copy: the official files are kept as they
/// are; Debian's carry the same deflate stream under a different header (no
/// FNAME field, their own MTIME), so the official header is rebuilt: `1f 8b
/// 08 08`, the MTIME below, XFL 0, OS 3 (Unix), then the name without `.gz`
/// and a NUL.
fn official_gz(name: &str, gz: &[u8]) -> Vec<u8> {
    const FNAME: u8 = 0x08;
    assert_eq!(&gz[..3], [0x1f, 0x8b, 0x08], "{name}: not a gzip file");
    if gz[3] & FNAME != 0 {
        return gz.to_vec();
    }
    let mtime: u32 = if name.starts_with("train") {
        1_504_176_606 // 2017-08-31 10:50:06 UTC
    } else {
        1_504_176_627 // 2017-08-31 10:50:27 UTC
    };
    assert_eq!(gz[3], 0x00, "{name}: unexpected gzip header flags");
    let mut official = vec![0x1f, 0x8b, 0x08, 0x08];
    official.extend(mtime.to_le_bytes());
    official.extend([0x00, 0x03]);
    official.extend(name.trim_end_matches(".gz").as_bytes());
    official.push(0);
    official.extend_from_slice(&gz[10..]);
    official
}

#[test]
fn real_files_match_the_pinned_manifest_and_load() {
    let (cache, outcomes) = real_data();
    let pinned = Manifest::pinned();
    for (name, outcome) in &outcomes {
        eprintln!("{name}: {outcome:?}");
    }

    for (spec, (name, size, md5)) in pinned.files.iter().zip(PUBLISHED) {
        assert_eq!(spec.name, name);
        let gz = std::fs::read(cache.join(name)).unwrap();

        // The published MD5 and size of the official .gz hold for the copy,
        // whichever source supplied it, once in its official form.
        let official = official_gz(name, &gz);
        assert_eq!(official.len() as u64, size, "{name}");
        assert_eq!(hex(&Md5::digest(&official)), md5, "{name}");
        assert_eq!(
            (spec.gz_size, spec.gz_md5.as_deref()),
            (Some(size), Some(md5)),
            "{name}"
        );

        // The pinned raw digests are those of the payload.
        let mut raw = Vec::new();
        MultiGzDecoder::new(&gz[..]).read_to_end(&mut raw).unwrap();
        assert_eq!(raw.len() as u64, spec.raw_len, "{name}");
        assert_eq!(hex(&Md5::digest(&raw)), spec.raw_md5, "{name}");
        assert_eq!(hex(&Sha256::digest(&raw)), spec.raw_sha256, "{name}");
        assert_eq!(
            blake3::hash(&raw).to_hex().as_str(),
            spec.raw_blake3,
            "{name}"
        );
    }

    // The crate's own path once more, from the cache as a local mirror
    // (full hashing), then load (hashing again) and decode.
    let tmp = tempfile::tempdir().unwrap();
    let opts = FetchOptions {
        use_public: false,
        use_default_local: false,
        extra_mirrors: vec![Source::Dir(cache.clone())],
        ..FetchOptions::new(tmp.path())
    };
    let report = fetch(&pinned, &opts, &|_| {}).unwrap();
    for (_, outcome) in &report.files {
        assert_eq!(outcome, &FetchOutcome::Copied(Source::Dir(cache.clone())));
    }
    let ds = load(&pinned, tmp.path()).unwrap();
    assert_eq!(ds.classes, pinned.classes);
    for (split, len) in [(&ds.train, 60_000), (&ds.test, 10_000)] {
        assert_eq!((split.len, split.rows, split.cols), (len, 28, 28));
        assert_eq!(split.images.len(), len * 784);
        // Fashion-MNIST is balanced: every class has a tenth of each split.
        let mut counts = [0usize; 10];
        for &l in &split.labels {
            counts[usize::from(l)] += 1;
        }
        assert_eq!(counts, [len / 10; 10]);
    }
    assert!(ds.train.image(0).iter().any(|&p| p > 0));
}

/// The validation split of the real data: the sizes and class balance of
/// the 10,000 held out, disjointness, the generator keyed by the pinned
/// hashes, and the same images as `testdata/make_split.py`'s independent
/// transcription drew from Debian's copy of the files.
#[test]
fn the_real_training_set_splits_as_the_reference_says() {
    let (cache, _) = real_data();
    let pinned = Manifest::pinned();
    let ds = load(&pinned, &cache).unwrap();
    let file_hash = |role| pinned.file(role).unwrap().raw_blake3.clone();
    assert_eq!(
        ds.train.payload_hashes(),
        [file_hash(Role::TrainImages), file_hash(Role::TrainLabels)],
        "the split is keyed by the pinned hashes"
    );
    let table: serde_json::Value =
        serde_json::from_str(include_str!("../testdata/split.json")).unwrap();
    let reference = &table["fashion_mnist"];
    assert_eq!(
        reference["hashes"],
        serde_json::json!([file_hash(Role::TrainImages), file_hash(Role::TrainLabels)])
    );
    let cases = reference["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 3);
    for case in cases {
        let hold_out = fmnist_data::HoldOut {
            images: case["images"].as_u64().unwrap() as usize,
            seed: case["seed"].as_u64().unwrap(),
        };
        let split = ds.hold_out(hold_out).unwrap();
        let (held, rest) = (&split.indices.held_out, &split.indices.remaining);
        assert_eq!(
            (held.len(), rest.len()),
            (hold_out.images, 60_000 - hold_out.images)
        );
        assert_eq!(
            (split.validation.len, split.train.len),
            (held.len(), rest.len())
        );
        // Stratified: Fashion-MNIST has 6,000 images a class, so each class
        // gives a tenth of the split, in the held-out set as in its images.
        for set in [&split.validation, &split.train] {
            let mut counts = [0usize; 10];
            for &l in &set.labels {
                counts[usize::from(l)] += 1;
            }
            assert_eq!(counts, [set.len / 10; 10], "{hold_out:?}");
        }
        // Disjoint and complete.
        let mut seen = vec![0u8; 60_000];
        for &i in held.iter().chain(rest) {
            seen[i as usize] += 1;
        }
        assert!(seen.iter().all(|&n| n == 1), "{hold_out:?}");
        let bytes: Vec<u8> = held.iter().flat_map(|i| i.to_le_bytes()).collect();
        assert_eq!(
            blake3::hash(&bytes).to_hex().as_str(),
            case["held_out_blake3"].as_str().unwrap(),
            "{hold_out:?}"
        );
        let first: Vec<u64> = held[..16].iter().map(|&i| u64::from(i)).collect();
        assert_eq!(serde_json::json!(first), case["first"], "{hold_out:?}");
        assert_eq!(split.validation.image(0), ds.train.image(held[0] as usize));
    }
}
