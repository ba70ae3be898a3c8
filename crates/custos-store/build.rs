fn main() {
    // New migrations are embedded by `sqlx::migrate!`: rebuild when the folder changes.
    println!("cargo:rerun-if-changed=migrations");
}
