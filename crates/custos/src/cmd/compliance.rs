//! `custos findings | lifecycle | report | catalogue | complaint | inspect` (B–D, I1, J1–J3):
//! the compliance engine of `custos-registry` on the command line.
//!
//! The command line is the local operator: it acts as the person named by `--by`, holding the
//! inspector role over every division in the registry (whoever runs it can read the database
//! anyway). Every action is still decided by the policy and recorded in the ledger; the web
//! console does the same with authenticated accounts.

use std::path::PathBuf;

use anyhow::Result;
use chrono::Utc;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use custos_core::access::{Classification, Principal, Role, Scope};
use custos_core::compliance::{Jurisdiction, LifecycleState};
use custos_core::{Error, ErrorKind};
use custos_registry::{complaint, convert, inspection, lifecycle, report, scan};
use custos_store::Store;

use super::registry::open_or_create;

/// The local operator as a principal: inspector over every registered division.
async fn local_operator(store: &Store, by: &str) -> Result<Principal> {
    if by.trim().is_empty() {
        return Err(Error::new(ErrorKind::InvalidArgument, "--by must name a person").into());
    }
    let mut p = Principal::new(by).with_clearance(Classification::Confidential);
    let mut divs: Vec<String> = store
        .systems()
        .await?
        .into_iter()
        .map(|s| s.division)
        .collect();
    divs.sort();
    divs.dedup();
    for d in divs {
        p = p.with_grant(Role::Inspector, Scope::organisation(d));
    }
    Ok(p)
}

#[derive(clap::Args)]
pub struct FindingsArgs {
    #[arg(long, default_value = "custos-data")]
    pub data: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Only this system's findings.
    #[arg(long)]
    pub system: Option<String>,
    /// Jurisdiction for places (B1): strictest (default), national_draft, anhui, yangzhou,
    /// chongqing, shenzhen. Devices and systems use their system's profile.
    #[arg(long, default_value = "strictest")]
    pub profile: String,
    /// TOML file of policy thresholds (offline_grace_minutes, min_recording_completeness,
    /// duty_log_max_gap_hours, training_valid_days, rectification_days); default: the strict ones.
    #[arg(long)]
    pub policy: Option<PathBuf>,
    #[arg(long, default_value = "scanner")]
    pub by: String,
}

/// Runs the rule scan, saves the findings and lists them.
pub async fn findings(a: FindingsArgs) -> Result<()> {
    let mut j: Jurisdiction = convert::jurisdiction(&a.profile)?;
    if let Some(p) = &a.policy {
        let text = std::fs::read_to_string(p)
            .map_err(|e| Error::io(format!("reading {}", p.display()), e))?;
        j.policy = toml::from_str(&text)
            .map_err(|e| Error::new(ErrorKind::InvalidArgument, format!("{}: {e}", p.display())))?;
    }
    let (_, store, journal) = open_or_create(&a.data).await?;
    let s = scan::scan_and_save(&store, &journal, &a.by, Utc::now(), &j).await?;
    for (what, why) in &s.unreadable {
        eprintln!("warning: {what} could not be checked: {why}");
    }
    let rows = store.findings(a.system.as_deref(), false).await?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header([
        "finding", "severity", "status", "deadline", "articles", "what",
    ]);
    const SHOWN: usize = 500;
    for f in rows.iter().take(SHOWN) {
        t.add_row([
            f.id.clone(),
            f.severity.clone(),
            f.status.clone(),
            f.deadline.to_rfc3339().chars().take(10).collect(),
            f.articles.clone(),
            f.message.clone(),
        ]);
    }
    println!("{t}");
    if rows.len() > SHOWN {
        println!(
            "… and {} more; use --json or --system to see them all",
            rows.len() - SHOWN
        );
    }
    println!(
        "{} device(s) scanned, {} finding(s){}",
        s.devices,
        rows.len(),
        a.system
            .as_deref()
            .map(|x| format!(" for system {x}"))
            .unwrap_or_default()
    );
    Ok(())
}

#[derive(clap::Args)]
pub struct LifecycleArgs {
    /// System id.
    pub system: String,
    #[arg(long, default_value = "custos-data")]
    pub data: PathBuf,
    /// Target state: planned, design_reviewed, under_construction, accepted, filed, operating,
    /// adjusting, decommissioned.
    #[arg(long)]
    pub to: String,
    /// Archived document ids offered as evidence (see `custos registry document`).
    #[arg(long, num_args = 0..)]
    pub evidence: Vec<i64>,
    /// Legal date of the transition (YYYY-MM-DD); default today (China Standard Time).
    #[arg(long)]
    pub on: Option<String>,
    #[arg(long)]
    pub by: String,
}

