//! Per-descriptor state: the queues of operations waiting on a socket, which engines watch it,
//! and whether it was aborted by a port's destruction.
//!
//! Contract:
//! * an entry exists from the first operation on a descriptor until the descriptor is closed
//!   through the close hook (`close_with`), so a later descriptor with the same number never
//!   inherits anything;
//! * every queued operation is performed, stopped or dropped with the entry's lock held, so once
//!   close, cancel or a port's destruction has taken and released that lock, no byte of the
//!   operations it removed is touched again;
//! * receives, sends and accepts each form a FIFO per descriptor: only the head is attempted, and
//!   a new operation is tried at once only when its queue is empty (which keeps sends whole and
//!   in order, and receives in the order they were started). The FIFOs share one queue in the
//!   order operations were queued; a direction's head is its first operation there;
//! * the try made by the start call and the readiness handling run under the same lock, so an
//!   edge that arrives between "would block" and "queued" is never lost;
//! * the table is indexed by descriptor number (`FdTable`): each number has a slot with its own
//!   small lock, held only to read, set or clear the slot, never while anything else is done;
//!   a negative number has no slot (nothing can be started on it). Slot blocks are allocated
//!   on first use and never freed while the table lives.

use super::op::{
    is_connected, Completion, Direction, Ending, InputLeft, Op, OpKind, OpRequest, Progress,
};
use super::port::Port;
use super::registry::globals;
use super::sockinfo::{file_identity, is_plain_tcp, socket_option};
use super::timers::TimerTarget;
use crate::engine::Readiness;
use crate::sync::{Arc, Mutex, MutexGuard};
use std::collections::VecDeque;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicPtr, Ordering};

/// What a start call achieved.
pub enum StartOutcome {
    /// Finished inside the call; nothing posted (`postFlag == 0`).
    Finished(Completion),
    /// Finished inside the call and posted (`postFlag != 0`).
    Posted,
    /// Queued; the port is posted when it ends.
    Pending,
    /// Not started (errno).
    Refused(i32),
}

/// The descriptor table maps a descriptor number straight to its slot, through three levels:
/// `top[fd >> (MID_BITS + LEAF_BITS)]` → a middle block of leaf pointers → a leaf of
/// `1 << LEAF_BITS` slots. Descriptor numbers are small dense integers, so a process with 20,000
/// sockets uses one middle block and 20 leaves. Blocks are allocated on first use and kept until
/// the table is dropped (never, for the process's table: a fork child gets a new one).
#[cfg(not(loom))]
mod shape {
    /// Every non-negative `i32` has a slot.
    pub(super) const FD_BITS: u32 = 31;
    pub(super) const MID_BITS: u32 = 10;
    pub(super) const LEAF_BITS: u32 = 10;
}
/// Under loom every leaf slot is a modelled lock: keep the blocks small. The models only use
/// the low descriptor numbers of a test process.
#[cfg(loom)]
mod shape {
    pub(super) const FD_BITS: u32 = 16;
    pub(super) const MID_BITS: u32 = 6;
    pub(super) const LEAF_BITS: u32 = 4;
}
use shape::{FD_BITS, LEAF_BITS, MID_BITS};
const TOP_LEN: usize = 1 << (FD_BITS - MID_BITS - LEAF_BITS);
const MID_LEN: usize = 1 << MID_BITS;
const LEAF_LEN: usize = 1 << LEAF_BITS;

/// One descriptor number's place in the table. Its lock is held only to read, set or clear it.
type Slot = Mutex<Option<Arc<FdEntry>>>;

/// A middle block: `MID_LEN` leaf pointers (each to the first of `LEAF_LEN` slots, or null).
type Mid = AtomicPtr<Slot>;

pub struct FdTable {
    /// `TOP_LEN` pointers to middle blocks (each to the first of `MID_LEN` leaf pointers, or
    /// null). A non-null pointer, once stored, never changes until the table is dropped.
    top: Box<[AtomicPtr<Mid>]>,
}

impl Default for FdTable {
    fn default() -> Self {
        FdTable {
            top: (0..TOP_LEN)
                .map(|_| AtomicPtr::new(std::ptr::null_mut()))
                .collect(),
        }
    }
}

