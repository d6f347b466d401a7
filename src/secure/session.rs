//! Environments and sessions: their state, and the TLS steps every secure operation is made of.
//!
//! Contract:
//! * a session's state (attributes, rustls connection, phase) sits behind one mutex, shared by
//!   the C calls and by the drivers of its pending operations; the drivers take it under the
//!   descriptor's lock (order: descriptor → session), the C calls never hold it while they wait;
//! * a step never blocks: it reads with `recv(MSG_DONTWAIT)`, writes with
//!   `send(MSG_DONTWAIT | MSG_NOSIGNAL)`, and says `Blocked` when the kernel would block;
//! * a receive delivers plaintext before it reads more from the socket, so no byte the peer sent
//!   is ever lost to a time limit or a cancel: undelivered bytes stay in rustls or in the kernel;
//! * the peer's clean end (close_notify, or end of stream between two records) is a receive of
//!   0 bytes; an end of stream inside a record is `GSK_ERROR_SOCKET_CLOSED`;
//! * the synchronous calls (`*_blocking`) repeat the same steps and wait with `poll` between
//!   them, within their time limits.

use super::attrs::Attrs;
use super::config::{Built, EnvReady};
use super::errors::gsk_code;
use super::io::{wait_socket, CloseSignal, RecordTracker, SockReader, SockWriter, Waited};
use crate::core::op::Ending;
use crate::core::sockinfo::{file_identity, socket_option};
use crate::ffi::gsk::codes::*;
use rustls::pki_types::ServerName;
use rustls::{ClientConnection, Connection, HandshakeKind, ProtocolVersion, ServerConnection};
use std::io::{ErrorKind, Read, Write};
use std::os::fd::RawFd;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A failed call: its GSK code, and the errno that goes with `GSK_ERROR_IO`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GskError {
    pub code: i32,
    pub errno: i32,
}

impl GskError {
    pub fn code(code: i32) -> GskError {
        GskError { code, errno: 0 }
    }

    pub fn io(errno: i32) -> GskError {
        GskError {
            code: GSK_ERROR_IO,
            errno,
        }
    }

    fn from_ending(ending: Ending) -> GskError {
        match ending {
            Ending::Os(errno) => GskError::io(errno),
            Ending::Protocol(code) => GskError::code(code),
            Ending::TimedOut => GskError::code(GSK_OS400_ERROR_TIMED_OUT),
            Ending::Closed => GskError::code(GSK_ERROR_SOCKET_CLOSED),
            Ending::Cancelled => GskError::io(libc::ECANCELED),
            Ending::Done => GskError::code(GSK_OK),
        }
    }
}

// ---- Environments ----------------------------------------------------------------------------

pub struct EnvState {
    pub attrs: Attrs,
    /// Set by `gsk_environment_init`.
    pub ready: Option<Arc<EnvReady>>,
}

pub struct Environment {
    state: Mutex<EnvState>,
}

impl Default for Environment {
    fn default() -> Self {
        Environment {
            state: Mutex::new(EnvState {
                attrs: Attrs::default(),
                ready: None,
            }),
        }
    }
}

impl Environment {
    pub fn lock(&self) -> MutexGuard<'_, EnvState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `gsk_environment_init`: reads the keyring and builds the configuration.
    pub fn init(&self) -> Result<(), i32> {
        let mut st = self.lock();
        if st.ready.is_some() {
            return Err(GSK_INVALID_STATE);
        }
        st.ready = Some(Arc::new(EnvReady::new(&st.attrs)?));
        Ok(())
    }

    /// `gsk_secure_soc_open`: a new session with the environment's attributes.
    pub fn open_session(&self) -> Result<Session, i32> {
        let st = self.lock();
        let env = st.ready.clone().ok_or(GSK_INVALID_STATE)?;
        Ok(Session {
            state: Mutex::new(SessionState {
                attrs: st.attrs.clone(),
                env,
                conn: None,
                phase: Phase::Open,
                tracker: RecordTracker::default(),
                sent_any: false,
                identity: None,
                close_notify_sent: false,
            }),
            closed: CloseSignal::default(),
        })
    }
}

