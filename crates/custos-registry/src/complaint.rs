//! J3: complaints about the supervising agencies (001 art. 25). Anyone may submit one without an
//! account. Each complaint is recorded in the ledger first (its canonical JSON and SHA-256) and
//! then stored in a table that refuses UPDATE and DELETE by trigger, so the supervised agency
//! cannot alter it; [`verify`] re-hashes every stored complaint against its recorded hash.

use custos_core::{Error, ErrorKind, Result, Time90k};
use custos_journal::Journal;
use custos_ledger::{Action, NewEntry};
use custos_store::Store;
use custos_store::registry::ComplaintRow;
use sha2::{Digest, Sha256};

const MAX_BODY: usize = 20_000;
/// Longest `against` (who the complaint is about), in bytes.
pub const MAX_AGAINST: usize = 256;
/// Longest `contact`, in bytes.
pub const MAX_CONTACT: usize = 256;

fn canonical(submitted_at: Time90k, against: &str, body: &str, contact: Option<&str>) -> String {
    serde_json::json!({
        "submitted_90k": submitted_at.0, "against": against, "body": body, "contact": contact,
    })
    .to_string()
}

/// Submits a complaint. `contact` is optional (anonymous complaints are accepted).
pub async fn submit(
    store: &Store,
    journal: &Journal,
    against: &str,
    body: &str,
    contact: Option<&str>,
    now: Time90k,
) -> Result<ComplaintRow> {
    if against.trim().is_empty() || body.trim().is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            "a complaint names the agency or person it is about and says what happened",
        ));
    }
    if against.len() > MAX_AGAINST {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "`against` is at most {MAX_AGAINST} bytes: name the agency or person; say the rest in `body`"
            ),
        ));
    }
    if contact.is_some_and(|c| c.len() > MAX_CONTACT) {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("`contact` is at most {MAX_CONTACT} bytes: a telephone number or an address"),
        ));
    }
    if body.len() > MAX_BODY {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("a complaint is at most {MAX_BODY} bytes; attach the rest by other means"),
        ));
    }
    let canon = canonical(now, against, body, contact);
    let sha = hex::encode(Sha256::digest(canon.as_bytes()));
    let seq = journal.record(
        NewEntry::new(
            "public",
            Action::Other("ComplaintSubmitted".into()),
            "complaints",
        )
        .details(serde_json::json!({ "sha256": sha, "complaint": canon })),
    )?;
    let mut row = ComplaintRow {
        id: 0,
        submitted_at: now,
        against: against.to_owned(),
        body: body.to_owned(),
        contact: contact.map(str::to_owned),
        sha256: sha,
        ledger_seq: seq as i64,
    };
    row.id = store.add_complaint(&row).await?;
    Ok(row)
}

/// Complaints whose stored content no longer matches the hash recorded with them (ids).
pub async fn verify(store: &Store) -> Result<Vec<i64>> {
    Ok(store
        .complaints()
        .await?
        .into_iter()
        .filter(|c| {
            let canon = canonical(c.submitted_at, &c.against, &c.body, c.contact.as_deref());
            hex::encode(Sha256::digest(canon.as_bytes())) != c.sha256
        })
        .map(|c| c.id)
        .collect())
}
