//! The registry and compliance engine over HTTP (`custos serve`): A3 confidential reads and
//! refusals in the ledger, J1 an inspector scans, inspects, finishes with a rectification order
//! and downloads the PDF report, J2 the finding workflow across the inspector and the unit, C1
//! lifecycle refusal without evidence, I1 the public catalogue without confidential fields, J3
//! public complaints without an account (ledger, rate limit), D6 a watch operator's report of
//! suspicious information as a bookmark on the timeline.

mod common;

use std::path::Path;
use std::process::Command;

use common::server::{ADMIN_PW, Served, USER_PW, add_user, client, first_login, login, serve};
use common::*;

fn testdata(name: &str) -> String {
    format!(
        "{}/../custos-registry/testdata/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// Loads the example registry and imports its device list with the CLI (two rows are refused
/// on purpose: exit 2).
fn load_registry(data: &Path) {
    let run = |args: &[&str]| {
        Command::new("timeout")
            .arg("120")
            .arg(bin())
            .args(args)
            .arg("--data")
            .arg(data)
            .output()
            .unwrap()
    };
    let o = run(&["registry", "load", &testdata("registry.json")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&[
        "registry",
        "import",
        &testdata("devices.csv"),
        "--by",
        "clerk",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// An account with a clearance (A3 needs confidential to read basic information).
async fn add_cleared(s: &Served, name: &str, role: &str, scopes: &[&str], clearance: &str) {
    let admin = login(s, "admin", ADMIN_PW).await;
    let r = admin
        .post(
            &s.url("/api/users"),
            serde_json::json!({"name": name, "password": USER_PW, "role": role,
                "scopes": scopes, "clearance": clearance}),
        )
        .await;
    let st = r.status();
    assert_eq!(st, 201, "adding {name}: {}", r.text().await.unwrap());
    first_login(s, name).await;
}

async fn audit(s: &Served, query: &str) -> Vec<serde_json::Value> {
    let aud = login(s, "aud", USER_PW).await;
    let r = aud.get(&s.url(&format!("/api/audit?{query}"))).await;
    assert_eq!(r.status(), 200);
    let page: serde_json::Value = r.json().await.unwrap();
    page["entries"].as_array().unwrap().clone()
}

const HALL_EAST: &str = "32010200001321000001";

/// A3 over HTTP: a device's position without `read_basic_info` (or without confidential
/// clearance) is refused 403 and the refusal is in the ledger; the masked list hides codes and
/// positions; a permitted read is recorded as a confidential read.
#[tokio::test(flavor = "multi_thread")]
async fn a3_device_position_needs_permission_and_is_audited() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    load_registry(&data);
    let s = serve(&data, None, &[]);
    add_cleared(&s, "insp", "inspector", &["320102"], "confidential").await;
    add_cleared(&s, "insp-public", "inspector", &["320102"], "public").await;
    add_user(&s, "op", "watch_operator", &["320102"], None).await;
    add_user(&s, "aud", "auditor", &["local"], None).await;

    let op = login(&s, "op", USER_PW).await;
    let r = op.get(&s.url(&format!("/api/devices/{HALL_EAST}"))).await;
    assert_eq!(r.status(), 403, "watch operator read a device position");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["kind"], "permission_denied", "{body}");

    // An inspector without confidential clearance: masked list, refused detail (A3 rule).
    let ip = login(&s, "insp-public", USER_PW).await;
    let r = ip.get(&s.url("/api/systems/market")).await;
    assert_eq!(r.status(), 200);
    let sys: serde_json::Value = r.json().await.unwrap();
    assert_eq!(sys["full"], false, "{sys}");
    let text = sys["devices"].to_string();
    assert!(!text.contains("118.78"), "position in masked list: {text}");
    assert!(
        !text.contains(HALL_EAST),
        "full code in masked list: {text}"
    );
    assert!(
        !text.contains("rtsp://"),
        "stream URL in masked list: {text}"
    );
    assert!(text.contains("3201************0001"), "{text}");
    let r = ip.get(&s.url(&format!("/api/devices/{HALL_EAST}"))).await;
    assert_eq!(r.status(), 403);
    let body: serde_json::Value = r.json().await.unwrap();
    // Confidential basic information above the account's clearance (E6/A3).
    assert!(
        body["error"].as_str().unwrap().contains("clearance"),
        "{body}"
    );

    // The permitted inspector reads it; the read is registered.
    let insp = login(&s, "insp", USER_PW).await;
    let r = insp
        .get(&s.url(&format!("/api/devices/{HALL_EAST}?purpose=inspection")))
        .await;
    assert_eq!(r.status(), 200);
    let d: serde_json::Value = r.json().await.unwrap();
    assert_eq!(d["lon"], 118.7802);
    assert_eq!(d["model"], "DS-2CD2T47");
    let sys: serde_json::Value = insp
        .get(&s.url("/api/systems/market"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sys["full"], true);
    assert!(sys["devices"].to_string().contains(HALL_EAST));

    let object = format!("device/{HALL_EAST}");
    let denied = audit(&s, "action=AccessDenied").await;
    for who in ["op", "insp-public"] {
        assert!(
            denied
                .iter()
                .any(|e| e["actor"] == who && e["object"] == object.as_str()),
            "no AccessDenied of {who} on {object}: {denied:?}"
        );
    }
    let reads = audit(&s, "actor=insp").await;
    assert!(
        reads.iter().any(|e| e["object"] == object.as_str()
            && e["action"].as_str().unwrap().contains("Confidential")
            && e["purpose"] == "inspection"),
        "no confidential read of {object} by insp: {reads:?}"
    );
}

/// J1/J2/C1: an inspector scans, inspects the system over HTTP, finishes with a rectification
/// order and downloads the PDF report citing a finding's article; the unit (maintainer) marks a
/// finding rectified — the inspector may not — and the inspector verifies it; a lifecycle
/// transition without evidence is refused naming the missing documents.
#[tokio::test(flavor = "multi_thread")]
async fn j1_inspector_inspects_over_http_and_downloads_the_pdf() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    load_registry(&data);
    let s = serve(&data, None, &[]);
    add_cleared(&s, "insp", "inspector", &["320102"], "confidential").await;
    add_user(&s, "aud", "auditor", &["local"], None).await;
    add_user(
        &s,
        "maint",
        "maintainer",
        &["320102/market"],
        Some("2099-01-01T00:00:00Z"),
    )
    .await;
    let insp = login(&s, "insp", USER_PW).await;

    let r = insp
        .post(&s.url("/api/findings/scan"), serde_json::json!({}))
        .await;
    assert_eq!(r.status(), 200);
    let scan: serde_json::Value = r.json().await.unwrap();
    assert!(scan["findings"].as_u64().unwrap() > 0, "{scan}");
    let fs: Vec<serde_json::Value> = insp
        .get(&s.url("/api/findings?system=market&status=open"))
        .await
        .json()
        .await
        .unwrap();
    let signage = fs
        .iter()
        .find(|f| f["rule"] == "B4.signage")
        .unwrap_or_else(|| panic!("no B4 signage finding: {fs:?}"))
        .clone();
    let article = signage["articles"]
        .as_str()
        .unwrap()
        .split("; ")
        .next()
        .unwrap()
        .to_owned();
    let by_article: Vec<serde_json::Value> = insp
        .get(&s.url(&format!("/api/findings?article={}", urlencode(&article))))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        by_article
            .iter()
            .all(|f| f["articles"].as_str().unwrap().contains(&article))
    );
    assert!(by_article.iter().any(|f| f["id"] == signage["id"]));

    // The checklist of a filing inspection; fail the first item, pass the rest.
    let lists: Vec<serde_json::Value> = insp
        .get(&s.url("/api/inspections/checklists"))
        .await
        .json()
        .await
        .unwrap();
    let filing = lists.iter().find(|l| l["kind"] == "filing").unwrap();
    let items = filing["items"].as_array().unwrap();
    let r = insp
        .post(
            &s.url("/api/inspections"),
            serde_json::json!({"system": "market", "kind": "filing"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let started: serde_json::Value = r.json().await.unwrap();
    let id = started["id"].as_i64().unwrap();
    // Finishing early is refused: items unanswered.
    let r = insp
        .post(
            &s.url(&format!("/api/inspections/{id}/finish")),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(r.status(), 409);
    for (i, it) in items.iter().enumerate() {
        let answer = if i == 0 { "fail" } else { "pass" };
        let r = insp
            .post(
                &s.url(&format!("/api/inspections/{id}/answers")),
                serde_json::json!({"item": it["key"], "answer": answer, "note": "checked on site"}),
            )
            .await;
        assert_eq!(r.status(), 204, "{}", r.text().await.unwrap());
    }
    let r = insp
        .post(
            &s.url(&format!("/api/inspections/{id}/finish")),
            serde_json::json!({"days": 10}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let fin: serde_json::Value = r.json().await.unwrap();
    let order = &fin["order"];
    assert_eq!(order["system_id"], "market", "{fin}");
    assert_eq!(
        order["items"]["failed_items"][0]["item"], items[0]["key"],
        "{fin}"
    );
    assert!(
        order["items"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| *f == signage["id"]),
        "{fin}"
    );
    let f: Vec<serde_json::Value> = insp
        .get(&s.url("/api/findings?status=rectification_ordered"))
        .await
        .json()
        .await
        .unwrap();
    assert!(f.iter().any(|x| x["id"] == signage["id"]), "{f:?}");

    // The PDF report names the finding's article.
    let r = insp.get(&s.url("/api/reports/system/market.pdf")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let pdf = r.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF"), "not a PDF");
    let p = tmp.path().join("report.pdf");
    std::fs::write(&p, &pdf).unwrap();
    let o = Command::new("timeout")
        .args(["60", "pdftotext"])
        .arg(&p)
        .arg("-")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        text.contains(&article),
        "{article:?} not in the PDF: {text}"
    );
    // The report's language: Chinese by default, English on request, nothing else.
    let zh = insp.get(&s.url("/api/reports/system/market.html")).await;
    assert_eq!(zh.status(), 200);
    let zh = zh.text().await.unwrap();
    assert!(zh.contains("按条款列出的问题") && zh.contains("lang=\"zh-CN\""));
    let en = insp
        .get(&s.url("/api/reports/system/market.html?lang=en"))
        .await;
    assert_eq!(en.status(), 200);
    assert!(en.text().await.unwrap().contains("Findings by article"));
    let fr = insp
        .get(&s.url("/api/reports/system/market.html?lang=fr"))
        .await;
    assert_eq!(fr.status(), 400);
    let exports = audit(&s, "actor=insp&action=Export").await;
    assert!(
        !exports.is_empty(),
        "the report download is not in the ledger"
    );

    // J2: the inspector may not mark it rectified (the unit does), then verifies it.
    let adv = |to: &str| serde_json::json!({"to": to, "note": "signs installed"});
    let url = s.url(&format!(
        "/api/findings/{}/advance",
        urlencode(signage["id"].as_str().unwrap())
    ));
    assert_eq!(insp.post(&url, adv("rectified")).await.status(), 403);
    let maint = login(&s, "maint", USER_PW).await;
    let r = maint.post(&url, adv("rectified")).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(maint.post(&url, adv("verified")).await.status(), 403);
    let r = insp.post(&url, adv("verified")).await;
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["status"], "verified");

    // C1: acceptance without the documents is refused, naming what is missing.
    let r = maint
        .post(
            &s.url("/api/systems/market/lifecycle"),
            serde_json::json!({"to": "accepted"}),
        )
        .await;
    assert_eq!(r.status(), 409);
    let b: serde_json::Value = r.json().await.unwrap();
    assert!(b["error"].as_str().unwrap().contains("art."), "{b}");
    // The inspector has no configuration right.
    let r = insp
        .post(
            &s.url("/api/systems/market/lifecycle"),
            serde_json::json!({"to": "accepted"}),
        )
        .await;
    assert_eq!(r.status(), 403);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// I1 and J3 without an account: the catalogue lists the system that must connect and no
/// confidential field; a complaint lands in the ledger with its hash; a flood is refused (429).
#[tokio::test(flavor = "multi_thread")]
async fn i1_j3_public_catalogue_and_complaints_need_no_account() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    load_registry(&data);
    let s = serve(&data, None, &[]);
    add_user(&s, "aud", "auditor", &["local"], None).await;
    let anon = client();

    let r = anon
        .get(s.url("/api/public/catalogue"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cat: Vec<serde_json::Value> = r.json().await.unwrap();
    assert_eq!(cat.len(), 1, "{cat:?}");
    assert_eq!(cat[0]["name"], "Xinjiekou market cameras");
    assert_eq!(cat[0]["cameras"], 2);
    let text = serde_json::to_string(&cat).unwrap();
    for secret in [
        "118.78",
        "32.04",
        "320102000013",
        "DS-2CD",
        "IPC-HFW",
        "rtsp",
        "lon",
        "lat",
        "model",
        "fov",
    ] {
        assert!(!text.contains(secret), "catalogue has {secret:?}: {text}");
    }

    let complaint = serde_json::json!({
        "against": "district public security bureau",
        "body": "the market cameras film the flats of lane 3",
        "contact": ""
    });
    let r = anon
        .post(s.url("/api/public/complaints"))
        .json(&complaint)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let receipt: serde_json::Value = r.json().await.unwrap();
    let sha = receipt["sha256"].as_str().unwrap().to_owned();
    assert_eq!(sha.len(), 64);
    let entries = audit(&s, "action=ComplaintSubmitted").await;
    let e = entries
        .iter()
        .find(|e| e["seq"].as_i64() == receipt["ledger_seq"].as_i64())
        .unwrap_or_else(|| panic!("complaint not in the ledger: {entries:?}"));
    assert_eq!(e["details"]["sha256"], sha.as_str());
    assert!(
        e["details"]["complaint"]
            .as_str()
            .unwrap()
            .contains("lane 3")
    );

    // An empty complaint is refused; a flood from one address is limited.
    let r = anon
        .post(s.url("/api/public/complaints"))
        .json(&serde_json::json!({"against": "", "body": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let mut codes = Vec::new();
    for _ in 0..5 {
        let r = anon
            .post(s.url("/api/public/complaints"))
            .json(&complaint)
            .send()
            .await
            .unwrap();
        codes.push(r.status().as_u16());
    }
    assert_eq!(codes.last(), Some(&429), "{codes:?}");
    assert!(
        codes.iter().filter(|c| **c == 201).count() >= 3,
        "{codes:?}"
    );
}

/// D6: a watch operator reports suspicious information on a camera; the bookmark shows on the
/// camera's timeline (/recordings) with the hold placed; an auditor may not report.
#[tokio::test(flavor = "multi_thread")]
async fn d6_report_suspicious_bookmarks_the_timeline() {
    let sim = Camsim::start(&small_cam("h264")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = write_config(
        tmp.path(),
        10,
        &[("cam1", sim.url(1), "area = \"local/main/gate\"")],
    );
    let s = serve(&tmp.path().join("data"), Some(&cfg), &[]);
    add_user(&s, "op", "watch_operator", &["local/main"], None).await;
    add_user(&s, "aud", "auditor", &["local"], None).await;
    let op = login(&s, "op", USER_PW).await;
    let at = chrono::Utc::now() - chrono::Duration::seconds(5);
    let body = serde_json::json!({"at": at.to_rfc3339(), "note": "man climbing the gate"});
    let url = s.url("/api/cameras/cam1/reports");

    let aud = login(&s, "aud", USER_PW).await;
    assert_eq!(aud.post(&url, body.clone()).await.status(), 403);

    let r = op.post(&url, body).await;
    let st = r.status();
    let rep: serde_json::Value = r.json().await.unwrap();
    assert_eq!(st, 201, "{rep}");
    assert!(rep["hold_id"].as_i64().is_some(), "{rep}");

    let from = (at - chrono::Duration::minutes(1)).to_rfc3339();
    let to = (at + chrono::Duration::minutes(1)).to_rfc3339();
    let r = op
        .http
        .get(s.url("/api/cameras/cam1/recordings"))
        .query(&[("from", from.as_str()), ("to", to.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let rec: serde_json::Value = r.json().await.unwrap();
    let bms = rec["bookmarks"].as_array().unwrap();
    assert_eq!(bms.len(), 1, "{rec}");
    assert_eq!(bms[0]["note"], "man climbing the gate");
    assert_eq!(bms[0]["by"], "op");
    assert_eq!(bms[0]["hold_id"], rep["hold_id"]);
    // D6/H4 (leak): a citizen viewer account reaches no recording at all (citizens watch only
    // through a police-made session), so neither the footage nor the police note.
    let until = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    add_user(&s, "cit", "citizen_viewer", &["local/main"], Some(&until)).await;
    let cit = login(&s, "cit", USER_PW).await;
    let r = cit
        .http
        .get(s.url("/api/cameras/cam1/recordings"))
        .query(&[("from", from.as_str()), ("to", to.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let body = r.text().await.unwrap();
    assert!(!body.contains("man climbing the gate"), "{body}");
    let holds = audit(&s, "action=HoldPlaced&actor=op").await;
    assert!(
        holds.iter().any(|e| e["object"] == "camera/cam1"),
        "{holds:?}"
    );
}

/// J1/J3/A3/D6 in the web console, in the real Debian Chromium (playwright-core running
/// `web/e2e/registry.e2e.mjs`): a complaint and the catalogue without an account, then an
/// inspector sees the system unmasked, scans, runs an inspection with a failed item, sees the
/// rectification order and downloads the report as a PDF; a watch operator reports suspicious
/// information from the camera page and the bookmark shows on the timeline. Artifacts (screenshots, report.pdf,
/// results.json) under `$CARGO_TARGET_DIR/test-artifacts/web-registry/`.
#[tokio::test(flavor = "multi_thread")]
async fn j1_j3_d6_inspector_and_operator_flows_in_the_web_console() {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web");
    for (p, what) in [
        (
            Path::new("/usr/bin/chromium").to_owned(),
            "Debian package chromium",
        ),
        (web.join("node_modules/playwright-core"), "npm ci in web/"),
    ] {
        assert!(
            p.exists(),
            "{} not found ({what}); run scripts/setup",
            p.display()
        );
    }
    let target = Path::new(bin()).parent().and_then(Path::parent).unwrap();
    let artifacts = target.join("test-artifacts").join("web-registry");
    let dist = target.join("test-artifacts").join("web-dist-registry");
    let build = Command::new("timeout")
        .args(["-k", "5", "180", "npm", "run", "build", "--", "--outDir"])
        .arg(&dist)
        .arg("--emptyOutDir")
        .current_dir(&web)
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "npm run build: {}{}",
        stdout(&build),
        stderr(&build)
    );

    let sim = Camsim::start(&small_cam("h264")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    load_registry(&data);
    let cfg = write_config(
        tmp.path(),
        10,
        &[("cam1", sim.url(1), "area = \"local/main/gate\"")],
    );
    let s = serve(&data, Some(&cfg), &["--web", dist.to_str().unwrap()]);
    add_cleared(&s, "insp", "inspector", &["320102"], "confidential").await;
    add_user(&s, "aud", "auditor", &["local"], None).await;
    add_user(&s, "op", "watch_operator", &["local/main"], None).await;

    let _ = std::fs::remove_dir_all(&artifacts);
    let out = Command::new("timeout")
        .args(["-k", "5", "240", "node", "e2e/registry.e2e.mjs"])
        .current_dir(&web)
        .env("CUSTOS_URL", format!("{}/", s.base))
        .env("CUSTOS_INSPECTOR_USER", "insp")
        .env("CUSTOS_INSPECTOR_PASSWORD", USER_PW)
        .env("CUSTOS_SYSTEM", "market")
        .env("CUSTOS_OPERATOR_USER", "op")
        .env("CUSTOS_OPERATOR_PASSWORD", USER_PW)
        .env("CUSTOS_CAMERA", "cam1")
        .env("CUSTOS_ARTIFACTS", &artifacts)
        .env("CUSTOS_CHROMIUM", "/usr/bin/chromium")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "registry e2e failed; artifacts in {}\n{}\n{}",
        artifacts.display(),
        stdout(&out),
        stderr(&out)
    );
    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(artifacts.join("results.json")).unwrap()).unwrap();
    let checks = results["checks"].as_array().unwrap();
    assert!(
        checks.len() >= 20 && checks.iter().all(|c| c["ok"] == true),
        "{results:#}"
    );
    // What the browser did is in the ledger: the complaint, the inspection, the report download.
    let complaints = audit(&s, "action=ComplaintSubmitted").await;
    assert_eq!(complaints.len(), 1, "{complaints:?}");
    let ins = audit(&s, "actor=insp").await;
    for want in ["InspectionStarted", "RectificationOrdered", "Export"] {
        assert!(
            ins.iter()
                .any(|e| e["action"].as_str().unwrap().contains(want)),
            "no {want} by insp: {ins:?}"
        );
    }
    let holds = audit(&s, "action=HoldPlaced&actor=op").await;
    assert_eq!(holds.len(), 1, "{holds:?}");
    assert!(
        holds[0]["details"]["note"]
            .as_str()
            .unwrap()
            .contains("翻越")
    );
}