// ---- Sessions --------------------------------------------------------------------------------

/// Where a session stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Opened; attributes may change; no handshake yet.
    Open,
    Handshaking,
    /// The handshake succeeded: data may flow.
    Ready,
    /// The handshake failed (its GSK code), or the session broke.
    Failed(i32),
    /// `gsk_secure_soc_close` was called.
    Closed,
}

pub struct Session {
    state: Mutex<SessionState>,
    /// Raised by `close`: ends the waits of synchronous calls running in other threads.
    closed: CloseSignal,
}

pub struct SessionState {
    pub attrs: Attrs,
    env: Arc<EnvReady>,
    conn: Option<Connection>,
    pub phase: Phase,
    tracker: RecordTracker,
    /// The handshake has written bytes to the peer (it can no longer be cancelled).
    pub sent_any: bool,
    /// The socket the handshake started on (see `core::sockinfo::file_identity`).
    identity: Option<(u64, u64)>,
    /// A close_notify was sent (`GSK_CLOSE_NOTIFY`): no more data may be written.
    close_notify_sent: bool,
}

/// What one step achieved.
pub enum Step {
    /// The operation is complete.
    Done,
    /// The kernel would block: wait until the socket is readable (`read`) or writable.
    Blocked { read: bool },
    /// The operation ended with this failure.
    Failed(Ending),
}

impl Session {
    pub fn lock(&self) -> MutexGuard<'_, SessionState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Creates the rustls connection and enters `Handshaking`; returns the socket.
    pub fn begin_handshake(&self) -> Result<RawFd, GskError> {
        let mut st = self.lock();
        match st.phase {
            Phase::Open => {}
            Phase::Handshaking | Phase::Ready => {
                return Err(GskError::code(GSK_OS400_ERROR_ALREADY_SECURE))
            }
            Phase::Failed(_) | Phase::Closed => return Err(GskError::code(GSK_INVALID_STATE)),
        }
        let fd = st.attrs.fd;
        check_stream_socket(fd)?;
        let config = st.env.config_for(&st.attrs).map_err(GskError::code)?;
        let conn = match config {
            Built::Server(config) => ServerConnection::new(config).map(Connection::Server),
            Built::Client { named, unnamed } => match named_server(&st.attrs) {
                Some(name) => ClientConnection::new(named, name).map(Connection::Client),
                None => ClientConnection::new(unnamed, peer_address(fd)).map(Connection::Client),
            },
        }
        .map_err(|e| GskError::code(gsk_code(&e)))?;
        st.conn = Some(conn);
        st.phase = Phase::Handshaking;
        st.identity = file_identity(fd);
        st.tracker = RecordTracker::default();
        st.sent_any = false;
        Ok(fd)
    }

    /// Undoes `begin_handshake` when the asynchronous handshake could not be started.
    pub fn abandon_handshake(&self) {
        let mut st = self.lock();
        if st.phase == Phase::Handshaking && !st.sent_any {
            st.conn = None;
            st.phase = Phase::Open;
        }
    }

    /// The socket of a session whose data may flow; `GSK_INVALID_STATE` before the handshake
    /// succeeded or after a close, `GSK_ERROR_SOCKET_CLOSED` when the socket was closed.
    pub fn data_socket(&self) -> Result<RawFd, GskError> {
        let st = self.lock();
        if st.phase != Phase::Ready {
            return Err(GskError::code(GSK_INVALID_STATE));
        }
        let fd = st.attrs.fd;
        if file_identity(fd) != st.identity {
            return Err(GskError::code(GSK_ERROR_SOCKET_CLOSED));
        }
        Ok(fd)
    }

