//! Attacks on the web side refused (E1, H2, H4, J3), in process with the router: event
//! streams checked by kind before camera, citizen viewer accounts without raw footage, and
//! unknown citizen codes kept out of the ledger.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use futures::StreamExt as _;
use serde_json::json;
use tower::ServiceExt;

mod common;
use common::*;

/// The SSE `event:` names the stream of `who` delivers (from event 0) until one named `until`.
async fn event_kinds_until(w: &World, who: &str, until: &str) -> Vec<String> {
    let req = Request::get("/api/events?after=0")
        .header(header::AUTHORIZATION, format!("Bearer {}", w.tokens[who]))
        .body(Body::empty())
        .unwrap();
    let resp = w.app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut body = resp.into_body().into_data_stream();
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let kinds: Vec<String> = text
            .lines()
            .filter_map(|l| l.strip_prefix("event:"))
            .map(|k| k.trim().to_owned())
            .collect();
        if kinds.iter().any(|k| k == until) {
            return kinds;
        }
        match tokio::time::timeout_at(deadline, body.next()).await {
            Ok(Some(Ok(b))) => text.push_str(&String::from_utf8_lossy(&b)),
            other => panic!("stream of {who} ended or stalled before {until}: {other:?} {text}"),
        }
    }
}

/// E1, H2: a `request_released` event naming a camera is not shown to whoever may play back
/// that camera (it names the organ, the officer and every camera of a police request); a
/// watch operator of the camera still gets the camera's own events. The officer it is for
/// gets it.
#[tokio::test]
async fn e1_h2_request_event_not_shown_to_camera_viewers() {
    let w = world().await;
    let body = json!({"request": 1, "organ": "某分局", "kind": "view", "for": "police1",
        "until": "2026-12-01T11:00:00Z", "cameras": ["gate", "yard"]});
    let at = custos_core::Time90k::from_datetime(t0());
    w.store
        .add_event("request_released", Some("gate"), at, &body.to_string(), at)
        .await
        .unwrap();
    w.store
        .add_event("door_alarm", Some("gate"), at, "{}", at)
        .await
        .unwrap();
    let seen = event_kinds_until(&w, "operator", "door_alarm").await;
    assert!(
        !seen.iter().any(|k| k == "request_released"),
        "a watch operator got a police request event: {seen:?}"
    );
    let seen = event_kinds_until(&w, "police1", "request_released").await;
    assert_eq!(seen, ["request_released"], "{seen:?}");
}

/// H4, E1: a citizen_viewer account gets no raw footage (view.mp4, HLS, thumbnail): 403 naming
/// H4, recorded as `AccessDenied`.
#[tokio::test]
async fn h4_citizen_viewer_account_gets_no_raw_footage() {
    let w = world().await;
    for uri in [
        "/api/cameras/gate/view.mp4?from=2026-12-01T09:00:00Z&to=2026-12-01T09:30:00Z",
        "/api/cameras/gate/playback.m3u8?from=2026-12-01T09:00:00Z&to=2026-12-01T09:30:00Z",
        "/api/cameras/gate/thumbnail.jpg?at=2026-12-01T09:00:00Z",
    ] {
        let (s, v) = w.call("citizen", Method::GET, uri, None).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{uri}: {v}");
        assert!(v["error"].as_str().unwrap().contains("H4"), "{uri}: {v}");
    }
    assert_eq!(w.denials_of("citizen").len(), 3);
}

/// J3, E2: anyone can post unknown citizen codes without a login; they are refused (403) and
/// counted in metrics, but write nothing to the ledger (no ledger flood).
#[tokio::test]
async fn j3_unknown_citizen_codes_do_not_fill_the_ledger() {
    let w = world().await;
    let before = w.journal.ledger().len();
    for i in 0..50 {
        let req = Request::post("/api/citizen/open")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json!({"code": format!("guess{i}")}).to_string()))
            .unwrap();
        let resp = w.app.clone().oneshot(req).await.unwrap();
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        let req = Request::get("/api/citizen/session")
            .header(header::COOKIE, format!("custos_citizen=guess{i}"))
            .body(Body::empty())
            .unwrap();
        let resp = w.app.clone().oneshot(req).await.unwrap();
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(
        w.journal.ledger().len(),
        before,
        "unknown codes reached the ledger"
    );
}
