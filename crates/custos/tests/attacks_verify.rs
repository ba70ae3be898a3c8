//! `custos verify` against a root-level attacker (E3, E4, E5, F1): each test tampers with a
//! copy of a real recording's data directory the way root could (SQL on the database, the
//! node's own signing key for the ledger, removing files) and asserts exit code 7 and the
//! object named. The untouched copy verifies clean, so every finding is the tampering's.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::*;
use custos_core::Time90k;
use sqlx::Connection;

/// One recording (two segments and more), made once per test process and copied for each
/// attack.
fn base() -> &'static Path {
    static BASE: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &BASE
        .get_or_init(|| {
            let tmp = tempfile::tempdir().unwrap();
            let sim = Camsim::start(&small_cam("h264")).unwrap();
            let data = tmp.path().join("data");
            let cfg = write_config(tmp.path(), 5, &[("vault", sim.url(1), "")]);
            record_ok(data.to_str().unwrap(), cfg.to_str().unwrap(), "12s");
            drop(sim);
            // A gap, recorded as the recorder records one: ledger entry first, then the row.
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async {
                let dd = custos_footage::DataDir::open_existing(&data).unwrap();
                let store = custos_store::Store::open_sqlite(&dd.db_path())
                    .await
                    .unwrap();
                let (journal, _) = custos_footage::Journal::open(&dd).unwrap();
                let stream = store.all_streams().await.unwrap()[0].clone();
                let (a, b) = (Time90k(1_000 * 90_000), Time90k(1_010 * 90_000));
                let seq = journal
                    .gap("vault", stream.kind.as_str(), a, b, "camera unreachable")
                    .unwrap();
                store
                    .insert_gap(stream.id, a, b, "camera unreachable", Some(seq as i64))
                    .await
                    .unwrap();
                journal.checkpoint().unwrap();
                // Closed before anything copies the directory: a closing SQLite connection
                // checkpoints and removes its -wal/-shm files under a running `cp`.
                store.close().await;
            });
            (tmp, data)
        })
        .1
}

/// A fresh copy of the base data directory.
fn copy(tmp: &Path) -> PathBuf {
    let to = tmp.join("data");
    let o = std::process::Command::new("cp")
        .arg("-a")
        .arg(base())
        .arg(&to)
        .output()
        .unwrap();
    assert!(o.status.success(), "cp: {}", stderr(&o));
    custos_testkit::unprotect_tree(&to).unwrap();
    to
}

fn verify(data: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["verify", "--data", data.to_str().unwrap()];
    args.extend_from_slice(extra);
    custos(&args)
}

fn sql(data: &Path, q: &str) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut c = sqlx::SqliteConnection::connect(&format!(
            "sqlite://{}",
            data.join("custos.db").display()
        ))
        .await
        .unwrap();
        sqlx::query(q).execute(&mut c).await.unwrap();
    });
}

/// Exit 7 and every `needle` in the output.
fn damaged(o: &std::process::Output, needles: &[&str]) {
    let out = format!("{}{}", stdout(o), stderr(o));
    assert_eq!(o.status.code(), Some(7), "{out}");
    for n in needles {
        assert!(out.contains(n), "{n:?} not named in:\n{out}");
    }
}

fn first_segment(data: &Path) -> serde_json::Value {
    segments(&recordings(data, "vault"))[0].clone()
}

