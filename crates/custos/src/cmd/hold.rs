//! `custos hold place|release|list` (E5): legal holds keep footage beyond retention. Placing
//! and releasing are ledger entries, written before the change (fail closed). A release needs
//! two different accounts that each may release holds on the camera (`release_hold`: police
//! officers and approvers in scope), both authenticated with their passwords (and TOTP codes
//! when enrolled) read from standard input; the ledger names both.

use std::path::PathBuf;

use anyhow::Result;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use custos_core::{Error, ErrorKind, Time90k};
use custos_ledger::{Action, NewEntry};
use serde_json::json;

#[derive(clap::Subcommand)]
pub enum Cmd {
    /// Hold a camera's footage in [from, to) for a case: never deleted while held.
    Place(PlaceArgs),
    /// Release a hold: needs the person releasing and a different person approving.
    Release(ReleaseArgs),
    /// List holds.
    List(ListArgs),
}

#[derive(clap::Args)]
pub struct PlaceArgs {
    #[arg(long, default_value = "custos-data")]
    pub data: PathBuf,
    #[arg(long)]
    pub camera: String,
    #[arg(long, value_parser = super::parse_time, allow_hyphen_values = true)]
    pub from: Time90k,
    #[arg(long, value_parser = super::parse_time, allow_hyphen_values = true)]
    pub to: Time90k,
    /// Case number.
    #[arg(long)]
    pub case: String,
    #[arg(long)]
    pub reason: String,
    /// Who places the hold.
    #[arg(long)]
    pub by: String,
}

#[derive(clap::Args)]
pub struct ReleaseArgs {
    #[arg(long, default_value = "custos-data")]
    pub data: PathBuf,
    /// Hold id (see `custos hold list`).
    pub id: i64,
    /// The account releasing the hold.
    #[arg(long)]
    pub by: String,
    /// A second, different account that approves the release.
    #[arg(long)]
    pub approved_by: String,
    /// Read the two passwords from standard input: the first line is the password of --by,
    /// the second that of --approved-by.
    #[arg(long)]
    pub passwords_stdin: bool,
    /// The current TOTP code of --by, if that account has a second factor.
    #[arg(long)]
    pub by_totp: Option<String>,
    /// The current TOTP code of --approved-by, if that account has a second factor.
    #[arg(long)]
    pub approved_by_totp: Option<String>,
}

#[derive(clap::Args)]
pub struct ListArgs {
    #[arg(long, default_value = "custos-data")]
    pub data: PathBuf,
    #[arg(long)]
    pub json: bool,
}

pub async fn run(c: Cmd) -> Result<()> {
    match c {
        Cmd::Place(a) => place(a).await,
        Cmd::Release(a) => release(a).await,
        Cmd::List(a) => list(a).await,
    }
}

async fn place(a: PlaceArgs) -> Result<()> {
    if a.to <= a.from {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("--to {} is not after --from {}", a.to, a.from),
        )
        .into());
    }
    if a.case.trim().is_empty() || a.reason.trim().is_empty() || a.by.trim().is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            "--case, --reason and --by must not be empty",
        )
        .into());
    }
    let (data, store) = super::open(&a.data).await?;
    let cam = store.camera_by_name_listing(&a.camera).await?;
    let (journal, _) = custos_footage::Journal::open(&data)?;
    let seq = journal.record(
        NewEntry::new(&a.by, Action::HoldPlaced, format!("camera/{}", cam.name))
            .purpose(&a.reason)
            .details(json!({
                "camera": cam.name.as_str(), "from": a.from.to_rfc3339(), "to": a.to.to_rfc3339(),
                "from_90k": a.from.0, "to_90k": a.to.0, "case": a.case,
            })),
    )?;
    let id = store
        .place_hold(&custos_store::NewHold {
            camera_id: cam.id,
            start: a.from,
            end: a.to,
            case_number: a.case.clone(),
            reason: a.reason.clone(),
            placed_by: a.by.clone(),
            placed_at: custos_node::now(),
            ledger_seq: Some(seq as i64),
        })
        .await?;
    println!(
        "hold {id} placed on camera {} {} .. {} for case {} (ledger entry {seq})",
        cam.name, a.from, a.to, a.case
    );
    Ok(())
}

