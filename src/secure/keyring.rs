//! Keyrings: the PEM file an environment names (`GSK_KEYRING_FILE`), or the one an IBM i
//! application id maps to (`GSK_OS400_APPLICATION_ID`).
//!
//! Contract:
//! * a keyring file is PEM: `CERTIFICATE` blocks and at most one unencrypted private key
//!   (`PRIVATE KEY`, `RSA PRIVATE KEY` or `EC PRIVATE KEY`); anything else is skipped;
//! * every certificate in it is trusted to verify the peer; when it has a private key, its
//!   certificates, in file order (leaf first), are also this side's chain;
//! * an application id `ID` names the file `$QSOASYNC_APPID_DIR/ID.pem` (default directory
//!   `/etc/qsoasync/appid`); the id must be a plain file name;
//! * failures are GSK codes (`GSK_KEYRING_OPEN_ERROR`, `GSK_OS400_ERROR_NOT_REGISTERED`,
//!   `GSK_OS400_ERROR_NO_ACCESS`, `GSK_KEYFILE_INVALID_FORMAT`).

use super::attrs::Attrs;
use crate::ffi::gsk::codes::*;
use rustls_pki_types::pem::{self, SectionKind};
use rustls_pki_types::{
    CertificateDer, PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer,
};
use std::ffi::OsStr;
use std::io::{BufReader, ErrorKind};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// Where application ids' certificate files live, unless `QSOASYNC_APPID_DIR` says otherwise.
pub const DEFAULT_APPID_DIR: &str = "/etc/qsoasync/appid";

/// The certificates and key of one keyring file.
pub struct Keyring {
    pub certs: Vec<CertificateDer<'static>>,
    pub key: Option<PrivateKeyDer<'static>>,
}

impl Keyring {
    /// The chain and key this side presents, when the keyring has a key.
    pub fn identity(&self) -> Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
        let key = self.key.as_ref()?.clone_key();
        Some((self.certs.clone(), key))
    }
}

/// The keyring an environment's attributes name (the application id wins over the file), or
/// `None` when they name none.
pub fn load(attrs: &Attrs) -> Result<Option<Keyring>, i32> {
    if let Some(id) = &attrs.app_id {
        let path = appid_path(id.as_bytes())?;
        return read(&path, GSK_OS400_ERROR_NOT_REGISTERED).map(Some);
    }
    match &attrs.keyring_file {
        Some(file) => {
            let path = PathBuf::from(OsStr::from_bytes(file.as_bytes()));
            read(&path, GSK_KEYRING_OPEN_ERROR).map(Some)
        }
        None => Ok(None),
    }
}

/// The file an application id maps to.
fn appid_path(id: &[u8]) -> Result<PathBuf, i32> {
    let plain = !id.is_empty() && id != b"." && id != b".." && !id.contains(&b'/');
    if !plain {
        return Err(GSK_OS400_ERROR_NOT_REGISTERED);
    }
    let dir = std::env::var_os("QSOASYNC_APPID_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_APPID_DIR));
    let mut name = id.to_vec();
    name.extend_from_slice(b".pem");
    Ok(dir.join(OsStr::from_bytes(&name)))
}

/// Reads a PEM keyring; `missing` is the code for a file that does not exist.
fn read(path: &PathBuf, missing: i32) -> Result<Keyring, i32> {
    let file = std::fs::File::open(path).map_err(|e| match e.kind() {
        ErrorKind::NotFound => missing,
        ErrorKind::PermissionDenied => GSK_OS400_ERROR_NO_ACCESS,
        _ => GSK_KEYFILE_IO_ERROR,
    })?;
    let mut reader = BufReader::new(file);
    let mut certs = Vec::new();
    let mut key = None;
    loop {
        match pem::from_buf(&mut reader) {
            Ok(Some((kind, der))) => match kind {
                SectionKind::Certificate => certs.push(CertificateDer::from(der)),
                SectionKind::PrivateKey if key.is_none() => {
                    key = Some(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(der)))
                }
                SectionKind::RsaPrivateKey if key.is_none() => {
                    key = Some(PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(der)))
                }
                SectionKind::EcPrivateKey if key.is_none() => {
                    key = Some(PrivateKeyDer::Sec1(PrivateSec1KeyDer::from(der)))
                }
                _ => {}
            },
            Ok(None) => break,
            Err(pem::Error::Io(_)) => return Err(GSK_KEYFILE_IO_ERROR),
            Err(_) => return Err(GSK_KEYFILE_INVALID_FORMAT),
        }
    }
    if certs.is_empty() {
        // Not a PEM keyring (or one holding only an encrypted key, which is not supported).
        return Err(GSK_KEYFILE_INVALID_FORMAT);
    }
    Ok(Keyring { certs, key })
}
