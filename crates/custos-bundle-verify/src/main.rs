//! # custos-bundle-verify — check a custos evidence bundle without trusting custos
//!
//! ```text
//! custos-bundle-verify BUNDLE_DIR [--key PUBLIC_KEY_FILE]
//! exit 0: every check passed; 7: at least one problem (each printed with its file); 2: usage
//! ```
//!
//! This program is deliberately self-contained (SHA-256, Ed25519, JSON, base64, hex — no
//! other custos code, no database, no network) so that a court, a prosecutor or the receiving
//! police unit can read it in one sitting and build it themselves.
//!
//! ## The bundle (format `custos-evidence/1`, see custos-evidence/FORMAT.md)
//!
//! ```text
//! BUNDLE/
//!   manifest.json   what was exported, to whom, on what legal basis, with ledger proofs
//!   manifest.sig    base64 Ed25519 signature of the exact bytes of manifest.json
//!   ledger.pub      the node's public key (same text as manifest.json "key.verifier_key")
//!   README.txt      human description
//!   export.mp4      the requested range joined into one MP4 (convenience copy)
//!   segments/*.mp4  the ORIGINAL recorded segment files, byte for byte
//! ```
//!
//! custos keeps an append-only ledger (a Merkle tree, RFC 9162) of everything that happens:
//! each recorded segment's SHA-256 is entered when the segment is sealed, every export is
//! entered *before* footage is read, and an "ExportManifest" entry holds the SHA-256 of every
//! file of this bundle. The node signs checkpoints (tree size + root hash, C2SP signed-note
//! text) with its Ed25519 key. The manifest carries one such checkpoint and, for each entry it
//! relies on, the entry's exact bytes and its inclusion proof under that checkpoint's root.
//!
//! ## What is checked
//! 1. manifest.sig is a valid signature of manifest.json by the bundle key; ledger.pub is
//!    that key; the key fingerprint is as stated (and equals `--key` when given);
//! 2. the checkpoint is signed by that key;
//! 3. every ledger entry quoted in the manifest is included in the checkpoint's tree;
//! 4. each segment file's SHA-256 and size equal the manifest's AND those its sealing entry
//!    recorded at recording time (same camera, stream, times, segment id);
//! 5. the export entry (written before the export read any footage) names the same
//!    recipient, legal basis, case, camera, range and operator as the manifest;
//! 6. the ExportManifest entry lists exactly the bundle's files with the same SHA-256 values
//!    (export.mp4 and README.txt included) and the same gaps;
//! 7. the directory holds no missing and no extra file.
//!
//! ## Trust model — read this
//! Everything above proves the bundle is *internally consistent and signed by the key it
//! carries*. Anyone can make a new key and sign a forged bundle with it. The proof is worth
//! something only when the key is the operator's: compare the printed fingerprint with the
//! one the operator published (or pass the operator's public key file with `--key`, which
//! this program then insists on). The checkpoint can also be compared with checkpoints
//! obtained from the operator at other times (same origin and tree size ⇒ same root).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::Value;
use sha2::{Digest, Sha256};

const FORMAT: &str = "custos-evidence/1";
type Hash = [u8; 32];

// ---------------------------------------------------------------------------------------
// RFC 9162 §2.1: Merkle tree hashing and inclusion proof verification.

fn leaf_hash(data: &[u8]) -> Hash {
    Sha256::new()
        .chain_update([0u8])
        .chain_update(data)
        .finalize()
        .into()
}

fn node_hash(left: &Hash, right: &Hash) -> Hash {
    Sha256::new()
        .chain_update([1u8])
        .chain_update(left)
        .chain_update(right)
        .finalize()
        .into()
}

