//! Lays out the release binary's code so that what runs together sits together.
//!
//! The kernel maps a binary's code in blocks of up to 64 KiB around each page a process touches
//! (fault-around), and every mapped page counts in the process's RSS. With the few hundred
//! functions one `ip r` runs spread over 5 MB of code, every run mapped about 3 MB of it; the
//! functions named in scripts/symbol-order.txt (the ones start-up and the common `ip` commands
//! run: made by scripts/symbol-order) are placed first, so such a run maps what it uses.
//! Only for release builds on x86_64-unknown-linux-gnu, whose default linker (rust-lld) reads
//! the file; a name that is no longer in the binary is skipped. The names carry hashes of the
//! build's settings and of the crate's dependency set: adding a dependency renames every
//! function of this crate, and scripts/symbol-order must be run again.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=scripts/symbol-order.txt");
    let release = std::env::var("PROFILE").as_deref() == Ok("release");
    let lld_target = std::env::var("TARGET").as_deref() == Ok("x86_64-unknown-linux-gnu");
    let Ok(dir) = std::env::var("CARGO_MANIFEST_DIR") else {
        return;
    };
    let order = Path::new(&dir).join("scripts/symbol-order.txt");
    if release && lld_target && order.is_file() {
        println!(
            "cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
            order.display()
        );
        println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    }
}
