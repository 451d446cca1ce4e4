//! Flood control: how fast one connection, and one client address with all its connections and
//! plain HTTP requests, may do each thing that costs the server or the people in a room
//! ([`Act`]: messages, typing signals, handshakes, requests), how many connections one address
//! may hold, and when a client that keeps going over its limits is cut off — after which its
//! address may not connect (or post) again for a while.
//!
//! An address's state outlives its connections until it could not matter any more (its buckets
//! full again, its cool-down over): reconnecting must not be a way to get fresh buckets.
//!
//! An address is an IPv4 address, or an IPv6 address's /64 (one household or one machine gets a
//! whole /64 and can pick any address in it); an IPv4-mapped IPv6 address counts as its IPv4.
//!
//! Per node: a cluster's nodes each count what reaches them (nginx keeps a client on one node).

use std::{
    collections::HashMap,
    net::{IpAddr, Ipv6Addr},
    sync::{
        atomic::{AtomicU32, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use axum::{
    extract::ConnectInfo,
    http::{request::Parts, HeaderName},
};
use protocol::{HandshakeError, Rejection};

use crate::http::transports::Peer;

/// The header a trusted proxy names the client's address in ([`Flood::address_of`]).
pub const FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// A sustained rate with a burst on top; `None` where a setting turns the limit off.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub burst: f64,
    pub per_second: f64,
}

impl Rate {
    /// A burst of 0 means no limit.
    pub fn new(burst: u32, per_second: f64) -> Option<Self> {
        (burst > 0).then_some(Self {
            burst: f64::from(burst),
            per_second: per_second.max(0.0),
        })
    }
}

/// What a client does that is limited, each with buckets of its own: typing can never use up
/// a person's messages, nor a page's room-list requests its handshakes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// A chat message: over a socket, or the no-JavaScript form's POST.
    Message,
    /// `typing` / `stop typing`.
    Signal,
    /// A new Socket.IO connection.
    Handshake,
    /// A read: the room list over a socket, a history page over HTTP.
    Request,
}

impl Act {
    const ALL: [Act; 4] = [Act::Message, Act::Signal, Act::Handshake, Act::Request];

    fn index(self) -> usize {
        self as usize
    }
}

/// Per act, a rate (or none).
pub type Rates = [Option<Rate>; Act::ALL.len()];

/// What the node enforces (see [`Config`](crate::Config) for each setting's meaning and default).
#[derive(Debug, Clone, Copy)]
pub struct FloodLimits {
    /// Per connection, by act (handshakes and requests have no per-connection limit).
    pub per_connection: Rates,
    /// Per address, all its connections and requests together, by act.
    pub per_address: Rates,
    /// Refusals in a row after which a connection is cut off, or an address (refused a handshake,
    /// a post or a read) cools down (0: never).
    pub disconnect_after: u32,
    /// Connections one address may hold (0: any number).
    pub max_connections_per_address: u32,
    /// How long an address whose client was cut off for flooding may not connect or post again.
    pub cooldown: Duration,
    /// Whether the client's address is the last hop of `X-Forwarded-For` (behind a proxy).
    pub trust_forwarded_for: bool,
}

/// A token bucket: `burst` tokens, refilled at `per_second`; an act takes one.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn full(rate: Rate) -> Self {
        Self {
            tokens: rate.burst,
            at: Instant::now(),
        }
    }

    /// Its tokens at `now`, refilled since it was last taken from.
    fn tokens_at(&self, rate: Rate, now: Instant) -> f64 {
        let refill = now.saturating_duration_since(self.at).as_secs_f64() * rate.per_second;
        (self.tokens + refill).min(rate.burst)
    }

    /// Whether it would be full by `now`, as a new one is.
    fn is_full(&self, rate: Rate, now: Instant) -> bool {
        self.tokens_at(rate, now) >= rate.burst
    }

    fn take(&mut self, rate: Rate, now: Instant) -> bool {
        self.tokens = self.tokens_at(rate, now);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// A bucket per act, made full for each act that has a rate.
struct Buckets([Option<Bucket>; Act::ALL.len()]);

impl Buckets {
    fn full(rates: &Rates) -> Self {
        Self(std::array::from_fn(|at| rates[at].map(Bucket::full)))
    }

    /// Takes a token for `act`; true if there was one (or no limit).
    fn take(&mut self, rates: &Rates, act: Act, now: Instant) -> bool {
        match (&mut self.0[act.index()], rates[act.index()]) {
            (Some(bucket), Some(rate)) => bucket.take(rate, now),
            _ => true,
        }
    }

    fn are_full(&self, rates: &Rates, now: Instant) -> bool {
        self.0
            .iter()
            .zip(rates)
            .all(|(bucket, rate)| match (bucket, rate) {
                (Some(bucket), Some(rate)) => bucket.is_full(*rate, now),
                _ => true,
            })
    }
}

/// One address's share: its buckets, its open connections, its cool-down.
struct Address {
    buckets: Buckets,
    connections: u32,
    /// Engine.IO sessions it holds open although refused (see [`Arrival::Refused`]).
    refused_sessions: u32,
    /// Its handshakes, posts and reads refused in a row (messages and signals count per
    /// connection).
    refused_in_a_row: u32,
    /// Set when one of its clients was cut off for flooding: no new connection or post before.
    cool_until: Option<Instant>,
}

impl Address {
    /// Whether forgetting it changes nothing: a new entry would be the same.
    fn is_blank(&self, rates: &Rates, now: Instant) -> bool {
        self.connections == 0
            && self.refused_sessions == 0
            && self.cool_until.is_none_or(|until| until <= now)
            && self.buckets.are_full(rates, now)
    }

    fn is_cooling_down(&self, now: Instant) -> bool {
        self.cool_until.is_some_and(|until| now < until)
    }
}

/// Every address with a state, and when the blank ones were last swept away.
struct Addresses {
    states: HashMap<IpAddr, Address>,
    swept_at: Instant,
}

/// How often admissions sweep away addresses gone blank since they were last connected: a
/// walk over the map at most this often, and forgotten addresses stay at most this long.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// The node's flood control. A clone shares the original's limits and counts: every admitted
/// connection's place ([`Admission`]) keeps one for the connection's life.
#[derive(Clone)]
pub struct Flood {
    limits: Arc<FloodLimits>,
    addresses: Arc<Mutex<Addresses>>,
}

/// Why an address was refused a handshake, a post or a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressRefusal {
    /// Over its rate for the act.
    TooFast,
    /// Cut off for flooding a moment ago.
    CoolingDown,
}