/// RFC 9162 §2.1.3.2: does `proof` lead from leaf hash `leaf` at `index` to `root` in a tree
/// of `size` leaves?
fn verify_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut fnum, mut snum, mut r) = (index, size - 1, *leaf);
    for p in proof {
        if snum == 0 {
            return false;
        }
        if fnum & 1 == 1 || fnum == snum {
            r = node_hash(p, &r);
            while fnum & 1 == 0 && fnum != 0 {
                fnum >>= 1;
                snum >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fnum >>= 1;
        snum >>= 1;
    }
    snum == 0 && r == *root
}

// ---------------------------------------------------------------------------------------
// Keys and checkpoints (C2SP signed-note).

/// Signed-note key id: SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)[0..4].
fn key_id(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let d = Sha256::new()
        .chain_update(name.as_bytes())
        .chain_update(b"\n\x01")
        .chain_update(key.as_bytes())
        .finalize();
    [d[0], d[1], d[2], d[3]]
}

/// Fingerprint as custos prints it: hex of SHA-256(public key)[0..16].
fn fingerprint(key: &VerifyingKey) -> String {
    hex::encode(&Sha256::digest(key.as_bytes())[..16])
}

/// Verifier key text `<name>+<key id hex>+<base64(0x01 ‖ 32-byte key)>` (newline optional).
fn parse_key(text: &str) -> Result<VerifyingKey, String> {
    let parts: Vec<&str> = text.trim_end_matches('\n').splitn(3, '+').collect(); // base64 may hold '+'
    let [name, id, b64] = parts[..] else {
        return Err("not a key of the form <name>+<key id>+<base64 key>".into());
    };
    let raw = B64.decode(b64).map_err(|_| "key is not base64")?;
    if raw.len() != 33 || raw[0] != 1 {
        return Err("key is not 0x01 followed by a 32-byte Ed25519 key".into());
    }
    let key = VerifyingKey::from_bytes(raw[1..].try_into().map_err(|_| "bad key length")?)
        .map_err(|_| "not a valid Ed25519 public key")?;
    if hex::encode(key_id(name, &key)) != id {
        return Err(format!("key id {id} does not match the key"));
    }
    Ok(key)
}

struct Checkpoint {
    origin: String,
    tree_size: u64,
    root: Hash,
}

/// Parses and verifies a checkpoint note:
/// `origin\nsize\nbase64(root)\ntime_unix_ms T\n\n— origin base64(key id ‖ signature)\n`;
/// the signature covers everything before the blank line, including the last `\n`.
fn verify_checkpoint(text: &str, key: &VerifyingKey) -> Result<Checkpoint, String> {
    let (body, sig_line) = text
        .split_once("\n\n")
        .ok_or("no blank line in checkpoint note")?;
    let body = format!("{body}\n");
    let lines: Vec<&str> = body.lines().collect();
    if lines.len() != 4 || !lines[3].starts_with("time_unix_ms ") {
        return Err("checkpoint body is not origin / size / root / time_unix_ms".into());
    }
    let origin = lines[0].to_string();
    let tree_size: u64 = lines[1].parse().map_err(|_| "tree size is not a number")?;
    let root: Hash = B64
        .decode(lines[2])
        .ok()
        .and_then(|r| r.try_into().ok())
        .ok_or("root hash is not 32 bytes of base64")?;
    let rest = sig_line
        .strip_suffix('\n')
        .and_then(|l| l.strip_prefix("\u{2014} "))
        .ok_or("signature line is not '— <name> <signature>'")?;
    let (name, b64) = rest
        .split_once(' ')
        .ok_or("signature line has no signature")?;
    let raw = B64.decode(b64).map_err(|_| "signature is not base64")?;
    if name != origin || raw.len() != 68 {
        return Err("signature line names another key or has the wrong length".into());
    }
    if raw[..4] != key_id(&origin, key) {
        return Err("checkpoint was signed by another key (key id differs)".into());
    }
    let sig = Signature::from_bytes(raw[4..].try_into().map_err(|_| "bad signature length")?);
    key.verify_strict(body.as_bytes(), &sig)
        .map_err(|_| "checkpoint signature does not verify".to_string())?;
    Ok(Checkpoint {
        origin,
        tree_size,
        root,
    })
}

// ---------------------------------------------------------------------------------------
// The bundle.

/// Problems found, each naming a file of the bundle.
#[derive(Default)]
struct Problems(Vec<(String, String)>);

impl Problems {
    fn add(&mut self, file: &str, msg: impl Into<String>) {
        self.0.push((file.to_string(), msg.into()));
    }
}

fn s<'a>(v: &'a Value, k: &str) -> &'a Value {
    v.get(k).unwrap_or(&Value::Null)
}

fn text<'a>(v: &'a Value, k: &str) -> &'a str {
    s(v, k).as_str().unwrap_or("")
}

/// SHA-256 (hex) and size of a file.
fn sha256_file(p: &Path) -> std::io::Result<(String, u64)> {
    let mut f = fs::File::open(p)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf)?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
    Ok((hex::encode(h.finalize()), n))
}

