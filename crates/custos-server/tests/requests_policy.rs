//! Footage requests on the policy paths (H1–H5), in process with the router
//! (`tower::ServiceExt::oneshot`) and a [`ManualClock`], so that time-limited grants are tested
//! by moving the clock: police without a released request get 403 `permission_denied` and an
//! `AccessDenied` ledger entry; the procedure (draft, document, submit, approve, release) opens
//! exactly the granted camera × range × kind to exactly the requesting account, until the grant
//! ends; an officer cannot approve; every step is a ledger entry; a `request_released` event is
//! stored for the police side.

use axum::http::{Method, StatusCode};
use base64::Engine as _;
use chrono::Duration;
use serde_json::{Value, json};

mod common;
use common::*;

fn view_uri(cam: &str, from: &str, to: &str) -> String {
    format!("/api/cameras/{cam}/view.mp4?from={from}&to={to}")
}

const FROM: &str = "2026-12-01T09:00:00Z";
const TO: &str = "2026-12-01T09:30:00Z";

/// H2 (contract): a police officer without a released request gets 403 `permission_denied` on
/// `view.mp4`, HLS, thumbnails and `POST /api/exports`, and each refusal is an `AccessDenied`
/// ledger entry naming rule H2.
#[tokio::test]
async fn h2_police_without_a_released_request_is_refused_and_audited() {
    let w = world().await;
    let checks = [
        (Method::GET, view_uri("gate", FROM, TO), None),
        (
            Method::GET,
            format!("/api/cameras/gate/playback.m3u8?from={FROM}&to={TO}"),
            None,
        ),
        (
            Method::GET,
            format!("/api/cameras/gate/thumbnail.jpg?at={FROM}"),
            None,
        ),
        (
            Method::POST,
            "/api/exports".to_owned(),
            Some(json!({"camera": "gate", "from": FROM, "to": TO, "purpose": "case 1"})),
        ),
    ];
    for (i, (m, uri, body)) in checks.into_iter().enumerate() {
        let (s, v) = w.call("police1", m, &uri, body).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{uri}: {v}");
        assert_eq!(v["kind"], "permission_denied", "{uri}: {v}");
        assert!(v["error"].as_str().unwrap().contains("H2"), "{uri}: {v}");
        let denials = w.denials_of("police1");
        assert_eq!(
            denials.len(),
            i + 1,
            "{uri}: one AccessDenied entry per refusal"
        );
        assert_eq!(denials[i]["rule"], "H2");
    }
}

