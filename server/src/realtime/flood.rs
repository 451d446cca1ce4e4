//! Flood control: how fast one connection, and one client address with all its connections,
//! may send messages (token buckets), how many connections one address may hold, and when a
//! connection that keeps sending over its limit is cut off — after which its address may not
//! connect again for a while.
//!
//! An address's state outlives its connections until it could not matter any more (its bucket
//! full again, its cool-down over): reconnecting must not be a way to get a fresh bucket.
//!
//! Per node: a cluster's nodes each count what reaches them (nginx keeps a client on one node).

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    sync::{
        atomic::{AtomicU32, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use app::protocol::{HandshakeError, Rejection};
use axum::{extract::ConnectInfo, http::request::Parts};

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

/// What the node enforces (see `Config` for each setting's meaning and default).
#[derive(Debug, Clone, Copy)]
pub struct FloodLimits {
    pub per_connection: Option<Rate>,
    pub per_address: Option<Rate>,
    /// Refused messages in a row after which a connection is cut off (0: never).
    pub disconnect_after: u32,
    /// Connections one address may hold (0: any number).
    pub max_connections_per_address: u32,
    /// How long an address whose connection was cut off for flooding may not connect again.
    pub cooldown: Duration,
    /// Whether the client's address is the last hop of `X-Forwarded-For` (behind a proxy).
    pub trust_forwarded_for: bool,
}

/// A token bucket: `burst` tokens, refilled at `per_second`; a message takes one.
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

/// One address's share: its bucket, its open connections, its cool-down.
struct Address {
    bucket: Option<Bucket>,
    connections: u32,
    /// Set when one of its connections was cut off for flooding: no new one before then.
    cool_until: Option<Instant>,
}

impl Address {
    /// Whether forgetting it changes nothing: a new entry would be the same.
    fn is_blank(&self, rate: Option<Rate>, now: Instant) -> bool {
        self.connections == 0
            && self.cool_until.is_none_or(|until| until <= now)
            && match (&self.bucket, rate) {
                (Some(bucket), Some(rate)) => bucket.is_full(rate, now),
                _ => true,
            }
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

/// The node's flood control.
#[derive(Clone)]
pub struct Flood {
    limits: FloodLimits,
    addresses: Arc<Mutex<Addresses>>,
}

/// An admitted connection's hold on its address's count, released when the socket (which keeps it
/// in its extensions, cloned there) is gone.
#[derive(Clone)]
pub struct Admission(Arc<Held>);

struct Held {
    flood: Flood,
    address: Option<IpAddr>,
}

impl Drop for Held {
    fn drop(&mut self) {
        let Some(address) = self.address else { return };
        let rate = self.flood.limits.per_address;
        let mut addresses = self.flood.addresses.lock().unwrap();
        if let Some(entry) = addresses.states.get_mut(&address) {
            entry.connections = entry.connections.saturating_sub(1);
            if entry.is_blank(rate, Instant::now()) {
                addresses.states.remove(&address);
            }
        }
    }
}

/// One connection's sending state.
pub struct Sender {
    admission: Admission,
    bucket: Mutex<Option<Bucket>>,
    refused_in_a_row: AtomicU32,
}

impl Flood {
    pub fn new(limits: FloodLimits) -> Self {
        let addresses = Addresses {
            states: HashMap::new(),
            swept_at: Instant::now(),
        };
        Self {
            limits,
            addresses: Arc::new(Mutex::new(addresses)),
        }
    }

    /// The address a request came from: the TCP peer, or behind a trusted proxy the last hop of
    /// `X-Forwarded-For` (the one the proxy itself appended). `None` if neither is known.
    pub fn address_of(&self, request: &Parts) -> Option<IpAddr> {
        if self.limits.trust_forwarded_for {
            let forwarded = request
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|value| value.to_str().ok())
                .flat_map(|value| value.split(','))
                .last()
                .and_then(|hop| hop.trim().parse().ok());
            if forwarded.is_some() {
                return forwarded;
            }
        }
        request
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| peer.ip())
    }

    /// Counts a new connection from `address`, unless the address holds too many already or is
    /// cooling down after a flood.
    pub fn admit(&self, address: Option<IpAddr>) -> Result<Admission, HandshakeError> {
        if let Some(ip) = address {
            let now = Instant::now();
            let rate = self.limits.per_address;
            let mut addresses = self.addresses.lock().unwrap();
            if now.duration_since(addresses.swept_at) >= SWEEP_EVERY {
                addresses
                    .states
                    .retain(|_, entry| !entry.is_blank(rate, now));
                addresses.swept_at = now;
            }
            let entry = addresses.states.entry(ip).or_insert_with(|| Address {
                bucket: rate.map(Bucket::full),
                connections: 0,
                cool_until: None,
            });
            if entry.cool_until.is_some_and(|until| now < until) {
                return Err(HandshakeError::CoolingDown);
            }
            let cap = self.limits.max_connections_per_address;
            if cap > 0 && entry.connections >= cap {
                return Err(HandshakeError::TooManyConnections);
            }
            entry.connections += 1;
        }
        Ok(Admission(Arc::new(Held {
            flood: self.clone(),
            address,
        })))
    }

    pub fn sender(&self, admission: Admission) -> Sender {
        Sender {
            admission,
            bucket: Mutex::new(self.limits.per_connection.map(Bucket::full)),
            refused_in_a_row: AtomicU32::new(0),
        }
    }

    /// Whether `sender` may send one more message now; takes its token if so.
    pub fn allow(&self, sender: &Sender) -> Result<(), Rejection> {
        let now = Instant::now();
        let connection_ok = match (
            &mut *sender.bucket.lock().unwrap(),
            self.limits.per_connection,
        ) {
            (Some(bucket), Some(rate)) => bucket.take(rate, now),
            _ => true,
        };
        let address_ok = connection_ok && self.take_for_address(sender, now);
        if address_ok {
            sender.refused_in_a_row.store(0, Ordering::Relaxed);
            Ok(())
        } else {
            sender.refused_in_a_row.fetch_add(1, Ordering::Relaxed);
            Err(Rejection::TooFast)
        }
    }

    /// Whether `sender` went on sending over its rate long enough to be cut off. A full queue
    /// (a slow store) does not count against the sender.
    pub fn is_flooding(&self, sender: &Sender) -> bool {
        let after = self.limits.disconnect_after;
        after > 0 && sender.refused_in_a_row.load(Ordering::Relaxed) >= after
    }

    /// Starts the cool-down of the address of `sender`, which is being cut off for flooding.
    pub fn cut_off(&self, sender: &Sender) {
        let Some(ip) = sender.admission.0.address else {
            return;
        };
        if let Some(entry) = self.addresses.lock().unwrap().states.get_mut(&ip) {
            entry.cool_until = Some(Instant::now() + self.limits.cooldown);
        }
    }

    fn take_for_address(&self, sender: &Sender, now: Instant) -> bool {
        let (Some(ip), Some(rate)) = (sender.admission.0.address, self.limits.per_address) else {
            return true;
        };
        let mut addresses = self.addresses.lock().unwrap();
        match addresses
            .states
            .get_mut(&ip)
            .and_then(|entry| entry.bucket.as_mut())
        {
            Some(bucket) => bucket.take(rate, now),
            None => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn limits() -> FloodLimits {
        FloodLimits {
            per_connection: Rate::new(3, 1.0),
            per_address: Rate::new(5, 1.0),
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
        let sender = flood.sender(flood.admit(HOME).unwrap());
        assert!((0..3).all(|_| flood.allow(&sender).is_ok()));
        for _ in 0..4 {
            assert!(!flood.is_flooding(&sender));
            assert_eq!(flood.allow(&sender), Err(Rejection::TooFast));
        }
        assert!(flood.is_flooding(&sender));
    }

    #[test]
    fn connections_of_one_address_share_its_bucket() {
        let flood = Flood::new(limits());
        let first = flood.sender(flood.admit(HOME).unwrap());
        let second = flood.sender(flood.admit(HOME).unwrap());
        let allowed = (0..3)
            .flat_map(|_| [flood.allow(&first), flood.allow(&second)])
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
    fn reconnecting_does_not_refill_the_address_bucket() {
        let flood = Flood::new(limits());
        let first = flood.sender(flood.admit(HOME).unwrap());
        assert!((0..3).all(|_| flood.allow(&first).is_ok()));
        drop(first);
        let second = flood.sender(flood.admit(HOME).unwrap());
        let allowed = (0..3).filter(|_| flood.allow(&second).is_ok()).count();
        assert_eq!(allowed, 2, "what the address had left of its 5");
    }

    #[test]
    fn an_address_cut_off_for_flooding_cools_down_then_connects_again() {
        let flood = Flood::new(limits());
        let sender = flood.sender(flood.admit(HOME).unwrap());
        flood.cut_off(&sender);
        drop(sender);
        assert_eq!(flood.admit(HOME).err(), Some(HandshakeError::CoolingDown));
        std::thread::sleep(Duration::from_millis(250));
        assert!(flood.admit(HOME).is_ok());
    }

    #[test]
    fn addresses_are_forgotten_once_blank() {
        let flood = Flood::new(limits());
        let sender = flood.sender(flood.admit(HOME).unwrap());
        flood.allow(&sender).unwrap();
        drop(sender);
        let states = || flood.addresses.lock().unwrap().states.len();
        assert_eq!(states(), 1, "its bucket is not full yet");
        std::thread::sleep(Duration::from_millis(1_100));
        let other = Some(IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2)));
        let _other = flood.admit(other).unwrap();
        assert_eq!(states(), 1, "swept: only the new one is left");
    }

    #[test]
    fn the_forwarded_address_counts_only_behind_a_trusted_proxy() {
        let (request, ()) = axum::http::Request::builder()
            .header("x-forwarded-for", "203.0.113.9, 198.51.100.7")
            .extension(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 4000))))
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
    fn zero_turns_limits_off() {
        let flood = Flood::new(FloodLimits {
            per_connection: Rate::new(0, 1.0),
            per_address: Rate::new(0, 1.0),
            disconnect_after: 0,
            max_connections_per_address: 0,
            cooldown: Duration::ZERO,
            trust_forwarded_for: false,
        });
        let admissions: Vec<_> = (0..1000).map(|_| flood.admit(HOME).unwrap()).collect();
        let sender = flood.sender(admissions[0].clone());
        assert!((0..1000).all(|_| flood.allow(&sender).is_ok()));
    }
}
