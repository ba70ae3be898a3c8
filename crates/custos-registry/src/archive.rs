//! A4: the document archive of a system. A filed document is copied into
//! `DATA/archive/<system>/<sha256>`, hashed, and recorded with type, date and author unit;
//! nothing is ever overwritten: a new version supersedes the old one, which stays (the
//! database refuses rewrites and deletions by trigger). Filing is a ledger entry.

use std::path::Path;

use custos_core::{Error, ErrorKind, Result, Time90k};
use custos_journal::Journal;
use custos_ledger::{Action, NewEntry};
use custos_store::Store;
use custos_store::registry::DocumentRow;
use sha2::{Digest, Sha256};

/// Document kinds: the lifecycle evidence kinds (`custos_core::compliance::lifecycle::
/// EvidenceKind`, snake_case) and the other archive documents (A4).
pub const KINDS: &[&str] = &[
    "design_plan",
    "feasibility_review",
    "acceptance_report",
    "test_report",
    "filing_receipt",
    "removal_notice",
    "change_filing",
    "construction",
    "maintenance",
    "other",
];

/// What to file.
pub struct NewDocument<'a> {
    pub system_id: &'a str,
    pub kind: &'a str,
    pub title: &'a str,
    /// Legal date of the document, YYYY-MM-DD.
    pub dated: &'a str,
    pub author_unit: &'a str,
    pub file: &'a Path,
    pub supersedes: Option<i64>,
    pub by: &'a str,
}

pub async fn file_document(
    store: &Store,
    journal: &Journal,
    data_root: &Path,
    d: &NewDocument<'_>,
    now: Time90k,
) -> Result<DocumentRow> {
    if !KINDS.contains(&d.kind) {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "unknown document kind {:?}; use one of {}",
                d.kind,
                KINDS.join(", ")
            ),
        ));
    }
    crate::convert::parse_date(d.dated)?;
    if d.author_unit.trim().is_empty() || d.title.trim().is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            "a document needs a title and the author unit (A4)",
        ));
    }
    store.system(d.system_id).await?;
    let bytes =
        std::fs::read(d.file).map_err(|e| Error::io(format!("reading {}", d.file.display()), e))?;
    let sha = hex::encode(Sha256::digest(&bytes));
    let rel = format!("archive/{}/{sha}", d.system_id);
    let abs = data_root.join(&rel);
    if !abs.exists() {
        std::fs::create_dir_all(abs.parent().expect("has parent"))
            .map_err(|e| Error::io("creating the archive directory", e))?;
        let tmp = abs.with_extension("tmp");
        std::fs::write(&tmp, &bytes).map_err(|e| Error::io("writing the archive copy", e))?;
        std::fs::rename(&tmp, &abs).map_err(|e| Error::io("writing the archive copy", e))?;
    }
    let seq = journal.record(
        NewEntry::new(
            d.by,
            Action::Other("DocumentFiled".into()),
            format!("system/{}", d.system_id),
        )
        .details(serde_json::json!({
            "kind": d.kind, "title": d.title, "dated": d.dated, "author_unit": d.author_unit,
            "sha256": sha, "bytes": bytes.len(), "supersedes": d.supersedes,
        })),
    )?;
    let mut row = DocumentRow {
        id: 0,
        system_id: d.system_id.to_owned(),
        kind: d.kind.to_owned(),
        title: d.title.to_owned(),
        dated: d.dated.to_owned(),
        author_unit: d.author_unit.to_owned(),
        sha256: sha,
        bytes: bytes.len() as i64,
        path: rel,
        supersedes: d.supersedes,
        superseded_by: None,
        added_by: d.by.to_owned(),
        added_at: now,
        ledger_seq: Some(seq as i64),
    };
    row.id = store.add_document(&row).await?;
    Ok(row)
}
