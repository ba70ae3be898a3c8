//! `custos request` (H1–H5) on the command line: the contract that an operator without the
//! console can run the procedure, and that steps need an authenticated account.

#[allow(unused_imports)]
mod common;

use common::*;

/// H1–H5 (contract): `custos request --help` lists create, submit, approve, reject, release,
/// show and list.
#[test]
fn h1_h5_request_help_lists_the_procedure() {
    let help = custos_ok(&["request", "--help"]);
    for cmd in [
        "create", "attach", "submit", "approve", "reject", "release", "close", "show", "list",
        "form",
    ] {
        assert!(
            help.lines().any(|l| l.trim_start().starts_with(cmd)),
            "`custos request --help` does not list {cmd}:\n{help}"
        );
    }
}

/// H2: a step without an account's API token is refused (exit 4) with a message naming
/// CUSTOS_TOKEN, before anything is read or written.
#[test]
fn h2_request_steps_need_an_authenticated_account() {
    let tmp = tempfile::tempdir().unwrap();
    let o = std::process::Command::new("timeout")
        .args(["-k", "5", "60", bin(), "request", "list", "--data"])
        .arg(tmp.path())
        .env_remove("CUSTOS_TOKEN")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(stderr(&o).contains("CUSTOS_TOKEN"), "{}", stderr(&o));
}

/// Runs `custos ARGS` with `input` on standard input and `env` set.
fn custos_in(args: &[&str], input: &str, env: &[(&str, &str)]) -> std::process::Output {
    use std::io::Write;
    let mut child = std::process::Command::new("timeout")
        .args(["-k", "5", "60", bin()])
        .args(args)
        .env_remove("CUSTOS_TOKEN")
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run custos");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// H2, H3 (attack): a shell user mints an API token for the agency head's account
/// (`custos users token`, no password needed) and approves or releases with it. Every step
/// that changes a request refuses a token (exit 4, naming `--by NAME --password-stdin`), by
/// CUSTOS_TOKEN or --token-file; the account's password with the wrong value is refused; with
/// the right one the step goes on to the request rules. Reading still accepts the token.
#[test]
fn h2_h3_request_steps_refuse_a_minted_token_and_need_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    let o = custos_in(
        &[
            "users",
            "add",
            "head",
            "--role",
            "police_approver",
            "--password-stdin",
            "--data",
            d,
        ],
        "quiet harbour lantern\n",
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let token = custos_ok(&["users", "token", "head", "--label", "wall", "--data", d])
        .trim()
        .to_owned();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, &token).unwrap();
    let tf = token_file.to_str().unwrap();
    let approve = [
        "request",
        "approve",
        "1",
        "--work-id",
        "9",
        "--unit",
        "某市公安局",
        "--data",
        d,
    ];
    for (extra, env) in [
        (vec![], vec![("CUSTOS_TOKEN", token.as_str())]),
        (vec!["--token-file", tf], vec![]),
    ] {
        for step in [
            approve.to_vec(),
            vec!["request", "release", "1", "--data", d],
            vec!["request", "submit", "1", "--data", d],
        ] {
            let args: Vec<&str> = step.iter().chain(extra.iter()).copied().collect();
            let o = custos_in(&args, "", &env);
            assert_eq!(o.status.code(), Some(4), "{args:?}: {}", stderr(&o));
            assert!(
                stderr(&o).contains("--by NAME --password-stdin")
                    && stderr(&o).contains("not an API token"),
                "{args:?}: {}",
                stderr(&o)
            );
        }
    }
    // The password, wrong: refused as bad credentials.
    let mut with_pw = approve.to_vec();
    with_pw.extend(["--by", "head", "--password-stdin"]);
    let o = custos_in(&with_pw, "not the password\n", &[]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    // Right: authenticated, the step reaches the request (there is no request 1).
    let o = custos_in(&with_pw, "quiet harbour lantern\n", &[]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("request 1") || stderr(&o).contains("no request"),
        "{}",
        stderr(&o)
    );
    assert_ne!(o.status.code(), Some(4), "{}", stderr(&o));
    // Reading with the token still works.
    let o = custos_in(
        &["request", "list", "--data", d],
        "",
        &[("CUSTOS_TOKEN", token.as_str())],
    );
    assert!(o.status.success(), "{}", stderr(&o));
}
