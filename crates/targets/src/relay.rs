//! A loopback TCP relay whose upstream can be changed: caches started once for a whole run
//! (each a few hundred milliseconds to start, Varnish a second) sit in front of the relay, and
//! the relay is pointed at each target in turn. Bytes are copied as they are, both ways; when
//! the relay is pointed elsewhere, every connection it carries is shut down, so that no cache
//! reuses a connection to the previous target.
//!
//! ```
//! use std::io::{Read, Write};
//! use corsproof_targets::relay::Relay;
//! let server = std::net::TcpListener::bind("127.0.0.1:0")?;
//! let upstream = url::Url::parse(&format!("http://{}/", server.local_addr()?))?;
//! let relay = Relay::start()?;
//! relay.point_at(&upstream);
//! let mut client = std::net::TcpStream::connect(relay.addr())?;
//! client.write_all(b"ping")?;
//! let (mut accepted, _) = server.accept()?;
//! let mut buf = [0u8; 4];
//! accepted.read_exact(&mut buf)?;
//! assert_eq!(&buf, b"ping");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use url::Url;

/// How long the relay waits to connect to its upstream.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// At most this many connections are carried at once; more are refused (closed).
const MAX_CONNECTIONS: usize = 64;

/// What the relay's threads share.
#[derive(Debug, Default)]
struct State {
    upstream: Mutex<Option<SocketAddr>>,
    /// Both sockets of every connection carried (for shutting them down).
    open: Mutex<Vec<TcpStream>>,
    stop: AtomicBool,
}

impl State {
    fn shut_all(&self) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        for s in open.drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

/// A running relay on 127.0.0.1; dropping it stops it and closes its connections.
#[derive(Debug)]
pub struct Relay {
    addr: SocketAddr,
    url: Url,
    state: Arc<State>,
}

impl Relay {
    /// Starts a relay on a free loopback port, pointed nowhere (connections are closed until
    /// [`Relay::point_at`]).
    pub fn start() -> io::Result<Relay> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let url = Url::parse(&format!("http://{addr}/"))
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        let state = Arc::new(State::default());
        let shared = Arc::clone(&state);
        std::thread::spawn(move || accept(&listener, &shared));
        Ok(Relay { addr, url, state })
    }

    /// The relay's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The relay's base URL (`http://127.0.0.1:PORT/`).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Relays new connections to `upstream`'s host and port, and closes every connection to
    /// the previous upstream.
    pub fn point_at(&self, upstream: &Url) {
        let addr = match (upstream.host_str(), upstream.port_or_known_default()) {
            (Some(host), Some(port)) => (host.trim_matches(['[', ']']), port)
                .to_socket_addrs()
                .ok()
                .and_then(|mut a| a.next()),
            _ => None,
        };
        *self
            .state
            .upstream
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = addr;
        self.state.shut_all();
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        // Wake the accepting thread, which sees `stop` and ends.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        self.state.shut_all();
    }
}

fn accept(listener: &TcpListener, state: &Arc<State>) {
    for client in listener.incoming() {
        if state.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(client) = client else { continue };
        let upstream = *state
            .upstream
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(upstream) = upstream else {
            continue; // dropped: closed
        };
        let Ok(server) = TcpStream::connect_timeout(&upstream, CONNECT_TIMEOUT) else {
            continue;
        };
        let (Ok(c2), Ok(s2), Ok(c3), Ok(s3)) = (
            client.try_clone(),
            server.try_clone(),
            client.try_clone(),
            server.try_clone(),
        ) else {
            continue;
        };
        {
            let mut open = state.open.lock().unwrap_or_else(PoisonError::into_inner);
            open.retain(|s| s.peer_addr().is_ok());
            if open.len() >= MAX_CONNECTIONS * 2 {
                continue;
            }
            open.push(c3);
            open.push(s3);
        }
        std::thread::spawn(move || pipe(client, s2));
        std::thread::spawn(move || pipe(server, c2));
    }
}

/// Copies `from` to `to` until either side ends, then shuts both down.
fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let _ = io::copy(&mut from, &mut to);
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn server() -> (TcpListener, Url) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
        let url = Url::parse(&format!("http://{}/", listener.local_addr().expect("addr")))
            .expect("a URL");
        (listener, url)
    }

    #[test]
    fn pointing_elsewhere_closes_the_old_connections_and_relays_new_ones_to_the_new_upstream() {
        let (first, first_url) = server();
        let (second, second_url) = server();
        let relay = Relay::start().expect("a relay");
        relay.point_at(&first_url);
        let mut old = TcpStream::connect(relay.addr()).expect("connects");
        old.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        old.write_all(b"a").expect("writes");
        let (mut accepted, _) = first.accept().expect("relayed to the first");
        let mut buf = [0u8; 1];
        accepted.read_exact(&mut buf).expect("reads");
        assert_eq!(&buf, b"a");
        relay.point_at(&second_url);
        // The old connection is closed: end of stream (or a reset), never data.
        assert!(matches!(old.read(&mut buf), Ok(0) | Err(_)));
        let mut new = TcpStream::connect(relay.addr()).expect("connects");
        new.write_all(b"b").expect("writes");
        let (mut accepted, _) = second.accept().expect("relayed to the second");
        accepted.read_exact(&mut buf).expect("reads");
        assert_eq!(&buf, b"b");
    }
}
