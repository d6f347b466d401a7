//! The attributes of an environment or a session, in the secure layer's own terms.
//!
//! Contract: plain data. An environment's attributes are copied into each session it opens; a
//! session may then change its own copy until its handshake starts. Which GSK identifier and
//! value maps to which field is the C face's business (`ffi::gsk::attrs`); what the fields mean
//! for rustls is `config.rs`'s.

use std::ffi::CString;

/// `GSK_SESSION_TYPE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SessionType {
    Client,
    Server,
    /// A server that asks the client for a certificate.
    ServerWithClientAuth,
}

/// `GSK_CLIENT_AUTH_TYPE`: how a server asking for client certificates treats them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClientAuth {
    /// A certificate the client sends is validated; a client may send none.
    Full,
    /// The client must send a certificate, and it is validated.
    Required,
    /// A certificate the client sends is accepted without validation.
    PassThru,
}

/// `GSK_SERVER_AUTH_TYPE`: how a client treats the server's certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ServerAuth {
    /// The server's chain is validated against the keyring's certificates.
    Full,
    /// The server's certificate is accepted without validation.
    PassThru,
}

/// Everything that shapes a rustls configuration: sessions whose keys are equal share one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConfigKey {
    pub session_type: SessionType,
    pub client_auth: ClientAuth,
    pub server_auth: ServerAuth,
    pub tls12: bool,
    pub tls13: bool,
}

#[derive(Clone, Debug)]
pub struct Attrs {
    pub keyring_file: Option<CString>,
    pub keyring_pw: Option<CString>,
    pub keyring_label: Option<CString>,
    pub app_id: Option<CString>,
    /// `GSK_USER_DATA`: the caller's bytes, kept and handed back.
    pub user_data: Option<CString>,
    /// Client: the name sent in the handshake (SNI) and checked against the certificate.
    pub server_name: Option<CString>,
    pub session_type: SessionType,
    pub client_auth: ClientAuth,
    pub server_auth: ServerAuth,
    /// `GSK_PROTOCOL_TLSV1`: the master switch the TLS 1.x settings default to.
    pub tlsv1_master: bool,
    /// `GSK_PROTOCOL_TLSV12` / `GSK_PROTOCOL_TLSV13`; `None` follows the master switch.
    pub tls12: Option<bool>,
    pub tls13: Option<bool>,
    /// Seconds; 0 is no limit.
    pub handshake_timeout_s: i32,
    /// Milliseconds `gsk_secure_soc_read` waits; 0 is no limit.
    pub read_timeout_ms: i32,
    /// The session's socket; -1 until set.
    pub fd: i32,
}

impl Default for Attrs {
    fn default() -> Self {
        Attrs {
            keyring_file: None,
            keyring_pw: None,
            keyring_label: None,
            app_id: None,
            user_data: None,
            server_name: None,
            session_type: SessionType::Client,
            client_auth: ClientAuth::Full,
            server_auth: ServerAuth::Full,
            tlsv1_master: true,
            tls12: None,
            tls13: None,
            handshake_timeout_s: 0,
            read_timeout_ms: 0,
            fd: -1,
        }
    }
}

impl Attrs {
    pub fn tls12_enabled(&self) -> bool {
        self.tls12.unwrap_or(self.tlsv1_master)
    }

    pub fn tls13_enabled(&self) -> bool {
        self.tls13.unwrap_or(self.tlsv1_master)
    }

    pub fn config_key(&self) -> ConfigKey {
        ConfigKey {
            session_type: self.session_type,
            client_auth: self.client_auth,
            server_auth: self.server_auth,
            tls12: self.tls12_enabled(),
            tls13: self.tls13_enabled(),
        }
    }
}