/// The block `link` points to, allocated (by `make`, `len` elements) and published if it is
/// still null; a thread that loses the race frees its own block and uses the winner's.
fn block_or_make<T>(link: &AtomicPtr<T>, len: usize, make: impl Fn() -> T) -> *mut T {
    let existing = link.load(Ordering::Acquire);
    if !existing.is_null() {
        return existing;
    }
    let block: Box<[T]> = (0..len).map(|_| make()).collect();
    let fresh = Box::into_raw(block).cast::<T>();
    match link.compare_exchange(
        std::ptr::null_mut(),
        fresh,
        Ordering::AcqRel,
        Ordering::Acquire,
    ) {
        Ok(_) => fresh,
        Err(winner) => {
            // SAFETY: `fresh` came from `Box::<[T]>::into_raw` with `len` elements just above
            // and was never published.
            drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(fresh, len)) });
            winner
        }
    }
}

/// Frees the block `link` points to (if any): `len` elements, each dropped.
///
/// # Safety
/// Only while nothing else can reach the table (its drop).
unsafe fn free_block<T>(link: &mut AtomicPtr<T>, len: usize) {
    let block = *link.get_mut();
    if !block.is_null() {
        // SAFETY: a non-null link was published by `block_or_make` from a `Box<[T]>` of `len`
        // elements; the caller guarantees no other reference to it exists.
        drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(block, len)) });
    }
}

impl Drop for FdTable {
    fn drop(&mut self) {
        for mid_link in self.top.iter_mut() {
            let mid = *mid_link.get_mut();
            if mid.is_null() {
                continue;
            }
            for at in 0..MID_LEN {
                // SAFETY: `mid` is a published middle block of `MID_LEN` pointers, still
                // allocated (freed just below); `&mut self` means no other thread uses it.
                unsafe { free_block(&mut *mid.add(at), LEAF_LEN) };
            }
            // SAFETY: as above; its leaves were freed just now.
            unsafe { free_block(mid_link, MID_LEN) };
        }
    }
}

/// One descriptor's entry: a single allocation (with its queued operations' one) per socket,
/// kept small because a server may have tens of thousands of idle sockets with a pending receive.
struct FdEntry {
    fd: RawFd,
    state: Mutex<FdState>,
}

#[derive(Default)]
struct FdState {
    /// (device, inode) of the open file this entry was made for: a descriptor closed behind the
    /// library's back (raw system call) and reused for another file is detected by it.
    identity: Option<(u64, u64)>,
    /// Checked to be a stream socket of a supported family.
    is_stream_socket: bool,
    /// A TCP socket: a receive that returns less than it asked for has emptied the queue
    /// (unless it stopped at an urgent-data mark). Not so for AF_UNIX, whose reads also stop
    /// where the sender's credentials change.
    short_read_empties: bool,
    /// Urgent data, or the peer's end (hang-up, end of file, error), was reported once: a short
    /// read may have stopped at the urgent mark or just before the end, with no edge to follow,
    /// so short reads no longer prove the queue empty.
    short_reads_inconclusive: bool,
    /// The last receive found the input queue empty and no readable edge has been reported
    /// since. A new receive on a descriptor that the port's engine watches, while another
    /// thread is in that engine, then waits for the next edge instead of trying a system call
    /// that would say "would block" (the echo pattern: receive, answer, receive again). The
    /// engine reports every arrival after that receive as a new edge, so nothing is missed.
    /// Without a thread in the engine the receive is tried at once as always, so a program
    /// that saw the socket readable gets its data inside the start call (spec §4). When
    /// unsure, false.
    input_drained: bool,
    /// Seen connected (or listening) at least once: from then on "not connected" from the kernel
    /// means the connection ended (EPIPE / end of file), not a call on an unconnected socket.
    was_connected: bool,
    /// `O_NONBLOCK` was set on this listening socket for accepts.
    listener_nonblocking: bool,
    /// A port with operations on it was destroyed: start calls fail from now on.
    aborted: bool,
    /// Removed from the table by the close hook.
    closed: bool,
    /// Every queued operation (receives, sends, accepts, and timed `QsoPostIOCompletion`s tied to
    /// this descriptor), in the order they were queued. The operations of one direction form its
    /// FIFO; the first of them is its head.
    ops: VecDeque<Op>,
    /// Ports whose engine watches this descriptor.
    watched_by: PortSet,
}