/// Drafts, documents, submits, approves and releases a request of `kind` for police1 over
/// gate [FROM, TO); returns its id.
async fn released(w: &World, kind: &str) -> i64 {
    let (s, v) = w
        .call(
            "police1",
            Method::POST,
            "/api/requests",
            Some(json!({
                "organ": "某市公安局某分局", "organ_type": "police",
                "purpose": "案件侦查", "legal_basis": "调取证据通知书 2026-001",
                "kind": kind,
                "cameras": [{"camera": "gate", "from": FROM, "to": TO}],
                "officers": [{"name": "张伟", "work_id": "110101"}, {"name": "李娜", "work_id": "110102"}],
            })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_i64().unwrap();
    assert_eq!(v["state"], "drafted");
    // H3: not submitted without the unit letter or legal document.
    let (s, v) = w
        .call(
            "police1",
            Method::POST,
            &format!("/api/requests/{id}/submit"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let letter = base64::engine::general_purpose::STANDARD.encode("介绍信 scan");
    let (s, v) = w
        .call(
            "police1",
            Method::POST,
            &format!("/api/requests/{id}/documents"),
            Some(json!({"kind": "unit_letter", "title": "介绍信", "content_base64": letter})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = w
        .call(
            "police1",
            Method::POST,
            &format!("/api/requests/{id}/submit"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // H2: the approver may not be one of the officers (by work ID).
    let (s, v) = w
        .call(
            "head",
            Method::POST,
            &format!("/api/requests/{id}/approve"),
            Some(json!({"work_id": "110102", "unit": "某市公安局某分局", "unit_type": "police"})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert!(v["error"].as_str().unwrap().contains("officers"), "{v}");
    // H2: nor the drafting account.
    let (s, _) = w
        .call(
            "police1",
            Method::POST,
            &format!("/api/requests/{id}/approve"),
            Some(json!({"work_id": "9", "unit": "某市公安局某分局", "unit_type": "police"})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = w
        .call(
            "head",
            Method::POST,
            &format!("/api/requests/{id}/approve"),
            Some(json!({"work_id": "110001", "unit": "某市公安局某分局", "unit_type": "police"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "approved");
    // H3: the approver cannot also release.
    let (s, _) = w
        .call(
            "head",
            Method::POST,
            &format!("/api/requests/{id}/release"),
            Some(json!({"valid_hours": 1})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = w
        .call(
            "operator",
            Method::POST,
            &format!("/api/requests/{id}/release"),
            Some(json!({"valid_hours": 1})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "released");
    assert_eq!(v["officers"].as_array().unwrap().len(), 2);
    assert_eq!(v["documents"].as_array().unwrap().len(), 1);
    id
}

/// H2, H5: a released view grant covers exactly police1 × gate × [FROM, TO) until it ends:
/// inside it the policy lets the read through (it then finds no recording: 404, not 403);
/// another range, camera, account, kind or a moment after the grant → 403 with an
/// `AccessDenied` entry. Every step is in the ledger and the release is an event.
#[tokio::test]
async fn h2_h5_view_grant_outside_its_range_or_time_is_403() {
    let w = world().await;
    let id = released(&w, "view").await;
    let inside = view_uri("gate", "2026-12-01T09:10:00Z", "2026-12-01T09:20:00Z");
    let (s, v) = w.call("police1", Method::GET, &inside, None).await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "the grant lets the read reach the footage: {v}"
    );
    let before = w.denials_of("police1").len();
    for (who, uri) in [
        (
            "police1",
            view_uri("gate", "2026-12-01T09:20:00Z", "2026-12-01T09:40:00Z"),
        ),
        ("police1", view_uri("yard", FROM, TO)),
        ("police2", inside.clone()),
    ] {
        let (s, v) = w.call(who, Method::GET, &uri, None).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{who} {uri}: {v}");
        assert_eq!(v["kind"], "permission_denied");
    }
    // A view grant is not a copy.
    let (s, _) = w
        .call(
            "police1",
            Method::POST,
            "/api/exports",
            Some(json!({"camera": "gate", "from": "2026-12-01T09:10:00Z", "to": "2026-12-01T09:20:00Z", "purpose": "x"})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(w.denials_of("police1").len(), before + 3);
    // The grant ends after an hour.
    w.clock.advance(Duration::minutes(61));
    let (s, v) = w.call("police1", Method::GET, &inside, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert!(v["error"].as_str().unwrap().contains("H2"), "{v}");

    let actions: Vec<String> = w
        .ledger_actions()
        .into_iter()
        .filter(|(_, _, d)| {
            d.get("step").is_some() || d.get("request").is_some() || d.get("sha256").is_some()
        })
        .map(|(a, _, _)| a)
        .collect();
    for step in [
        "RequestCreated",
        "RequestDocument",
        "RequestSubmitted",
        "RequestApproved",
        "RequestReleased",
    ] {
        assert!(
            actions.iter().any(|a| a == step),
            "{step} missing from {actions:?}"
        );
    }
    let events = w.store.events_since(0, 100).await.unwrap();
    let e = events
        .iter()
        .find(|e| e.kind == "request_released")
        .expect("a request_released event");
    let body: Value = serde_json::from_str(&e.body).unwrap();
    assert_eq!(body["request"], id);
    assert_eq!(body["for"], "police1");
}

/// H1, H5: a county government department may not ask for a copy; an organ outside H1 may
/// not ask at all; one officer is not enough (H3). Each is a clear 403 naming the rule.
#[tokio::test]
async fn h1_h3_h5_unlawful_requests_are_refused_at_drafting() {
    let w = world().await;
    let base = |organ_type: &str, kind: &str, officers: Value| {
        json!({
            "organ": "某县应急管理局", "organ_type": organ_type,
            "purpose": "应急", "legal_basis": "应急预案", "kind": kind,
            "cameras": [{"camera": "gate", "from": FROM, "to": TO}],
            "officers": officers,
        })
    };
    let two = json!([{"name": "王强", "work_id": "A1"}, {"name": "赵敏", "work_id": "A2"}]);
    for (body, rule) in [
        (base("county_government", "copy", two.clone()), "H5"),
        (base("other", "view", two.clone()), "H1"),
        (
            base("police", "copy", json!([{"name": "王强", "work_id": "A1"}])),
            "H3",
        ),
    ] {
        let (s, v) = w
            .call("police1", Method::POST, "/api/requests", Some(body))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
        assert!(
            v["error"].as_str().unwrap().starts_with(rule),
            "{rule}: {v}"
        );
    }
    // A watch operator does not draft requests (the unit's staff need none).
    let (s, v) = w
        .call(
            "operator",
            Method::POST,
            "/api/requests",
            Some(base("police", "view", two)),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
}
