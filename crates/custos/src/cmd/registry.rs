//! `custos registry load|import|export|document` (A1–A5, I4): the basic-information registry on
//! the command line. `load` reads units, systems, places, residences, staff, training and
//! changes from a JSON file; `import` reads device lists (CSV/XLSX) with a row-level error
//! table (exit 2 if any row was refused; the good rows are imported); `export` writes them back;
//! `document` files an archive document (A4).
//!
//! The command line acts as the local operator named by `--by`: whoever can run it can read the
//! database anyway, so exports are full (and recorded as confidential reads) unless `--masked`.

use std::path::{Path, PathBuf};

use anyhow::Result;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use custos_core::{Error, ErrorKind};
use custos_footage::{DataDir, Journal};
use custos_ledger::{Action, NewEntry};
use custos_registry::{access, archive, import};
use custos_store::Store;
use custos_store::registry::{
    ChangeRow, MaintenanceRow, PlaceRow, ResidenceRow, StaffRow, SystemRow, TrainingRow, UnitRow,
};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Deserialize;

#[derive(clap::Subcommand)]
pub enum Cmd {
    /// Load units, systems, places, residences, staff, training and changes from a JSON file.
    Load(LoadArgs),
    /// Import a device list (CSV or XLSX); prints refused rows; exit 2 if any was refused.
    Import(ImportArgs),
    /// Export the device list as CSV or XLSX.
    Export(ExportArgs),
    /// File a document in a system's archive (A4); never overwrites, may supersede.
    Document(DocumentArgs),
    /// Add a duty-log entry for a shift (D2); entries are append-only.
    DutyLog(DutyLogArgs),
}

#[derive(clap::Args)]
pub struct DutyLogArgs {
    #[arg(long, default_value = "custos-data")]
    pub data: PathBuf,
    #[arg(long)]
    pub system: String,
    /// Staff id of the person on duty.
    #[arg(long)]
    pub staff: String,
    /// What happened on the shift.
    #[arg(long)]
    pub entry: String,
}

#[derive(clap::Args)]
pub struct LoadArgs {
    pub file: PathBuf,
    #[arg(long, default_value = "custos-data")]
    pub data: PathBuf,
    #[arg(long, default_value = "operator")]
    pub by: String,
}

#[derive(clap::Args)]
pub struct ImportArgs {
    /// FILE.csv or FILE.xlsx; columns as in `custos registry export`.
    pub file: PathBuf,
    #[arg(long, default_value = "custos-data")]
    pub data: PathBuf,
    /// System for rows whose system_id column is empty.
    #[arg(long)]
    pub system: Option<String>,
    #[arg(long, default_value = "operator")]
    pub by: String,
}

#[derive(clap::Args)]
pub struct ExportArgs {
    #[arg(long, default_value = "custos-data")]
    pub data: PathBuf,
    #[arg(long, default_value = "csv")]
    pub format: String,
    #[arg(short = 'o', long)]
    pub output: PathBuf,
    /// Only this system's devices.
    #[arg(long)]
    pub system: Option<String>,
    /// Leave out positions, codes, models and stream URLs (A3).
    #[arg(long)]
    pub masked: bool,
    #[arg(long, default_value = "operator")]
    pub by: String,
}

#[derive(clap::Args)]
pub struct DocumentArgs {
    #[arg(long, default_value = "custos-data")]
    pub data: PathBuf,
    #[arg(long)]
    pub system: String,
    /// design_plan, feasibility_review, acceptance_report, test_report, filing_receipt,
    /// removal_notice, change_filing, construction, maintenance, other.
    #[arg(long)]
    pub kind: String,
    #[arg(long)]
    pub title: String,
    /// YYYY-MM-DD.
    #[arg(long)]
    pub dated: String,
    #[arg(long)]
    pub author_unit: String,
    /// Id of the document this one supersedes.
    #[arg(long)]
    pub supersedes: Option<i64>,
    #[arg(long, default_value = "operator")]
    pub by: String,
    pub file: PathBuf,
}

/// Opens the data directory, creating it (and its database) if needed.
pub async fn open_or_create(data: &Path) -> Result<(DataDir, Store, Journal)> {
    let d = DataDir::create(data)?;
    let s = Store::open_sqlite(&d.db_path()).await?;
    let (j, repairs) = Journal::open(&d)?;
    for r in repairs {
        eprintln!("ledger: {r}");
    }
    Ok((d, s, j))
}

pub async fn run(c: Cmd) -> Result<()> {
    match c {
        Cmd::Load(a) => load(a).await,
        Cmd::Import(a) => import_cmd(a).await,
        Cmd::Export(a) => export(a).await,
        Cmd::Document(a) => document(a).await,
        Cmd::DutyLog(a) => duty_log(a).await,
    }
}

/// The JSON file of `custos registry load`: every key optional.
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct LoadFile {
    units: Vec<UnitRow>,
    systems: Vec<SystemRow>,
    places: Vec<PlaceRow>,
    residences: Vec<ResidenceRow>,
    staff: Vec<StaffRow>,
    training: Vec<TrainingRow>,
    changes: Vec<ChangeRow>,
    maintenance: Vec<MaintenanceRow>,
}