/// A set of ports, kept without an allocation while it has at most one (the usual case: one
/// port watches a descriptor).
#[derive(Default)]
enum PortSet {
    #[default]
    Empty,
    One(Arc<Port>),
    Many(Vec<Arc<Port>>),
}

impl PortSet {
    fn as_slice(&self) -> &[Arc<Port>] {
        match self {
            PortSet::Empty => &[],
            PortSet::One(port) => std::slice::from_ref(port),
            PortSet::Many(ports) => ports,
        }
    }

    fn contains(&self, port: &Arc<Port>) -> bool {
        self.as_slice().iter().any(|p| Arc::ptr_eq(p, port))
    }

    /// Adds `port` (not yet in the set).
    fn insert(&mut self, port: Arc<Port>) {
        *self = match std::mem::take(self) {
            PortSet::Empty => PortSet::One(port),
            PortSet::One(first) => PortSet::Many(vec![first, port]),
            PortSet::Many(mut ports) => {
                ports.push(port);
                PortSet::Many(ports)
            }
        };
    }

    fn remove(&mut self, port: &Arc<Port>) {
        match self {
            PortSet::One(p) if Arc::ptr_eq(p, port) => *self = PortSet::Empty,
            PortSet::Many(ports) => ports.retain(|p| !Arc::ptr_eq(p, port)),
            _ => {}
        }
    }

    /// Empties the set and returns its ports.
    fn take_all(&mut self) -> Vec<Arc<Port>> {
        match std::mem::take(self) {
            PortSet::Empty => Vec::new(),
            PortSet::One(port) => vec![port],
            PortSet::Many(ports) => ports,
        }
    }
}

impl FdState {
    /// True when an operation of `direction` is queued.
    fn has_queued(&self, direction: Direction) -> bool {
        self.ops.iter().any(|op| op.kind.direction() == direction)
    }

    /// Queues `op` behind every operation queued before it.
    fn enqueue(&mut self, op: Op) {
        // Most sockets have one operation at a time: do not let the first push reserve four.
        if self.ops.capacity() == 0 {
            self.ops.reserve_exact(1);
        }
        self.ops.push_back(op);
    }

    /// When the descriptor now refers to another file than the one this entry was made for
    /// (closed without the close hook, number reused), resets the entry for the new file and
    /// posts the old file's operations with `Closed`. Costs one fstat.
    fn refresh_if_stale(&mut self, fd: RawFd) {
        let now = file_identity(fd);
        if self.identity.is_none() {
            // Made while the descriptor was being closed: nothing was queued for that file.
            self.identity = now;
            return;
        }
        if now == self.identity {
            return;
        }
        let orphans = self.remove_where(|_| true);
        *self = FdState {
            identity: now,
            ..FdState::default()
        };
        for mut op in orphans {
            let completion = op.stopped(Ending::Closed);
            op.port.finish_queued(completion);
        }
    }

    /// Records what a receive attempt learnt about the input queue.
    fn note_receive(&mut self, left: InputLeft) {
        self.input_drained = match left {
            InputLeft::Empty => true,
            InputLeft::ShortRead => self.short_read_empties && !self.short_reads_inconclusive,
            InputLeft::Unknown => false,
        };
    }

    /// For a closed entry (a close of this number under way or just finished): true when the
    /// number already names another file, so the entry is stale and the call should start over.
    fn closed_but_reused(&self, fd: RawFd) -> bool {
        let now = file_identity(fd);
        now.is_some() && now != self.identity
    }

    /// True when a queued operation has a driver, which may need either direction's readiness.
    fn has_driven_ops(&self) -> bool {
        self.ops.iter().any(Op::is_driven)
    }

    /// Removes every operation matching `pick` and returns them: receives first, then sends,
    /// accepts and timed posts, each in queue order.
    fn remove_where(&mut self, mut pick: impl FnMut(&Op) -> bool) -> Vec<Op> {
        let mut removed = Vec::new();
        let mut at = 0;
        while at < self.ops.len() {
            if pick(&self.ops[at]) {
                removed.extend(self.ops.remove(at));
            } else {
                at += 1;
            }
        }
        // Stable: queue order within each direction.
        removed.sort_by_key(|op| op.kind.direction() as u8);
        removed
    }
}

