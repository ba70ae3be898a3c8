//! The registry and compliance commands end to end (A1–A5, B1–B4, C1–C2, I1, J1–J3): load the
//! example registry, import its device list (a prohibited place and a bad code are refused:
//! exit 2, the rest imported), scan, move the lifecycle with evidence, inspect, catalogue,
//! complain.

use std::path::Path;
use std::process::{Command, Output};

fn custos(dir: &Path, args: &[&str]) -> Output {
    Command::new("timeout")
        .arg("120")
        .arg(env!("CARGO_BIN_EXE_custos"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn testdata(name: &str) -> String {
    format!(
        "{}/../custos-registry/testdata/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn a2_j1_registry_commands_end_to_end() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok(&custos(
        d,
        &[
            "registry",
            "load",
            &testdata("registry.json"),
            "--data",
            "data",
        ],
    ));
    let o = custos(
        d,
        &[
            "registry",
            "import",
            &testdata("devices.csv"),
            "--data",
            "data",
            "--by",
            "clerk",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "refused rows → exit 2");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("3 of 5 row(s) imported, 2 refused"), "{out}");
    assert!(
        out.contains("fitting rooms"),
        "B2 refusal names the category: {out}"
    );

    let json = ok(&custos(d, &["findings", "--data", "data", "--json"]));
    let f: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
    let ids: Vec<&str> = f.iter().map(|x| x["id"].as_str().unwrap()).collect();
    for want in [
        "C1.in-use-not-accepted:system:market",
        "B4.signage:device:32010200001321000002",
        "B3.residence-unmasked:device:32010200001321000002:r-flats",
        "B1.coverage:place:p-park",
        "D2.procedures:system:market",
        "D3.training:staff:w-li",
    ] {
        assert!(ids.contains(&want), "{want} not in {ids:?}");
    }

    // D2: a duty-log entry clears the duty-log finding; an unknown person is refused.
    ok(&custos(
        d,
        &[
            "registry",
            "duty-log",
            "--data",
            "data",
            "--system",
            "market",
            "--staff",
            "w-li",
            "--entry",
            "quiet shift",
        ],
    ));
    assert!(
        !custos(
            d,
            &[
                "registry", "duty-log", "--data", "data", "--system", "market", "--staff",
                "nobody", "--entry", "x"
            ]
        )
        .status
        .success()
    );
    let json = ok(&custos(d, &["findings", "--data", "data", "--json"]));
    assert!(!json.contains("D2.duty-log:system:market"), "{json}");

    // C1: acceptance needs the acceptance and test reports (exit 1, articles named).
    let o = custos(
        d,
        &[
            "lifecycle",
            "market",
            "--to",
            "accepted",
            "--on",
            "2026-10-01",
            "--by",
            "mgr",
            "--data",
            "data",
        ],
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("AcceptanceReport (001 art. 12 para. 1"));
    std::fs::write(d.join("acc.pdf"), "acceptance").unwrap();
    std::fs::write(d.join("test.pdf"), "test").unwrap();
    for (kind, file) in [
        ("acceptance_report", "acc.pdf"),
        ("test_report", "test.pdf"),
    ] {
        ok(&custos(
            d,
            &[
                "registry",
                "document",
                "--data",
                "data",
                "--system",
                "market",
                "--kind",
                kind,
                "--title",
                kind,
                "--dated",
                "2026-09-30",
                "--author-unit",
                "Jinling",
                file,
            ],
        ));
    }
    let out = ok(&custos(
        d,
        &[
            "lifecycle",
            "market",
            "--to",
            "accepted",
            "--on",
            "2026-10-01",
            "--evidence",
            "1",
            "2",
            "--by",
            "mgr",
            "--data",
            "data",
        ],
    ));
    assert!(out.contains("under_construction → accepted"), "{out}");
    assert!(out.contains("Filing by 2026-10-31"), "C2 deadline: {out}");

    // J1: an inspection with a failed item becomes a rectification order.
    ok(&custos(
        d,
        &[
            "inspect", "start", "--data", "data", "--system", "market", "--type", "filing", "--by",
            "insp",
        ],
    ));
    ok(&custos(
        d,
        &[
            "inspect", "answer", "1", "filed", "fail", "--data", "data", "--by", "insp",
        ],
    ));
    ok(&custos(
        d,
        &[
            "inspect",
            "answer",
            "1",
            "changes_filed",
            "pass",
            "--data",
            "data",
            "--by",
            "insp",
        ],
    ));
    let out = ok(&custos(
        d,
        &[
            "inspect", "finish", "1", "--days", "10", "--data", "data", "--by", "insp",
        ],
    ));
    assert!(
        out.contains("rectification order 1") && out.contains("001 art. 12 para. 2"),
        "{out}"
    );

    // I1: the catalogue has the public name and no code.
    ok(&custos(
        d,
        &["catalogue", "-o", "cat.csv", "--data", "data"],
    ));
    let cat = std::fs::read_to_string(d.join("cat.csv")).unwrap();
    assert!(cat.contains("Xinjiekou market cameras") && !cat.contains("3201020000132"));

    // J3.
    let out = ok(&custos(
        d,
        &[
            "complaint",
            "submit",
            "--data",
            "data",
            "--against",
            "District PSB",
            "--text",
            "misuse",
        ],
    ));
    assert!(out.contains("cannot be altered"));
    ok(&custos(d, &["complaint", "list", "--data", "data"]));

    // A2 export: masked leaves out positions and the full code.
    ok(&custos(
        d,
        &[
            "registry", "export", "--data", "data", "--format", "csv", "-o", "m.csv", "--masked",
        ],
    ));
    let m = std::fs::read_to_string(d.join("m.csv")).unwrap();
    assert!(
        !m.contains("118.78")
            && !m.contains("32010200001321000001")
            && m.contains("3201************0001")
    );
}