/// Baseline: the untouched copy verifies clean (so each finding below is the tampering's).
fn e4_untampered_copy_verifies_clean() {
    let tmp = tempfile::tempdir().unwrap();
    let data = copy(tmp.path());
    let o = verify(&data, &[]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
}

/// E4, E7: extending a segment row's end (to cover a gap) is detected: the row no longer
/// matches what its seal recorded.
fn e4_extended_segment_end_is_detected() {
    let tmp = tempfile::tempdir().unwrap();
    let data = copy(tmp.path());
    let id = first_segment(&data)["id"].as_i64().unwrap();
    sql(
        &data,
        &format!("UPDATE segment SET end_90k = end_90k + 450000 WHERE id = {id}"),
    );
    damaged(
        &verify(&data, &[]),
        &[
            &format!("segment/{id}"),
            "differs from its ledger seal",
            "end ",
        ],
    );
}

/// E4, E7: deleting a gap row (to hide an outage) is detected from the ledger's gap entry.
fn e7_deleted_gap_row_is_detected() {
    let tmp = tempfile::tempdir().unwrap();
    let data = copy(tmp.path());
    sql(&data, "DELETE FROM gap");
    damaged(&verify(&data, &[]), &["ledger/seq/", "gap row was removed"]);
}

fn place_hold(data: &Path, seg: &serde_json::Value) {
    custos_ok(&[
        "hold",
        "place",
        "--data",
        data.to_str().unwrap(),
        "--camera",
        "vault",
        "--from",
        &rfc3339(seg["start_90k"].as_i64().unwrap()),
        "--to",
        &rfc3339(seg["end_90k"].as_i64().unwrap()),
        "--case",
        "A-17",
        "--reason",
        "evidence",
        "--by",
        "officer",
    ]);
}

/// E5: deleting a hold row (so that retention would delete the footage) is detected.
fn e5_deleted_hold_row_is_detected() {
    let tmp = tempfile::tempdir().unwrap();
    let data = copy(tmp.path());
    place_hold(&data, &first_segment(&data));
    let o = verify(&data, &[]);
    assert!(o.status.success(), "{}", stdout(&o));
    sql(&data, "DELETE FROM hold");
    damaged(
        &verify(&data, &[]),
        &["ledger/seq/", "hold row was removed", "A-17"],
    );
}

/// Root deletes a segment and writes a SegmentDeleted entry with the node's key, at `at_ms`.
fn forge_deletion(data: &Path, seg: &serde_json::Value, at_ms: Option<u64>) -> u64 {
    let id = seg["id"].as_i64().unwrap();
    let path = data.join(seg["path"].as_str().unwrap());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let dd = custos_footage::DataDir::open_existing(data).unwrap();
        let store = custos_store::Store::open_sqlite(&dd.db_path())
            .await
            .unwrap();
        let (journal, _) = custos_footage::Journal::open(&dd).unwrap();
        if let Some(ms) = at_ms {
            journal.ledger().set_clock(move || ms);
        }
        let seq = journal
            .segment_deleted(id, seg["sha256"].as_str(), "retention: past minimum")
            .unwrap();
        journal.checkpoint().unwrap();
        std::fs::remove_file(&path).unwrap();
        store
            .mark_segment_deleted(
                id,
                Time90k::from_system_time(std::time::SystemTime::now()),
                "retention: past minimum",
                Some(seq as i64),
            )
            .await
            .unwrap();
        seq
    })
}

/// F1: a SegmentDeleted entry for a segment inside its retention minimum — even one signed
/// with the node's own key — is refused by verify: the ledger alone shows it was too early.
fn f1_deletion_inside_the_minimum_is_detected() {
    let tmp = tempfile::tempdir().unwrap();
    let data = copy(tmp.path());
    let seg = first_segment(&data);
    let seq = forge_deletion(&data, &seg, None);
    damaged(
        &verify(&data, &[]),
        &[&format!("ledger/seq/{seq}"), "inside its 30-day minimum"],
    );
}

/// E5: a deletion written (with a forged clock) after the minimum, but while a hold the
/// ledger shows in force covered the segment, is detected.
fn e5_deletion_of_held_footage_is_detected() {
    let tmp = tempfile::tempdir().unwrap();
    let data = copy(tmp.path());
    let seg = first_segment(&data);
    place_hold(&data, &seg);
    let later = (chrono::Utc::now() + chrono::Duration::days(60)).timestamp_millis() as u64;
    let seq = forge_deletion(&data, &seg, Some(later));
    let o = verify(&data, &[]);
    let out = stdout(&o);
    assert!(
        !out.contains("inside its"),
        "the forged clock was past the minimum: {out}"
    );
    damaged(
        &o,
        &[&format!("ledger/seq/{seq}"), "while the hold", "A-17"],
    );
}

