// Records the tokio version that Cargo resolved, for the results table.
fn main() {
    let lock = std::fs::read_to_string("Cargo.lock").unwrap_or_default();
    let mut version = String::from("unknown");
    let mut in_tokio = false;
    for line in lock.lines() {
        if line == "name = \"tokio\"" {
            in_tokio = true;
        } else if in_tokio && line.starts_with("version = ") {
            version = line.trim_start_matches("version = ").trim_matches('"').to_string();
            break;
        }
    }
    println!("cargo:rustc-env=BENCH_TOKIO_VERSION={version}");
    println!("cargo:rerun-if-changed=Cargo.lock");
}