    /// `gsk_secure_soc_init`: the whole handshake, waiting as needed within
    /// `GSK_HANDSHAKE_TIMEOUT`.
    pub fn init_blocking(&self) -> Result<(), GskError> {
        let fd = self.begin_handshake()?;
        let deadline = deadline_after(Duration::from_secs(
            self.lock().attrs.handshake_timeout_s.max(0) as u64,
        ));
        loop {
            let step = self.lock().handshake_step(fd);
            match step {
                Step::Done => return Ok(()),
                Step::Failed(ending) => return Err(GskError::from_ending(ending)),
                Step::Blocked { read } => match wait_socket(fd, read, deadline, Some(&self.closed))
                {
                    Waited::Ready => {}
                    Waited::Closed => return Err(GskError::code(GSK_OS400_ERROR_CLOSED)),
                    Waited::TimedOut => {
                        self.lock().fail(GSK_OS400_ERROR_TIMED_OUT);
                        return Err(GskError::code(GSK_OS400_ERROR_TIMED_OUT));
                    }
                    Waited::Failed(errno) => {
                        self.lock().fail(GSK_ERROR_IO);
                        return Err(GskError::io(errno));
                    }
                },
            }
        }
    }

    /// `gsk_secure_soc_read`: some bytes (0 when the peer closed), waiting within
    /// `GSK_OS400_READ_TIMEOUT`. A time-out loses nothing.
    pub fn read_blocking(&self, buf: &mut [u8]) -> Result<usize, GskError> {
        let fd = self.data_socket()?;
        let deadline = deadline_after(Duration::from_millis(
            self.lock().attrs.read_timeout_ms.max(0) as u64,
        ));
        loop {
            let mut done = 0;
            let step = self.lock().recv_step(fd, buf, &mut done, false);
            match step {
                Step::Done => return Ok(done),
                Step::Failed(ending) => return Err(GskError::from_ending(ending)),
                Step::Blocked { read } => match wait_socket(fd, read, deadline, Some(&self.closed))
                {
                    Waited::Ready => {}
                    Waited::Closed => return Err(GskError::code(GSK_OS400_ERROR_CLOSED)),
                    Waited::TimedOut => return Err(GskError::code(GSK_OS400_ERROR_TIMED_OUT)),
                    Waited::Failed(errno) => return Err(GskError::io(errno)),
                },
            }
        }
    }

    /// `gsk_secure_soc_write`: all of `data`, as TLS records.
    pub fn write_blocking(&self, data: &[u8]) -> Result<usize, GskError> {
        let fd = self.data_socket()?;
        let mut done = 0;
        loop {
            let step = self.lock().send_step(fd, data, &mut done);
            match step {
                Step::Done => return Ok(done),
                Step::Failed(ending) => return Err(GskError::from_ending(ending)),
                Step::Blocked { read } => match wait_socket(fd, read, None, Some(&self.closed)) {
                    Waited::Ready | Waited::TimedOut => {}
                    Waited::Closed => return Err(GskError::code(GSK_OS400_ERROR_CLOSED)),
                    Waited::Failed(errno) => return Err(GskError::io(errno)),
                },
            }
        }
    }

    /// Sends a close_notify alert, waiting until it is written (`GSK_CLOSE_NOTIFY`).
    pub fn close_notify_blocking(&self) -> Result<(), GskError> {
        let fd = self.data_socket()?;
        let mut st = self.lock();
        let st_ref = &mut *st;
        if let Some(conn) = st_ref.conn.as_mut() {
            conn.send_close_notify();
            st_ref.close_notify_sent = true;
        }
        drop(st);
        loop {
            let flushed = {
                let mut st = self.lock();
                let st = &mut *st;
                match st.conn.as_mut() {
                    Some(conn) => flush(conn, fd, &mut st.sent_any),
                    None => Ok(true),
                }
            };
            match flushed {
                Ok(true) => return Ok(()),
                Ok(false) => match wait_socket(fd, false, None, Some(&self.closed)) {
                    Waited::Ready | Waited::TimedOut => {}
                    Waited::Closed => return Err(GskError::code(GSK_OS400_ERROR_CLOSED)),
                    Waited::Failed(errno) => return Err(GskError::io(errno)),
                },
                Err(errno) => return Err(GskError::io(errno)),
            }
        }
    }