impl FdEntry {
    fn lock(&self) -> MutexGuard<'_, FdState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl FdTable {
    /// Where `fd` lives: (top, middle, leaf) indices; `None` for a number no descriptor can have.
    fn position(fd: RawFd) -> Option<(usize, usize, usize)> {
        let n = u32::try_from(fd).ok()?;
        if n >> FD_BITS != 0 {
            return None;
        }
        let n = n as usize;
        Some((
            n >> (MID_BITS + LEAF_BITS),
            (n >> LEAF_BITS) & (MID_LEN - 1),
            n & (LEAF_LEN - 1),
        ))
    }

    /// The slot of `fd` if its leaf exists.
    fn slot(&self, fd: RawFd) -> Option<&Slot> {
        let (t, m, l) = Self::position(fd)?;
        let mid = self.top[t].load(Ordering::Acquire);
        if mid.is_null() {
            return None;
        }
        // SAFETY: a non-null top link points to a published middle block of `MID_LEN` links,
        // allocated until the table is dropped (which `&self` rules out); `m < MID_LEN`.
        let leaf = unsafe { &*mid.add(m) }.load(Ordering::Acquire);
        if leaf.is_null() {
            return None;
        }
        // SAFETY: likewise for a published leaf of `LEAF_LEN` slots; `l < LEAF_LEN`.
        Some(unsafe { &*leaf.add(l) })
    }

    /// The slot of `fd`, making its blocks if needed; `None` only for a negative number (or,
    /// under loom, one beyond the model's range).
    fn slot_or_make(&self, fd: RawFd) -> Option<&Slot> {
        let (t, m, l) = Self::position(fd)?;
        let mid = block_or_make(&self.top[t], MID_LEN, || {
            AtomicPtr::new(std::ptr::null_mut())
        });
        // SAFETY: `block_or_make` returns a published middle block of `MID_LEN` links, kept
        // until the table is dropped; `m < MID_LEN`.
        let leaf_link = unsafe { &*mid.add(m) };
        let leaf = block_or_make(leaf_link, LEAF_LEN, || Mutex::new(None));
        // SAFETY: likewise, a published leaf of `LEAF_LEN` slots; `l < LEAF_LEN`.
        Some(unsafe { &*leaf.add(l) })
    }

    fn lock(slot: &Slot) -> MutexGuard<'_, Option<Arc<FdEntry>>> {
        slot.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lookup(&self, fd: RawFd) -> Option<Arc<FdEntry>> {
        Self::lock(self.slot(fd)?).clone()
    }

    /// The entry of `fd`, made if there is none; `None` for a negative number. `family`: the
    /// caller has just checked that `fd` is a stream socket of this address family (a new
    /// entry records it, so the start call does not check again).
    fn get_or_insert(&self, fd: RawFd, family: Option<StreamSocket>) -> Option<Arc<FdEntry>> {
        let mut slot = Self::lock(self.slot_or_make(fd)?);
        let entry = slot.get_or_insert_with(|| {
            Arc::new(FdEntry {
                fd,
                state: Mutex::new(FdState {
                    identity: file_identity(fd),
                    is_stream_socket: family.is_some(),
                    short_read_empties: family.is_some_and(|f| f.plain_tcp),
                    ..FdState::default()
                }),
            })
        });
        Some(Arc::clone(entry))
    }

    /// Puts `entry` in place of whatever the table had for `fd`, and returns that. A negative
    /// number has no place (nothing can be started on it): nothing is stored.
    fn replace(&self, fd: RawFd, entry: Arc<FdEntry>) -> Option<Arc<FdEntry>> {
        Self::lock(self.slot_or_make(fd)?).replace(entry)
    }

    /// Removes the table's entry for `fd` if it is still `entry`.
    fn remove_if_same(&self, fd: RawFd, entry: &Arc<FdEntry>) {
        let Some(slot) = self.slot(fd) else {
            return;
        };
        let mut slot = Self::lock(slot);
        if slot.as_ref().is_some_and(|e| Arc::ptr_eq(e, entry)) {
            *slot = None;
        }
    }

    fn all(&self) -> Vec<Arc<FdEntry>> {
        let mut all = Vec::new();
        for mid_link in self.top.iter() {
            let mid = mid_link.load(Ordering::Acquire);
            if mid.is_null() {
                continue;
            }
            for m in 0..MID_LEN {
                // SAFETY: as in `slot`: a published middle block of `MID_LEN` links.
                let leaf = unsafe { &*mid.add(m) }.load(Ordering::Acquire);
                if leaf.is_null() {
                    continue;
                }
                for l in 0..LEAF_LEN {
                    // SAFETY: as in `slot`: a published leaf of `LEAF_LEN` slots.
                    let slot = unsafe { &*leaf.add(l) };
                    all.extend(Self::lock(slot).clone());
                }
            }
        }
        all
    }
}

