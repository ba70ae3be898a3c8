//! Ledger end-to-end (E2, E3, E4, E5): what the recorder seals is in the ledger; `custos
//! verify` finds altered, missing and unrecorded footage; reads are registered first and do
//! not happen when they cannot be; holds need two persons to release.

mod common;

use common::*;

fn record_some(tmp: &std::path::Path, name: &str) -> (Camsim, std::path::PathBuf) {
    let sim = Camsim::start(&small_cam("h264")).unwrap();
    let data = tmp.join("data");
    let cfg = write_config(tmp, 5, &[(name, sim.url(1), "")]);
    record_ok(data.to_str().unwrap(), cfg.to_str().unwrap(), "12s");
    (sim, data)
}

fn verify(data: &std::path::Path) -> std::process::Output {
    custos(&[
        "verify",
        "--data",
        data.to_str().unwrap(),
        "--key",
        data.join("keys/ledger.pub").to_str().unwrap(),
    ])
}

/// E3, E4: a clean recording verifies; a flipped byte in a segment, a deleted segment file and
/// a removed index row are each reported by name with exit code 7.
#[test]
fn e4_verify_finds_altered_missing_and_unrecorded_footage() {
    let tmp = custos_testkit::ProtectedTempDir::new().unwrap();
    let (_sim, data) = record_some(tmp.path(), "vault");
    let o = verify(&data);
    assert!(
        o.status.success(),
        "clean recording does not verify: {}{}",
        stdout(&o),
        stderr(&o)
    );
    assert!(
        stdout(&o).contains("verified: no problems"),
        "{}",
        stdout(&o)
    );
    let segs = segments(&recordings(&data, "vault"));
    assert!(segs.len() >= 2);
    // 1. Flip one byte of the first segment.
    let p0 = data.join(segs[0]["path"].as_str().unwrap());
    // Sealed files are immutable where the filesystem allows: clear that first, as root could.
    custos_testkit::unprotect_tree(&p0).unwrap();
    std::fs::set_permissions(&p0, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let mut bytes = std::fs::read(&p0).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&p0, &bytes).unwrap();
    // 2. Remove the second segment's file.
    let p1 = data.join(segs[1]["path"].as_str().unwrap());
    custos_testkit::unprotect_tree(&p1).unwrap();
    std::fs::remove_file(&p1).unwrap();
    let o = verify(&data);
    assert_eq!(o.status.code(), Some(7), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.contains(&format!("segment/{}", segs[0]["id"])) && out.contains("content changed"),
        "{out}"
    );
    assert!(
        out.contains(&format!("segment/{}", segs[1]["id"])) && out.contains("MISSING"),
        "{out}"
    );
    // 3. Remove an index row behind custos' back: the ledger still knows the segment.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&format!(
            "sqlite://{}",
            data.join("custos.db").display()
        ))
        .await
        .unwrap();
        sqlx::query("DELETE FROM segment WHERE id = ?")
            .bind(segs[1]["id"].as_i64().unwrap())
            .execute(&mut c)
            .await
            .unwrap();
    });
    let out = stdout(&verify(&data));
    assert!(out.contains("index has no row"), "{out}");
}