    /// `gsk_secure_soc_close`: tells the peer (close_notify) when the session's socket is still
    /// open, and marks the session closed. A close_notify the socket cannot take at once (a peer
    /// that stopped reading) is written as the socket drains, for at most
    /// `CLOSE_NOTIFY_LIMIT`. Returns the socket, so that operations still waiting on it can be
    /// told.
    pub fn close(&self) -> Option<RawFd> {
        let (fd, ours, unwritten) = {
            let mut st = self.lock();
            let st = &mut *st;
            let fd = st.attrs.fd;
            let ours = st.identity.is_some() && file_identity(fd) == st.identity;
            let mut unwritten = false;
            if let (Some(conn), true) = (st.conn.as_mut(), ours && st.phase == Phase::Ready) {
                conn.send_close_notify();
                unwritten = matches!(flush(conn, fd, &mut st.sent_any), Ok(false));
            }
            st.phase = Phase::Closed;
            (fd, ours, unwritten)
        };
        self.closed.raise();
        if unwritten {
            self.finish_close_notify(fd);
        }
        ours.then_some(fd)
    }

    /// Writes the rest of a close_notify as the socket drains, without holding the session's
    /// lock while waiting; gives up at `CLOSE_NOTIFY_LIMIT` or on any error.
    fn finish_close_notify(&self, fd: RawFd) {
        let deadline = deadline_after(CLOSE_NOTIFY_LIMIT);
        loop {
            if !matches!(wait_socket(fd, false, deadline, None), Waited::Ready) {
                return;
            }
            let mut st = self.lock();
            let st = &mut *st;
            let Some(conn) = st.conn.as_mut() else {
                return;
            };
            if !matches!(flush(conn, fd, &mut st.sent_any), Ok(false)) {
                return;
            }
        }
    }
}

impl SessionState {
    /// Marks the session failed (keeps the first failure; a closed session stays closed).
    pub fn fail(&mut self, code: i32) {
        if matches!(self.phase, Phase::Open | Phase::Handshaking | Phase::Ready) {
            self.phase = Phase::Failed(code);
        }
    }

    /// The protocol the handshake agreed on.
    pub fn protocol(&self) -> Option<ProtocolVersion> {
        self.conn.as_ref()?.protocol_version()
    }

    /// True when the handshake was a full one (not a resumption).
    pub fn full_handshake(&self) -> Option<bool> {
        let kind = self.conn.as_ref()?.handshake_kind()?;
        Some(kind != HandshakeKind::Resumed)
    }

    /// Why operations on a session that is not (or no longer) usable end.
    fn unusable(&self) -> Option<Ending> {
        match self.phase {
            Phase::Closed => Some(Ending::Protocol(GSK_OS400_ERROR_CLOSED)),
            Phase::Failed(GSK_ERROR_IO) => Some(Ending::Protocol(GSK_ERROR_SOCKET_CLOSED)),
            Phase::Failed(code) => Some(Ending::Protocol(code)),
            _ => None,
        }
    }

    /// Moves the handshake forward.
    pub fn handshake_step(&mut self, fd: RawFd) -> Step {
        if let Some(ending) = self.unusable() {
            return Step::Failed(ending);
        }
        let Some(conn) = self.conn.as_mut() else {
            return Step::Failed(Ending::Protocol(GSK_INVALID_STATE));
        };
        let step = loop {
            match flush(conn, fd, &mut self.sent_any) {
                Err(errno) => break Step::Failed(Ending::Os(errno)),
                Ok(false) => break Step::Blocked { read: false },
                Ok(true) => {}
            }
            if !conn.is_handshaking() {
                break Step::Done;
            }
            match fill(conn, fd, &mut self.tracker, &mut self.sent_any) {
                Filled::Data => continue,
                Filled::Blocked => break Step::Blocked { read: true },
                Filled::Eof => break Step::Failed(Ending::Protocol(GSK_ERROR_SOCKET_CLOSED)),
                Filled::Failed(ending) => break Step::Failed(ending),
            }
        };
        match step {
            Step::Done => self.phase = Phase::Ready,
            Step::Failed(Ending::Protocol(code)) => self.fail(code),
            Step::Failed(_) => self.fail(GSK_ERROR_IO),
            Step::Blocked { .. } => {}
        }
        step
    }