/// E4: a missing ledger directory, or the data directory's key, is damage: exit 7 naming it
/// (not a generic error).
fn e4_missing_ledger_or_key_is_damage_and_named() {
    let tmp = tempfile::tempdir().unwrap();
    let data = copy(tmp.path());
    std::fs::remove_file(data.join("keys/ledger.pub")).unwrap();
    damaged(&verify(&data, &[]), &["ledger key", "keys/ledger.pub"]);
    let data2 = {
        let t = tmp.path().join("2");
        std::fs::create_dir(&t).unwrap();
        copy(&t)
    };
    std::fs::remove_dir_all(data2.join("ledger")).unwrap();
    damaged(&verify(&data2, &[]), &["ledger", "directory is missing"]);
}

/// E4: a ledger rewritten and re-signed with the node's own key passes a plain verify (the key
/// is the node's), but not `--checkpoint` with a checkpoint saved before the rewrite.
fn e4_rewrite_with_the_node_key_is_caught_by_a_kept_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let data = copy(tmp.path());
    let kept = tmp.path().join("kept.checkpoint");
    let o = verify(&data, &["--save-checkpoint", kept.to_str().unwrap()]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(std::fs::read_to_string(&kept).unwrap().contains('\n'));
    let o = verify(&data, &["--checkpoint", kept.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stdout(&o));
    assert!(stdout(&o).contains("still holds"), "{}", stdout(&o));
    // The rewrite: the same entries again, in a new ledger signed with the node's key, with
    // history changed where no index row can show it: the gap's cause.
    let dd = custos_footage::DataDir::open_existing(&data).unwrap();
    let old: Vec<custos_ledger::Entry> = {
        let (j, _) = custos_footage::Journal::open(&dd).unwrap();
        let l = j.ledger();
        l.entries(0..l.len()).unwrap()
    };
    std::fs::remove_dir_all(data.join("ledger")).unwrap();
    {
        let (j, _) = custos_footage::Journal::open(&dd).unwrap();
        for e in old {
            let mut details = e.details.clone();
            if e.action == custos_ledger::Action::Gap {
                details["reason"] = "planned maintenance".into();
            }
            let mut n = custos_ledger::NewEntry::new(&e.actor, e.action.clone(), &e.object)
                .details(details);
            if let Some(p) = &e.purpose {
                n = n.purpose(p);
            }
            j.record(n).unwrap();
        }
        j.checkpoint().unwrap();
    }
    let plain = verify(&data, &[]);
    assert!(
        plain.status.success(),
        "a rewrite with the node's key passes a plain verify: {}",
        stdout(&plain)
    );
    damaged(
        &verify(&data, &["--checkpoint", kept.to_str().unwrap()]),
        &["PROBLEM checkpoint", "kept.checkpoint"],
    );
}

/// E4, E5, E7, F1: on copies of one recording, each row tampering a root-level attacker could
/// do is detected with exit 7 and the object named: a clean copy verifies; an extended segment
/// end, a deleted gap row, a deleted hold row, a SegmentDeleted entry inside the retention
/// minimum and one for held footage (both signed with the node's key) are each refused.
#[test]
fn e4_e5_e7_f1_verify_detects_row_tampering_and_illegitimate_deletions() {
    e4_untampered_copy_verifies_clean();
    e4_extended_segment_end_is_detected();
    e7_deleted_gap_row_is_detected();
    e5_deleted_hold_row_is_detected();
    f1_deletion_inside_the_minimum_is_detected();
    e5_deletion_of_held_footage_is_detected();
}

/// E4: a missing ledger directory or key is damage named with exit 7, and a ledger rewritten
/// with the node's own key is caught by a checkpoint kept elsewhere (`--checkpoint`).
#[test]
fn e4_verify_missing_ledger_or_key_and_kept_checkpoint() {
    e4_missing_ledger_or_key_is_damage_and_named();
    e4_rewrite_with_the_node_key_is_caught_by_a_kept_checkpoint();
}
