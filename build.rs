//! The build script owns how the release binary is linked: its code layout and its stripping.
//!
//! `link/hot-text.ld` names, by exact symbol, the functions the daemon and the everyday commands
//! run (recorded by `scripts/hot-text.sh` under callgrind), and the linker places them in one
//! `.text.hot` section ahead of `.text`. Without it the 1.8 MB that runs is spread over all
//! 5.8 MB of code, and since the kernel maps a file's pages in blocks of 64 KB and more around
//! each fault, the daemon had almost the whole binary resident: 4.8 MB of code beside 1.3 MB
//! of its own memory. With it, 2 MB.
//!
//! The list is only a hint. A name that no longer exists (another rustc, a dependency bumped
//! without re-running the script) matches nothing and its function keeps its usual place, so a
//! stale list costs memory, never correctness; `scripts/bench.sh` says how much still matches.
//! The script ends in `INSERT BEFORE .text`, which GNU ld and LLD both read as an addition to
//! their default layout. It applies to release builds for Linux with glibc: debug builds do not
//! need it, and Apple's ld64 does not read GNU linker scripts.

use std::env;
use std::path::Path;

fn main() {
    let script = Path::new("link/hot-text.ld");
    println!("cargo:rerun-if-changed={}", script.display());
    println!("cargo:rerun-if-env-changed=CREDD_NO_HOT_TEXT");
    println!("cargo:rerun-if-env-changed=CREDD_KEEP_SYMBOLS");

    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let gnu = env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("gnu");
    if env::var("PROFILE").as_deref() != Ok("release") {
        return;
    }
    // The profile strips only debug info, and the linker drops the symbols here. With
    // `strip = true` in the profile, cargo would hash it into every crate's symbol names, and
    // `scripts/hot-text.sh`, which needs the symbols, would see other names than this build has.
    if env::var_os("CREDD_KEEP_SYMBOLS").is_none() {
        match os.as_str() {
            "linux" | "android" | "freebsd" | "netbsd" | "openbsd" | "dragonfly" => {
                println!("cargo:rustc-link-arg-bin=credd=-Wl,--strip-all")
            }
            // ld64 (and LLD's Mach-O port): leave out the local symbols, which after LTO are
            // nearly all of them.
            "macos" | "ios" => println!("cargo:rustc-link-arg-bin=credd=-Wl,-x"),
            _ => {}
        }
    }
    // mold reads no `SECTIONS` and gold no `INSERT`; CREDD_NO_HOT_TEXT is the escape hatch for
    // any other linker that refuses the script.
    let flags = env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let other_linker = flags.contains("mold") || flags.contains("gold");
    let opted_out = other_linker || env::var_os("CREDD_NO_HOT_TEXT").is_some();
    if os == "linux" && gnu && !opted_out && script.exists() {
        let dir = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
        let path = Path::new(&dir).join(script);
        println!("cargo:rustc-link-arg-bin=credd=-Wl,-T,{}", path.display());
    }
}
