//! The bundle's `manifest.json` (format `custos-evidence/1`; see `FORMAT.md`).

use serde::{Deserialize, Serialize};

/// Format id written in `format`.
pub const FORMAT: &str = "custos-evidence/1";
/// File names inside a bundle.
pub const MANIFEST: &str = "manifest.json";
pub const MANIFEST_SIG: &str = "manifest.sig";
pub const PUBLIC_KEY: &str = "ledger.pub";
pub const README: &str = "README.txt";
pub const EXPORT_MP4: &str = "export.mp4";
pub const SEGMENTS_DIR: &str = "segments";
/// Ledger action of the entry holding the hashes of a bundle's files.
pub const EXPORT_MANIFEST_ACTION: &str = "ExportManifest";

/// `manifest.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub camera: String,
    pub stream: String,
    /// Requested range [from, to), RFC 3339 (UTC, ms) and 90 kHz Unix time.
    pub from: String,
    pub to: String,
    pub from_90k: i64,
    pub to_90k: i64,
    /// Who receives the footage (H5: police, state security or another law-enforcement organ).
    pub recipient: String,
    /// Legal basis of the handover (H5).
    pub legal_basis: String,
    pub case: Option<String>,
    pub exported_by: String,
    pub exported_at: String,
    pub exported_at_unix_ms: u64,
    pub key: KeyInfo,
    /// The signed checkpoint (C2SP signed note text) all proofs lead to.
    pub checkpoint: String,
    pub export_mp4: FileInfo,
    pub readme: FileInfo,
    /// Recording gaps inside the range (E7); also recorded in the ExportManifest entry.
    pub gaps: Vec<GapInfo>,
    pub segments: Vec<SegmentInfo>,
    /// The Export entry, registered before any footage was read (E2).
    pub export_entry: EntryProof,
    /// The ExportManifest entry: SHA-256 of every file of the bundle.
    pub manifest_entry: EntryProof,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyInfo {
    /// Signed-note verifier key text, as in `ledger.pub`.
    pub verifier_key: String,
    /// Hex of SHA-256(public key)[0..16].
    pub fingerprint: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileInfo {
    pub file: String,
    pub sha256: String,
    pub bytes: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentInfo {
    /// `segments/<name>.mp4`.
    pub file: String,
    pub segment_id: i64,
    pub sha256: String,
    pub bytes: u64,
    pub start: String,
    pub end: String,
    pub start_90k: i64,
    pub end_90k: i64,
    /// The segment's `SegmentSealed` ledger entry, written when it was recorded.
    pub proof: EntryProof,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GapInfo {
    pub start: String,
    pub end: String,
    pub start_90k: i64,
    pub end_90k: i64,
    pub reason: String,
}

/// One ledger entry and its RFC 9162 inclusion proof under the manifest's checkpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryProof {
    pub seq: u64,
    /// The entry's canonical bytes (the Merkle leaf data), standard base64.
    pub leaf_b64: String,
    /// Audit path, hex, leaf side first.
    pub inclusion_proof: Vec<String>,
    /// Equals the checkpoint's tree size.
    pub tree_size: u64,
}
