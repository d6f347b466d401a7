//! How a TLS failure is reported: rustls's error, as the GSK return code IBM documents for the
//! nearest condition.
//!
//! Contract: `gsk_code` is total (an error rustls adds later falls to `GSK_ERROR_UNKNOWN_ERROR`)
//! and its table is the one in `docs/gsk.md` ("How TLS failures are reported").

use crate::ffi::gsk::codes::*;
use rustls::{AlertDescription, CertificateError, Error};

/// The GSK code for a rustls error raised by the handshake or by a received record.
pub fn gsk_code(error: &Error) -> i32 {
    match error {
        Error::InvalidCertificate(cert) => certificate_code(cert),
        Error::NoCertificatesPresented => GSK_ERROR_NO_CERTIFICATE,
        Error::DecryptError => GSK_ERROR_BAD_MAC,
        Error::AlertReceived(alert) => alert_code(*alert),
        Error::PeerIncompatible(_) => GSK_ERROR_NO_CIPHERS,
        Error::InvalidMessage(_)
        | Error::InappropriateMessage { .. }
        | Error::InappropriateHandshakeMessage { .. }
        | Error::PeerMisbehaved(_)
        | Error::PeerSentOversizedRecord => GSK_ERROR_BAD_MESSAGE,
        Error::InvalidCertRevocationList(_) => GSK_OS400_ERROR_CRL_INVALID,
        Error::EncryptError | Error::FailedToGetRandomBytes => GSK_ERROR_CRYPTO,
        Error::InconsistentKeys(_) => GSK_ERROR_BAD_CERTIFICATE,
        Error::HandshakeNotComplete | Error::FailedToGetCurrentTime | Error::General(_) => {
            GSK_INTERNAL_ERROR
        }
        _ => GSK_ERROR_UNKNOWN_ERROR,
    }
}

/// The peer's certificate (or chain) failed our validation.
fn certificate_code(error: &CertificateError) -> i32 {
    match error {
        CertificateError::UnknownIssuer => GSK_OS400_ERROR_NOT_TRUSTED_ROOT,
        CertificateError::Expired
        | CertificateError::ExpiredContext { .. }
        | CertificateError::NotValidYet
        | CertificateError::NotValidYetContext { .. } => GSK_ERROR_BAD_DATE,
        CertificateError::BadSignature => GSK_ERROR_BAD_CERT_SIG,
        CertificateError::BadEncoding => GSK_ERROR_BAD_CERTIFICATE,
        CertificateError::Revoked => GSK_OS400_ERROR_CERTIFICATE_REVOKED,
        _ => GSK_ERROR_CERT_VALIDATION,
    }
}

/// The peer ended the handshake (or the session) with a fatal alert.
fn alert_code(alert: AlertDescription) -> i32 {
    match alert {
        AlertDescription::BadRecordMac | AlertDescription::DecryptError => GSK_ERROR_BAD_MAC,
        AlertDescription::ProtocolVersion | AlertDescription::InsufficientSecurity => {
            GSK_ERROR_NO_CIPHERS
        }
        _ => GSK_ERROR_BAD_PEER,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_failures_get_ibm_codes() {
        let untrusted = Error::InvalidCertificate(CertificateError::UnknownIssuer);
        assert_eq!(gsk_code(&untrusted), GSK_OS400_ERROR_NOT_TRUSTED_ROOT);
        let expired = Error::InvalidCertificate(CertificateError::Expired);
        assert_eq!(gsk_code(&expired), GSK_ERROR_BAD_DATE);
        assert_eq!(gsk_code(&Error::DecryptError), GSK_ERROR_BAD_MAC);
        let alert = Error::AlertReceived(AlertDescription::HandshakeFailure);
        assert_eq!(gsk_code(&alert), GSK_ERROR_BAD_PEER);
    }
}