/// Engine.IO sessions an address may hold open while refused: long enough for a client to read
/// why (the namespace handshake's `connect_error`) and close its session, as the official client
/// does; a client that keeps them open gets no more sessions, only `429`s.
const REFUSED_SESSIONS_PER_ADDRESS: u32 = 10;

/// What admission decided for an Engine.IO session, before the engine saw it. It lives in the
/// session's handshake request, which the engine keeps as long as the session: so a session
/// counts against its address however it behaves — connected to the namespace or not, left it
/// or not — until it is gone.
#[derive(Clone)]
pub enum Arrival {
    Admitted(Admission),
    /// Let through to be told why at the namespace handshake, holding its place meanwhile.
    Refused {
        reason: HandshakeError,
        _hold: RefusedHold,
    },
}

/// A refused session's place among its address's [`REFUSED_SESSIONS_PER_ADDRESS`].
#[derive(Clone)]
pub struct RefusedHold {
    _held: Arc<Held>,
}

/// An admitted connection's hold on its address's count, released when its session is gone.
#[derive(Clone)]
pub struct Admission(Arc<Held>);

/// Which of its address's counts a session holds a place in.
#[derive(Clone, Copy)]
enum Place {
    Connection,
    RefusedSession,
}

/// A place in one of an address's counts, given back when the last clone is dropped.
struct Held {
    flood: Flood,
    address: Option<IpAddr>,
    place: Place,
}

