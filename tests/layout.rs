//! C and Rust agree on `Qso_OverlappedIO_t` (spec §1): the system C compiler builds
//! `tests/layout_probe.c` against `include/qsoasync.h`, and this test compares
//! (a) sizeof, alignment, every offsetof and the byte/bit of each one-bit flag with
//!     `std::mem::offset_of!` and the accessors of `qsoasync::overlapped::Qso_OverlappedIO_t`;
//! (b) records filled through the C bit-fields, decoded here through the accessors;
//! (c) records built here with the setters, decoded by C through its bit-fields.

use qsoasync::overlapped::Qso_OverlappedIO_t as Q;
use std::collections::HashMap;
use std::io::Write;
use std::mem::{align_of, offset_of, size_of};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// 112 bytes with the record's alignment, all initialised, so a record can be viewed in place
/// and written field by field without ever copying (and losing) padding bytes.
#[repr(C, align(8))]
struct Raw([u8; 112]);

impl Raw {
    fn zero() -> Raw {
        Raw([0u8; 112])
    }

    fn rec(&self) -> &Q {
        // SAFETY: Raw is 112 initialised bytes aligned to 8 (size and alignment of Q, checked
        // in `size_alignment_and_offsets`); every bit pattern is a valid Q (integers, raw
        // pointers, a char array).
        unsafe { &*(self.0.as_ptr() as *const Q) }
    }

    fn rec_mut(&mut self) -> &mut Q {
        // SAFETY: as in `rec`, and the borrow of self is exclusive.
        unsafe { &mut *(self.0.as_mut_ptr() as *mut Q) }
    }

    fn from_hex(line: &str) -> Raw {
        assert_eq!(line.len(), 224, "a record is 112 bytes: {line}");
        let mut r = Raw::zero();
        for (i, b) in r.0.iter_mut().enumerate() {
            *b = u8::from_str_radix(&line[2 * i..2 * i + 2], 16).expect("hex digits");
        }
        r
    }

    fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The (byte, bit) of every bit set.
    fn set_bits(&self) -> Vec<(usize, u32)> {
        let mut v = Vec::new();
        for (i, b) in self.0.iter().enumerate() {
            for bit in 0..8 {
                if b & (1 << bit) != 0 {
                    v.push((i, bit));
                }
            }
        }
        v
    }
}

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Builds the probe once per test process (compiler output goes under target/).
fn probe() -> &'static Path {
    static PROBE: OnceLock<PathBuf> = OnceLock::new();
    PROBE.get_or_init(|| {
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("layout_probe-{}", std::process::id()));
        let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
        let output = Command::new(&cc)
            .args(["-std=c11", "-Wall", "-Wextra", "-pedantic", "-Werror", "-I"])
            .arg(manifest().join("include"))
            .arg("-o")
            .arg(&out)
            .arg(manifest().join("tests/layout_probe.c"))
            .output()
            .unwrap_or_else(|e| panic!("cannot run the C compiler `{cc}`: {e}"));
        assert!(
            output.status.success(),
            "the C probe does not compile:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        out
    })
}