/// Checks one quoted ledger entry: `{seq, leaf_b64, inclusion_proof: [hex], tree_size}`.
/// Returns the entry (parsed leaf JSON) when it is in the checkpoint's tree.
fn check_entry(p: &Value, cp: &Checkpoint) -> Result<Value, String> {
    let seq = s(p, "seq").as_u64().ok_or("proof has no seq")?;
    if s(p, "tree_size").as_u64() != Some(cp.tree_size) {
        return Err(format!(
            "proof of ledger entry {seq} is not for the checkpoint's tree size"
        ));
    }
    let leaf = B64
        .decode(text(p, "leaf_b64"))
        .map_err(|_| format!("ledger entry {seq}: leaf is not base64"))?;
    let proof: Vec<Hash> = s(p, "inclusion_proof")
        .as_array()
        .ok_or(format!("ledger entry {seq}: no inclusion proof"))?
        .iter()
        .map(|h| {
            h.as_str()
                .and_then(|h| hex::decode(h).ok())
                .and_then(|h| h.try_into().ok())
        })
        .collect::<Option<_>>()
        .ok_or(format!(
            "ledger entry {seq}: proof hash is not 32 bytes of hex"
        ))?;
    if !verify_inclusion(&leaf_hash(&leaf), seq, cp.tree_size, &proof, &cp.root) {
        return Err(format!(
            "ledger entry {seq} is not in the signed ledger (inclusion proof does not lead to the checkpoint root)"
        ));
    }
    let e: Value =
        serde_json::from_slice(&leaf).map_err(|_| format!("ledger entry {seq} is not JSON"))?;
    if s(&e, "seq").as_u64() != Some(seq) {
        return Err(format!("ledger entry {seq} holds another seq"));
    }
    Ok(e)
}