async fn release(a: ReleaseArgs) -> Result<()> {
    if a.by.trim().eq_ignore_ascii_case(a.approved_by.trim()) || a.by.trim().is_empty() {
        return Err(Error::new(
            ErrorKind::PermissionDenied,
            "releasing a hold needs a second, different person: --approved-by must name someone other than --by (E5)",
        )
        .into());
    }
    let (by_pw, approver_pw) = read_two_passwords(a.passwords_stdin)?;
    let (data, store) = super::open(&a.data).await?;
    let hold = store
        .holds()
        .await?
        .into_iter()
        .find(|h| h.id == a.id && h.released_at.is_none())
        .ok_or_else(|| {
            Error::new(
                ErrorKind::NotFound,
                format!("no active hold {}; see `custos hold list`", a.id),
            )
        })?;
    let cam = store
        .cameras()
        .await?
        .into_iter()
        .find(|c| c.id == hold.camera_id)
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Internal,
                "the held camera is not in the database",
            )
        })?;
    // The camera's area decides whose scope covers it. A camera never placed has no area, so
    // no scope can be checked against it: refuse rather than assume one (fail closed).
    let (org, system, area) = store
        .camera_areas()
        .await?
        .remove(cam.name.as_str())
        .ok_or_else(|| {
            Error::new(
                ErrorKind::FailedPrecondition,
                format!(
                    "camera {} is not placed in an area, so no one's scope can be checked against it and hold {} cannot be released; place the camera first (`area = \"org/system/area\"` in its [[cameras]] entry of the configuration, or PUT /api/cameras/{}/area), then retry",
                    cam.name, hold.id, cam.name
                ),
            )
        })?;
    let resource = custos_core::access::Resource::camera(
        &custos_core::access::Placement::new(org, system, area, cam.name.as_str()),
        custos_core::access::Classification::Public,
    );
    let (journal, _) = custos_footage::Journal::open(&data)?;
    let accounts = custos_auth::Accounts::open(&store, journal.clone()).await?;
    let now = chrono::Utc::now();
    let first = accounts
        .confirm(&a.by, &by_pw, a.by_totp.as_deref(), now)
        .await
        .map_err(|e| e.context(format!("--by {}", a.by)))?;
    let second = accounts
        .confirm(
            &a.approved_by,
            &approver_pw,
            a.approved_by_totp.as_deref(),
            now,
        )
        .await
        .map_err(|e| e.context(format!("--approved-by {}", a.approved_by)))?;
    let refuse = |who: &str, reason: custos_core::access::Reason| -> Result<()> {
        let msg = format!("{who} may not release hold {}: {reason}", hold.id);
        let _ = journal.record(
            NewEntry::new(who, Action::AccessDenied, format!("hold/{}", hold.id)).details(json!({
                "action": "release_hold", "rule": reason.rule(), "reason": msg,
                "released_by": a.by, "approved_by": a.approved_by,
            })),
        );
        Err(Error::new(ErrorKind::PermissionDenied, msg).into())
    };
    use custos_core::access::{Action as Act, Decision, approve, decide};
    if let Decision::Deny(r) = decide(&first.principal(now), Act::ReleaseHold, &resource, now) {
        return refuse(&first.name, r);
    }
    if let Decision::Deny(r) = approve(
        &first.name,
        &second.principal(now),
        Act::ReleaseHold,
        &resource,
        now,
    ) {
        return refuse(&second.name, r);
    }
    let seq = journal.record(NewEntry::new(&first.name, Action::HoldReleased, format!("hold/{}", hold.id)).details(json!({
        "hold_id": hold.id, "case": hold.case_number, "released_by": first.name, "approved_by": second.name,
        "authenticated": ["password", "password"],
    })))?;
    store
        .release_hold(
            hold.id,
            &first.name,
            &second.name,
            custos_node::now(),
            Some(seq as i64),
        )
        .await?;
    println!(
        "hold {} (case {}) released by {}, approved by {} (ledger entry {seq})",
        hold.id, hold.case_number, first.name, second.name
    );
    Ok(())
}

/// The passwords of the two persons, one line each on standard input.
fn read_two_passwords(flag: bool) -> Result<(String, String)> {
    if !flag {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            "both persons authenticate: give --passwords-stdin and the password of --by, then \
             that of --approved-by, one per line on standard input (E5)",
        )
        .into());
    }
    let mut lines = std::io::stdin().lines();
    let mut next = |whose: &str| -> Result<String> {
        let l = lines
            .next()
            .transpose()
            .map_err(|e| Error::io("reading passwords from standard input", e))?
            .unwrap_or_default();
        let l = l.trim_end_matches('\r').to_owned();
        if l.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("standard input held no password for {whose} (line 1: --by, line 2: --approved-by)"),
            )
            .into());
        }
        Ok(l)
    };
    Ok((next("--by")?, next("--approved-by")?))
}

async fn list(a: ListArgs) -> Result<()> {
    let (_, store) = super::open(&a.data).await?;
    let cams = store.cameras().await?;
    let holds = store.holds().await?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&holds)?);
        return Ok(());
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header([
        "id",
        "camera",
        "from",
        "to",
        "case",
        "reason",
        "placed by",
        "released",
    ]);
    for h in holds {
        let cam = cams
            .iter()
            .find(|c| c.id == h.camera_id)
            .map(|c| c.name.to_string())
            .unwrap_or_default();
        t.add_row([
            h.id.to_string(),
            cam,
            h.start.to_rfc3339(),
            h.end.to_rfc3339(),
            h.case_number,
            h.reason,
            h.placed_by,
            h.released_at
                .map(|t| format!("{t} by {}", h.released_by.unwrap_or_default()))
                .unwrap_or_else(|| "active".into()),
        ]);
    }
    println!("{t}");
    Ok(())
}
