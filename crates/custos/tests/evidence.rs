//! Evidence export (E5, H5, E2): the real `custos` binary records the real camera simulator,
//! exports an evidence bundle, and both verifiers — `custos verify-bundle` and the standalone
//! `custos-bundle-verify` — accept it and reject every kind of tampering, naming the file.
//!
//! The standalone verifier is another package, so Cargo gives this test no path to it
//! (`CARGO_BIN_EXE_*` covers only this package's binaries). [`bundle_verify_bin`] builds it
//! with the same cargo (`$CARGO build -p custos-bundle-verify --offline`) into the target
//! directory of the `custos` binary under test and runs it from there; the build is a no-op
//! when it is fresh.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::*;
use custos_testkit::ffmpeg_decode_errors;

/// Records ~12 s (5 s segments) once per test binary; the tests share it read-only (each
/// writes only its own bundles and ledger entries).
fn recorded() -> &'static (PathBuf, i64, i64) {
    static REC: OnceLock<(PathBuf, i64, i64)> = OnceLock::new();
    REC.get_or_init(|| {
        let sim = Camsim::start(&small_cam("h264")).unwrap();
        // Shared by the tests of this binary, so kept (under the target directory's tmp).
        let dir = tempfile::Builder::new()
            .prefix("custos-evidence-test")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap()
            .keep();
        let data = dir.join("data");
        let cfg = write_config(&dir, 5, &[("gate-1", sim.url(1), "")]);
        record_ok(data.to_str().unwrap(), cfg.to_str().unwrap(), "12s");
        // The directory is kept, and one test damages an original on purpose: clear the
        // immutable / append-only flags the recorder set, or nothing could remove it later.
        custos_testkit::unprotect_tree(&dir).unwrap();
        let segs = segments(&recordings(&data, "gate-1"));
        assert!(segs.len() >= 2, "expected ≥2 sealed segments: {segs:#?}");
        let start = segs[0]["start_90k"].as_i64().unwrap();
        let end = segs[1]["end_90k"].as_i64().unwrap();
        (data, start, end)
    })
}

/// The standalone verifier's binary, built once (see the module comment).
fn bundle_verify_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let custos = Path::new(bin());
        let profile_dir = custos.parent().unwrap();
        let target_dir = profile_dir.parent().unwrap();
        let profile = match profile_dir.file_name().unwrap().to_str().unwrap() {
            "debug" => "dev",
            p => p,
        };
        let st = Command::new(env!("CARGO"))
            .args([
                "build",
                "--quiet",
                "--offline",
                "-p",
                "custos-bundle-verify",
            ])
            .args(["--profile", profile, "--target-dir"])
            .arg(target_dir)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build -p custos-bundle-verify");
        assert!(st.success(), "building custos-bundle-verify failed");
        let p = profile_dir.join("custos-bundle-verify");
        assert!(p.exists(), "{} not built", p.display());
        p
    })
    .clone()
}

fn verify_custos(bundle: &Path, key: Option<&Path>) -> Output {
    let mut args = vec!["verify-bundle", bundle.to_str().unwrap()];
    if let Some(k) = key {
        args.extend(["--key", k.to_str().unwrap()]);
    }
    custos(&args)
}

fn verify_standalone(bundle: &Path, key: Option<&Path>) -> Output {
    let mut c = Command::new(bundle_verify_bin());
    c.arg(bundle);
    if let Some(k) = key {
        c.arg("--key").arg(k);
    }
    c.output().unwrap()
}

fn all(o: &Output) -> String {
    format!("{}{}", stdout(o), stderr(o))
}

/// Both verifiers reject `bundle` (exit 7) and name `file` in a problem line.
fn assert_both_fail_naming(bundle: &Path, file: &str, what: &str) {
    for (who, o) in [
        ("custos verify-bundle", verify_custos(bundle, None)),
        ("custos-bundle-verify", verify_standalone(bundle, None)),
    ] {
        let text = all(&o);
        assert_eq!(
            o.status.code(),
            Some(7),
            "{who} accepted a bundle with {what}: {text}"
        );
        // The problem list follows the FAILED line; the bundle's own path names no file.
        let problems = stdout(&o)
            .split_once("FAILED")
            .map(|x| x.1.to_string())
            .unwrap_or_default();
        assert!(
            problems.contains(file),
            "{who} did not name {file} ({what}): {text}"
        );
    }
}

fn files_of(dir: &Path, rel: &str, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        let r = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        if e.file_type().unwrap().is_dir() {
            files_of(&e.path(), &r, out);
        } else {
            out.push(r);
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &t);
        } else {
            std::fs::copy(e.path(), t).unwrap();
        }
    }
}

