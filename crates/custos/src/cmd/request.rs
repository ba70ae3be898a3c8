//! `custos request create|attach|submit|approve|reject|release|close|show|list|form` (H1–H5):
//! the footage request procedure without the console. Every step that changes a request is
//! taken by an account authenticated with its password (and TOTP code when enrolled) —
//! `--by NAME --password-stdin` — so the rules (two persons, jurisdiction, third-person
//! release) hold here as over HTTP: an API token, which `custos users token` mints for any
//! account without its password, does not take a step. Reading (show, list, form) also
//! accepts a token (`CUSTOS_TOKEN` or `--token-file`). The rules live in `custos-requests`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use custos_core::access::Principal;
use custos_core::{Error, ErrorKind, Time90k};
use custos_requests::{
    Approver, CameraRange, DocumentKind, Kind, NewRequest, Officer, OrganType, ReleaseOrder,
    Request, Requests, State,
};

#[derive(clap::Args, Clone)]
pub struct Who {
    #[arg(long, default_value = "custos-data")]
    pub data: PathBuf,
    /// The acting account; it authenticates with its password, read from standard input
    /// (--password-stdin).
    #[arg(long)]
    pub by: Option<String>,
    /// Read the password of --by from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
    /// The current TOTP code of --by, if that account has a second factor.
    #[arg(long)]
    pub totp: Option<String>,
    /// show, list and form only: a file holding the reading account's API token (default: the
    /// CUSTOS_TOKEN variable). Steps that change a request need --by and --password-stdin.
    #[arg(long)]
    pub token_file: Option<PathBuf>,
}

#[derive(clap::Subcommand)]
pub enum Cmd {
    /// Draft a request (police account, H1): organ, purpose, legal basis, kind, cameras and
    /// range, two officers.
    Create(CreateArgs),
    /// Attach a document to a drafted request (H3): unit letter, legal document, ID scan.
    Attach(AttachArgs),
    /// Submit a drafted request (needs a unit letter or legal document).
    Submit(IdArgs),
    /// Approve a submitted request (the agency head with jurisdiction, H2).
    Approve(ApproveArgs),
    /// Refuse a request, with the reason (approver or the unit, H3).
    Reject(RejectArgs),
    /// Release an approved request (the unit's watch operator): a time-limited grant, and for
    /// copy/retrieve the evidence bundles (H3, H5).
    Release(ReleaseArgs),
    /// Close a request (its grant ends).
    Close(IdArgs),
    /// Show one request with its officers, documents, approval and release.
    Show(ShowArgs),
    /// List requests.
    List(ListArgs),
    /// Print the registration form (登记表) as PDF or HTML.
    Form(FormArgs),
}

#[derive(clap::Args)]
pub struct CreateArgs {
    #[command(flatten)]
    pub who: Who,
    /// The requesting organ, e.g. 某市公安局某分局.
    #[arg(long)]
    pub organ: String,
    /// police, state_security, investigative, procuratorial, judicial, county_government.
    #[arg(long)]
    pub organ_type: OrganType,
    #[arg(long)]
    pub purpose: String,
    /// Legal basis (case file, legal document number).
    #[arg(long)]
    pub basis: String,
    #[arg(long)]
    pub case: Option<String>,
    /// view, copy, retrieve or live.
    #[arg(long)]
    pub kind: Kind,
    /// A camera (repeat for several; all share --from/--to).
    #[arg(long = "camera", required = true)]
    pub cameras: Vec<String>,
    #[arg(long, value_parser = super::parse_time, allow_hyphen_values = true)]
    pub from: Time90k,
    #[arg(long, value_parser = super::parse_time, allow_hyphen_values = true)]
    pub to: Time90k,
    /// An officer as NAME:WORK_ID (at least two, H3).
    #[arg(long = "officer", value_parser = parse_officer)]
    pub officers: Vec<Officer>,
}

