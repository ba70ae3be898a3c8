//! `/metrics` names every camera and its health, so off loopback it is only for the roles whose
//! work is oversight of the whole system (E1 attack, issue of scope leaks): checked in process
//! with the router (`tower::ServiceExt::oneshot`) and the peer address a remote scraper would
//! have; no packet leaves the test.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use custos_auth::{Accounts, NewUser};
use custos_core::access::{Role, RoleGrant, Scope};
use custos_footage::journal::Journal;
use custos_footage::layout::DataDir;
use custos_server::state::Placements;
use custos_store::Store;
use tower::ServiceExt;

async fn get_metrics(app: &axum::Router, peer: SocketAddr, token: Option<&str>) -> StatusCode {
    let mut req = Request::get("/metrics");
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let mut req = req.body(Body::empty()).unwrap();
    req.extensions_mut().insert(ConnectInfo(peer));
    app.clone().oneshot(req).await.unwrap().status()
}

/// E1 (attack): a watch operator's API token, or no token, reads no `/metrics` from off
/// loopback (401/403); an auditor's token does (200); a loopback scraper needs none.
#[tokio::test]
async fn e1_attack_metrics_off_loopback_need_an_auditor_or_administrator_token() {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::create(dir.path()).unwrap();
    let store = Store::open_sqlite(&data.db_path()).await.unwrap();
    let (journal, _) = Journal::open(&data).unwrap();
    let accounts = Accounts::open(&store, journal.clone()).await.unwrap();
    let org = Scope::organisation("local");
    for (name, role) in [("watcher", Role::WatchOperator), ("checker", Role::Auditor)] {
        accounts
            .add_user_local(
                "test",
                NewUser::new(
                    name,
                    vec![RoleGrant::new(role, org.clone())],
                    "a long test passphrase 1",
                ),
            )
            .await
            .unwrap();
    }
    let watcher = accounts
        .create_api_token("test", "watcher", "scrape", None)
        .await
        .unwrap();
    let checker = accounts
        .create_api_token("test", "checker", "scrape", None)
        .await
        .unwrap();
    let app = custos_server::app(custos_server::state(
        data,
        store,
        journal,
        accounts,
        HashMap::new(),
        Placements::default(),
        None,
    ));

    let remote: SocketAddr = "192.0.2.10:40000".parse().unwrap();
    let local: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    assert_eq!(
        get_metrics(&app, remote, None).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get_metrics(&app, remote, Some(&watcher.token)).await,
        StatusCode::FORBIDDEN,
        "a watch operator must not read every camera's health from off loopback"
    );
    assert_eq!(
        get_metrics(&app, remote, Some(&checker.token)).await,
        StatusCode::OK
    );
    assert_eq!(get_metrics(&app, local, None).await, StatusCode::OK);
}
