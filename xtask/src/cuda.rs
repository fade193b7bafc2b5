//! The CUDA toolkit check that runs before the CUDA build compiles anything.
//!
//! Without a toolkit, candle's CUDA build compiles for minutes, then
//! cudarc's build script panics ("`nvcc --version` failed") and leaves
//! hundreds of megabytes in `target/cuda`. Checked first instead: an `nvcc`
//! the build scripts will find (`$NVCC`, `PATH`, or `$CUDA_HOME/bin`, the
//! order candle-kernels uses), a version cudarc 0.19 accepts, and a compute
//! capability to compile the kernels for; a failure says what to install and
//! how, and nothing is built.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The toolkit versions cudarc 0.19 builds against (its `build.rs`,
/// `SUPPORTED_CUDA_VERSIONS`); any other `nvcc --version` makes its build
/// script panic.
const CUDARC_VERSIONS: &[(u32, u32)] = &[
    (11, 4),
    (11, 5),
    (11, 6),
    (11, 7),
    (11, 8),
    (12, 0),
    (12, 1),
    (12, 2),
    (12, 3),
    (12, 4),
    (12, 5),
    (12, 6),
    (12, 8),
    (12, 9),
    (13, 0),
    (13, 1),
    (13, 2),
    (13, 3),
    (13, 4),
];

/// What the check reads from the environment (a struct, so that tests can
/// give it an empty `PATH` or a fake `CUDA_HOME`).
#[derive(Debug, Clone, Default)]
pub struct Env {
    pub path: Option<OsString>,
    pub nvcc: Option<OsString>,
    pub cuda_home: Option<OsString>,
    pub cudarc_version: Option<String>,
    pub compute_cap: Option<String>,
}

impl Env {
    pub fn from_process() -> Env {
        Env {
            path: std::env::var_os("PATH"),
            nvcc: std::env::var_os("NVCC"),
            cuda_home: std::env::var_os("CUDA_HOME"),
            cudarc_version: std::env::var("CUDARC_CUDA_VERSION").ok(),
            compute_cap: std::env::var("CUDA_COMPUTE_CAP").ok(),
        }
    }
}

/// A toolkit the CUDA build can use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toolkit {
    pub nvcc: PathBuf,
    /// (major, minor), as `nvcc --version` reports it.
    pub version: (u32, u32),
    /// `PATH` for the build, with nvcc's directory first when nvcc was found
    /// only under `$CUDA_HOME` (cudarc runs `nvcc` from `PATH`).
    pub path: OsString,
}

/// How to get a toolkit, ending every failure message.
const INSTALL: &str = "\
to install one:
  - with a GPU and root: NVIDIA's CUDA toolkit (https://developer.nvidia.com/cuda-downloads), a version cudarc 0.19 accepts: 11.4-11.8, 12.0-12.6, 12.8, 12.9 or 13.0-13.4;
  - without root or without a GPU: `.ci/cuda-toolkit DIR` assembles CUDA 13.0 from NVIDIA's PyPI wheels (about 675 MB download, 1.2 GB on disk, needs python3 with pip, unzip and gcc) with a stub of the driver library;
