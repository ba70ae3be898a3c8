//! Embeds the built web console (`web/dist`, made by `scripts/setup` with npm) into the
//! `custos` binary, in debug and release builds alike, so a copied or installed binary serves
//! its console.
//!
//! Without `web/dist/index.html` the build still succeeds (tests, `cargo fuzz`, a machine
//! without Node.js) but embeds nothing and warns; that binary's `serve` and `demo` then refuse
//! to start unless `--web DIR` (or `CUSTOS_WEB_DIR`) names a built console.
//! `CUSTOS_WEB_DIST` at build time embeds another directory instead of `web/dist`.

use std::path::PathBuf;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=CUSTOS_WEB_DIST");
    println!("cargo::rustc-check-cfg=cfg(custos_console)");
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let web = manifest.join("../../web");
    let dist = std::env::var_os("CUSTOS_WEB_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| web.join("dist"));
    if dist.join("index.html").is_file() {
        let dist = dist.canonicalize().expect("web/dist resolves");
        // A directory is scanned for any change: a rebuilt console is embedded again.
        println!("cargo::rerun-if-changed={}", dist.display());
        println!("cargo::rustc-env=CUSTOS_CONSOLE_DIR={}", dist.display());
        println!("cargo::rustc-cfg=custos_console");
    } else {
        let empty =
            PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it")).join("no-console");
        std::fs::create_dir_all(&empty).expect("creating OUT_DIR/no-console");
        // Watch web/ (or its parent) so that a console built later is picked up.
        let watch = if web.is_dir() { web } else { manifest.clone() };
        println!("cargo::rerun-if-changed={}", watch.display());
        println!("cargo::rustc-env=CUSTOS_CONSOLE_DIR={}", empty.display());
        println!(
            "cargo::warning={} has no index.html: this custos binary carries no web console and \
             `custos serve` will need --web DIR; run scripts/setup (it builds web/dist) and build again",
            dist.display()
        );
    }
}
