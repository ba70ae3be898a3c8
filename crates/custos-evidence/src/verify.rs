//! Verifying a bundle offline (no database): the checks of `FORMAT.md`, with the ledger's own
//! Merkle and signed-note code. The standalone `custos-bundle-verify` re-implements the same
//! checks independently.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use custos_ledger::{Action, Entry, SignedCheckpoint, VerifyingKey};
use ed25519_dalek::Signature;
use serde_json::{Value, json};

use crate::export::sha256_file;
use crate::manifest::*;

/// One problem, naming the bundle file concerned.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub file: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

/// Result of [`verify_bundle`].
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Report {
    pub manifest: Option<Manifest>,
    /// Fingerprint of the key the bundle is signed with.
    pub fingerprint: Option<String>,
    /// Whether a pinned key was given (and compared).
    pub pinned: bool,
    pub segments_verified: usize,
    pub problems: Vec<Problem>,
}

impl Report {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
    fn add(&mut self, file: &str, msg: impl Into<String>) {
        self.problems.push(Problem {
            file: file.into(),
            message: msg.into(),
        });
    }
}

/// Parses verifier key text `<name>+<key id hex>+<base64(0x01 ‖ key)>`; the key id must be
/// the key's (the text must be exactly what the ledger writes for it).
pub fn parse_key(text: &str) -> Result<VerifyingKey, String> {
    let parts: Vec<&str> = text.trim_end_matches('\n').splitn(3, '+').collect(); // base64 may hold '+'
    let [name, _id, b64] = parts[..] else {
        return Err("not a key of the form <name>+<key id>+<base64 key>".into());
    };
    let raw = B64
        .decode(b64)
        .map_err(|_| "key is not base64".to_string())?;
    if raw.len() != 33 || raw[0] != 1 {
        return Err("key is not 0x01 followed by a 32-byte Ed25519 key".into());
    }
    let mut k = [0u8; 32];
    k.copy_from_slice(&raw[1..]);
    let key = VerifyingKey::from_bytes(&k).map_err(|_| "not a valid Ed25519 key".to_string())?;
    if custos_ledger::checkpoint::verifier_key_text(name, &key).trim_end() != text.trim_end() {
        return Err("key id does not match the key".into());
    }
    Ok(key)
}

/// Checks a quoted entry against the checkpoint; returns the (canonical) entry.
fn check_entry(p: &EntryProof, cp: &SignedCheckpoint, key: &VerifyingKey) -> Result<Entry, String> {
    let seq = p.seq;
    if p.tree_size != cp.checkpoint.tree_size {
        return Err(format!(
            "proof of ledger entry {seq} is for tree size {}, the checkpoint has {}",
            p.tree_size, cp.checkpoint.tree_size
        ));
    }
    let leaf = B64
        .decode(&p.leaf_b64)
        .map_err(|_| format!("ledger entry {seq}: leaf is not base64"))?;
    let proof = p
        .inclusion_proof
        .iter()
        .map(|h| {
            hex::decode(h)
                .ok()
                .and_then(|h| <[u8; 32]>::try_from(h).ok())
        })
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| format!("ledger entry {seq}: proof hash is not 32 bytes of hex"))?;
    custos_ledger::verify_inclusion(&leaf, seq, &proof, cp, key)
        .map_err(|e| format!("ledger entry {seq} is not in the signed ledger: {e}"))?;
    let e = Entry::from_canonical_bytes(&leaf).map_err(|e| format!("ledger entry {seq}: {e}"))?;
    if e.seq != seq {
        return Err(format!("ledger entry {seq} holds seq {}", e.seq));
    }
    Ok(e)
}

fn list_files(dir: &Path, rel: &str, out: &mut BTreeSet<String>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let r = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            list_files(&e.path(), &r, out);
        } else {
            out.insert(r);
        }
    }
}