impl std::fmt::Debug for Admission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Admission").field(&self.0.address).finish()
    }
}

impl Admission {
    /// The address the connection counts under ([`counted`]), if known.
    pub fn address(&self) -> Option<IpAddr> {
        self.0.address
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let Some(address) = self.address else { return };
        let rates = &self.flood.limits.per_address;
        let mut addresses = self.flood.addresses.lock().unwrap();
        if let Some(entry) = addresses.states.get_mut(&address) {
            let count = match self.place {
                Place::Connection => &mut entry.connections,
                Place::RefusedSession => &mut entry.refused_sessions,
            };
            *count = count.saturating_sub(1);
            if entry.is_blank(rates, Instant::now()) {
                addresses.states.remove(&address);
            }
        }
    }
}

/// One connection's pace: its buckets, and per act how many were refused in a row (typing that
/// goes through does not excuse messages that do not, nor the other way round).
pub struct Pace {
    admission: Admission,
    buckets: Mutex<Buckets>,
    refused_in_a_row: [AtomicU32; Act::ALL.len()],
}

impl Pace {
    /// The address its connection counts under ([`counted`]), if known.
    pub fn address(&self) -> Option<IpAddr> {
        self.admission.address()
    }
}

impl Flood {
    pub fn new(limits: FloodLimits) -> Self {
        let addresses = Addresses {
            states: HashMap::new(),
            swept_at: Instant::now(),
        };
        Self {
            limits: Arc::new(limits),
            addresses: Arc::new(Mutex::new(addresses)),
        }
    }

    /// The address a request came from, as limits count it ([`counted`]): the TCP peer, or
    /// behind a trusted proxy the last hop of [`FORWARDED_FOR`] (the one the proxy itself
    /// appended). `None` if neither is known.
    pub fn address_of(&self, request: &Parts) -> Option<IpAddr> {
        let forwarded = self
            .limits
            .trust_forwarded_for
            .then(|| {
                request
                    .headers
                    .get_all(FORWARDED_FOR)
                    .iter()
                    .filter_map(|value| value.to_str().ok())
                    .flat_map(|value| value.split(','))
                    .last()
                    .and_then(|hop| hop.trim().parse().ok())
            })
            .flatten();
        forwarded
            .or_else(|| {
                request
                    .extensions
                    .get::<ConnectInfo<Peer>>()
                    .map(|ConnectInfo(peer)| peer.addr.ip())
            })
            .map(counted)
    }

    /// Counts a new connection from `address`, unless the address is cooling down after a
    /// flood, has opened connections faster than its handshake rate, or holds too many already.
    /// Handshakes refused for their rate count toward the address's cool-down: churning
    /// connections is flooding too.
    pub fn admit(&self, address: Option<IpAddr>) -> Result<Admission, HandshakeError> {
        if let Some(ip) = address {
            let cap = self.limits.max_connections_per_address;
            self.with_address(ip, |entry, now| {
                if entry.is_cooling_down(now) {
                    return Err(HandshakeError::CoolingDown);
                }
                if !entry
                    .buckets
                    .take(&self.limits.per_address, Act::Handshake, now)
                {
                    self.refused(entry, now);
                    return Err(HandshakeError::TooManyHandshakes);
                }
                if cap > 0 && entry.connections >= cap {
                    return Err(HandshakeError::TooManyConnections);
                }
                entry.refused_in_a_row = 0;
                entry.connections += 1;
                Ok(())
            })?;
        }
        Ok(Admission(Arc::new(Held {
            flood: self.clone(),
            address,
            place: Place::Connection,
        })))
    }