/// Ok when `fd` is an open socket (any type): `EBADF` / `ENOTSOCK` otherwise.
pub fn check_socket(fd: RawFd) -> Result<(), i32> {
    let known_socket = globals()
        .fds
        .lookup(fd)
        .is_some_and(|entry| entry.lock().is_stream_socket);
    if known_socket {
        return Ok(());
    }
    socket_option(fd, libc::SO_TYPE).map(|_| ())
}

/// What the check of a stream socket learnt.
#[derive(Clone, Copy)]
struct StreamSocket {
    /// A plain TCP socket (see `FdState::short_read_empties`).
    plain_tcp: bool,
}

/// Ok when `fd` is a stream socket of a family the library serves.
fn check_stream_socket(fd: RawFd) -> Result<StreamSocket, i32> {
    if socket_option(fd, libc::SO_TYPE)? != libc::SOCK_STREAM {
        return Err(libc::EOPNOTSUPP);
    }
    match socket_option(fd, libc::SO_DOMAIN)? {
        libc::AF_INET | libc::AF_INET6 => Ok(StreamSocket {
            plain_tcp: is_plain_tcp(fd),
        }),
        libc::AF_UNIX => Ok(StreamSocket { plain_tcp: false }),
        _ => Err(libc::EOPNOTSUPP),
    }
}

fn set_nonblocking(fd: RawFd) -> Result<(), i32> {
    // SAFETY: fcntl on a descriptor number with integer arguments only.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 || libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) < 0 {
            return Err(std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EBADF));
        }
    }
    Ok(())
}

/// Starts a receive, send or accept on socket `fd` for `port`.
pub fn start(fd: RawFd, port: &Arc<Port>, mut req: OpRequest) -> StartOutcome {
    let table = &globals().fds;
    let entry = match table.lookup(fd) {
        Some(entry) => entry,
        None => {
            let family = match check_stream_socket(fd) {
                Ok(family) => family,
                Err(errno) => return StartOutcome::Refused(errno),
            };
            match table.get_or_insert(fd, Some(family)) {
                Some(entry) => entry,
                None => return StartOutcome::Refused(libc::EBADF),
            }
        }
    };
    let mut st = entry.lock();
    if st.closed {
        if st.closed_but_reused(fd) {
            drop(st);
            table.remove_if_same(fd, &entry);
            return start(fd, port, req);
        }
        return StartOutcome::Refused(libc::EBADF);
    }
    // One identity check (an fstat) per start call at most: here when earlier state would
    // decide the outcome, or below before relying on an old registration.
    let identity_checked = st.aborted || st.has_queued(req.kind.direction());
    if identity_checked {
        st.refresh_if_stale(fd);
    }
    if !st.is_stream_socket {
        match check_stream_socket(fd) {
            Ok(family) => st.short_read_empties = family.plain_tcp,
            Err(errno) => return StartOutcome::Refused(errno),
        }
        st.is_stream_socket = true;
    }
    if st.aborted {
        let errno = match req.kind {
            OpKind::Send => libc::EPIPE,
            _ => libc::ECONNABORTED,
        };
        return StartOutcome::Refused(errno);
    }
    if req.kind == OpKind::Accept {
        match socket_option(fd, libc::SO_ACCEPTCONN) {
            Ok(0) => return StartOutcome::Refused(libc::EINVAL),
            Ok(_) => {}
            Err(errno) => return StartOutcome::Refused(errno),
        }
        if !st.listener_nonblocking {
            if let Err(errno) = set_nonblocking(fd) {
                return StartOutcome::Refused(errno);
            }
            st.listener_nonblocking = true;
        }
    }

    if !st.was_connected {
        st.was_connected = req.kind == OpKind::Accept || is_connected(fd);
    }

    let seq = globals().next_seq();
    let mut op = Op::new(seq, Arc::clone(port), &mut req);
    let known_empty = req.kind == OpKind::Recv
        && st.input_drained
        && !op.is_driven()
        && port.has_leader()
        && st.watched_by.contains(port);
    if !st.has_queued(req.kind.direction()) && !known_empty {
        let progress = op.attempt(fd, !st.was_connected);
        if req.kind == OpKind::Recv {
            st.note_receive(op.input_left);
        }
        match progress {
            Progress::Finished(ending, value) => {
                drop(st);
                return finish_at_start(port, op.completion(ending, value), req.post_flag);
            }
            Progress::Refused(errno) => return StartOutcome::Refused(errno),
            Progress::Blocked => {}
        }
    }
    if !identity_checked && st.watched_by.contains(port) {
        // About to rely on an old registration: make sure it is for this file (a new file
        // gets a fresh entry, which the engine is then asked to watch below).
        st.refresh_if_stale(fd);
    }
    if !st.watched_by.contains(port) {
        let watched = port.engine().and_then(|engine| engine.watch(fd));
        // EEXIST: this engine already watches this very file (registered under an entry that
        // was replaced while a close raced a start); the registration is as good as new.
        let watched = watched.or_else(|e| match e.raw_os_error() {
            Some(libc::EEXIST) => Ok(()),
            _ => Err(e),
        });
        if let Err(error) = watched {
            let errno = error.raw_os_error().unwrap_or(libc::ENOMEM);
            if op.done() == 0 && !op.is_driven() {
                return StartOutcome::Refused(errno);
            }
            // Bytes already moved are never lost: end the operation with them.
            drop(st);
            let completion = op.stopped(Ending::Os(errno));
            return finish_at_start(port, completion, req.post_flag);
        }
        st.watched_by.insert(Arc::clone(port));
    }
    if !port.op_queued(TimerTarget { fd, seq }, req.deadline) {
        // The port was destroyed during this call.
        if op.done() == 0 {
            return StartOutcome::Refused(libc::EINVAL);
        }
        // Bytes have moved: the operation was outstanding when its port went, so it ends as
        // the destroy ends such operations (dropped, socket aborted), and the call says it
        // started rather than "nothing started".
        abort_socket(&mut st, fd);
        return StartOutcome::Pending;
    }
    st.enqueue(op);
    StartOutcome::Pending
}