fn parse_officer(s: &str) -> Result<Officer, String> {
    let (name, id) = s
        .rsplit_once(':')
        .ok_or_else(|| format!("{s:?}: write an officer as NAME:WORK_ID, e.g. 张伟:110101"))?;
    Ok(Officer {
        name: name.trim().into(),
        work_id: id.trim().into(),
    })
}

#[derive(clap::Args)]
pub struct IdArgs {
    #[command(flatten)]
    pub who: Who,
    pub id: i64,
}

#[derive(clap::Args)]
pub struct AttachArgs {
    #[command(flatten)]
    pub who: Who,
    pub id: i64,
    /// unit_letter, legal_document, officer_id or other.
    #[arg(long)]
    pub kind: DocumentKind,
    #[arg(long)]
    pub title: String,
    pub file: PathBuf,
}

#[derive(clap::Args)]
pub struct ApproveArgs {
    #[command(flatten)]
    pub who: Who,
    pub id: i64,
    /// The approver's work-ID number.
    #[arg(long)]
    pub work_id: String,
    /// The agency the approver heads.
    #[arg(long)]
    pub unit: String,
    /// police or state_security.
    #[arg(long, default_value = "police")]
    pub unit_type: OrganType,
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(clap::Args)]
pub struct RejectArgs {
    #[command(flatten)]
    pub who: Who,
    pub id: i64,
    #[arg(long)]
    pub reason: String,
}

#[derive(clap::Args)]
pub struct ReleaseArgs {
    #[command(flatten)]
    pub who: Who,
    pub id: i64,
    /// How long the grant lasts, e.g. 24h.
    #[arg(long, value_parser = super::parse_duration, default_value = "24h")]
    pub valid_for: std::time::Duration,
    /// For copy/retrieve: a new directory that receives one evidence bundle per camera.
    #[arg(long)]
    pub bundle: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub who: Who,
    pub id: i64,
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub who: Who,
    #[arg(long)]
    pub state: Option<State>,
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct FormArgs {
    #[command(flatten)]
    pub who: Who,
    pub id: i64,
    /// Output: .pdf (printed with Chromium) or .html.
    #[arg(short = 'o', long = "output")]
    pub out: PathBuf,
}

struct Ctx {
    requests: Requests,
    principal: Principal,
    now: Time90k,
}

/// What a command does with the request: a step changes it (password only, H2/H3), a read
/// does not (password or API token).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Use {
    Step(&'static str),
    Read,
}

const HOW: &str = "give --by NAME --password-stdin and the account's password on standard input (and --totp CODE when it has a second factor)";

async fn ctx(w: &Who, u: Use) -> Result<Ctx> {
    // Which credential, decided before anything is read or written.
    let env_token = std::env::var("CUSTOS_TOKEN").ok();
    let password = match (&w.by, u) {
        (Some(name), _) => Some((name.clone(), read_password(w.password_stdin, name)?)),
        (None, Use::Step(cmd)) => {
            let msg = if w.token_file.is_some() || env_token.is_some() {
                format!(
                    "`custos request {cmd}` changes a request, so the account authenticates with its password, not an API token (a token can be minted for any account): {HOW}"
                )
            } else {
                format!("`custos request {cmd}` is a step taken by an account: {HOW}")
            };
            return Err(Error::new(ErrorKind::Unauthenticated, msg).into());
        }
        (None, Use::Read) => None,
    };
    let token = match (&password, &w.token_file, env_token) {
        (Some(_), _, _) => None,
        (None, Some(p), _) => Some(
            std::fs::read_to_string(p)
                .with_context(|| format!("reading --token-file {}", p.display()))?,
        ),
        (None, None, Some(t)) => Some(t),
        (None, None, None) => {
            return Err(Error::new(
                ErrorKind::Unauthenticated,
                format!(
                    "requests are read by an account: {HOW}, or put its API token in CUSTOS_TOKEN or give --token-file"
                ),
            )
            .into());
        }
    };
    let (data, store) = super::open(&w.data).await?;
    let (journal, _) = custos_footage::Journal::open(&data)?;
    let accounts = custos_auth::Accounts::open(&store, journal.clone()).await?;
    let now_dt = chrono::Utc::now();
    let user = match password {
        Some((name, pw)) => accounts
            .confirm(&name, &pw, w.totp.as_deref(), now_dt)
            .await
            .map_err(|e| e.context(format!("--by {name}")))?,
        None => {
            let t = token.unwrap_or_default();
            accounts.authenticate_bearer(t.trim(), now_dt).await?.user
        }
    };
    Ok(Ctx {
        requests: Requests::new(store, journal, data),
        principal: user.principal(now_dt),
        now: Time90k::from_datetime(now_dt),
    })
}

/// The password of `name`, the first line of standard input.
fn read_password(flag: bool, name: &str) -> Result<String> {
    if !flag {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "--by {name}: give --password-stdin and the password of {name} on standard input"
            ),
        )
        .into());
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| Error::io("reading the password from standard input", e))?;
    let pw = line.trim_end_matches(['\r', '\n']).to_owned();
    if pw.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("standard input held no password for --by {name}"),
        )
        .into());
    }
    Ok(pw)
}