    /// Admission for a new Engine.IO session from `address` ([`Flood::admit`]); a refused one is
    /// let through (to be told why) while the address holds few enough refused sessions, and
    /// `None` — no session at all — past that.
    pub fn arrive(&self, address: Option<IpAddr>) -> Option<Arrival> {
        let reason = match self.admit(address) {
            Ok(admission) => return Some(Arrival::Admitted(admission)),
            Err(reason) => reason,
        };
        if let Some(ip) = address {
            let held = self.with_address(ip, |entry, _| {
                let room = entry.refused_sessions < REFUSED_SESSIONS_PER_ADDRESS;
                entry.refused_sessions += u32::from(room);
                room
            });
            if !held {
                return None;
            }
        }
        let hold = RefusedHold {
            _held: Arc::new(Held {
                flood: self.clone(),
                address,
                place: Place::RefusedSession,
            }),
        };
        Some(Arrival::Refused {
            reason,
            _hold: hold,
        })
    }

    /// Whether `address` may make a plain HTTP request for `act` now (a form post is a
    /// [`Act::Message`], a history page a [`Act::Request`]); takes its token if so. Refusals in
    /// a row cool the address down, as a connection's cut-off does.
    pub fn allow_address(&self, address: Option<IpAddr>, act: Act) -> Result<(), AddressRefusal> {
        let Some(ip) = address else { return Ok(()) };
        self.with_address(ip, |entry, now| {
            if entry.is_cooling_down(now) {
                return Err(AddressRefusal::CoolingDown);
            }
            if entry.buckets.take(&self.limits.per_address, act, now) {
                entry.refused_in_a_row = 0;
                Ok(())
            } else {
                self.refused(entry, now);
                Err(AddressRefusal::TooFast)
            }
        })
    }

    /// A new connection's pace, its buckets full, counting under `admission`'s address.
    pub fn pace(&self, admission: Admission) -> Pace {
        Pace {
            admission,
            buckets: Mutex::new(Buckets::full(&self.limits.per_connection)),
            refused_in_a_row: Default::default(),
        }
    }

    /// Whether `pace`'s connection may do `act` now; takes its tokens (its own, then its address's)
    /// if so.
    pub fn allow(&self, pace: &Pace, act: Act) -> Result<(), Rejection> {
        let now = Instant::now();
        let connection_ok =
            pace.buckets
                .lock()
                .unwrap()
                .take(&self.limits.per_connection, act, now);
        let address_ok = connection_ok && self.take_for_address(pace, act, now);
        let streak = &pace.refused_in_a_row[act.index()];
        if address_ok {
            streak.store(0, Ordering::Relaxed);
            Ok(())
        } else {
            streak.fetch_add(1, Ordering::Relaxed);
            Err(Rejection::TooFast)
        }
    }

    /// Whether `pace`'s connection went on acting over its rates long enough to be cut off: that
    /// many of one act refused in a row. A full queue (a slow store) does not count against the
    /// sender.
    pub fn is_flooding(&self, pace: &Pace) -> bool {
        let after = self.limits.disconnect_after;
        after > 0
            && pace
                .refused_in_a_row
                .iter()
                .any(|streak| streak.load(Ordering::Relaxed) >= after)
    }

    /// Starts the cool-down of the address of `pace`'s connection, which is being cut off for
    /// flooding.
    pub fn cut_off(&self, pace: &Pace) {
        let Some(ip) = pace.admission.0.address else {
            return;
        };
        if let Some(entry) = self.addresses.lock().unwrap().states.get_mut(&ip) {
            entry.cool_until = Some(Instant::now() + self.limits.cooldown);
        }
    }

    fn take_for_address(&self, pace: &Pace, act: Act, now: Instant) -> bool {
        let Some(ip) = pace.admission.0.address else {
            return true;
        };
        let mut addresses = self.addresses.lock().unwrap();
        match addresses.states.get_mut(&ip) {
            Some(entry) => entry.buckets.take(&self.limits.per_address, act, now),
            None => true,
        }
    }

