//! Build script: regenerates `include/qsoasync.h` from the Rust sources with cbindgen.
//!
//! The header is committed. When `QSOASYNC_CHECK_HEADER=1` is set (as `make check-header` and CI
//! do), the build fails instead of rewriting a committed header that differs from what cbindgen
//! produces, so a stale header can never land.

use std::path::PathBuf;

fn main() {
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let header = crate_dir.join("include").join("qsoasync.h");
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=QSOASYNC_CHECK_HEADER");
    // The shared library's SONAME: ABI version 0 (make install adds the .so.0 symlink).
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libqsoasync.so.0");

    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is readable");
    let bindings = cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen can parse the crate");

    let mut generated = Vec::new();
    bindings.write(&mut generated);
    let committed = std::fs::read(&header).unwrap_or_default();
    if committed == generated {
        return;
    }
    if std::env::var("QSOASYNC_CHECK_HEADER").as_deref() == Ok("1") {
        panic!(
            "include/qsoasync.h is stale: run `cargo build` (or `make header`) and commit the result"
        );
    }
    std::fs::write(&header, generated).expect("include/qsoasync.h is writable");
}