pub async fn lifecycle_cmd(a: LifecycleArgs) -> Result<()> {
    let to: LifecycleState = a.to.parse()?;
    let on = match &a.on {
        Some(d) => convert::parse_date(d)?,
        None => custos_core::compliance::lifecycle::legal_date(Utc::now()),
    };
    let (_, store, journal) = open_or_create(&a.data).await?;
    let t = lifecycle::transition(
        &store,
        &journal,
        &lifecycle::Request {
            system_id: &a.system,
            to,
            on,
            evidence: &a.evidence,
            by: &a.by,
        },
        Utc::now(),
    )
    .await?;
    println!(
        "system {}: {} → {} on {} (ledger entry {})",
        t.system_id, t.from_state, t.to_state, t.on_date, t.ledger_seq
    );
    for d in lifecycle::deadlines(&store, &a.system).await? {
        println!("deadline: {:?} by {}", d.kind, d.due);
    }
    Ok(())
}

#[derive(clap::Args)]
pub struct ReportArgs {
    #[arg(long, default_value = "custos-data")]
    pub data: PathBuf,
    #[arg(
        long,
        conflicts_with = "jurisdiction",
        required_unless_present = "jurisdiction"
    )]
    pub system: Option<String>,
    /// Administrative division code (or prefix).
    #[arg(long)]
    pub jurisdiction: Option<String>,
    /// report.pdf or report.html.
    #[arg(short = 'o', long)]
    pub output: PathBuf,
    #[arg(long, default_value = "inspector")]
    pub by: String,
    /// An uploaded site plan (.png, .jpg, .svg) to draw the coverage plan on.
    #[arg(long, requires = "plan_bounds")]
    pub plan: Option<PathBuf>,
    /// The plan's WGS-84 bounds: west,south,east,north.
    #[arg(long)]
    pub plan_bounds: Option<String>,
    /// Language of the report: zh (Chinese) or en (English).
    #[arg(long, default_value = "zh", value_parser = ["zh", "en"])]
    pub lang: String,
}

pub async fn report_cmd(a: ReportArgs) -> Result<()> {
    let plan = match (&a.plan, &a.plan_bounds) {
        (Some(f), Some(b)) => Some(report::PlanImage::load(f, b)?),
        _ => None,
    };
    let (_, store, journal) = open_or_create(&a.data).await?;
    let p = local_operator(&store, &a.by).await?;
    let scope = match (a.system, a.jurisdiction) {
        (Some(s), _) => report::Scope::System(s),
        (None, Some(j)) => report::Scope::Jurisdiction(j),
        (None, None) => unreachable!("clap requires one"),
    };
    report::write_report(
        &store,
        &journal,
        &p,
        &scope,
        plan.as_ref(),
        &a.output,
        Utc::now(),
        a.lang.parse()?,
    )
    .await?;
    println!("report written to {}", a.output.display());
    Ok(())
}

#[derive(clap::Args)]
pub struct CatalogueArgs {
    #[arg(long, default_value = "custos-data")]
    pub data: PathBuf,
    /// catalogue.html, .json or .csv.
    #[arg(short = 'o', long)]
    pub output: PathBuf,
}

/// I1: the public catalogue of systems that must connect (no confidential field).
pub async fn catalogue(a: CatalogueArgs) -> Result<()> {
    let (_, store, _) = open_or_create(&a.data).await?;
    let c = report::catalogue(&store).await?;
    report::catalogue_file(&c, &a.output)?;
    println!("{} system(s) written to {}", c.len(), a.output.display());
    Ok(())
}

#[derive(clap::Subcommand)]
pub enum ComplaintCmd {
    /// Submit a complaint (no account needed).
    Submit {
        #[arg(long, default_value = "custos-data")]
        data: PathBuf,
        /// The agency or person complained about.
        #[arg(long)]
        against: String,
        #[arg(long)]
        text: String,
        #[arg(long)]
        contact: Option<String>,
    },
    /// List complaints and check none was altered.
    List {
        #[arg(long, default_value = "custos-data")]
        data: PathBuf,
    },
}

pub async fn complaint_cmd(c: ComplaintCmd) -> Result<()> {
    match c {
        ComplaintCmd::Submit {
            data,
            against,
            text,
            contact,
        } => {
            let (_, store, journal) = open_or_create(&data).await?;
            let r = complaint::submit(
                &store,
                &journal,
                &against,
                &text,
                contact.as_deref(),
                custos_node::now(),
            )
            .await?;
            println!(
                "complaint {} recorded (sha256 {}, ledger entry {}); it cannot be altered",
                r.id, r.sha256, r.ledger_seq
            );
        }
        ComplaintCmd::List { data } => {
            let (_, store, _) = open_or_create(&data).await?;
            let mut t = Table::new();
            t.load_preset(UTF8_FULL_CONDENSED).set_header([
                "id",
                "submitted",
                "against",
                "text",
                "ledger",
            ]);
            for c in store.complaints().await? {
                t.add_row([
                    c.id.to_string(),
                    c.submitted_at.to_rfc3339(),
                    c.against,
                    c.body,
                    c.ledger_seq.to_string(),
                ]);
            }
            println!("{t}");
            let bad = complaint::verify(&store).await?;
            if !bad.is_empty() {
                return Err(Error::new(
                    ErrorKind::DataLoss,
                    format!("complaint(s) {bad:?} no longer match their recorded hash"),
                )
                .into());
            }
        }
    }
    Ok(())
}