fn ledger_entries(data: &Path) -> Vec<custos_ledger::Entry> {
    let d = custos_footage::DataDir::open_existing(data).unwrap();
    let (j, _) = custos_footage::Journal::open(&d).unwrap();
    j.ledger().entries(0..u64::MAX).unwrap()
}

fn export_evidence(data: &Path, from: i64, to: i64, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "export".to_string(),
        "--evidence".into(),
        "--data".into(),
        data.to_str().unwrap().into(),
        "--camera".into(),
        "gate-1".into(),
        "--from".into(),
        rfc3339(from),
        "--to".into(),
        rfc3339(to),
        "--operator".into(),
        "officer-wang".into(),
        "-o".into(),
        out.to_str().unwrap().into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    custos(&refs)
}

/// E5, E2, H5: an evidence bundle of a range over two segments holds the original segment
/// files byte for byte and verifies with both verifiers (and with the pinned node key, not
/// with another key); the export is registered in the ledger with recipient and basis; every
/// single flipped byte, a deleted segment and an added file are caught and the file named.
#[test]
fn e5_e2_h5_evidence_bundle_verifies_and_names_every_tampered_file() {
    let (data, start, end) = recorded().clone();
    let tmp = custos_testkit::ProtectedTempDir::new().unwrap();
    let bundle = tmp.path().join("bundle");
    let (from, to) = (start + 90_000, end - 90_000);
    let o = export_evidence(
        &data,
        from,
        to,
        &bundle,
        &[
            "--recipient",
            "Xicheng Public Security Sub-bureau, criminal investigation unit",
            "--basis",
            "evidence retrieval notice 2026-0173",
            "--case",
            "XC-2026-0173",
        ],
    );
    assert!(o.status.success(), "{}", all(&o));

    // Layout.
    let mut files = Vec::new();
    files_of(&bundle, "", &mut files);
    files.sort();
    let segs: Vec<&String> = files
        .iter()
        .filter(|f| f.starts_with("segments/"))
        .collect();
    assert!(segs.len() >= 2, "range covers two segments: {files:?}");
    for f in [
        "README.txt",
        "export.mp4",
        "ledger.pub",
        "manifest.json",
        "manifest.sig",
    ] {
        assert!(files.iter().any(|x| x == f), "{f} missing: {files:?}");
    }
    assert_eq!(files.len(), 5 + segs.len(), "{files:?}");

    // The copies are the originals, byte for byte.
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["format"], "custos-evidence/1");
    let rows = segments(&recordings(&data, "gate-1"));
    for s in m["segments"].as_array().unwrap() {
        let row = rows
            .iter()
            .find(|r| r["id"] == s["segment_id"])
            .expect("segment row");
        let orig = std::fs::read(data.join(row["path"].as_str().unwrap())).unwrap();
        let copy = std::fs::read(bundle.join(s["file"].as_str().unwrap())).unwrap();
        assert!(orig == copy, "{} is not the original", s["file"]);
    }
    let readme = std::fs::read_to_string(bundle.join("README.txt")).unwrap();
    for want in [
        "gate-1",
        "Xicheng Public Security",
        "2026-0173",
        "officer-wang",
        m["key"]["fingerprint"].as_str().unwrap(),
        "custos verify-bundle",
        "custos-bundle-verify",
    ] {
        assert!(readme.contains(want), "README lacks {want:?}:\n{readme}");
    }

    // Both verifiers accept it; the pinned node key is accepted, another key is not.
    let pubkey = data.join("keys/ledger.pub");
    for o in [
        verify_custos(&bundle, None),
        verify_standalone(&bundle, None),
        verify_custos(&bundle, Some(&pubkey)),
        verify_standalone(&bundle, Some(&pubkey)),
    ] {
        let t = all(&o);
        assert!(o.status.success(), "verification failed: {t}");
        assert!(
            t.contains("Xicheng") && t.contains("2026-0173") && t.contains("OK"),
            "{t}"
        );
        assert!(
            t.contains(&format!("{} original segment", segs.len())),
            "{t}"
        );
    }
    let other = tmp.path().join("other.pub");
    let k = custos_ledger::generate_signing_key().unwrap();
    custos_ledger::save_verifying_key(&other, "custos", &k.verifying_key()).unwrap();
    for o in [
        verify_custos(&bundle, Some(&other)),
        verify_standalone(&bundle, Some(&other)),
    ] {
        assert_eq!(o.status.code(), Some(7), "{}", all(&o));
        assert!(all(&o).contains("signed by a different key"), "{}", all(&o));
    }

    // The export decodes, and so does each original segment.
    assert_eq!(ffmpeg_decode_errors(&bundle.join("export.mp4")), "");
    for s in &segs {
        assert_eq!(ffmpeg_decode_errors(&bundle.join(s)), "", "{s}");
    }

    // E2: the export was registered (with recipient and basis) before the manifest entry.
    let entries = ledger_entries(&data);
    let exp = entries
        .iter()
        .find(|e| {
            e.action == custos_ledger::Action::Export
                && e.details["bundle"] == bundle.to_str().unwrap()
        })
        .expect("Export entry in the ledger");
    assert_eq!(exp.actor, "officer-wang");
    assert_eq!(
        exp.purpose.as_deref(),
        Some("evidence retrieval notice 2026-0173")
    );
    assert!(
        exp.details["recipient"]
            .as_str()
            .unwrap()
            .contains("Xicheng")
    );
    assert_eq!(m["export_entry"]["seq"], exp.seq);
    let man = entries
        .iter()
        .find(|e| e.seq == m["manifest_entry"]["seq"].as_u64().unwrap())
        .unwrap();
    assert_eq!(man.action.as_str(), "ExportManifest");
    assert!(man.seq > exp.seq);

    // Every file: one flipped byte in the middle is caught and the file named.
    for (n, f) in files.iter().enumerate() {
        let t = tmp.path().join(format!("flip-{n}"));
        copy_dir(&bundle, &t);
        let p = t.join(f);
        let mut b = std::fs::read(&p).unwrap();
        let i = b.len() / 2;
        b[i] ^= 0x01;
        std::fs::write(&p, b).unwrap();
        assert_both_fail_naming(&t, f, &format!("one byte of {f} flipped"));
    }
    // A deleted segment; an added file (top level and in segments/).
    let t = tmp.path().join("deleted");
    copy_dir(&bundle, &t);
    std::fs::remove_file(t.join(segs[0])).unwrap();
    assert_both_fail_naming(&t, segs[0], "a segment deleted");
    for (n, extra) in ["notes.txt", "segments/extra.mp4"].iter().enumerate() {
        let t = tmp.path().join(format!("extra-{n}"));
        copy_dir(&bundle, &t);
        std::fs::copy(bundle.join(segs[0]), t.join(extra)).unwrap();
        assert_both_fail_naming(&t, extra, "an extra file");
    }

    // E5: an original that no longer matches its seal is refused, naming the segment, and no
    // bundle (not even a partial one) is left behind. Done last: it damages the recording.
    let row = &rows[0];
    let orig = data.join(row["path"].as_str().unwrap());
    let mut b = std::fs::read(&orig).unwrap();
    let i = b.len() / 2;
    b[i] ^= 0x01;
    std::fs::write(&orig, b).unwrap();
    let out = tmp.path().join("refused");
    let o = export_evidence(
        &data,
        from,
        to,
        &out,
        &["--recipient", "PSB", "--basis", "notice 2"],
    );
    assert_eq!(o.status.code(), Some(7), "{}", all(&o));
    assert!(
        stderr(&o).contains(&format!("segment {}", row["id"])),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
    assert!(
        !std::fs::read_dir(tmp.path()).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains("partial")),
        "a partial bundle was left behind"
    );
}

