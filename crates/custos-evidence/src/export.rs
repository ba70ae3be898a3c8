//! Writing an evidence bundle.
//!
//! Order (each step fails closed): validate the request (recipient and legal basis present,
//! output absent) → register the export in the ledger (E2) → copy the original sealed segment
//! files byte for byte, checking each copy's SHA-256 against the index row and its
//! `SegmentSealed` ledger entry → write `export.mp4` and `README.txt` → record the
//! `ExportManifest` entry (hash of every file) → sign a checkpoint → write `manifest.json`
//! with inclusion proofs, `manifest.sig`, `ledger.pub` → fsync and move the finished
//! directory to its name (never replacing anything). A failure leaves no bundle behind.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use custos_core::{Error, ErrorKind, Result, Time90k};
use custos_footage::read::ExportSummary;
use custos_footage::{DataDir, Journal};
use custos_ledger::{Action, NewEntry, SigningKey, VerifyingKey};
use custos_store::{Segment, SegmentState, Store, Stream};
use ed25519_dalek::Signer;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::manifest::*;

/// What to export and to whom.
#[derive(Clone, Debug)]
pub struct Request {
    pub camera: String,
    pub from: Time90k,
    pub to: Time90k,
    pub recipient: String,
    pub legal_basis: String,
    pub case: Option<String>,
    pub operator: String,
    /// The bundle directory; must not exist.
    pub out: PathBuf,
}

/// What was written.
#[derive(Clone, Debug)]
pub struct Summary {
    pub bundle: PathBuf,
    pub manifest: Manifest,
    pub export: ExportSummary,
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidArgument, msg)
}

fn lerr(what: &str, e: custos_ledger::Error) -> Error {
    Error::new(ErrorKind::Internal, format!("ledger: {what}: {e}"))
}

/// Checks a request before anything is registered or written (H5).
pub fn validate(r: &Request) -> Result<()> {
    if r.recipient.trim().is_empty() {
        return Err(invalid(
            "an evidence export needs --recipient: footage may go only to police, state security or \
             another law-enforcement organ (H5), named here",
        ));
    }
    if r.legal_basis.trim().is_empty() {
        return Err(invalid(
            "an evidence export needs --basis: the legal basis of the handover (H5), e.g. the \
             request or warrant number",
        ));
    }
    if r.to <= r.from {
        return Err(invalid(format!(
            "empty range: --to {} is not after --from {}",
            r.to, r.from
        )));
    }
    if r.out.symlink_metadata().is_ok() {
        return Err(invalid(format!(
            "{} already exists; an evidence bundle is written to a new directory",
            r.out.display()
        )));
    }
    let parent = parent_of(&r.out);
    if !parent.is_dir() {
        return Err(invalid(format!(
            "{} is not a directory; create it first",
            parent.display()
        )));
    }
    if r.out.file_name().is_none() {
        return Err(invalid(format!(
            "{} is not a directory name",
            r.out.display()
        )));
    }
    Ok(())
}

fn parent_of(p: &Path) -> PathBuf {
    match p.parent() {
        Some(x) if !x.as_os_str().is_empty() => x.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The node's signing key (the ledger's checkpoint key) and its verifier key text.
fn node_key(data: &DataDir, journal: &Journal) -> Result<(SigningKey, String)> {
    let (key_path, pub_path) = custos_footage::journal::key_paths(data);
    let (_, sk) =
        custos_ledger::load_signing_key(&key_path).map_err(|e| lerr("loading the node key", e))?;
    let vk = journal.verifying_key();
    if sk.verifying_key() != vk {
        return Err(Error::new(
            ErrorKind::Internal,
            format!("{} is not the ledger's key", key_path.display()),
        ));
    }
    let text = match custos_ledger::load_verifying_key(&pub_path) {
        Ok((_, k)) if k == vk => fs::read_to_string(&pub_path).ok(),
        _ => None,
    }
    .unwrap_or_else(|| custos_ledger::checkpoint::verifier_key_text("custos", &vk));
    Ok((sk, text))
}

/// Removes the unfinished bundle unless disarmed.
struct Partial(Option<PathBuf>);
impl Drop for Partial {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = fs::remove_dir_all(p);
        }
    }
}

/// SHA-256 (hex) and length of a file.
pub fn sha256_file(p: &Path) -> Result<(String, u64)> {
    let mut f = File::open(p).map_err(|e| Error::io(format!("opening {}", p.display()), e))?;
    let mut h = Sha256::new();
    let n = std::io::copy(&mut f, &mut h)
        .map_err(|e| Error::io(format!("reading {}", p.display()), e))?;
    Ok((hex::encode(h.finalize()), n))
}

