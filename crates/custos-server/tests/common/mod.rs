//! The in-process world both policy test files use: a data directory, store, journal and
//! accounts (two police officers, an approver, a watch operator, a citizen viewer) with API
//! tokens, the router with a [`ManualClock`], and helpers to call it and read the ledger.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chrono::{DateTime, Duration, Utc};
use custos_auth::{Accounts, NewUser};
use custos_core::access::{Placement, Role, RoleGrant, Scope};
use custos_footage::journal::Journal;
use custos_footage::layout::DataDir;
use custos_server::clock::ManualClock;
use custos_server::state::Placements;
use custos_store::Store;
use serde_json::Value;
use tower::ServiceExt;

pub struct World {
    pub app: axum::Router,
    pub clock: Arc<ManualClock>,
    pub journal: Journal,
    pub store: Store,
    pub tokens: HashMap<&'static str, String>,
    _dir: tempfile::TempDir,
}

pub fn t0() -> DateTime<Utc> {
    "2026-12-01T10:00:00Z".parse().unwrap()
}

pub async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::create(dir.path()).unwrap();
    let store = Store::open_sqlite(&data.db_path()).await.unwrap();
    let (journal, _) = Journal::open(&data).unwrap();
    let accounts = Accounts::open(&store, journal.clone()).await.unwrap();
    let org = Scope::organisation("local");
    let mut tokens = HashMap::new();
    for (name, role) in [
        ("police1", Role::PoliceOfficer),
        ("police2", Role::PoliceOfficer),
        ("head", Role::PoliceApprover),
        ("operator", Role::WatchOperator),
        ("citizen", Role::CitizenViewer),
    ] {
        let mut u = NewUser::new(
            name,
            vec![RoleGrant::new(role, org.clone())],
            "a long test passphrase 1",
        );
        if role == Role::CitizenViewer {
            u.expires = Some(Utc::now() + Duration::days(2));
        }
        accounts.add_user_local("test", u).await.unwrap();
        let t = accounts
            .create_api_token("test", name, "test", None)
            .await
            .unwrap();
        tokens.insert(name, t.token);
    }
    let mut placements = Placements::default();
    for cam in ["gate", "yard"] {
        placements.0.insert(
            cam.to_owned(),
            Placement::new("local", "main", "default", cam),
        );
        store
            .set_camera_area(
                cam,
                ("local", "main", "default"),
                custos_core::Time90k(0),
                "test",
            )
            .await
            .unwrap();
    }
    let clock = Arc::new(ManualClock::new(t0()));
    let st = custos_server::state(
        data,
        store.clone(),
        journal.clone(),
        accounts,
        HashMap::new(),
        placements,
        None,
    )
    .with_clock(clock.clone());
    World {
        app: custos_server::app(st),
        clock,
        journal,
        store,
        tokens,
        _dir: dir,
    }
}

impl World {
    pub async fn call(
        &self,
        who: &str,
        method: Method,
        uri: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(uri).header(
            header::AUTHORIZATION,
            format!("Bearer {}", self.tokens[who]),
        );
        let body = match body {
            Some(v) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let resp = self
            .app
            .clone()
            .oneshot(req.body(body).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 24)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    pub fn ledger_actions(&self) -> Vec<(String, String, Value)> {
        let l = self.journal.ledger();
        (0..l.len())
            .map(|i| {
                let e = l.entry(i).unwrap();
                (e.action.as_str().to_owned(), e.actor, e.details)
            })
            .collect()
    }

    pub fn denials_of(&self, who: &str) -> Vec<Value> {
        self.ledger_actions()
            .into_iter()
            .filter(|(a, actor, _)| a == "AccessDenied" && actor == who)
            .map(|(_, _, d)| d)
            .collect()
    }
}
