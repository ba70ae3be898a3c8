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