    /// One more refusal in a row for the address; past the limit, it cools down.
    fn refused(&self, entry: &mut Address, now: Instant) {
        entry.refused_in_a_row += 1;
        let after = self.limits.disconnect_after;
        if after > 0 && entry.refused_in_a_row >= after {
            entry.refused_in_a_row = 0;
            entry.cool_until = Some(now + self.limits.cooldown);
        }
    }

    /// Runs `f` on `ip`'s entry (made if new), after sweeping away blank entries if it is time.
    fn with_address<T>(&self, ip: IpAddr, f: impl FnOnce(&mut Address, Instant) -> T) -> T {
        let now = Instant::now();
        let rates = &self.limits.per_address;
        let mut addresses = self.addresses.lock().unwrap();
        if now.duration_since(addresses.swept_at) >= SWEEP_EVERY {
            addresses
                .states
                .retain(|_, entry| !entry.is_blank(rates, now));
            addresses.swept_at = now;
        }
        let entry = addresses.states.entry(ip).or_insert_with(|| Address {
            buckets: Buckets::full(rates),
            connections: 0,
            refused_sessions: 0,
            refused_in_a_row: 0,
            cool_until: None,
        });
        let result = f(entry, now);
        if entry.is_blank(rates, now) {
            addresses.states.remove(&ip);
        }
        result
    }
}