fn finish_at_start(port: &Port, mut completion: Completion, post_flag: bool) -> StartOutcome {
    if !post_flag {
        return StartOutcome::Finished(completion);
    }
    completion.posted_at_start = true;
    port.post(completion);
    StartOutcome::Posted
}

/// True when `fd` is an open descriptor (of any kind).
fn is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD on a descriptor number only reads its flags.
    unsafe { libc::fcntl(fd, libc::F_GETFD) >= 0 }
}

/// Arms a timed post tied to descriptor `fd`: it is delivered with `TimedOut` at `deadline`, or
/// with `Closed` as soon as `fd` is closed (at once if `fd` is not open now).
pub fn start_timed_post(fd: RawFd, port: &Arc<Port>, mut req: OpRequest) -> Result<(), i32> {
    let seq = globals().next_seq();
    let mut op = Op::new(seq, Arc::clone(port), &mut req);
    if !is_open(fd) {
        port.post(op.stopped(Ending::Closed));
        return Ok(());
    }
    let table = &globals().fds;
    let Some(entry) = table.get_or_insert(fd, None) else {
        port.post(op.stopped(Ending::Closed));
        return Ok(());
    };
    let mut st = entry.lock();
    if st.closed {
        if st.closed_but_reused(fd) {
            drop(st);
            table.remove_if_same(fd, &entry);
            return start_timed_post(fd, port, req);
        }
        drop(st);
        port.post(op.stopped(Ending::Closed));
        return Ok(());
    }
    if !port.op_queued(TimerTarget { fd, seq }, req.deadline) {
        return Err(libc::EINVAL);
    }
    st.enqueue(op);
    Ok(())
}

