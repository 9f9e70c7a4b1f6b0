//! The release binary scripts/build makes is fully static: no NEEDED entries, no interpreter.

use std::process::Command;

#[test]
fn release_binary_is_static() {
    let path = std::env::var("DEBUGBOX_STATIC_BIN").unwrap_or_else(|_| {
        format!(
            "{}/target/x86_64-unknown-linux-gnu/release/debugbox",
            env!("CARGO_MANIFEST_DIR")
        )
    });
    assert!(
        std::path::Path::new(&path).exists(),
        "{path} is missing: scripts/test builds it with scripts/build before the tests"
    );
    let dynamic = Command::new("readelf")
        .args(["-d", &path])
        .output()
        .expect("readelf (binutils) is needed");
    assert!(dynamic.status.success());
    let text = String::from_utf8_lossy(&dynamic.stdout);
    assert!(
        !text.contains("(NEEDED)"),
        "the binary needs shared libraries:\n{text}"
    );
    let headers = Command::new("readelf")
        .args(["-l", &path])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&headers.stdout);
    assert!(
        !text.contains("INTERP"),
        "the binary has a program interpreter:\n{text}"
    );
    // And it runs.
    let out = Command::new(&path).arg("--version").output().unwrap();
    assert!(out.status.success());
}