async fn load(a: LoadArgs) -> Result<()> {
    let text = std::fs::read_to_string(&a.file)
        .map_err(|e| Error::io(format!("reading {}", a.file.display()), e))?;
    let mut f: LoadFile = serde_json::from_str(&text).map_err(|e| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("{}: {e}", a.file.display()),
        )
    })?;
    let (_, store, journal) = open_or_create(&a.data).await?;
    for s in &mut f.systems {
        for (field, default) in [
            (&mut s.state, "planned"),
            (&mut s.profile, "strictest"),
            (&mut s.responsibility_basis, "owner"),
            (&mut s.funding, "private"),
        ] {
            if field.is_empty() {
                *field = default.to_owned();
            }
        }
        custos_registry::convert::jurisdiction(&s.profile)?;
        s.state.parse::<custos_core::compliance::LifecycleState>()?;
    }
    for p in &f.places {
        custos_registry::convert::parse_category(&p.category)?;
    }
    for r in &f.residences {
        custos_registry::convert::parse_polygon(&r.polygon)?;
    }
    journal.record(
        NewEntry::new(&a.by, Action::ConfigChange, "registry").details(serde_json::json!({
            "operation": "load", "units": f.units.len(), "systems": f.systems.len(),
            "places": f.places.len(), "residences": f.residences.len(), "staff": f.staff.len(),
        })),
    )?;
    let now = custos_node::now();
    for u in &f.units {
        store.upsert_unit(u).await?;
    }
    store.upsert_systems(&f.systems, now).await?;
    store.upsert_places(&f.places).await?;
    for r in &f.residences {
        store.upsert_residence(r).await?;
    }
    for s in &f.staff {
        store.upsert_staff(s).await?;
    }
    for t in &f.training {
        store.add_training(t).await?;
    }
    for c in &f.changes {
        store.upsert_change(c).await?;
    }
    for m in &f.maintenance {
        store.add_maintenance(m).await?;
    }
    println!(
        "loaded {} unit(s), {} system(s), {} place(s), {} residence(s), {} staff, {} training record(s), {} change(s), {} maintenance record(s)",
        f.units.len(),
        f.systems.len(),
        f.places.len(),
        f.residences.len(),
        f.staff.len(),
        f.training.len(),
        f.changes.len(),
        f.maintenance.len()
    );
    Ok(())
}

async fn import_cmd(a: ImportArgs) -> Result<()> {
    let (_, store, journal) = open_or_create(&a.data).await?;
    let pb = ProgressBar::new(0);
    pb.set_style(
        ProgressStyle::with_template("importing [{bar:40}] {pos}/{len} devices")
            .unwrap()
            .progress_chars("=> "),
    );
    let r = import::import_file(
        &store,
        &journal,
        &a.file,
        a.system.as_deref(),
        &a.by,
        &mut |done, total| {
            pb.set_length(total as u64);
            pb.set_position(done as u64);
        },
    )
    .await?;
    pb.finish_and_clear();
    if !r.errors.is_empty() {
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED)
            .set_header(["row", "column", "value", "problem"]);
        for e in &r.errors {
            t.add_row([
                e.row.to_string(),
                e.column.clone(),
                e.value.chars().take(40).collect(),
                e.message.clone(),
            ]);
        }
        println!("{t}");
    }
    println!(
        "{} of {} row(s) imported, {} refused (file sha256 {}, ledger entry {})",
        r.imported,
        r.rows,
        r.errors.len(),
        r.sha256,
        r.ledger_seq
    );
    if !r.errors.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "{} row(s) refused (listed above); fix them and import the file again",
                r.errors.len()
            ),
        )
        .into());
    }
    Ok(())
}

async fn export(a: ExportArgs) -> Result<()> {
    let format: import::Format = a.format.parse()?;
    let (_, store, journal) = open_or_create(&a.data).await?;
    let mut devices = store.devices(a.system.as_deref()).await?;
    if a.masked {
        devices = devices.iter().map(access::masked).collect();
    } else {
        journal.register_access(
            &a.by,
            Action::ConfidentialRead,
            &format!(
                "registry/devices/export/{}",
                a.system.as_deref().unwrap_or("all")
            ),
            Some("registry export"),
            serde_json::json!({ "devices": devices.len(), "file": a.output.display().to_string() }),
        )?;
    }
    import::write_devices(&devices, &a.output, format)?;
    println!(
        "{} device(s) written to {}{}",
        devices.len(),
        a.output.display(),
        if a.masked { " (masked)" } else { "" }
    );
    Ok(())
}

async fn document(a: DocumentArgs) -> Result<()> {
    let (data, store, journal) = open_or_create(&a.data).await?;
    let d = archive::file_document(
        &store,
        &journal,
        data.root(),
        &archive::NewDocument {
            system_id: &a.system,
            kind: &a.kind,
            title: &a.title,
            dated: &a.dated,
            author_unit: &a.author_unit,
            file: &a.file,
            supersedes: a.supersedes,
            by: &a.by,
        },
        custos_node::now(),
    )
    .await?;
    println!(
        "document {} filed for system {} ({}, sha256 {})",
        d.id, d.system_id, d.kind, d.sha256
    );
    Ok(())
}

async fn duty_log(a: DutyLogArgs) -> Result<()> {
    if a.entry.trim().is_empty() {
        return Err(
            Error::new(ErrorKind::InvalidArgument, "--entry must say what happened").into(),
        );
    }
    let (_, store, _) = open_or_create(&a.data).await?;
    store.system(&a.system).await?;
    if !store
        .staff(Some(&a.system))
        .await?
        .iter()
        .any(|s| s.id == a.staff)
    {
        return Err(Error::new(
            ErrorKind::NotFound,
            format!(
                "no staff {} in system {}; register them first (A5)",
                a.staff, a.system
            ),
        )
        .into());
    }
    let id = store
        .add_duty_log(&a.system, &a.staff, custos_node::now(), &a.entry)
        .await?;
    println!("duty-log entry {id} recorded for system {}", a.system);
    Ok(())
}