then: export CUDA_HOME=DIR PATH=DIR/bin:$PATH (and CUDA_COMPUTE_CAP=80, or your GPU's, where nvidia-smi cannot tell)";

/// Finds the toolkit, or says what is missing and how to install it.
pub fn check(env: &Env) -> Result<Toolkit, String> {
    let (nvcc, path) = find_nvcc(env)?;
    let version = match &env.cudarc_version {
        // cudarc then takes the version from here and never runs nvcc.
        Some(v) => parse_cudarc_env(v).ok_or_else(|| {
            format!(
                "CUDARC_CUDA_VERSION={v} is not a version cudarc 0.19 accepts \
                 (written like 13000 for 13.0)\n{INSTALL}"
            )
        })?,
        None => nvcc_version(&nvcc)?,
    };
    if !CUDARC_VERSIONS.contains(&version) {
        return Err(format!(
            "{} is CUDA {}.{}, which cudarc 0.19 (candle's CUDA bindings) does not build against\n{INSTALL}",
            nvcc.display(),
            version.0,
            version.1
        ));
    }
    if env.compute_cap.is_none() && !gpu_reports_compute_cap() {
        return Err(format!(
            "found CUDA {}.{} ({}), but no GPU to compile the kernels for: \
             set CUDA_COMPUTE_CAP (80 for an A100, 90 for an H100; 80 to only compile)",
            version.0,
            version.1,
            nvcc.display()
        ));
    }
    Ok(Toolkit {
        nvcc,
        version,
        path,
    })
}

/// `$NVCC`, else `nvcc` on `PATH`, else `$CUDA_HOME/bin/nvcc`; with the `PATH`
/// the build should run with.
fn find_nvcc(env: &Env) -> Result<(PathBuf, OsString), String> {
    let path = env.path.clone().unwrap_or_default();
    let on_path = std::env::split_paths(&path)
        .map(|dir| dir.join("nvcc"))
        .find(|p| is_executable(p));
    let under_home = env
        .cuda_home
        .as_ref()
        .map(|home| Path::new(home).join("bin").join("nvcc"))
        .filter(|p| is_executable(p));
    if let Some(nvcc) = env.nvcc.as_ref().map(PathBuf::from)
        && is_executable(&nvcc)
    {
        return Ok((nvcc, path));
    }
    if let Some(nvcc) = on_path {
        return Ok((nvcc, path));
    }
    if let Some(nvcc) = under_home {
        let dir = nvcc.parent().expect("bin/nvcc").to_path_buf();
        let dirs = std::iter::once(dir).chain(std::env::split_paths(&path));
        let path = std::env::join_paths(dirs).unwrap_or(path);
        return Ok((nvcc, path));
    }
    let looked = [
        match &env.nvcc {
            Some(n) => format!("$NVCC ({}) is not an executable", Path::new(n).display()),
            None => "$NVCC is not set".into(),
        },
        "no `nvcc` on PATH".into(),
        match &env.cuda_home {
            Some(h) => format!("no {}/bin/nvcc", Path::new(h).display()),
            None => "$CUDA_HOME is not set".into(),
        },
    ];
    Err(format!(
        "the CUDA build needs the CUDA toolkit, and none was found ({}); nothing was compiled\n{INSTALL}",
        looked.join(", ")
    ))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// "13000" -> (13, 0), as cudarc reads `CUDARC_CUDA_VERSION`.
fn parse_cudarc_env(v: &str) -> Option<(u32, u32)> {
    CUDARC_VERSIONS
        .iter()
        .copied()
        .find(|(major, minor)| v.trim() == format!("{major}0{minor}0"))
}

fn nvcc_version(nvcc: &Path) -> Result<(u32, u32), String> {
    let out = Command::new(nvcc)
        .arg("--version")
        .output()
        .map_err(|e| format!("running {} --version: {e}\n{INSTALL}", nvcc.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    parse_release(&text)
        .filter(|_| out.status.success())
        .ok_or_else(|| {
            format!(
                "{} --version did not report a CUDA release (exit {}): {}\n{INSTALL}",
                nvcc.display(),
                out.status,
                text.trim()
            )
        })
}

/// The `release 13.0` of `nvcc --version`'s "Cuda compilation tools,
/// release 13.0, V13.0.88".
fn parse_release(text: &str) -> Option<(u32, u32)> {
    let release = text.split("release ").nth(1)?;
    let number = release.split([',', ' ', '\n']).next()?;
    let (major, minor) = number.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// Whether `nvidia-smi` names a compute capability (candle-kernels asks it
/// when `CUDA_COMPUTE_CAP` is not set).
fn gpu_reports_compute_cap() -> bool {
    Command::new("nvidia-smi")
        .args(["--query-gpu=compute_cap", "--format=csv,noheader"])
        .output()
        .is_ok_and(|o| o.status.success() && !o.stdout.trim_ascii().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NVCC_13_0: &str = "nvcc: NVIDIA (R) Cuda compiler driver\n\
        Copyright (c) 2005-2025 NVIDIA Corporation\n\
        Built on Wed_Aug_20_01:58:59_PM_PDT_2025\n\
        Cuda compilation tools, release 13.0, V13.0.88\n\
        Build cuda_13.0.r13.0/compiler.36424714_0\n";

    /// A fake toolkit: `DIR/bin/nvcc` printing `version_text`.
    fn fake_home(version_text: &str) -> tempfile::TempDir {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let nvcc = bin.join("nvcc");
        std::fs::write(
            &nvcc,
            format!("#!/bin/sh\ncat <<'EOF'\n{version_text}EOF\n"),
        )
        .unwrap();
        std::fs::set_permissions(&nvcc, std::fs::Permissions::from_mode(0o755)).unwrap();
        dir
    }

    fn env_with_home(home: &Path) -> Env {
        Env {
            path: Some("/usr/bin:/bin".into()),
            cuda_home: Some(home.into()),
            compute_cap: Some("80".into()),
            ..Env::default()
        }
    }

    #[test]
    fn without_a_toolkit_it_says_what_to_install_and_how() {
        let empty = tempfile::tempdir().unwrap();
        let env = Env {
            path: Some(empty.path().into()),
            ..Env::default()
        };
        let msg = check(&env).unwrap_err();
        assert!(msg.contains("needs the CUDA toolkit"), "{msg}");
        assert!(msg.contains("no `nvcc` on PATH"), "{msg}");
        assert!(msg.contains("$CUDA_HOME is not set"), "{msg}");
        assert!(msg.contains("nothing was compiled"), "{msg}");
        assert!(msg.contains(".ci/cuda-toolkit DIR"), "{msg}");
        assert!(
            msg.contains("export CUDA_HOME=DIR PATH=DIR/bin:$PATH"),
            "{msg}"
        );
        // A CUDA_HOME that holds no nvcc is named.
        let env = Env {
            cuda_home: Some(empty.path().into()),
            ..env
        };
        let msg = check(&env).unwrap_err();
        assert!(
            msg.contains(&format!("no {}/bin/nvcc", empty.path().display())),
            "{msg}"
        );
    }

    #[test]
    fn nvcc_under_cuda_home_is_found_and_put_on_the_build_path() {
        let home = fake_home(NVCC_13_0);
        let toolkit = check(&env_with_home(home.path())).unwrap();
        assert_eq!(toolkit.version, (13, 0));
        assert_eq!(toolkit.nvcc, home.path().join("bin/nvcc"));
        let first = std::env::split_paths(&toolkit.path).next().unwrap();
        assert_eq!(first, home.path().join("bin"));
    }

    #[test]
    fn a_version_cudarc_rejects_is_named() {
        let home = fake_home(&NVCC_13_0.replace("13.0", "13.5"));
        let msg = check(&env_with_home(home.path())).unwrap_err();
        assert!(msg.contains("is CUDA 13.5, which cudarc 0.19"), "{msg}");
        assert!(msg.contains("13.0-13.4"), "{msg}");
        let home = fake_home("not a compiler\n");
        let msg = check(&env_with_home(home.path())).unwrap_err();
        assert!(msg.contains("did not report a CUDA release"), "{msg}");
    }

    #[test]
    fn cudarc_version_variable_is_checked_like_nvcc() {
        let home = fake_home(NVCC_13_0);
        let mut env = env_with_home(home.path());
        env.cudarc_version = Some("12080".into());
        assert_eq!(check(&env).unwrap().version, (12, 8));
        env.cudarc_version = Some("12070".into());
        assert!(
            check(&env)
                .unwrap_err()
                .contains("CUDARC_CUDA_VERSION=12070")
        );
    }

    #[test]
    fn releases_parse() {
        assert_eq!(parse_release(NVCC_13_0), Some((13, 0)));
        assert_eq!(parse_release("release 12.9, V12.9.41"), Some((12, 9)));
        assert_eq!(parse_release("nothing"), None);
    }
}
