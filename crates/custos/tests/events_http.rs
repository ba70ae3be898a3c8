//! `GET /api/events` (Server-Sent Events) against the real `custos serve`: events reach the
//! callers whose scope covers them and no one else, and a stream ends when its session does.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::server::{USER_PW, add_user, login, serve};
use common::*;
use futures::StreamExt as _;

/// Reads an SSE response into `into` until it ends; returns when the server closes it.
async fn collect(resp: reqwest::Response, into: Arc<Mutex<String>>) {
    let mut s = resp.bytes_stream();
    while let Some(Ok(chunk)) = s.next().await {
        into.lock()
            .unwrap()
            .push_str(&String::from_utf8_lossy(&chunk));
    }
    into.lock().unwrap().push_str("\n<closed>");
}

async fn wait_for(text: &Arc<Mutex<String>>, needle: &str, secs: u64) -> bool {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if text.lock().unwrap().contains(needle) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// D6, E1, E2: a watch operator's suspicious report (an event of cam1) is streamed to a watch
/// operator whose scope covers cam1, not to one whose scope does not; the OpenAPI document
/// lists the stream; after logout the stream ends with an `end` event within the re-check
/// interval.
#[test]
fn e1_event_stream_follows_scope_and_ends_with_the_session() {
    let sim = Camsim::start(&small_cam("h264")).unwrap();
    let tmp = custos_testkit::ProtectedTempDir::new().unwrap();
    let data = tmp.path().join("data");
    let cfg = write_config(tmp.path(), 5, &[("cam1", sim.url(1), "")]);
    let server = serve(&data, Some(&cfg), &[]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        add_user(&server, "op1", "watch_operator", &["local"], None).await;
        add_user(&server, "op2", "watch_operator", &["local/main/default/no-such-camera"], None)
            .await;
        let spec: serde_json::Value = reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .build()
            .unwrap()
            .get(server.url("/api/openapi.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            spec["paths"]["/api/events"]["get"].is_object(),
            "GET /api/events is not in the OpenAPI document"
        );
        let op1 = login(&server, "op1", USER_PW).await;
        let op2 = login(&server, "op2", USER_PW).await;
        let (seen1, seen2) = (
            Arc::new(Mutex::new(String::new())),
            Arc::new(Mutex::new(String::new())),
        );
        for (s, into) in [(&op1, seen1.clone()), (&op2, seen2.clone())] {
            let r = s
                .http
                .get(server.url("/api/events"))
                .timeout(Duration::from_secs(120))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            assert!(
                r.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("text/event-stream")
            );
            tokio::spawn(collect(r, into));
        }
        // The camera must be known to the server (recording started).
        sleep(3.0);
        let at = (chrono::Utc::now() - chrono::Duration::seconds(2)).to_rfc3339();
        let r = op1
            .post(
                &server.url("/api/cameras/cam1/reports"),
                serde_json::json!({"at": at, "note": "可疑人员徘徊", "before_s": 10, "after_s": 10}),
            )
            .await;
        let status = r.status();
        assert_eq!(status, 201, "{}", r.text().await.unwrap());
        assert!(
            wait_for(&seen1, "event: suspicious_report", 15).await,
            "op1 (scope covers cam1) got no event: {}",
            seen1.lock().unwrap()
        );
        assert!(seen1.lock().unwrap().contains("可疑人员徘徊"));
        // op2 had the same time plus a poll interval and more: nothing.
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert!(
            !seen2.lock().unwrap().contains("suspicious_report"),
            "op2 (scope without cam1) saw cam1's event: {}",
            seen2.lock().unwrap()
        );
        // Logout ends op1's stream.
        let r = op1.post(&server.url("/api/logout"), serde_json::json!({})).await;
        assert_eq!(r.status(), 204);
        assert!(
            wait_for(&seen1, "event: end", 10).await,
            "op1's stream did not end after logout: {}",
            seen1.lock().unwrap()
        );
        assert!(wait_for(&seen1, "<closed>", 5).await, "the stream stayed open");
        assert!(!seen2.lock().unwrap().contains("<closed>"), "op2's stream ended too");
    });
}