#[derive(clap::Subcommand)]
pub enum InspectCmd {
    /// Print the checklist of an inspection type.
    Checklist { kind: String },
    /// Start an inspection of a system; prints its id.
    Start {
        #[arg(long, default_value = "custos-data")]
        data: PathBuf,
        #[arg(long)]
        system: String,
        /// construction, acceptance, rectification, network_security, operation_maintenance,
        /// information_management, filing.
        #[arg(long = "type")]
        kind: String,
        #[arg(long)]
        by: String,
    },
    /// Answer an item: pass, fail or not_applicable.
    Answer {
        id: i64,
        item: String,
        answer: String,
        #[arg(long, default_value = "")]
        note: String,
        #[arg(long, default_value = "custos-data")]
        data: PathBuf,
        #[arg(long)]
        by: String,
    },
    /// Finish: failed items and open findings become a rectification order.
    Finish {
        id: i64,
        /// Days to rectify (default: the jurisdiction's period).
        #[arg(long)]
        days: Option<i64>,
        #[arg(long, default_value = "custos-data")]
        data: PathBuf,
        #[arg(long)]
        by: String,
    },
}

pub async fn inspect_cmd(c: InspectCmd) -> Result<()> {
    match c {
        InspectCmd::Checklist { kind } => {
            let mut t = Table::new();
            t.load_preset(UTF8_FULL_CONDENSED)
                .set_header(["item", "question", "article"]);
            for i in inspection::checklist(&kind)? {
                t.add_row([i.key, i.question, i.article]);
            }
            println!("{t}");
        }
        InspectCmd::Start {
            data,
            system,
            kind,
            by,
        } => {
            let (_, store, journal) = open_or_create(&data).await?;
            let p = local_operator(&store, &by).await?;
            let id = inspection::start(&store, &journal, &p, &system, &kind, Utc::now()).await?;
            println!("inspection {id} started ({kind} of system {system})");
        }
        InspectCmd::Answer {
            id,
            item,
            answer,
            note,
            data,
            by,
        } => {
            let (_, store, _) = open_or_create(&data).await?;
            let p = local_operator(&store, &by).await?;
            inspection::answer(&store, &p, id, &item, &answer, &note).await?;
            println!("inspection {id}: {item} = {answer}");
        }
        InspectCmd::Finish { id, days, data, by } => {
            let (_, store, journal) = open_or_create(&data).await?;
            let p = local_operator(&store, &by).await?;
            match inspection::finish(&store, &journal, &p, id, days, Utc::now()).await? {
                Some(o) => println!(
                    "inspection {id} finished: rectification order {} due {}: {}",
                    o.id, o.deadline, o.items
                ),
                None => println!("inspection {id} finished: nothing to rectify"),
            }
        }
    }
    Ok(())
}

#[derive(clap::Args)]
pub struct SuspiciousArgs {
    #[arg(long, default_value = "custos-data")]
    pub data: PathBuf,
    /// Recorder camera name.
    #[arg(long)]
    pub camera: String,
    /// The moment (RFC 3339).
    #[arg(long, value_parser = super::parse_time, allow_hyphen_values = true)]
    pub at: custos_core::Time90k,
    /// What was seen (goes to the police).
    #[arg(long)]
    pub note: String,
    /// Footage held before the moment.
    #[arg(long, default_value = "5m", value_parser = super::parse_duration)]
    pub before: std::time::Duration,
    /// Footage held after the moment.
    #[arg(long, default_value = "10m", value_parser = super::parse_duration)]
    pub after: std::time::Duration,
    /// The watch operator reporting.
    #[arg(long)]
    pub by: String,
}

/// D6: report suspicious information: bookmark, hold, police notification.
pub async fn suspicious_cmd(a: SuspiciousArgs) -> Result<()> {
    let (_, store, journal) = open_or_create(&a.data).await?;
    // Where the camera sits: its registry device if it has one, else the local organisation.
    let location = match store.devices_of_camera(&a.camera).await?.first() {
        Some(d) => {
            let s = store.system(&d.system_id).await?;
            custos_registry::access::device_scope(&s, d)
        }
        None => Scope::organisation("local"),
    };
    let org = Scope::organisation(location.path()[0].to_owned());
    let p = Principal::new(&a.by)
        .with_clearance(Classification::Internal)
        .with_grant(Role::WatchOperator, org);
    let r = custos_registry::suspicious::report(
        &store,
        &journal,
        &p,
        &custos_registry::suspicious::Suspicious {
            camera: &a.camera,
            location,
            at: a.at,
            note: &a.note,
            before: custos_core::Duration90k::from_std(a.before),
            after: custos_core::Duration90k::from_std(a.after),
        },
        Utc::now(),
    )
    .await?;
    println!(
        "reported: bookmark {}, hold {} on {} .. {}, police notified (event {}, ledger entry {})",
        r.bookmark_id, r.hold_id, r.hold_from, r.hold_to, r.event_id, r.ledger_seq
    );
    Ok(())
}