/// Performs the head operations that readiness allows; completions go to `out`.
pub fn on_ready(ready: Readiness, out: &mut Vec<(Arc<Port>, Completion)>) {
    let Some(entry) = globals().fds.lookup(ready.fd) else {
        return;
    };
    let mut st = entry.lock();
    if st.closed {
        return;
    }
    // A driven (TLS) operation may wait for either direction: a receive may have to write
    // and a send may have to read, so such descriptors try both queues on any readiness.
    let both = st.has_driven_ops();
    if ready.urgent || ready.hangup {
        st.short_reads_inconclusive = true;
    }
    if ready.readable {
        st.input_drained = false;
    }
    if ready.readable || both {
        if let Some(left) = drain_ready(entry.fd, &mut st.ops, Direction::Read, out) {
            st.note_receive(left);
        }
        drain_ready(entry.fd, &mut st.ops, Direction::Accept, out);
    }
    if ready.writable || both {
        drain_ready(entry.fd, &mut st.ops, Direction::Write, out);
    }
}

/// Tries the queued operations of `fd` again now, as if it had become readable and writable,
/// and delivers those that end. For a change that no readiness reports: the secure layer calls
/// it when a session is closed, so that operations waiting on that session end at once.
pub fn retry(fd: RawFd) {
    let mut finished = Vec::new();
    on_ready(
        Readiness {
            fd,
            readable: true,
            writable: true,
            urgent: false,
            hangup: false,
        },
        &mut finished,
    );
    for (port, completion) in finished {
        port.finish_queued(completion);
    }
}

/// Attempts the operations of `direction` from its head until one would block; returns what the
/// last attempt learnt about the input queue (`None`: nothing was attempted).
fn drain_ready(
    fd: RawFd,
    ops: &mut VecDeque<Op>,
    direction: Direction,
    out: &mut Vec<(Arc<Port>, Completion)>,
) -> Option<InputLeft> {
    let mut left = None;
    while let Some(head) = ops.iter().position(|op| op.kind.direction() == direction) {
        let op = &mut ops[head];
        let progress = op.attempt(fd, false);
        left = Some(op.input_left);
        match progress {
            Progress::Finished(ending, value) => {
                let completion = op.completion(ending, value);
                let op = ops.remove(head).expect("head exists");
                out.push((op.port, completion));
            }
            Progress::Blocked | Progress::Refused(_) => break,
        }
    }
    left
}

/// Ends the operation a timer belongs to, if it is still queued.
pub fn expire(target: TimerTarget, out: &mut Vec<(Arc<Port>, Completion)>) {
    let Some(entry) = globals().fds.lookup(target.fd) else {
        return;
    };
    let mut st = entry.lock();
    for mut op in st.remove_where(|op| op.seq == target.seq) {
        let completion = op.stopped(Ending::TimedOut);
        out.push((op.port, completion));
    }
}

/// Cancels every pending operation on `fd` whose caller id is `user_id`; returns how many.
/// `EAGAIN` (and nothing cancelled) when one of them cannot be interrupted.
pub fn cancel(fd: RawFd, user_id: u64) -> Result<usize, i32> {
    let Some(entry) = globals().fds.lookup(fd) else {
        check_socket(fd)?;
        return Ok(0);
    };
    let mut st = entry.lock();
    if st
        .ops
        .iter()
        .any(|op| op.user_id == user_id && op.uninterruptible())
    {
        return Err(libc::EAGAIN);
    }
    let removed = st.remove_where(|op| op.user_id == user_id);
    drop(st);
    let count = removed.len();
    for mut op in removed {
        let completion = op.stopped(Ending::Cancelled);
        op.port.finish_queued(completion);
    }
    Ok(count)
}

/// True when an operation with caller id `user_id` is pending on `fd`.
pub fn is_pending(fd: RawFd, user_id: u64) -> Result<bool, i32> {
    let Some(entry) = globals().fds.lookup(fd) else {
        check_socket(fd)?;
        return Ok(false);
    };
    let st = entry.lock();
    let pending = st.ops.iter().any(|op| op.user_id == user_id);
    Ok(pending)
}

/// The close hook: closes `fd` with `real_close` (the system call, or dup2/dup3 over it).
/// Every operation on the descriptor is posted with `Closed`; once this returns, none of their
/// buffers is touched again.
///
/// While the system call runs, the table holds a closed "tombstone" entry for the number, so a
/// start call racing the close fails with `EBADF` instead of queueing an operation on a file
/// that is going away (which nobody would ever post).
pub fn close_with(fd: RawFd, real_close: impl FnOnce() -> libc::c_int) -> libc::c_int {
    let Some(g) = super::registry::globals_if_initialized() else {
        return real_close();
    };
    if g.fds.slot(fd).is_none() && !is_open(fd) {
        // A number the table has no place for and that names nothing: no entry to end, no
        // socket a start call could be racing on. Making a place would pin table blocks for
        // every number of a "close everything from 3 up" loop.
        return real_close();
    }
    let tombstone = Arc::new(FdEntry {
        fd,
        state: Mutex::new(FdState {
            identity: file_identity(fd),
            closed: true,
            ..FdState::default()
        }),
    });
    if let Some(entry) = g.fds.replace(fd, Arc::clone(&tombstone)) {
        close_entry(&entry);
    }
    let rc = real_close();
    g.fds.remove_if_same(fd, &tombstone);
    rc
}

