//! The HTTP API against its own OpenAPI document, fuzzed by schemathesis (installed by
//! scripts/setup): generated requests — valid and invalid — to every operation, as a logged-in
//! watch operator on duty, must never get a 5xx.

mod common;

use common::server::{USER_PW, add_user, login, serve};
use common::*;

const SCHEMATHESIS: &str = "/opt/custos-schemathesis/bin/st";

/// E1/E8 robustness: no request the spec allows (or breaks) makes the server fail.
#[tokio::test(flavor = "multi_thread")]
async fn e1_api_fuzzed_against_its_openapi_has_no_server_errors() {
    assert!(
        std::path::Path::new(SCHEMATHESIS).exists(),
        "{SCHEMATHESIS} is missing: run scripts/setup"
    );
    let sim = Camsim::start(&small_cam("h264")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = write_config(tmp.path(), 10, &[("cam1", sim.url(1), "")]);
    let s = serve(&tmp.path().join("data"), Some(&cfg), &[]);
    add_user(&s, "fuzz-op", "watch_operator", &["local"], None).await;
    let op = login(&s, "fuzz-op", USER_PW).await;
    assert_eq!(
        op.post(&s.url("/api/duty"), serde_json::json!({"on": true}))
            .await
            .status(),
        200
    );
    // The session cookie as the server set it.
    let cookie = {
        let r = common::server::client()
            .post(s.url("/api/login"))
            .json(&serde_json::json!({"username": "fuzz-op", "password": USER_PW}))
            .send()
            .await
            .unwrap();
        let c = r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let csrf = r.json::<serde_json::Value>().await.unwrap()["csrf"]
            .as_str()
            .unwrap()
            .to_owned();
        (c, csrf)
    };
    let report = tmp.path().join("junit.xml");
    let out = std::process::Command::new("timeout")
        .args(["300", SCHEMATHESIS, "run"])
        .arg(s.url("/api/openapi.json"))
        .args([
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "25",
            "--tls-verify",
            "false",
            // The check is "no 5xx", not latency: on a loaded 2-core CI machine a thumbnail or an
            // export can pass schemathesis' 10 s default and count as a network error.
            "--request-timeout",
            "60",
        ])
        .args(["--header", &format!("Cookie: {}", cookie.0)])
        .args(["--header", &format!("X-CSRF-Token: {}", cookie.1)])
        // Logging out or revoking sessions would end the fuzzer's own session; the event
        // stream (Server-Sent Events) stays open for as long as the session does.
        .args([
            "--exclude-path",
            "/api/logout",
            "--exclude-path",
            "/api/sessions/{id}",
            "--exclude-path",
            "/api/events",
        ])
        .args(["--report", "junit", "--report-junit-path"])
        .arg(&report)
        .args(
            std::env::var("CUSTOS_FUZZ_SEED")
                .map(|s| vec!["--seed".to_owned(), s])
                .unwrap_or_default(),
        )
        .env("NO_COLOR", "1")
        // Its cache goes to the working directory: keep it out of the source tree.
        .current_dir(tmp.path())
        .output()
        .expect("run schemathesis");
    let text = format!("{}{}", stdout(&out), stderr(&out));
    let tail: String = text
        .lines()
        .rev()
        .take(120)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("\n");
    if !out.status.success() {
        // The summary names operations only; the JUnit report holds each failure's request and
        // error, which is what a reader of a CI log needs.
        let junit = std::fs::read_to_string(&report).unwrap_or_default();
        let details: Vec<&str> = junit
            .lines()
            .filter(|l| l.contains("<failure") || l.contains("<error") || l.contains("curl"))
            .take(40)
            .collect();
        panic!(
            "schemathesis found failures:\n{tail}\n--- from the JUnit report ---\n{}",
            details.join("\n")
        );
    }
    assert!(
        text.contains("passed") || text.contains("PASSED"),
        "schemathesis ran no operation:\n{tail}"
    );
    eprintln!("{tail}");
    drop(op);
}