    /// Receives plaintext into `buf[*done..]`; with `fill_buffer`, until `buf` is full.
    pub fn recv_step(
        &mut self,
        fd: RawFd,
        buf: &mut [u8],
        done: &mut usize,
        fill_buffer: bool,
    ) -> Step {
        if let Some(ending) = self.unusable() {
            return Step::Failed(ending);
        }
        let Some(conn) = self.conn.as_mut() else {
            return Step::Failed(Ending::Protocol(GSK_INVALID_STATE));
        };
        loop {
            match conn.reader().read(&mut buf[*done..]) {
                Ok(0) => {
                    // close_notify received (or an empty buffer, which callers never pass).
                    let _ = flush(conn, fd, &mut self.sent_any);
                    return Step::Done;
                }
                Ok(n) => {
                    *done += n;
                    if !fill_buffer || *done == buf.len() {
                        let _ = flush(conn, fd, &mut self.sent_any);
                        return Step::Done;
                    }
                    continue;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == ErrorKind::UnexpectedEof => {
                    // End of stream without close_notify: clean only between two records.
                    if self.tracker.at_boundary() {
                        return Step::Done;
                    }
                    return Step::Failed(Ending::Protocol(GSK_ERROR_SOCKET_CLOSED));
                }
                Err(e) => return Step::Failed(Ending::Os(e.raw_os_error().unwrap_or(libc::EIO))),
            }
            if let Err(errno) = flush(conn, fd, &mut self.sent_any) {
                return Step::Failed(Ending::Os(errno));
            }
            match fill(conn, fd, &mut self.tracker, &mut self.sent_any) {
                Filled::Data | Filled::Eof => continue,
                Filled::Blocked => return Step::Blocked { read: true },
                Filled::Failed(ending) => {
                    if let Ending::Protocol(code) = ending {
                        self.phase = Phase::Failed(code);
                    }
                    return Step::Failed(ending);
                }
            }
        }
    }

    /// Sends `data[*done..]` as records; done when every byte is accepted and written out.
    pub fn send_step(&mut self, fd: RawFd, data: &[u8], done: &mut usize) -> Step {
        if let Some(ending) = self.unusable() {
            return Step::Failed(ending);
        }
        if self.close_notify_sent {
            // rustls would still encrypt, but the peer discards data after close_notify.
            return Step::Failed(Ending::Protocol(GSK_OS400_ERROR_CLOSED));
        }
        let Some(conn) = self.conn.as_mut() else {
            return Step::Failed(Ending::Protocol(GSK_INVALID_STATE));
        };
        loop {
            match flush(conn, fd, &mut self.sent_any) {
                Err(errno) => return Step::Failed(Ending::Os(errno)),
                Ok(false) => return Step::Blocked { read: false },
                Ok(true) => {}
            }
            if *done == data.len() {
                return Step::Done;
            }
            match conn.writer().write(&data[*done..]) {
                Ok(0) if !conn.wants_write() => {
                    // rustls takes no more data (a close_notify was sent).
                    return Step::Failed(Ending::Protocol(GSK_OS400_ERROR_CLOSED));
                }
                Ok(n) => *done += n,
                Err(_) => return Step::Failed(Ending::Protocol(GSK_INTERNAL_ERROR)),
            }
        }
    }
}

/// What reading from the socket into rustls achieved.
enum Filled {
    /// Records were read and processed.
    Data,
    Blocked,
    /// The peer closed its end.
    Eof,
    Failed(Ending),
}

/// Reads what the socket has into rustls and processes it. On a TLS failure the alert rustls
/// queued is sent (best effort) before the failure is reported.
fn fill(
    conn: &mut Connection,
    fd: RawFd,
    tracker: &mut RecordTracker,
    sent_any: &mut bool,
) -> Filled {
    let mut reader = SockReader { fd, tracker };
    match conn.read_tls(&mut reader) {
        Ok(0) => return Filled::Eof,
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::WouldBlock => return Filled::Blocked,
        Err(e) => match e.raw_os_error() {
            Some(errno) => return Filled::Failed(Ending::Os(errno)),
            // rustls's plaintext buffer is full: what it holds must be delivered first.
            None => return Filled::Data,
        },
    }
    match conn.process_new_packets() {
        Ok(_) => Filled::Data,
        Err(error) => {
            let _ = flush(conn, fd, sent_any);
            Filled::Failed(Ending::Protocol(gsk_code(&error)))
        }
    }
}

/// Writes what rustls has queued. `Ok(true)`: all written; `Ok(false)`: the kernel would block.
fn flush(conn: &mut Connection, fd: RawFd, sent_any: &mut bool) -> Result<bool, i32> {
    let mut writer = SockWriter { fd };
    while conn.wants_write() {
        match conn.write_tls(&mut writer) {
            Ok(n) => *sent_any |= n > 0,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
            Err(e) => return Err(e.raw_os_error().unwrap_or(libc::EIO)),
        }
    }
    Ok(true)
}

/// How long `gsk_secure_soc_close` keeps trying to write a close_notify the socket could not
/// take at once.
const CLOSE_NOTIFY_LIMIT: Duration = Duration::from_secs(1);

fn deadline_after(limit: Duration) -> Option<Instant> {
    if limit.is_zero() {
        return None;
    }
    Instant::now().checked_add(limit)
}

/// Ok when `fd` is a stream socket.
fn check_stream_socket(fd: RawFd) -> Result<(), GskError> {
    if fd < 0 {
        return Err(GskError::code(GSK_OS400_ERROR_BAD_SOCKET_DESCRIPTOR));
    }
    match socket_option(fd, libc::SO_TYPE) {
        Ok(libc::SOCK_STREAM) => Ok(()),
        Ok(_) => Err(GskError::code(GSK_OS400_ERROR_NOT_TCP)),
        Err(_) => Err(GskError::code(GSK_OS400_ERROR_BAD_SOCKET_DESCRIPTOR)),
    }
}

/// True when `name` is usable as a TLS server name (a DNS name or an IP address).
pub fn valid_server_name(name: &str) -> bool {
    ServerName::try_from(name.to_owned()).is_ok()
}

/// The server name a client session was given, if any.
fn named_server(attrs: &Attrs) -> Option<ServerName<'static>> {
    let name = attrs.server_name.as_ref()?.to_str().ok()?;
    ServerName::try_from(name.to_owned()).ok()
}