/// Verifies the bundle in `dir`. `pinned`: the operator's published key; without it the
/// bundle's own key is used and only internal consistency is proven. Never fails: every
/// problem is in the report.
pub fn verify_bundle(dir: &Path, pinned: Option<&VerifyingKey>) -> Report {
    let mut r = Report {
        pinned: pinned.is_some(),
        ..Default::default()
    };
    if !dir.is_dir() {
        r.add(&dir.display().to_string(), "not a directory");
        return r;
    }
    let mut read = |name: &str| match std::fs::read(dir.join(name)) {
        Ok(b) => Some(b),
        Err(e) => {
            r.add(name, format!("missing or unreadable: {e}"));
            None
        }
    };
    let (mbytes, sig, pubk) = (read(MANIFEST), read(MANIFEST_SIG), read(PUBLIC_KEY));
    let m: Option<Manifest> = mbytes.as_ref().and_then(|b| {
        serde_json::from_slice(b)
            .map_err(|e| {
                r.add(
                    MANIFEST,
                    format!("not a {FORMAT} manifest ({e}): the file was altered"),
                )
            })
            .ok()
    });
    let key_text = m.as_ref().map(|m| m.key.verifier_key.clone()).or_else(|| {
        pubk.as_ref()
            .map(|b| String::from_utf8_lossy(b).into_owned())
    });
    let key = key_text.and_then(|t| {
        parse_key(&t)
            .map_err(|e| r.add(MANIFEST, format!("key.verifier_key: {e}")))
            .ok()
    });
    if let (Some(m), Some(p)) = (&m, &pubk)
        && p.as_slice() != m.key.verifier_key.as_bytes()
    {
        r.add(
            PUBLIC_KEY,
            "differs from the key in manifest.json (key.verifier_key): the file was altered",
        );
    }
    if let Some(k) = &key {
        r.fingerprint = Some(custos_ledger::fingerprint(k));
        if let Some(m) = &m
            && m.key.fingerprint != custos_ledger::fingerprint(k)
        {
            r.add(
                MANIFEST,
                "key.fingerprint is not the fingerprint of key.verifier_key",
            );
        }
        if let Some(pin) = pinned
            && pin != k
        {
            r.add(
                PUBLIC_KEY,
                format!(
                    "the bundle is signed by a different key (fingerprint {}) than the pinned --key (fingerprint {}): do not trust it",
                    custos_ledger::fingerprint(k),
                    custos_ledger::fingerprint(pin)
                ),
            );
        }
    }
    if let (Some(b), Some(sig), Some(k)) = (&mbytes, &sig, &key) {
        let s = B64
            .decode(String::from_utf8_lossy(sig).trim_end_matches('\n'))
            .ok()
            .and_then(|s| <[u8; 64]>::try_from(s).ok());
        match s {
            None => r.add(
                MANIFEST_SIG,
                "not a base64 Ed25519 signature (64 bytes): the file was altered",
            ),
            Some(s) => {
                if k.verify_strict(b, &Signature::from_bytes(&s)).is_err() {
                    r.add(
                        MANIFEST,
                        "signature in manifest.sig does not verify over manifest.json: manifest.json or manifest.sig was altered",
                    );
                }
            }
        }
    }
    let (Some(m), Some(key)) = (m, key) else {
        return r;
    };
    r.manifest = Some(m.clone());
    if m.format != FORMAT {
        r.add(
            MANIFEST,
            format!("format is {:?}, want {FORMAT:?}", m.format),
        );
        return r;
    }
    let cp = match SignedCheckpoint::parse(&m.checkpoint)
        .map_err(|e| e.to_string())
        .and_then(|c| c.verify(&key).map(|_| c).map_err(|e| e.to_string()))
    {
        Ok(c) => c,
        Err(e) => {
            r.add(MANIFEST, format!("checkpoint: {e}"));
            return r;
        }
    };
    // The export entry, registered before footage was read.
    let export = check_entry(&m.export_entry, &cp, &key)
        .map_err(|e| r.add(MANIFEST, format!("export entry: {e}")))
        .ok();
    if let Some(e) = &export {
        let d = &e.details;
        let mut same = vec![
            ("action", e.action == Action::Export),
            ("exported_by", e.actor == m.exported_by),
            (
                "exported_at_unix_ms",
                e.time_unix_ms == m.exported_at_unix_ms,
            ),
            ("legal_basis", e.purpose.as_deref() == Some(&m.legal_basis)),
        ];
        let mv = serde_json::to_value(&m).unwrap_or_default();
        for k in [
            "recipient",
            "legal_basis",
            "case",
            "camera",
            "stream",
            "from",
            "to",
            "from_90k",
            "to_90k",
        ] {
            same.push((k, d.get(k) == mv.get(k)));
        }
        for (k, ok) in same {
            if !ok {
                r.add(
                    MANIFEST,
                    format!("{k} differs from the export entry in the ledger"),
                );
            }
        }
    }
    let listed = check_entry(&m.manifest_entry, &cp, &key)
        .map_err(|e| r.add(MANIFEST, format!("manifest entry: {e}")))
        .ok();
    let mut files: BTreeMap<String, Value> = BTreeMap::new();
    if let Some(e) = &listed {
        if e.action != Action::Other(EXPORT_MANIFEST_ACTION.into())
            || e.details.get("export_seq") != Some(&json!(m.export_entry.seq))
        {
            r.add(
                MANIFEST,
                "manifest entry is not the ExportManifest entry of this export",
            );
        }
        if e.details.get("gaps") != Some(&serde_json::to_value(&m.gaps).unwrap_or_default()) {
            r.add(
                MANIFEST,
                "gaps differ from those recorded in the ledger at export",
            );
        }
        if let Some(o) = e.details.get("files").and_then(Value::as_object) {
            files = o.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        }
    }
    let mut expected: BTreeSet<String> = [MANIFEST, MANIFEST_SIG, PUBLIC_KEY]
        .map(String::from)
        .into();
    let mut check_file = |r: &mut Report, name: &str, sha: &str, bytes: u64| -> bool {
        expected.insert(name.to_string());
        if name
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..")
        {
            r.add(MANIFEST, format!("bad file name {name:?}"));
            return false;
        }
        if listed.is_some() && files.get(name) != Some(&json!({"sha256": sha, "bytes": bytes})) {
            r.add(
                name,
                "hash/size in manifest.json differ from the ExportManifest ledger entry",
            );
        }
        match sha256_file(&dir.join(name)) {
            Err(e) => {
                r.add(name, format!("missing or unreadable: {e}"));
                false
            }
            Ok((h, n)) if h != sha || n != bytes => {
                r.add(
                    name,
                    format!(
                        "content altered: SHA-256 {h} ({n} bytes), recorded {sha} ({bytes} bytes)"
                    ),
                );
                false
            }
            Ok(_) => true,
        }
    };
    for f in [&m.export_mp4, &m.readme] {
        check_file(&mut r, &f.file, &f.sha256, f.bytes);
    }
    for s in &m.segments {
        let mut ok = check_file(&mut r, &s.file, &s.sha256, s.bytes);
        match check_entry(&s.proof, &cp, &key) {
            Err(e) => {
                r.add(&s.file, format!("sealing entry: {e}"));
                ok = false;
            }
            Ok(e) => {
                let d = &e.details;
                let same = e.action == Action::SegmentSealed
                    && d.get("sha256") == Some(&json!(s.sha256))
                    && d.get("bytes") == Some(&json!(s.bytes))
                    && d.get("segment_id") == Some(&json!(s.segment_id))
                    && d.get("start_90k") == Some(&json!(s.start_90k))
                    && d.get("end_90k") == Some(&json!(s.end_90k))
                    && d.get("camera") == Some(&json!(m.camera))
                    && d.get("stream") == Some(&json!(m.stream));
                if !same {
                    r.add(&s.file, "differs from what the ledger recorded when the segment was sealed (hash, size, id, camera or times)");
                    ok = false;
                }
                if !(s.start_90k < m.to_90k && s.end_90k > m.from_90k) {
                    r.add(&s.file, "segment does not overlap the exported range");
                }
            }
        }
        r.segments_verified += usize::from(ok);
    }
    for f in files.keys() {
        if !expected.contains(f) {
            r.add(
                f,
                "listed in the ExportManifest ledger entry but not in manifest.json",
            );
        }
    }
    let mut present = BTreeSet::new();
    list_files(dir, "", &mut present);
    for f in present.difference(&expected) {
        r.add(f, "unexpected file: not part of the bundle");
    }
    for f in expected.difference(&present) {
        if !r.problems.iter().any(|p| &p.file == f) {
            r.add(f, "missing");
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e5_key_text_with_plus_in_base64_parses_and_wrong_id_is_refused() {
        // Find a key whose base64 holds '+' (the separator of the text form).
        let (key, text) = (0u8..=255)
            .map(|i| ed25519_dalek::SigningKey::from_bytes(&[i; 32]).verifying_key())
            .map(|k| {
                (
                    k,
                    custos_ledger::checkpoint::verifier_key_text("custos", &k),
                )
            })
            .find(|(_, t)| t.matches('+').count() > 2)
            .expect("some key has '+' in its base64");
        assert_eq!(parse_key(&text).unwrap(), key);
        let bad = text.replacen("custos+", "custos+0", 1);
        assert!(parse_key(&bad).is_err());
        assert!(parse_key("nonsense").is_err());
    }

    #[test]
    fn e5_missing_bundle_is_a_problem_not_a_panic() {
        let d = tempfile::tempdir().unwrap();
        let r = verify_bundle(&d.path().join("nope"), None);
        assert!(!r.is_ok());
        let r = verify_bundle(d.path(), None);
        let files: Vec<&str> = r.problems.iter().map(|p| p.file.as_str()).collect();
        for f in [MANIFEST, MANIFEST_SIG, PUBLIC_KEY] {
            assert!(files.contains(&f), "{files:?}");
        }
    }
}