/// An address as limits count it: an IPv6 address by its /64, an IPv4-mapped one as IPv4.
pub fn counted(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let network = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(Ipv6Addr::from(network))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn rates(message: Option<Rate>, signal: Option<Rate>, handshake: Option<Rate>) -> Rates {
        [message, signal, handshake, Rate::new(3, 1.0)]
    }

    fn limits() -> FloodLimits {
        FloodLimits {
            per_connection: [Rate::new(3, 1.0), Rate::new(2, 0.5), None, None],
            per_address: rates(Rate::new(5, 1.0), Rate::new(4, 1.0), Rate::new(4, 1.0)),
            disconnect_after: 4,
            max_connections_per_address: 2,
            cooldown: Duration::from_millis(200),
            trust_forwarded_for: false,
        }
    }

    const HOME: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let rate = Rate::new(3, 2.0).unwrap();
        let mut bucket = Bucket::full(rate);
        let start = bucket.at;
        assert!((0..3).all(|_| bucket.take(rate, start)));
        assert!(!bucket.take(rate, start));
        assert!(bucket.take(rate, start + Duration::from_millis(500)));
        assert!(!bucket.take(rate, start + Duration::from_millis(600)));
    }

    #[test]
    fn a_connection_over_its_rate_is_refused_then_called_a_flood() {
        let flood = Flood::new(limits());
        let sender = flood.pace(flood.admit(HOME).unwrap());
        assert!((0..3).all(|_| flood.allow(&sender, Act::Message).is_ok()));
        for _ in 0..4 {
            assert!(!flood.is_flooding(&sender));
            assert_eq!(flood.allow(&sender, Act::Message), Err(Rejection::TooFast));
        }
        assert!(flood.is_flooding(&sender));
    }

    #[test]
    fn typing_has_buckets_of_its_own() {
        let flood = Flood::new(limits());
        let sender = flood.pace(flood.admit(HOME).unwrap());
        assert!((0..2).all(|_| flood.allow(&sender, Act::Signal).is_ok()));
        assert_eq!(flood.allow(&sender, Act::Signal), Err(Rejection::TooFast));
        // Typing used up costs no message.
        assert!((0..3).all(|_| flood.allow(&sender, Act::Message).is_ok()));
    }

    #[test]
    fn typing_that_goes_through_does_not_excuse_messages_that_do_not() {
        let flood = Flood::new(limits());
        let sender = flood.pace(flood.admit(HOME).unwrap());
        assert!((0..3).all(|_| flood.allow(&sender, Act::Message).is_ok()));
        for _ in 0..4 {
            assert!(flood.allow(&sender, Act::Message).is_err());
            let _ = flood.allow(&sender, Act::Signal);
        }
        assert!(flood.is_flooding(&sender));
    }

    #[test]
    fn connections_of_one_address_share_its_bucket() {
        let flood = Flood::new(limits());
        let first = flood.pace(flood.admit(HOME).unwrap());
        let second = flood.pace(flood.admit(HOME).unwrap());
        let allowed = (0..3)
            .flat_map(|_| {
                [
                    flood.allow(&first, Act::Message),
                    flood.allow(&second, Act::Message),
                ]
            })
            .filter(Result::is_ok)
            .count();
        assert_eq!(
            allowed, 5,
            "the address's burst, though each connection has 3"
        );
    }

    #[test]
    fn an_address_holds_at_most_its_connections_and_gets_them_back() {
        let flood = Flood::new(limits());
        let first = flood.admit(HOME).unwrap();
        let _second = flood.admit(HOME).unwrap();
        assert_eq!(
            flood.admit(HOME).err(),
            Some(HandshakeError::TooManyConnections)
        );
        drop(first);
        assert!(flood.admit(HOME).is_ok());
    }

    #[test]
    fn handshakes_faster_than_the_rate_are_refused_and_churning_cools_the_address_down() {
        let flood = Flood::new(FloodLimits {
            max_connections_per_address: 0,
            ..limits()
        });
        // Connect and leave at once, again and again: the burst of 4, then refusals.
        for _ in 0..4 {
            drop(flood.admit(HOME).unwrap());
        }
        for _ in 0..3 {
            assert_eq!(
                flood.admit(HOME).err(),
                Some(HandshakeError::TooManyHandshakes)
            );
        }
        // The 4th refusal in a row puts the address in its cool-down.
        assert_eq!(
            flood.admit(HOME).err(),
            Some(HandshakeError::TooManyHandshakes)
        );
        assert_eq!(flood.admit(HOME).err(), Some(HandshakeError::CoolingDown));
        assert_eq!(
            flood.allow_address(HOME, Act::Message),
            Err(AddressRefusal::CoolingDown),
            "nor may it post meanwhile"
        );
    }

    #[test]
    fn plain_requests_take_from_the_address_and_cool_it_down_when_they_go_on() {
        let flood = Flood::new(limits());
        assert!((0..5).all(|_| flood.allow_address(HOME, Act::Message).is_ok()));
        for _ in 0..4 {
            assert_eq!(
                flood.allow_address(HOME, Act::Message),
                Err(AddressRefusal::TooFast)
            );
        }
        assert_eq!(
            flood.allow_address(HOME, Act::Request),
            Err(AddressRefusal::CoolingDown)
        );
        assert_eq!(flood.admit(HOME).err(), Some(HandshakeError::CoolingDown));
    }

    #[test]
    fn refused_sessions_are_let_through_to_be_told_why_up_to_a_few() {
        let flood = Flood::new(FloodLimits {
            max_connections_per_address: 1,
            per_address: rates(Rate::new(5, 1.0), Rate::new(4, 1.0), None),
            ..limits()
        });
        let Some(Arrival::Admitted(_first)) = flood.arrive(HOME) else {
            panic!("admitted");
        };
        let mut held = Vec::new();
        for _ in 0..REFUSED_SESSIONS_PER_ADDRESS {
            match flood.arrive(HOME) {
                Some(
                    refused @ Arrival::Refused {
                        reason: HandshakeError::TooManyConnections,
                        ..
                    },
                ) => held.push(refused),
                _ => panic!("let through, refused"),
            }
        }
        assert!(flood.arrive(HOME).is_none(), "no session at all");
        held.pop();
        assert!(matches!(flood.arrive(HOME), Some(Arrival::Refused { .. })));
    }

    #[test]
    fn reconnecting_does_not_refill_the_address_bucket() {
        let flood = Flood::new(limits());
        let first = flood.pace(flood.admit(HOME).unwrap());
        assert!((0..3).all(|_| flood.allow(&first, Act::Message).is_ok()));
        drop(first);
        let second = flood.pace(flood.admit(HOME).unwrap());
        let allowed = (0..3)
            .filter(|_| flood.allow(&second, Act::Message).is_ok())
            .count();
        assert_eq!(allowed, 2, "what the address had left of its 5");
    }

    #[test]
    fn an_address_cut_off_for_flooding_cools_down_then_connects_again() {
        let flood = Flood::new(limits());
        let sender = flood.pace(flood.admit(HOME).unwrap());
        flood.cut_off(&sender);
        drop(sender);
        assert_eq!(flood.admit(HOME).err(), Some(HandshakeError::CoolingDown));
        std::thread::sleep(Duration::from_millis(250));
        assert!(flood.admit(HOME).is_ok());
    }

    #[test]
    fn addresses_are_forgotten_once_blank() {
        let flood = Flood::new(limits());
        let sender = flood.pace(flood.admit(HOME).unwrap());
        flood.allow(&sender, Act::Message).unwrap();
        drop(sender);
        let states = || flood.addresses.lock().unwrap().states.len();
        assert_eq!(states(), 1, "its buckets are not full yet");
        std::thread::sleep(Duration::from_millis(1_100));
        let other = Some(IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2)));
        let _other = flood.admit(other).unwrap();
        assert_eq!(states(), 1, "swept: only the new one is left");
    }

    #[test]
    fn the_forwarded_address_counts_only_behind_a_trusted_proxy() {
        let (request, ()) = axum::http::Request::builder()
            .header(FORWARDED_FOR, "203.0.113.9, 198.51.100.7")
            .extension(ConnectInfo(Peer::detached(std::net::SocketAddr::from((
                [127, 0, 0, 1],
                4000,
            )))))
            .body(())
            .unwrap()
            .into_parts();
        let direct = Flood::new(limits());
        assert_eq!(direct.address_of(&request), HOME);
        let proxied = Flood::new(FloodLimits {
            trust_forwarded_for: true,
            ..limits()
        });
        // The last hop is the one the proxy appended; earlier ones are the client's to forge.
        assert_eq!(
            proxied.address_of(&request),
            Some("198.51.100.7".parse().unwrap())
        );
    }

    #[test]
    fn an_ipv6_household_is_one_address_and_mapped_ipv4_is_ipv4() {
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        assert_eq!(
            counted(ip("2001:db8:1:2:aaaa::1")),
            counted(ip("2001:db8:1:2:ffff:1:2:3"))
        );
        assert_ne!(
            counted(ip("2001:db8:1:2::1")),
            counted(ip("2001:db8:1:3::1"))
        );
        assert_eq!(counted(ip("::ffff:198.51.100.7")), ip("198.51.100.7"));
        assert_eq!(counted(ip("198.51.100.7")), ip("198.51.100.7"));

        let flood = Flood::new(limits());
        let first = Some(counted(ip("2001:db8::1")));
        let _a = flood.admit(first).unwrap();
        let _b = flood.admit(Some(counted(ip("2001:db8::2")))).unwrap();
        assert_eq!(
            flood.admit(Some(counted(ip("2001:db8::3")))).err(),
            Some(HandshakeError::TooManyConnections),
            "one /64, one cap"
        );
    }

    #[test]
    fn zero_turns_limits_off() {
        let flood = Flood::new(FloodLimits {
            per_connection: [None; 4],
            per_address: [None; 4],
            disconnect_after: 0,
            max_connections_per_address: 0,
            cooldown: Duration::ZERO,
            trust_forwarded_for: false,
        });
        let admissions: Vec<_> = (0..1000).map(|_| flood.admit(HOME).unwrap()).collect();
        let sender = flood.pace(admissions[0].clone());
        assert!((0..1000).all(|_| flood.allow(&sender, Act::Message).is_ok()));
        assert!((0..1000).all(|_| flood.allow_address(HOME, Act::Request).is_ok()));
    }
}