pub async fn run(c: Cmd) -> Result<()> {
    match c {
        Cmd::Create(a) => {
            let x = ctx(&a.who, Use::Step("create")).await?;
            let new = NewRequest {
                organ: a.organ,
                organ_type: a.organ_type,
                purpose: a.purpose,
                legal_basis: a.basis,
                case: a.case,
                kind: a.kind,
                scope: a
                    .cameras
                    .iter()
                    .map(|c| CameraRange {
                        camera: c.clone(),
                        from: a.from,
                        to: a.to,
                    })
                    .collect(),
                officers: a.officers,
            };
            let r = x.requests.create(&x.principal, new, x.now).await?;
            println!("request {} drafted by {}", r.id, r.created_by);
            println!("next: attach the unit letter or legal document, then submit it");
        }
        Cmd::Attach(a) => {
            let x = ctx(&a.who, Use::Step("attach")).await?;
            let bytes =
                std::fs::read(&a.file).with_context(|| format!("reading {}", a.file.display()))?;
            let d = x
                .requests
                .attach(a.id, &x.principal.id, a.kind, &a.title, &bytes, x.now)
                .await?;
            println!(
                "document {} ({}) attached to request {}: sha256 {}",
                d.id, d.kind, a.id, d.sha256
            );
        }
        Cmd::Submit(a) => {
            let x = ctx(&a.who, Use::Step("submit")).await?;
            let r = x.requests.submit(a.id, &x.principal.id, x.now).await?;
            println!("request {} submitted", r.id);
        }
        Cmd::Approve(a) => {
            let x = ctx(&a.who, Use::Step("approve")).await?;
            let ap = Approver {
                principal: x.principal.clone(),
                work_id: a.work_id,
                unit: a.unit,
                unit_type: a.unit_type,
                note: a.note,
            };
            let r = x.requests.approve(a.id, &ap, x.now).await?;
            println!("request {} approved by {}", r.id, x.principal.id);
        }
        Cmd::Reject(a) => {
            let x = ctx(&a.who, Use::Step("reject")).await?;
            let r = x
                .requests
                .reject(a.id, &x.principal, &a.reason, x.now)
                .await?;
            println!(
                "request {} refused by {}: {}",
                r.id, x.principal.id, a.reason
            );
        }
        Cmd::Release(a) => {
            let x = ctx(&a.who, Use::Step("release")).await?;
            let until = Time90k(x.now.0 + (a.valid_for.as_secs_f64() * 90_000.0) as i64);
            let o = ReleaseOrder {
                principal: x.principal.clone(),
                until,
                bundle_dir: a.bundle,
            };
            let r = x.requests.release(a.id, &o, x.now).await?;
            println!(
                "request {} released by {} to {} until {}",
                r.id,
                x.principal.id,
                r.created_by,
                until.to_rfc3339()
            );
            for b in r.release.iter().flat_map(|x| &x.bundles) {
                println!(
                    "bundle {} ({}): key fingerprint {}; verify with: custos verify-bundle {}",
                    b.path, b.camera, b.key_fingerprint, b.path
                );
            }
        }
        Cmd::Close(a) => {
            let x = ctx(&a.who, Use::Step("close")).await?;
            let r = x.requests.close(a.id, &x.principal.id, x.now).await?;
            println!("request {} closed", r.id);
        }
        Cmd::Show(a) => {
            let x = ctx(&a.who, Use::Read).await?;
            let r = x.requests.get(a.id).await?;
            let docs = x.requests.documents(a.id).await?;
            if a.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({"request": r, "documents": docs})
                    )?
                );
            } else {
                show(&r, &docs);
            }
        }
        Cmd::List(a) => {
            let x = ctx(&a.who, Use::Read).await?;
            let all = x.requests.list(a.state).await?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&all)?);
            } else {
                let mut t = Table::new();
                t.load_preset(UTF8_FULL_CONDENSED).set_header([
                    "id",
                    "state",
                    "organ",
                    "kind",
                    "cameras",
                    "by",
                    "approver",
                    "released by",
                ]);
                for r in &all {
                    t.add_row([
                        r.id.to_string(),
                        r.state.to_string(),
                        r.fields.organ.clone(),
                        r.fields.kind.to_string(),
                        r.fields
                            .scope
                            .iter()
                            .map(|c| c.camera.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                        r.created_by.clone(),
                        r.approval
                            .as_ref()
                            .map(|a| a.by.clone())
                            .unwrap_or_default(),
                        r.release.as_ref().map(|a| a.by.clone()).unwrap_or_default(),
                    ]);
                }
                println!("{t}");
            }
        }
        Cmd::Form(a) => {
            let x = ctx(&a.who, Use::Read).await?;
            let r = x.requests.get(a.id).await?;
            let docs = x.requests.documents(a.id).await?;
            match a.out.extension().and_then(|e| e.to_str()) {
                Some("pdf") => custos_requests::form::pdf(&r, &docs, &a.out)?,
                Some("html") => std::fs::write(&a.out, custos_requests::form::html(&r, &docs))
                    .with_context(|| format!("writing {}", a.out.display()))?,
                _ => {
                    return Err(Error::new(
                        ErrorKind::InvalidArgument,
                        format!(
                            "{}: write the form to a .pdf or .html file",
                            a.out.display()
                        ),
                    )
                    .into());
                }
            }
            println!("wrote {}", a.out.display());
        }
    }
    Ok(())
}