/// The peer's address as a server name, for a client session without one (no SNI is sent for
/// an address; the chain is still validated, see `config.rs`).
fn peer_address(fd: RawFd) -> ServerName<'static> {
    // SAFETY: sockaddr_storage is plain data; getpeername writes at most `len` bytes into it.
    let (rc, addr) = unsafe {
        let mut addr: libc::sockaddr_storage = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        let rc = libc::getpeername(
            fd,
            (&mut addr as *mut libc::sockaddr_storage).cast(),
            &mut len,
        );
        (rc, addr)
    };
    let ip = if rc != 0 {
        std::net::IpAddr::from([127, 0, 0, 1])
    } else if addr.ss_family as i32 == libc::AF_INET {
        // SAFETY: the family says the storage holds a sockaddr_in.
        let sin = unsafe { &*(&addr as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
        std::net::IpAddr::from(u32::from_be(sin.sin_addr.s_addr).to_be_bytes())
    } else if addr.ss_family as i32 == libc::AF_INET6 {
        // SAFETY: the family says the storage holds a sockaddr_in6.
        let sin6 =
            unsafe { &*(&addr as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
        std::net::IpAddr::from(sin6.sin6_addr.s6_addr)
    } else {
        std::net::IpAddr::from([127, 0, 0, 1])
    };
    ServerName::IpAddress(ip.into())
}