/// E2: an export is registered in the ledger before it reads; if the ledger cannot be written,
/// the export does not happen (fail closed).
#[test]
fn e2_export_registers_first_and_fails_closed() {
    let tmp = custos_testkit::ProtectedTempDir::new().unwrap();
    let (_sim, data) = record_some(tmp.path(), "desk");
    let segs = segments(&recordings(&data, "desk"));
    let (a, b) = (
        segs[0]["start_90k"].as_i64().unwrap(),
        segs[0]["end_90k"].as_i64().unwrap(),
    );
    let out = tmp.path().join("x.mp4");
    let args = |o: &std::path::Path| {
        vec![
            "export".to_owned(),
            "--data".into(),
            data.display().to_string(),
            "--camera".into(),
            "desk".into(),
            "--from".into(),
            rfc3339(a),
            "--to".into(),
            rfc3339(b),
            "-o".into(),
            o.display().to_string(),
            "--operator".into(),
            "officer-7".into(),
            "--purpose".into(),
            "case 2026-114".into(),
        ]
    };
    let argv = args(&out);
    let o = custos(&argv.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", stderr(&o));
    let log = std::fs::read(data.join("ledger/entries.log")).unwrap();
    let log = String::from_utf8_lossy(&log);
    assert!(
        log.contains("\"action\":\"Export\"")
            && log.contains("officer-7")
            && log.contains("case 2026-114"),
        "export not in the ledger"
    );
    // Make the ledger unwritable (replace its directory by a file): the export must not happen.
    std::fs::rename(data.join("ledger"), tmp.path().join("ledger.moved")).unwrap();
    std::fs::write(data.join("ledger"), b"not a directory").unwrap();
    let out2 = tmp.path().join("y.mp4");
    let argv = args(&out2);
    let o = custos(&argv.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(!o.status.success(), "export ran without its ledger entry");
    assert!(stderr(&o).contains("ledger"), "{}", stderr(&o));
    assert!(
        !out2.exists(),
        "footage was written although the access was not registered"
    );
    // Playback (an HLS playlist over the footage) is refused the same way.
    let m3u8 = tmp.path().join("p.m3u8");
    let o = custos(&[
        "hls",
        "--data",
        data.to_str().unwrap(),
        "--camera",
        "desk",
        "--from",
        &rfc3339(a),
        "--to",
        &rfc3339(b),
        "-o",
        m3u8.to_str().unwrap(),
    ]);
    assert!(!o.status.success(), "playback ran without its ledger entry");
    assert!(stderr(&o).contains("ledger"), "{}", stderr(&o));
    assert!(
        !m3u8.exists(),
        "a playlist was written although the access was not registered"
    );
}

/// `custos ARGS` with `input` on standard input (killed after 120 s).
fn custos_with_stdin(args: &[&str], input: &str) -> std::process::Output {
    use std::io::Write as _;
    let mut c = std::process::Command::new("timeout")
        .args(["-k", "5", "120", bin()])
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run custos");
    c.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    c.wait_with_output().unwrap()
}

/// E5: a hold is placed and released in the ledger; releasing needs a second, different
/// person, and both persons are accounts that authenticate (password on standard input) and
/// may release holds on the camera: a typed name, a wrong password or an account without
/// `release_hold` is refused and the hold stays; the ledger names both persons.
#[test]
fn e5_hold_release_needs_a_second_authenticated_account() {
    let tmp = custos_testkit::ProtectedTempDir::new().unwrap();
    let (_sim, data) = record_some(tmp.path(), "gate");
    let segs = segments(&recordings(&data, "gate"));
    let (a, b) = (
        segs[0]["start_90k"].as_i64().unwrap(),
        segs[0]["end_90k"].as_i64().unwrap(),
    );
    let d = data.to_str().unwrap();
    for (name, role, pw) in [
        ("alice", "police_officer", "first-Passw0rd-for-holds"),
        ("bob", "police_approver", "second-Passw0rd-for-holds"),
        ("carol", "watch_operator", "third-Passw0rd-for-holds"),
    ] {
        let o = custos_with_stdin(
            &[
                "users",
                "add",
                name,
                "--role",
                role,
                "--scope",
                "local",
                "--password-stdin",
                "--data",
                d,
            ],
            &format!("{pw}\n"),
        );
        assert!(o.status.success(), "users add {name}: {}", stderr(&o));
    }
    let o = custos_ok(&[
        "hold",
        "place",
        "--data",
        d,
        "--camera",
        "gate",
        "--from",
        &rfc3339(a),
        "--to",
        &rfc3339(b),
        "--case",
        "CASE-9",
        "--reason",
        "theft",
        "--by",
        "alice",
    ]);
    assert!(o.contains("hold 1 placed"), "{o}");
    let release = |by: &str, approver: &str, input: &str| {
        custos_with_stdin(
            &[
                "hold",
                "release",
                "--data",
                d,
                "1",
                "--by",
                by,
                "--approved-by",
                approver,
                "--passwords-stdin",
            ],
            input,
        )
    };
    // The same person twice.
    let o = release(
        "alice",
        "Alice",
        "first-Passw0rd-for-holds\nfirst-Passw0rd-for-holds\n",
    );
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("second, different person"),
        "{}",
        stderr(&o)
    );
    // No passwords: refused, naming what to give.
    let o = custos(&[
        "hold",
        "release",
        "--data",
        d,
        "1",
        "--by",
        "alice",
        "--approved-by",
        "bob",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--passwords-stdin"), "{}", stderr(&o));
    // A name that is no account, and a wrong password of the approver.
    let o = release("alice", "mallory", "first-Passw0rd-for-holds\nguess\n");
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("wrong user name or password"),
        "{}",
        stderr(&o)
    );
    let o = release(
        "alice",
        "bob",
        "first-Passw0rd-for-holds\nnot-bobs-password\n",
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--approved-by bob"), "{}", stderr(&o));
    // An authenticated account without release_hold.
    let o = release(
        "alice",
        "carol",
        "first-Passw0rd-for-holds\nthird-Passw0rd-for-holds\n",
    );
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("carol may not release hold 1"),
        "{}",
        stderr(&o)
    );
    assert!(custos_ok(&["hold", "list", "--data", d]).contains("active"));
    // Two authenticated accounts with the right.
    let o = release(
        "alice",
        "bob",
        "first-Passw0rd-for-holds\nsecond-Passw0rd-for-holds\n",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("released by alice, approved by bob"),
        "{}",
        stdout(&o)
    );
    assert!(!custos_ok(&["hold", "list", "--data", d]).contains("active"));
    let log = String::from_utf8_lossy(&std::fs::read(data.join("ledger/entries.log")).unwrap())
        .into_owned();
    assert!(log.contains("\"action\":\"HoldPlaced\""), "no hold entry");
    assert!(
        log.contains("\"released_by\":\"alice\"") && log.contains("\"approved_by\":\"bob\""),
        "release persons not in the ledger"
    );
    assert!(
        log.contains("\"action\":\"AccessDenied\"") && log.contains("carol may not release hold 1"),
        "the refused approver is not in the ledger"
    );
    let o = verify(&data);
    assert!(o.status.success(), "{}", stdout(&o));
}