fn show(r: &Request, docs: &[custos_requests::Document]) {
    let f = &r.fields;
    println!("request {} ({})", r.id, r.state);
    println!("organ:       {} ({})", f.organ, f.organ_type);
    println!("kind:        {}", f.kind);
    println!("purpose:     {}", f.purpose);
    println!("legal basis: {}", f.legal_basis);
    for c in &f.scope {
        println!("camera:      {} {} .. {}", c.camera, c.from, c.to);
    }
    for o in &f.officers {
        println!("officer:     {} (work ID {})", o.name, o.work_id);
    }
    for d in docs {
        println!(
            "document:    {} {} {} sha256 {}",
            d.id, d.kind, d.title, d.sha256
        );
    }
    println!("drafted by:  {} at {}", r.created_by, r.created_at);
    if let Some(a) = &r.approval {
        println!(
            "approved by: {} (work ID {}, {}) at {}",
            a.by, a.work_id, a.unit, a.at
        );
    }
    if let Some(x) = &r.refusal {
        println!("refused by:  {} at {}: {}", x.by, x.at, x.reason);
    }
    if let Some(x) = &r.release {
        println!("released by: {} at {}, valid until {}", x.by, x.at, x.until);
        for b in &x.bundles {
            println!(
                "bundle:      {} key fingerprint {}",
                b.path, b.key_fingerprint
            );
        }
    }
    println!(
        "ledger:      {}",
        r.ledger
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
}
