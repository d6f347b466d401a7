//! Build script: regenerates `include/qsoasync.h` and `include/gskssl.h` from the Rust sources
//! with cbindgen (two runs: the crate less its GSK module, then the GSK files alone).
//!
//! The headers are committed. When `QSOASYNC_CHECK_HEADER=1` is set (as `make check-header` and CI
//! do), the build fails instead of rewriting a committed header that differs from what cbindgen
//! produces, so a stale header can never land.

use std::path::{Path, PathBuf};

/// Generates one header and keeps the committed copy in step (or fails the check).
fn generate(config: &Path, header: &Path, builder: cbindgen::Builder) {
    let config =
        cbindgen::Config::from_file(config).expect("the cbindgen configuration is readable");
    let bindings = builder
        .with_config(config)
        .generate()
        .expect("cbindgen can parse the sources");
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    let committed = std::fs::read(header).unwrap_or_default();
    if committed == generated {
        return;
    }
    let name = header
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("header");
    if std::env::var("QSOASYNC_CHECK_HEADER").as_deref() == Ok("1") {
        panic!(
            "include/{name} is stale: run `cargo build` (or `make header`) and commit the result"
        );
    }
    std::fs::write(header, generated).unwrap_or_else(|_| panic!("include/{name} is writable"));
}

fn main() {
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=cbindgen-gsk.toml");
    println!("cargo:rerun-if-env-changed=QSOASYNC_CHECK_HEADER");
    // The shared library's SONAME: ABI version 0 (make install adds the .so.0 symlink).
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libqsoasync.so.0");

    // include/qsoasync.h: the whole crate, less the GSK module (`cbindgen:ignore`).
    generate(
        &crate_dir.join("cbindgen.toml"),
        &crate_dir.join("include").join("qsoasync.h"),
        cbindgen::Builder::new().with_crate(&crate_dir),
    );

    // include/gskssl.h: the GSK files alone, in this order.
    let gsk = crate_dir.join("src").join("ffi").join("gsk");
    let mut builder = cbindgen::Builder::new();
    for file in [
        "codes.rs",
        "attrs.rs",
        "session.rs",
        "async_ops.rs",
        "strerror.rs",
    ] {
        builder = builder.with_src(gsk.join(file));
    }
    generate(
        &crate_dir.join("cbindgen-gsk.toml"),
        &crate_dir.join("include").join("gskssl.h"),
        builder,
    );
}
