//! rustls configurations built from an environment's attributes and keyring.
//!
//! Contract:
//! * `EnvReady::new` (at `gsk_environment_init`) reads the keyring once and builds the
//!   configuration of the environment's own attributes; a session whose attributes shape a
//!   different configuration (`ConfigKey`) gets its own, built from the same keyring, when its
//!   handshake starts;
//! * only the keyring's certificates are trusted; rustls's `ring` provider does the cryptography;
//! * TLS 1.2 and 1.3 are the protocols there are; a configuration with neither fails with
//!   `GSK_ERROR_NO_CIPHERS`;
//! * a client without a server name (`GSK_SSL_EXTN_SERVERNAME_REQUEST`) validates the server's
//!   chain but not the name in it (it has none to compare);
//! * failures are GSK codes.

use super::attrs::{Attrs, ClientAuth, ConfigKey, ServerAuth, SessionType};
use super::keyring::{self, Keyring};
use crate::ffi::gsk::codes::*;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, DistinguishedName, RootCertStore,
    ServerConfig, SignatureScheme, SupportedProtocolVersion,
};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use std::sync::Arc;

/// A configuration ready to make connections.
#[derive(Clone)]
pub enum Built {
    Server(Arc<ServerConfig>),
    /// Clients: one that checks the server name, one for sessions that have none.
    Client {
        named: Arc<ClientConfig>,
        unnamed: Arc<ClientConfig>,
    },
}

/// An initialised environment: its keyring and the configuration of its own attributes.
pub struct EnvReady {
    keyring: Option<Arc<Keyring>>,
    key: ConfigKey,
    built: Built,
}

impl EnvReady {
    pub fn new(attrs: &Attrs) -> Result<EnvReady, i32> {
        let keyring = keyring::load(attrs)?.map(Arc::new);
        let key = attrs.config_key();
        let built = build(&key, keyring.as_deref())?;
        Ok(EnvReady {
            keyring,
            key,
            built,
        })
    }

    /// The configuration for a session with these attributes.
    pub fn config_for(&self, attrs: &Attrs) -> Result<Built, i32> {
        let key = attrs.config_key();
        if key == self.key {
            return Ok(self.built.clone());
        }
        build(&key, self.keyring.as_deref())
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn versions(key: &ConfigKey) -> Result<Vec<&'static SupportedProtocolVersion>, i32> {
    let mut v = Vec::new();
    if key.tls13 {
        v.push(&rustls::version::TLS13);
    }
    if key.tls12 {
        v.push(&rustls::version::TLS12);
    }
    if v.is_empty() {
        return Err(GSK_ERROR_NO_CIPHERS);
    }
    Ok(v)
}

fn roots(keyring: Option<&Keyring>) -> RootCertStore {
    let mut store = RootCertStore::empty();
    if let Some(k) = keyring {
        store.add_parsable_certificates(k.certs.iter().cloned());
    }
    store
}

fn build(key: &ConfigKey, keyring: Option<&Keyring>) -> Result<Built, i32> {
    let versions = versions(key)?;
    match key.session_type {
        SessionType::Server | SessionType::ServerWithClientAuth => {
            let keyring = keyring.ok_or(GSK_KEYRING_OPEN_ERROR)?;
            let (chain, private) = keyring.identity().ok_or(GSK_ERROR_NO_PRIVATE_KEY)?;
            let builder = ServerConfig::builder_with_provider(provider())
                .with_protocol_versions(&versions)
                .map_err(|_| GSK_ERROR_NO_CIPHERS)?;
            let builder = if key.session_type == SessionType::Server {
                builder.with_no_client_auth()
            } else {
                builder.with_client_cert_verifier(client_verifier(key.client_auth, keyring)?)
            };
            let config = builder
                .with_single_cert(chain, private)
                .map_err(|e| match e {
                    rustls::Error::InconsistentKeys(_) => GSK_ERROR_BAD_CERTIFICATE,
                    _ => GSK_ERROR_NO_PRIVATE_KEY,
                })?;
            Ok(Built::Server(Arc::new(config)))
        }
        SessionType::Client => Ok(Built::Client {
            named: Arc::new(client_config(key, keyring, &versions, true)?),
            unnamed: Arc::new(client_config(key, keyring, &versions, false)?),
        }),
    }
}

fn client_verifier(
    auth: ClientAuth,
    keyring: &Keyring,
) -> Result<Arc<dyn ClientCertVerifier>, i32> {
    let provider = provider();
    if auth == ClientAuth::PassThru {
        return Ok(Arc::new(PassThruClient {
            checks: SignatureChecks { provider },
        }));
    }
    let builder =
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots(Some(keyring))), provider);
    let builder = if auth == ClientAuth::Full {
        builder.allow_unauthenticated()
    } else {
        builder
    };
    builder
        .build()
        .map_err(|_| GSK_OS400_ERROR_NO_CERTIFICATE_AUTHORITIES)
}

fn client_config(
    key: &ConfigKey,
    keyring: Option<&Keyring>,
    versions: &[&'static SupportedProtocolVersion],
    check_name: bool,
) -> Result<ClientConfig, i32> {
    let provider = provider();
    let verifier: Arc<dyn ServerCertVerifier> = match key.server_auth {
        ServerAuth::PassThru => Arc::new(PassThruServer {
            checks: SignatureChecks {
                provider: Arc::clone(&provider),
            },
        }),
        ServerAuth::Full => {
            if keyring.is_none() {
                return Err(GSK_KEYRING_OPEN_ERROR);
            }
            let inner = WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots(keyring)),
                Arc::clone(&provider),
            )
            .build()
            .map_err(|_| GSK_OS400_ERROR_NO_CERTIFICATE_AUTHORITIES)?;
            Arc::new(ChainVerifier { inner, check_name })
        }
    };
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .map_err(|_| GSK_ERROR_NO_CIPHERS)?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    match keyring.and_then(Keyring::identity) {
        Some((chain, private)) => builder
            .with_client_auth_cert(chain, private)
            .map_err(|_| GSK_ERROR_BAD_CERTIFICATE),
        None => Ok(builder.with_no_client_auth()),
    }
}

/// Validates the server's chain with webpki; the name only when the session has one.
#[derive(Debug)]
struct ChainVerifier {
    inner: Arc<WebPkiServerVerifier>,
    check_name: bool,
}

impl ServerCertVerifier for ChainVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verdict = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        match verdict {
            // webpki checks the name last: this error means the chain itself was valid.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.check_name => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// The handshake-signature checks the pass-through verifiers keep: they skip the certificate
/// chain, never the proof that the peer holds the certificate's key.
#[derive(Debug)]
struct SignatureChecks {
    provider: Arc<CryptoProvider>,
}

impl SignatureChecks {
    fn tls12(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn tls13(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// `GSK_SERVER_AUTH_PASSTHRU`: any server certificate is accepted (its signatures still prove
/// the server holds the key).
#[derive(Debug)]
struct PassThruServer {
    checks: SignatureChecks,
}

impl ServerCertVerifier for PassThruServer {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.checks.tls12(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.checks.tls13(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.checks.schemes()
    }
}

/// `GSK_CLIENT_AUTH_PASSTHRU`: a client certificate is asked for and accepted unvalidated.
#[derive(Debug)]
struct PassThruClient {
    checks: SignatureChecks,
}

impl ClientCertVerifier for PassThruClient {
    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.checks.tls12(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.checks.tls13(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.checks.schemes()
    }
}