/// Copies `src` to the new file `dst`, fsyncs it; returns the SHA-256 of the bytes read and
/// of the copy as re-read from disk.
fn copy_hashed(src: &Path, dst: &Path) -> Result<(String, String, u64)> {
    let mut i = File::open(src).map_err(|e| Error::io(format!("opening {}", src.display()), e))?;
    let mut o =
        File::create_new(dst).map_err(|e| Error::io(format!("creating {}", dst.display()), e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = i
            .read(&mut buf)
            .map_err(|e| Error::io(format!("reading {}", src.display()), e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        o.write_all(&buf[..n])
            .map_err(|e| Error::io(format!("writing {}", dst.display()), e))?;
    }
    o.sync_all()
        .map_err(|e| Error::io(format!("fsync {}", dst.display()), e))?;
    let (copy, n) = sha256_file(dst)?;
    Ok((hex::encode(h.finalize()), copy, n))
}

/// File name of a segment inside `segments/`: start time (UTC) and segment id.
fn segment_file_name(s: &Segment) -> String {
    format!(
        "{SEGMENTS_DIR}/{}_seg{}.mp4",
        s.start.to_datetime().format("%Y%m%dT%H%M%S%.3fZ"),
        s.id
    )
}

/// Copies one sealed segment and proves the copy is the sealed original.
fn copy_segment(
    data: &DataDir,
    journal: &Journal,
    s: &Segment,
    dir: &Path,
) -> Result<(String, u64, u64)> {
    let refuse = |why: String| {
        Error::new(
            ErrorKind::DataLoss,
            format!(
                "segment {} ({}) cannot go into an evidence bundle: {why}; run `custos verify`",
                s.id, s.path
            ),
        )
    };
    if s.state != SegmentState::Sealed {
        return Err(refuse("it is not sealed".into()));
    }
    let row_sha = s
        .sha256
        .clone()
        .ok_or_else(|| refuse("no sealed hash".into()))?;
    let seq = s
        .ledger_seq
        .ok_or_else(|| refuse("its seal is not in the ledger".into()))? as u64;
    let e = journal
        .ledger()
        .entry(seq)
        .map_err(|e| refuse(format!("ledger entry {seq}: {e}")))?;
    if e.action != Action::SegmentSealed || e.details["segment_id"].as_i64() != Some(s.id) {
        return Err(refuse(format!(
            "ledger entry {seq} is not the seal of this segment"
        )));
    }
    if e.details["sha256"].as_str() != Some(&row_sha) {
        return Err(refuse(format!(
            "the index says SHA-256 {row_sha}, the ledger entry {seq} says {}",
            e.details["sha256"]
        )));
    }
    let name = segment_file_name(s);
    let (read, copy, n) = copy_hashed(&data.abs(&s.path), &dir.join(&name))?;
    if read != row_sha || copy != row_sha || Some(n as i64) != s.bytes {
        return Err(refuse(format!(
            "its content changed since it was sealed: SHA-256 read {read}, copied {copy} ({n} bytes), sealed {row_sha} ({} bytes)",
            s.bytes.unwrap_or(-1)
        )));
    }
    Ok((name, n, seq))
}

fn proof(journal: &Journal, seq: u64, tree_size: u64) -> Result<EntryProof> {
    let l = journal.ledger();
    let leaf = l
        .entry_bytes(seq)
        .map_err(|e| lerr("reading an entry", e))?;
    let p = l
        .inclusion_proof(seq, tree_size)
        .map_err(|e| lerr("inclusion proof", e))?;
    Ok(EntryProof {
        seq,
        leaf_b64: B64.encode(leaf),
        inclusion_proof: p.iter().map(hex::encode).collect(),
        tree_size,
    })
}

fn ms_to_rfc3339(ms: u64) -> String {
    Time90k::from_unix_nanos(ms as i128 * 1_000_000).to_rfc3339()
}

#[allow(clippy::too_many_arguments)]
fn readme(
    r: &Request,
    stream: &str,
    exported_at: &str,
    fingerprint: &str,
    segments: usize,
    gaps: &[GapInfo],
) -> String {
    let mut s = format!(
        "CUSTOS EVIDENCE BUNDLE (format {FORMAT})\n\
         =======================================\n\n\
         This directory is an export of recorded video footage with a cryptographic proof that\n\
         it is the footage as recorded.\n\n\
         Camera:       {} (stream {stream})\n\
         Range:        {} .. {} (UTC)\n\
         Recipient:    {}\n\
         Legal basis:  {}\n\
         Case:         {}\n\
         Exported by:  {} at {exported_at}\n\
         Signing key:  fingerprint {fingerprint}\n\n\
         Contents:\n\
         \x20 segments/     the {segments} ORIGINAL recorded segment file(s), byte for byte\n\
         \x20 export.mp4    the range joined into one MP4 (for convenience; plays anywhere)\n\
         \x20 manifest.json what was exported, to whom, why, with proofs from the system's ledger\n\
         \x20 manifest.sig  signature of manifest.json by the recording system's key\n\
         \x20 ledger.pub    that public key\n\n",
        r.camera,
        r.from.to_rfc3339(),
        r.to.to_rfc3339(),
        r.recipient,
        r.legal_basis,
        r.case.as_deref().unwrap_or("-"),
        r.operator,
    );
    if !gaps.is_empty() {
        s.push_str("Recording gaps inside the range (no footage exists for them):\n");
        for g in gaps {
            s.push_str(&format!("  {} .. {} ({})\n", g.start, g.end, g.reason));
        }
        s.push('\n');
    }
    s.push_str(
        "How to verify (offline, no database needed):\n\
         \x20 custos verify-bundle THIS_DIRECTORY --key OPERATOR_PUBLIC_KEY\n\
         or with the standalone verifier (a few hundred lines, no other custos code):\n\
         \x20 custos-bundle-verify THIS_DIRECTORY --key OPERATOR_PUBLIC_KEY\n\
         Compare the signing key fingerprint above with the one the operator publishes; the\n\
         proof means nothing if the key is not the operator's.\n\n\
         What a failure means: the verifier names each file that differs from what the system\n\
         recorded (a segment's hash at recording time, or this export's manifest). Such a file\n\
         was altered, damaged, added or removed after it left the system and must not be relied\n\
         on; ask the operator for a fresh export.\n",
    );
    s
}

/// Writes an evidence bundle of [`Request::from`, `to`) of `stream` (E5, H5, E2).
pub async fn export_bundle(
    store: &Store,
    data: &DataDir,
    stream: &Stream,
    r: &Request,
) -> Result<Summary> {
    validate(r)?;
    let (journal, _) = Journal::open(data)?;
    let (sk, key_text) = node_key(data, &journal)?;
    let vk: VerifyingKey = sk.verifying_key();
    let fingerprint = custos_ledger::fingerprint(&vk);
    let stream_name = stream.kind.as_str();
    // E2: registered before anything is read; fails closed.
    let export_details = json!({
        "bundle": r.out.display().to_string(),
        "camera": r.camera,
        "stream": stream_name,
        "from": r.from.to_rfc3339(),
        "to": r.to.to_rfc3339(),
        "from_90k": r.from.0,
        "to_90k": r.to.0,
        "recipient": r.recipient,
        "legal_basis": r.legal_basis,
        "case": r.case,
    });
    let access = journal.register_access(
        &r.operator,
        Action::Export,
        &format!("camera/{}/{stream_name}", r.camera),
        Some(&r.legal_basis),
        export_details,
    )?;
    let export_entry = journal
        .ledger()
        .entry(access.seq())
        .map_err(|e| lerr("reading the export entry", e))?;
    let segs = store.sealed_segments(stream.id, r.from, r.to).await?;
    if segs.is_empty() {
        return Err(Error::new(
            ErrorKind::NotFound,
            format!(
                "camera {} has no sealed footage between {} and {}",
                r.camera, r.from, r.to
            ),
        ));
    }
    let gaps: Vec<GapInfo> = store
        .gaps(stream.id, r.from, r.to)
        .await?
        .into_iter()
        .map(|g| GapInfo {
            start: g.start.to_rfc3339(),
            end: g.end.to_rfc3339(),
            start_90k: g.start.0,
            end_90k: g.end.0,
            reason: g.reason,
        })
        .collect();

    // Build in a hidden sibling directory, moved into place at the end.
    let name = r.out.file_name().unwrap_or_default().to_string_lossy();
    let tmp = parent_of(&r.out).join(format!(".{name}.partial-{}", std::process::id()));
    fs::create_dir(&tmp).map_err(|e| Error::io(format!("creating {}", tmp.display()), e))?;
    let mut guard = Partial(Some(tmp.clone()));
    fs::create_dir(tmp.join(SEGMENTS_DIR))
        .map_err(|e| Error::io(format!("creating {}/segments", tmp.display()), e))?;
    let copied = tokio::task::spawn_blocking({
        let (data, journal, tmp, segs) = (data.clone(), journal.clone(), tmp.clone(), segs.clone());
        move || {
            segs.iter()
                .map(|s| copy_segment(&data, &journal, s, &tmp))
                .collect::<Result<Vec<_>>>()
        }
    })
    .await
    .map_err(|e| Error::new(ErrorKind::Internal, format!("copy task failed: {e}")))??;
    let export = custos_footage::read::export_mp4(
        &access,
        store,
        data,
        stream,
        r.from,
        r.to,
        &tmp.join(EXPORT_MP4),
    )
    .await?;
    let exported_at = ms_to_rfc3339(export_entry.time_unix_ms);
    fs::write(
        tmp.join(README),
        readme(
            r,
            stream_name,
            &exported_at,
            &fingerprint,
            segs.len(),
            &gaps,
        ),
    )
    .map_err(|e| Error::io("writing README.txt", e))?;
    let file_info = |f: &str| -> Result<FileInfo> {
        let (sha256, bytes) = sha256_file(&tmp.join(f))?;
        Ok(FileInfo {
            file: f.to_string(),
            sha256,
            bytes,
        })
    };
    let export_mp4 = file_info(EXPORT_MP4)?;
    let readme_info = file_info(README)?;
    let mut files = serde_json::Map::new();
    for f in [&export_mp4, &readme_info] {
        files.insert(
            f.file.clone(),
            json!({"sha256": f.sha256, "bytes": f.bytes}),
        );
    }
    for (s, (file, bytes, _)) in segs.iter().zip(&copied) {
        files.insert(file.clone(), json!({"sha256": s.sha256, "bytes": bytes}));
    }
    let manifest_seq = journal.record(
        NewEntry::new(
            &r.operator,
            Action::Other(EXPORT_MANIFEST_ACTION.into()),
            format!("camera/{}/{stream_name}", r.camera),
        )
        .purpose(r.legal_basis.clone())
        .details(json!({
            "export_seq": access.seq(),
            "files": files,
            "gaps": gaps,
        })),
    )?;
    let cp = journal.checkpoint()?;
    let size = cp.checkpoint.tree_size;
    let segments = segs
        .iter()
        .zip(&copied)
        .map(|(s, (file, bytes, seq))| {
            let end = s.end.unwrap_or(s.start);
            Ok(SegmentInfo {
                file: file.clone(),
                segment_id: s.id,
                sha256: s.sha256.clone().unwrap_or_default(),
                bytes: *bytes,
                start: s.start.to_rfc3339(),
                end: end.to_rfc3339(),
                start_90k: s.start.0,
                end_90k: end.0,
                proof: proof(&journal, *seq, size)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let manifest = Manifest {
        format: FORMAT.into(),
        camera: r.camera.clone(),
        stream: stream_name.into(),
        from: r.from.to_rfc3339(),
        to: r.to.to_rfc3339(),
        from_90k: r.from.0,
        to_90k: r.to.0,
        recipient: r.recipient.clone(),
        legal_basis: r.legal_basis.clone(),
        case: r.case.clone(),
        exported_by: r.operator.clone(),
        exported_at,
        exported_at_unix_ms: export_entry.time_unix_ms,
        key: KeyInfo {
            verifier_key: key_text.clone(),
            fingerprint,
        },
        checkpoint: cp.to_text(),
        export_mp4,
        readme: readme_info,
        gaps,
        segments,
        export_entry: proof(&journal, access.seq(), size)?,
        manifest_entry: proof(&journal, manifest_seq, size)?,
    };
    let mut bytes = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| Error::new(ErrorKind::Internal, format!("manifest: {e}")))?;
    bytes.push(b'\n');
    let sig = sk.sign(&bytes);
    let write = |f: &str, b: &[u8]| -> Result<()> {
        let p = tmp.join(f);
        let mut o =
            File::create_new(&p).map_err(|e| Error::io(format!("creating {}", p.display()), e))?;
        o.write_all(b)
            .and_then(|_| o.sync_all())
            .map_err(|e| Error::io(format!("writing {}", p.display()), e))
    };
    write(MANIFEST, &bytes)?;
    write(
        MANIFEST_SIG,
        format!("{}\n", B64.encode(sig.to_bytes())).as_bytes(),
    )?;
    write(PUBLIC_KEY, key_text.as_bytes())?;
    for f in [EXPORT_MP4, README] {
        File::open(tmp.join(f))
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io(format!("fsync {f}"), e))?;
    }
    for d in [tmp.join(SEGMENTS_DIR), tmp.clone()] {
        File::open(&d)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io(format!("fsync {}", d.display()), e))?;
    }
    // Move into place; never over something that appeared meanwhile.
    nix::fcntl::renameat2(
        None,
        &tmp,
        None,
        &r.out,
        nix::fcntl::RenameFlags::RENAME_NOREPLACE,
    )
    .map_err(|e| {
        Error::io(
            format!("moving the bundle to {}", r.out.display()),
            std::io::Error::from(e),
        )
    })?;
    guard.0 = None;
    let parent = parent_of(&r.out);
    let _ = File::open(&parent).and_then(|f| f.sync_all());
    Ok(Summary {
        bundle: r.out.clone(),
        manifest,
        export,
    })
}