/// All files below `dir`, as relative paths with `/`.
fn list_files(dir: &Path, rel: &str, out: &mut BTreeSet<String>) {
    let Ok(rd) = fs::read_dir(dir) else { return };
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

fn verify(dir: &Path, pinned: Option<&VerifyingKey>, out: &mut Vec<String>) -> Problems {
    let mut pr = Problems::default();
    if !dir.is_dir() {
        pr.add(&dir.display().to_string(), "not a directory");
        return pr;
    }
    let read = |name: &str, pr: &mut Problems| match fs::read(dir.join(name)) {
        Ok(b) => Some(b),
        Err(e) => {
            pr.add(name, format!("missing or unreadable: {e}"));
            None
        }
    };
    let manifest_bytes = read("manifest.json", &mut pr);
    let sig_text = read("manifest.sig", &mut pr);
    let pub_text = read("ledger.pub", &mut pr);
    let m: Option<Value> = manifest_bytes
        .as_ref()
        .and_then(|b| match serde_json::from_slice(b) {
            Ok(v) => Some(v),
            Err(e) => {
                pr.add(
                    "manifest.json",
                    format!("not valid JSON ({e}): the file was altered"),
                );
                None
            }
        });

    // 1. The key: the manifest's; the copy in ledger.pub must be the same text.
    let key_text = m
        .as_ref()
        .map(|m| text(s(m, "key"), "verifier_key").to_string());
    let key_text = key_text.or_else(|| {
        pub_text
            .as_ref()
            .map(|b| String::from_utf8_lossy(b).into_owned())
    });
    let key = key_text.as_deref().and_then(|t| match parse_key(t) {
        Ok(k) => Some(k),
        Err(e) => {
            pr.add("manifest.json", format!("key.verifier_key: {e}"));
            None
        }
    });
    if let (Some(m), Some(p)) = (&m, &pub_text)
        && p.as_slice() != text(s(m, "key"), "verifier_key").as_bytes()
    {
        pr.add(
            "ledger.pub",
            "differs from the key in manifest.json (key.verifier_key): the file was altered",
        );
    }
    if let (Some(m), Some(k)) = (&m, &key)
        && text(s(m, "key"), "fingerprint") != fingerprint(k)
    {
        pr.add(
            "manifest.json",
            "key.fingerprint is not the fingerprint of key.verifier_key",
        );
    }
    if let (Some(pin), Some(k)) = (pinned, &key)
        && pin != k
    {
        pr.add(
            "ledger.pub",
            format!(
                "the bundle is signed by a different key (fingerprint {}) than the pinned --key (fingerprint {}): do not trust it",
                fingerprint(k),
                fingerprint(pin)
            ),
        );
    }
    // 2. manifest.sig over the exact bytes of manifest.json.
    if let (Some(b), Some(sig), Some(k)) = (&manifest_bytes, &sig_text, &key) {
        let sig = B64
            .decode(String::from_utf8_lossy(sig).trim_end_matches('\n'))
            .ok()
            .and_then(|s| <[u8; 64]>::try_from(s).ok());
        match sig {
            None => pr.add(
                "manifest.sig",
                "not a base64 Ed25519 signature (64 bytes): the file was altered",
            ),
            Some(sig) => {
                if k.verify_strict(b, &Signature::from_bytes(&sig)).is_err() {
                    pr.add(
                        "manifest.json",
                        "signature in manifest.sig does not verify over manifest.json: manifest.json or manifest.sig was altered",
                    );
                }
            }
        }
    }
    let (Some(m), Some(key)) = (m, key) else {
        return pr;
    };
    if text(&m, "format") != FORMAT {
        pr.add(
            "manifest.json",
            format!(
                "format is {:?}, this program reads {FORMAT:?}",
                s(&m, "format")
            ),
        );
        return pr;
    }
    out.push(format!(
        "camera:      {} ({})",
        text(&m, "camera"),
        text(&m, "stream")
    ));
    out.push(format!(
        "range:       {} .. {}",
        text(&m, "from"),
        text(&m, "to")
    ));
    out.push(format!("recipient:   {}", text(&m, "recipient")));
    out.push(format!("legal basis: {}", text(&m, "legal_basis")));
    if let Some(c) = s(&m, "case").as_str() {
        out.push(format!("case:        {c}"));
    }
    out.push(format!(
        "exported by: {} at {}",
        text(&m, "exported_by"),
        text(&m, "exported_at")
    ));
    out.push(format!(
        "key:         fingerprint {} ({})",
        fingerprint(&key),
        if pinned.is_some() {
            "pinned with --key"
        } else {
            "NOT pinned: compare it with the operator's published fingerprint"
        }
    ));

    // 3. Checkpoint.
    let cp = match verify_checkpoint(text(&m, "checkpoint"), &key) {
        Ok(c) => c,
        Err(e) => {
            pr.add("manifest.json", format!("checkpoint: {e}"));
            return pr;
        }
    };
    out.push(format!(
        "checkpoint:  {} tree size {}",
        cp.origin, cp.tree_size
    ));

    // 4. Export entry: written before any footage was read.
    let export = check_entry(s(&m, "export_entry"), &cp)
        .map_err(|e| pr.add("manifest.json", format!("export entry: {e}")))
        .ok();
    if let Some(e) = &export {
        let d = s(e, "details");
        let checks = [
            ("action", s(e, "action") == "Export"),
            ("exported_by", s(e, "actor") == s(&m, "exported_by")),
            (
                "exported_at_unix_ms",
                s(e, "time_unix_ms") == s(&m, "exported_at_unix_ms"),
            ),
            ("legal_basis", s(e, "purpose") == s(&m, "legal_basis")),
        ];
        for (what, ok) in checks {
            if !ok {
                pr.add(
                    "manifest.json",
                    format!("{what} differs from the export entry in the ledger"),
                );
            }
        }
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
            if s(d, k) != s(&m, k) {
                pr.add(
                    "manifest.json",
                    format!(
                        "{k} differs from the export entry in the ledger ({})",
                        s(d, k)
                    ),
                );
            }
        }
    }
    // 5. ExportManifest entry: the hashes of this bundle's files.
    let listed = check_entry(s(&m, "manifest_entry"), &cp)
        .map_err(|e| pr.add("manifest.json", format!("manifest entry: {e}")))
        .ok();
    let mut files: BTreeMap<String, Value> = BTreeMap::new();
    if let Some(e) = &listed {
        let d = s(e, "details");
        if s(e, "action") != "ExportManifest"
            || Some(s(d, "export_seq")) != export.as_ref().map(|x| s(x, "seq"))
        {
            pr.add(
                "manifest.json",
                "manifest entry is not the ExportManifest entry of this export",
            );
        }
        if s(d, "gaps") != s(&m, "gaps") {
            pr.add(
                "manifest.json",
                "gaps differ from those recorded in the ledger at export",
            );
        }
        if let Some(o) = s(d, "files").as_object() {
            files = o.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        }
    }
    let mut expected: BTreeSet<String> = ["manifest.json", "manifest.sig", "ledger.pub"]
        .map(String::from)
        .into();
    let mut check_file = |name: &str, want: &Value, pr: &mut Problems| -> bool {
        expected.insert(name.to_string());
        if name
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..")
        {
            pr.add("manifest.json", format!("bad file name {name:?}"));
            return false;
        }
        if listed.is_some()
            && files.get(name)
                != Some(
                    &serde_json::json!({"sha256": s(want, "sha256"), "bytes": s(want, "bytes")}),
                )
        {
            pr.add(
                name,
                "hash/size in manifest.json differ from the ExportManifest ledger entry",
            );
        }
        match sha256_file(&dir.join(name)) {
            Err(e) => {
                pr.add(name, format!("missing or unreadable: {e}"));
                false
            }
            Ok((h, n)) if h != text(want, "sha256") || Some(n) != s(want, "bytes").as_u64() => {
                pr.add(
                    name,
                    format!(
                        "content altered: SHA-256 {h} ({n} bytes), recorded {} ({} bytes)",
                        s(want, "sha256"),
                        s(want, "bytes")
                    ),
                );
                false
            }
            Ok(_) => true,
        }
    };
    for f in ["export_mp4", "readme"] {
        let want = s(&m, f);
        check_file(text(want, "file"), want, &mut pr);
    }
    // 6. Original segments against their sealing entries.
    let mut verified = 0usize;
    let empty = vec![];
    for seg in s(&m, "segments").as_array().unwrap_or(&empty) {
        let name = text(seg, "file");
        let mut ok = check_file(name, seg, &mut pr);
        match check_entry(s(seg, "proof"), &cp) {
            Err(e) => {
                pr.add(name, format!("sealing entry: {e}"));
                ok = false;
            }
            Ok(e) => {
                let d = s(&e, "details");
                let same = s(&e, "action") == "SegmentSealed"
                    && s(d, "sha256") == s(seg, "sha256")
                    && s(d, "bytes") == s(seg, "bytes")
                    && s(d, "segment_id") == s(seg, "segment_id")
                    && s(d, "start_90k") == s(seg, "start_90k")
                    && s(d, "end_90k") == s(seg, "end_90k")
                    && s(d, "camera") == s(&m, "camera")
                    && s(d, "stream") == s(&m, "stream");
                if !same {
                    pr.add(name, "differs from what the ledger recorded when the segment was sealed (hash, size, id, camera or times)");
                    ok = false;
                }
                let (a, b) = (s(d, "start_90k").as_i64(), s(d, "end_90k").as_i64());
                if !(a < s(&m, "to_90k").as_i64() && b > s(&m, "from_90k").as_i64()) {
                    pr.add(name, "segment does not overlap the exported range");
                }
            }
        }
        verified += usize::from(ok);
    }
    // The ledger's file list and the bundle directory must match the manifest exactly.
    for f in files.keys() {
        if !expected.contains(f) {
            pr.add(
                f,
                "listed in the ExportManifest ledger entry but not in manifest.json",
            );
        }
    }
    let mut present = BTreeSet::new();
    list_files(dir, "", &mut present);
    for f in present.difference(&expected) {
        pr.add(f, "unexpected file: not part of the bundle");
    }
    for f in expected.difference(&present) {
        if !pr.0.iter().any(|(x, _)| x == f) {
            pr.add(f, "missing");
        }
    }
    out.push(format!(
        "segments:    {verified} original segment file(s) verified against the ledger"
    ));
    pr
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut dir, mut key): (Option<PathBuf>, Option<PathBuf>) = (None, None);
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--key" => key = it.next().map(PathBuf::from),
            "-h" | "--help" => {
                println!("usage: custos-bundle-verify BUNDLE_DIR [--key PUBLIC_KEY_FILE]");
                return ExitCode::SUCCESS;
            }
            _ if dir.is_none() && !a.starts_with('-') => dir = Some(PathBuf::from(a)),
            _ => {
                eprintln!("usage: custos-bundle-verify BUNDLE_DIR [--key PUBLIC_KEY_FILE]");
                return ExitCode::from(2);
            }
        }
    }
    let Some(dir) = dir else {
        eprintln!("usage: custos-bundle-verify BUNDLE_DIR [--key PUBLIC_KEY_FILE]");
        return ExitCode::from(2);
    };
    let pinned = match key.map(|k| {
        fs::read_to_string(&k)
            .map_err(|e| e.to_string())
            .and_then(|t| parse_key(&t))
            .map_err(|e| (k, e))
    }) {
        None => None,
        Some(Ok(k)) => Some(k),
        Some(Err((k, e))) => {
            eprintln!("error: --key {}: {e}", k.display());
            return ExitCode::from(2);
        }
    };
    let mut out = vec![format!("bundle:      {}", dir.display())];
    let pr = verify(&dir, pinned.as_ref(), &mut out);
    for l in out {
        println!("{l}");
    }
    if pr.0.is_empty() {
        println!("OK: the bundle is intact and every file is proven by the signed ledger");
        ExitCode::SUCCESS
    } else {
        println!("FAILED: {} problem(s):", pr.0.len());
        for (f, m) in &pr.0 {
            println!("  {f}: {m}");
        }
        ExitCode::from(7)
    }
}