/// Marks an entry closed and posts its operations with `Closed`.
fn close_entry(entry: &FdEntry) {
    let mut st = entry.lock();
    st.closed = true;
    for port in st.watched_by.take_all() {
        if let Ok(engine) = port.engine() {
            let _ = engine.unwatch(entry.fd);
        }
    }
    let removed = st.remove_where(|_| true);
    drop(st);
    for mut op in removed {
        let completion = op.stopped(Ending::Closed);
        op.port.finish_queued(completion);
    }
}

/// Marks a socket aborted by a port's destruction and shuts it down, so the peer sees the end.
fn abort_socket(st: &mut FdState, fd: RawFd) {
    st.aborted = true;
    // SAFETY: shutdown on a descriptor number; its entry is live, so it is still open.
    unsafe {
        libc::shutdown(fd, libc::SHUT_RDWR);
    }
}

/// A port is being destroyed: drops its operations without posting them, and aborts the
/// sockets they were on (later start calls fail; the peer sees the end).
pub fn abort_port(port: &Arc<Port>) {
    for entry in globals().fds.all() {
        let mut st = entry.lock();
        let removed = st.remove_where(|op| Arc::ptr_eq(&op.port, port));
        let had_socket_ops = removed.iter().any(|op| op.kind != OpKind::Post);
        if had_socket_ops {
            abort_socket(&mut st, entry.fd);
        }
        st.watched_by.remove(port);
        drop(st);
        for mut op in removed {
            // Never posted; a driver still learns that its operation ended (a secure session
            // whose handshake was cut off this way is failed rather than left half-open).
            let _ = op.stopped(Ending::Closed);
        }
    }
}

#[cfg(test)]
mod tests {
    /// What an idle socket with one pending receive costs (bench/scale.c measures it, goal
    /// <= 256 bytes): its entry (in an `Arc`), its operation (the queue's one slot) and its
    /// slot in the table. Malloc rounds a request up to a multiple of 16, plus 8: an entry of
    /// at most 104 bytes (+16 of `Arc` counts) takes 128, an operation of 72 takes 80.
    #[test]
    fn pending_receive_stays_small() {
        assert!(std::mem::size_of::<super::Op>() <= 72);
        assert!(std::mem::size_of::<super::FdEntry>() <= 104);
    }

    /// Negative numbers have no slot; the largest number has one (made on demand, small).
    #[cfg(not(loom))]
    #[test]
    fn table_takes_any_number() {
        let table = super::FdTable::default();
        assert!(table.lookup(-1).is_none());
        assert!(table.get_or_insert(-1, None).is_none());
        assert!(table.lookup(i32::MIN).is_none());
        for fd in [0, 1023, 1024, 20_000, i32::MAX] {
            assert!(table.lookup(fd).is_none());
            let entry = table.get_or_insert(fd, None).expect("a slot");
            let again = table
                .get_or_insert(fd, Some(super::StreamSocket { plain_tcp: true }))
                .expect("a slot");
            assert!(super::Arc::ptr_eq(&entry, &again));
            assert!(!entry.lock().is_stream_socket);
        }
        assert_eq!(table.all().len(), 5);
        let first = table.lookup(i32::MAX).expect("inserted");
        let tombstone = table.get_or_insert(7, None).expect("a slot");
        let old = table.replace(i32::MAX, super::Arc::clone(&tombstone));
        assert!(old.is_some_and(|old| super::Arc::ptr_eq(&old, &first)));
        table.remove_if_same(i32::MAX, &first);
        assert!(table.lookup(i32::MAX).is_some());
        table.remove_if_same(i32::MAX, &tombstone);
        assert!(table.lookup(i32::MAX).is_none());
        assert_eq!(table.all().len(), 5);
    }
}