fn run_probe(mode: &str, stdin: Option<&str>) -> String {
    let mut child = Command::new(probe())
        .arg(mode)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the probe runs");
    {
        let mut input = child.stdin.take().expect("stdin is piped");
        if let Some(text) = stdin {
            input
                .write_all(text.as_bytes())
                .expect("write to the probe");
        }
    }
    let out = child.wait_with_output().expect("the probe finishes");
    assert!(
        out.status.success(),
        "probe {mode} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).expect("the probe prints text")
}

fn parse_pairs(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn num(map: &HashMap<String, String>, key: &str) -> u64 {
    map.get(key)
        .unwrap_or_else(|| panic!("the probe printed no `{key}` (got {map:?})"))
        .parse()
        .unwrap_or_else(|_| panic!("`{key}` is not a number: {:?}", map[key]))
}

fn signed(map: &HashMap<String, String>, key: &str) -> i64 {
    map.get(key)
        .unwrap_or_else(|| panic!("the probe printed no `{key}`"))
        .parse()
        .unwrap_or_else(|_| panic!("`{key}` is not a number"))
}

/// The one bit a setter turns on in an all-zero record.
/// A flag setter of the Rust record.
type Setter = fn(&mut Q, bool);

fn bit_of(set: Setter) -> (usize, u32) {
    let mut r = Raw::zero();
    set(r.rec_mut(), true);
    let bits = r.set_bits();
    assert_eq!(
        bits.len(),
        1,
        "a flag setter must set exactly one bit, set {bits:?}"
    );
    bits[0]
}

#[test]
fn size_alignment_and_offsets() {
    let c = parse_pairs(&run_probe("layout", None));
    // C and Rust agree ...
    assert_eq!(num(&c, "size") as usize, size_of::<Q>());
    assert_eq!(num(&c, "align") as usize, align_of::<Q>());
    let fields: [(&str, usize); 13] = [
        ("descriptorHandle", offset_of!(Q, descriptorHandle)),
        ("buffer", offset_of!(Q, buffer)),
        ("bufferLength", offset_of!(Q, bufferLength)),
        ("returnValue", offset_of!(Q, returnValue)),
        ("errnoValue", offset_of!(Q, errnoValue)),
        ("operationCompleted", offset_of!(Q, operationCompleted)),
        (
            "secureDataTransferSize",
            offset_of!(Q, secureDataTransferSize),
        ),
        ("bytesAvailable", offset_of!(Q, bytesAvailable)),
        ("operationWaitTime", offset_of!(Q, operationWaitTime)),
        (
            "operationWaitTime.tv_usec",
            offset_of!(Q, operationWaitTime) + 8, // checked against the Rust timeval below
        ),
        ("postedDescriptor", offset_of!(Q, postedDescriptor)),
        ("operationId", offset_of!(Q, operationId)),
        ("reserved2", offset_of!(Q, reserved2)),
    ];
    for (name, rust) in fields {
        assert_eq!(num(&c, name) as usize, rust, "offset of {name}: C vs Rust");
    }
    let q = Q::zeroed();
    let tv_usec_off = (&q.operationWaitTime.tv_usec as *const _ as usize)
        - (&q.operationWaitTime as *const _ as usize);
    assert_eq!(tv_usec_off, 8);
    assert_eq!(num(&c, "reserved2_size") as usize, q.reserved2.len());
    // ... and both are what the spec fixes (x86-64 Linux).
    assert_eq!(size_of::<Q>(), 112);
    assert_eq!(align_of::<Q>(), 8);
    let spec = [0, 8, 16, 28, 32, 36, 40, 44, 48, 56, 64, 72, 80];
    for ((name, rust), want) in fields.iter().zip(spec) {
        assert_eq!(*rust, want, "spec offset of {name}");
    }
    assert_eq!(offset_of!(Q, flag_bits), 24);
}

#[test]
fn flag_bits_sit_where_c_puts_them() {
    let c = parse_pairs(&run_probe("layout", None));
    let flags: [(&str, Setter, (usize, u32)); 3] = [
        ("postFlag", Q::set_post_flag, (24, 0)),
        ("fillBuffer", Q::set_fill_buffer, (24, 1)),
        ("postFlagResult", Q::set_post_flag_result, (24, 2)),
    ];
    for (name, setter, spec) in flags {
        assert!(
            !c.contains_key(&format!("{name}_bits_set")),
            "C sets more than one bit for {name}"
        );
        let cpos = (
            num(&c, &format!("{name}_byte")) as usize,
            num(&c, &format!("{name}_bit")) as u32,
        );
        assert_eq!(bit_of(setter), cpos, "{name}: Rust setter vs C bit-field");
        assert_eq!(cpos, spec, "{name}: spec position");
    }
    // The reserved bits start right above the flags (C) and are exactly what
    // clear_reserved_bits clears (Rust).
    assert_eq!(num(&c, "reserved1_low_byte"), 24);
    assert_eq!(num(&c, "reserved1_low_bit"), 3);
    assert_eq!(num(&c, "reserved1_high_byte"), 27);
    assert_eq!(num(&c, "reserved1_high_bit"), 7);
    let mut r = Raw::zero();
    r.rec_mut().flag_bits = u32::MAX;
    r.rec_mut().clear_reserved_bits();
    assert_eq!(r.rec().flag_bits, 0b111);
    assert_eq!(r.set_bits(), vec![(24, 0), (24, 1), (24, 2)]);
}

fn ptr_bits<T>(p: *mut T) -> u64 {
    p as usize as u64
}

#[test]
fn rust_reads_records_filled_by_c_bit_fields() {
    let out = run_probe("encode", None);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 9);
    for (k, line) in lines.iter().enumerate() {
        let raw = Raw::from_hex(line);
        let q = raw.rec();
        let k64 = k as u64;
        if k < 8 {
            assert_eq!(q.post_flag(), k & 1 != 0, "record {k} postFlag");
            assert_eq!(q.fill_buffer(), k & 2 != 0, "record {k} fillBuffer");
            assert_eq!(
                q.post_flag_result(),
                k & 4 != 0,
                "record {k} postFlagResult"
            );
            assert_eq!(q.flag_bits, k as u32, "record {k} flag word");
        } else {
            assert!(!q.post_flag() && !q.fill_buffer() && !q.post_flag_result());
            assert_eq!(q.flag_bits, 0xFFFF_FFF8, "reserved1 all ones, no flag");
        }
        assert_eq!(ptr_bits(q.descriptorHandle), 0x0102_0304_0506_0700 + k64);
        assert_eq!(ptr_bits(q.buffer), 0x1111_2222_3333_4440 + k64);
        assert_eq!(q.bufferLength as u64, 0x1_0000_0000 + 1000 + k64);
        assert_eq!(q.returnValue, -1 - k as i32);
        assert_eq!(q.errnoValue, 3417 + k as i32);
        assert_eq!(q.operationCompleted, 1 + k as i32);
        assert_eq!(q.secureDataTransferSize, 70000 + k as i32);
        assert_eq!(q.bytesAvailable, 0xFFFF_FFF0 + k as u32);
        assert_eq!(q.operationWaitTime.tv_sec, 86400 + k as i64);
        assert_eq!(q.operationWaitTime.tv_usec, 999_990 + k as i64);
        assert_eq!(q.postedDescriptor, 500 + k as i32);
        assert_eq!(q.operationId, 0xF00D_FACE_0000_0000 + k64);
        for (i, c) in q.reserved2.iter().enumerate() {
            assert_eq!(*c as i64, (i + k) as i64, "record {k} reserved2[{i}]");
        }
    }
}

/// What record k of the Rust set holds, as the probe prints it.
fn rust_record(k: usize) -> (Raw, Vec<(&'static str, i128)>) {
    let mut raw = Raw::zero();
    let k64 = k as u64;
    let (pf, fb, pfr) = (k & 1 != 0, k & 2 != 0, k & 4 != 0);
    let reserved_all = k >= 8;
    {
        let q = raw.rec_mut();
        q.descriptorHandle = (0xA0B0_C0D0_E0F0_0000u64 + k64) as usize as *mut _;
        q.buffer = (0x7FFF_0000_1000u64 + 16 * k64) as usize as *mut _;
        q.bufferLength = 4096 + k;
        if reserved_all {
            q.flag_bits = 0xFFFF_FFF8;
        }
        // Set every flag on first, then the wanted value: the setters must also clear.
        q.set_post_flag(true);
        q.set_fill_buffer(true);
        q.set_post_flag_result(true);
        q.set_post_flag(pf);
        q.set_fill_buffer(fb);
        q.set_post_flag_result(pfr);
        q.returnValue = i32::MIN + k as i32;
        q.errnoValue = 125 + k as i32;
        q.operationCompleted = 7 - (k as i32 % 7);
        q.secureDataTransferSize = -(k as i32);
        q.bytesAvailable = u32::MAX - k as u32;
        q.operationWaitTime.tv_sec = 3600 + k as i64;
        q.operationWaitTime.tv_usec = 0;
        q.postedDescriptor = -1 - k as i32;
        q.operationId = u64::MAX - k64;
        q.reserved2[0] = -(k as i8) as _;
        q.reserved2[31] = (100 + k as i8) as _;
    }
    let expect = vec![
        ("descriptorHandle", (0xA0B0_C0D0_E0F0_0000u64 + k64) as i128),
        ("buffer", (0x7FFF_0000_1000u64 + 16 * k64) as i128),
        ("bufferLength", 4096 + k as i128),
        ("postFlag", pf as i128),
        ("fillBuffer", fb as i128),
        ("postFlagResult", pfr as i128),
        ("reserved1", if reserved_all { 0x1FFF_FFFF } else { 0 }),
        ("returnValue", (i32::MIN + k as i32) as i128),
        ("errnoValue", 125 + k as i128),
        ("operationCompleted", (7 - (k as i32 % 7)) as i128),
        ("secureDataTransferSize", -(k as i128)),
        ("bytesAvailable", (u32::MAX - k as u32) as i128),
        ("tv_sec", 3600 + k as i128),
        ("tv_usec", 0),
        ("postedDescriptor", -1 - k as i128),
        ("operationId", (u64::MAX - k64) as i128),
        ("reserved2_0", -(k as i128)),
        ("reserved2_31", 100 + k as i128),
    ];
    (raw, expect)
}

#[test]
fn c_reads_records_built_with_rust_setters() {
    let n = 10; // the 8 flag combinations, then 2 with every reserved bit set
    let records: Vec<_> = (0..n).map(rust_record).collect();
    let input: String = records.iter().map(|(raw, _)| raw.to_hex() + "\n").collect();
    let out = run_probe("decode", Some(&input));
    let blocks: Vec<&str> = out
        .split("end\n")
        .filter(|b| !b.trim().is_empty())
        .collect();
    assert_eq!(blocks.len(), n, "the probe decoded every record:\n{out}");
    for (k, (block, (_, expect))) in blocks.iter().zip(&records).enumerate() {
        let c = parse_pairs(block);
        for (name, want) in expect {
            let got: i128 = c
                .get(*name)
                .unwrap_or_else(|| panic!("record {k}: the probe printed no `{name}`"))
                .parse()
                .expect("a number");
            assert_eq!(got, *want, "record {k}: C reads {name}");
        }
        assert_eq!(signed(&c, "returnValue"), (i32::MIN + k as i32) as i64);
    }
}