/// H5, E2: without --recipient or --basis an evidence export is refused with exit 2 before
/// anything is registered or written; an existing output directory is refused too.
#[test]
fn h5_evidence_export_needs_recipient_and_basis() {
    let (data, start, end) = recorded().clone();
    let tmp = custos_testkit::ProtectedTempDir::new().unwrap();
    let out = tmp.path().join("b");
    for (args, want) in [
        (vec!["--basis", "notice 1"], "--recipient"),
        (vec!["--recipient", "PSB"], "--basis"),
        (
            vec!["--recipient", " ", "--basis", "notice 1"],
            "--recipient",
        ),
        (vec!["--recipient", "PSB", "--basis", ""], "--basis"),
    ] {
        let o = export_evidence(&data, start, end, &out, &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", all(&o));
        assert!(stderr(&o).contains(want), "{args:?}: {}", stderr(&o));
        assert!(!out.exists(), "{args:?} wrote {}", out.display());
        assert_eq!(
            std::fs::read_dir(tmp.path()).unwrap().count(),
            0,
            "something was written"
        );
    }
    let o = export_evidence(
        &data,
        start,
        end,
        tmp.path(),
        &["--recipient", "PSB", "--basis", "notice 1"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", all(&o));
    assert!(stderr(&o).contains("already exists"), "{}", stderr(&o));
    // Nothing of these attempts reached the ledger.
    let attempts = ledger_entries(&data)
        .into_iter()
        .filter(|e| {
            e.details["bundle"]
                .as_str()
                .is_some_and(|b| b.starts_with(tmp.path().to_str().unwrap()))
        })
        .count();
    assert_eq!(attempts, 0, "a refused export was registered");
}
