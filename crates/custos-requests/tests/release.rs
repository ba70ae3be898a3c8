//! Releasing a footage request (H3) against a real data directory, store and ledger: the
//! attacks of a releaser who is not the unit's operator for the camera, and of two releases at
//! once.

use custos_core::Time90k;
use custos_core::access::{Principal, Role, Scope};
use custos_footage::Journal;
use custos_footage::layout::DataDir;
use custos_requests::{
    Approver, CameraRange, DocumentKind, Kind, NewRequest, Officer, OrganType, ReleaseOrder,
    Requests, State,
};
use custos_store::Store;

const MIN: i64 = 60 * 90_000;

struct World {
    requests: Requests,
    journal: Journal,
    now: Time90k,
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::create(dir.path()).unwrap();
    let store = Store::open_sqlite(&data.db_path()).await.unwrap();
    let (journal, _) = Journal::open(&data).unwrap();
    store
        .set_camera_area("gate", ("local", "main", "default"), Time90k(0), "test")
        .await
        .unwrap();
    World {
        requests: Requests::new(store, journal.clone(), data),
        journal,
        now: Time90k::from_datetime(chrono::Utc::now()),
        _dir: dir,
    }
}

fn who(name: &str, role: Role, scope: &str) -> Principal {
    Principal::new(name).with_grant(role, scope.parse::<Scope>().unwrap())
}

/// A view request of police1 on `gate`, submitted and approved by `head`.
async fn approved(w: &World) -> i64 {
    let police1 = who("police1", Role::PoliceOfficer, "local");
    let now = w.now;
    let r = w
        .requests
        .create(
            &police1,
            NewRequest {
                organ: "某市公安局某分局".into(),
                organ_type: OrganType::Police,
                purpose: "案件侦查".into(),
                legal_basis: "调取证据通知书 2026-001".into(),
                case: None,
                kind: Kind::View,
                scope: vec![CameraRange {
                    camera: "gate".into(),
                    from: Time90k(now.0 - 60 * MIN),
                    to: Time90k(now.0 - 10 * MIN),
                }],
                officers: vec![
                    Officer {
                        name: "张伟".into(),
                        work_id: "110101".into(),
                    },
                    Officer {
                        name: "李娜".into(),
                        work_id: "110102".into(),
                    },
                ],
            },
            now,
        )
        .await
        .unwrap();
    w.requests
        .attach(
            r.id,
            "police1",
            DocumentKind::UnitLetter,
            "介绍信",
            b"unit letter",
            now,
        )
        .await
        .unwrap();
    w.requests.submit(r.id, "police1", now).await.unwrap();
    let head = Approver {
        principal: who("head", Role::PoliceApprover, "local"),
        work_id: "9".into(),
        unit: "某市公安局某分局".into(),
        unit_type: OrganType::Police,
        note: None,
    };
    w.requests.approve(r.id, &head, now).await.unwrap();
    r.id
}

fn order(p: Principal, now: Time90k) -> ReleaseOrder {
    ReleaseOrder {
        principal: p,
        until: Time90k(now.0 + 60 * MIN),
        bundle_dir: None,
    }
}

fn released_entries(w: &World) -> usize {
    let l = w.journal.ledger();
    (0..l.len())
        .filter(|&i| l.entry(i).unwrap().action.as_str() == "RequestReleased")
        .count()
}

/// H3 (attack): a police officer of the camera's area whose account also holds a
/// watch-operator grant over another area releases a colleague's request. Refused, and
/// nothing is released; the watch operator of the camera's area then releases it.
#[tokio::test]
async fn h3_attack_release_with_an_unrelated_watch_operator_grant_is_refused() {
    let w = world().await;
    let id = approved(&w).await;
    let attacker = who("police2", Role::PoliceOfficer, "local").with_grant(
        Role::WatchOperator,
        "other/main/default".parse::<Scope>().unwrap(),
    );
    let e = w
        .requests
        .release(id, &order(attacker, w.now), w.now)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), custos_core::ErrorKind::PermissionDenied, "{e}");
    assert!(e.msg().starts_with("H3"), "{e}");
    assert_eq!(w.requests.get(id).await.unwrap().state, State::Approved);
    assert_eq!(released_entries(&w), 0);
    let operator = who("operator", Role::WatchOperator, "local/main/default");
    let r = w
        .requests
        .release(id, &order(operator, w.now), w.now)
        .await
        .unwrap();
    assert_eq!(r.state, State::Released);
    assert_eq!(released_entries(&w), 1);
}

/// H3 (attack): two operators release the same request at once. One release happens; the
/// other is refused before it writes anything: exactly one `RequestReleased` ledger entry.
#[tokio::test]
async fn h3_attack_two_releases_at_once_give_one_release_and_one_ledger_entry() {
    let w = world().await;
    let id = approved(&w).await;
    let a = order(who("op1", Role::WatchOperator, "local"), w.now);
    let b = order(who("op2", Role::WatchOperator, "local"), w.now);
    let (ra, rb) = tokio::join!(
        w.requests.release(id, &a, w.now),
        w.requests.release(id, &b, w.now)
    );
    let ok = [&ra, &rb].iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 1, "{ra:?} {rb:?}");
    let err = if ra.is_err() { ra } else { rb }.unwrap_err();
    assert_eq!(
        err.kind(),
        custos_core::ErrorKind::FailedPrecondition,
        "{err}"
    );
    assert_eq!(released_entries(&w), 1);
    let r = w.requests.get(id).await.unwrap();
    assert_eq!(r.state, State::Released);
    // A third release afterwards is refused by the state machine.
    let c = order(who("op3", Role::WatchOperator, "local"), w.now);
    assert!(w.requests.release(id, &c, w.now).await.is_err());
    assert_eq!(released_entries(&w), 1);
}
