//! In-process TCP proxies on 127.0.0.1: a fault injector whose mode is switched at run time,
//! and a round-robin balancer in front of the orders-api replicas.
//!
//! The fault proxy looks at its fault for every connection it accepts and again for every chunk
//! it relays, so a switch also hits keep-alive connections already open: a request chunk
//! swallowed never reaches the service, a response chunk swallowed or reset is an effect whose
//! answer is lost. A fault can hit every chunk, or only the requests (or only the answers) of
//! calls whose request line names one of some paths, e.g. the confirmations.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// What the fault proxy does with the traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Pass,
    /// Holds every chunk, both ways, this long before relaying it.
    Delay(Duration),
    /// Resets (RST) new connections at once and open ones at their next chunk.
    Reset,
    /// Accepts and never answers: chunks are swallowed and connections held open.
    BlackHole,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mode::Pass => f.write_str("pass"),
            Mode::Delay(d) => write!(f, "delay {} ms", d.as_millis()),
            Mode::Reset => f.write_str("reset connections"),
            Mode::BlackHole => f.write_str("black hole"),
        }
    }
}

/// Which chunks a fault hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum On {
    Everything,
    /// The requests of calls whose request line contains one of these.
    Requests(&'static [&'static str]),
    /// The answers of calls whose request line contains one of these.
    Answers(&'static [&'static str]),
}

/// A mode and the chunks it hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    pub mode: Mode,
    pub on: On,
}

impl Fault {
    pub const PASS: Fault = Fault {
        mode: Mode::Pass,
        on: On::Everything,
    };

    pub const fn all(mode: Mode) -> Self {
        Self {
            mode,
            on: On::Everything,
        }
    }

    /// The mode that applies to a chunk; `matching`: its call's request line names a path.
    fn mode_for(&self, towards_upstream: bool, matching: bool) -> Mode {
        let hit = match self.on {
            On::Everything => true,
            On::Requests(_) => towards_upstream && matching,
            On::Answers(_) => !towards_upstream && matching,
        };
        if hit { self.mode } else { Mode::Pass }
    }

    fn paths(&self) -> &'static [&'static str] {
        match self.on {
            On::Everything => &[],
            On::Requests(p) | On::Answers(p) => p,
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.on {
            On::Everything => write!(f, "{}", self.mode),
            On::Requests(p) => write!(f, "{} on requests to {}", self.mode, p.join(", ")),
            On::Answers(p) => write!(f, "{} on answers to {}", self.mode, p.join(", ")),
        }
    }
}

/// What a fault proxy did.
#[derive(Debug, Default)]
pub struct Stats {
    pub connections: AtomicU64,
    /// Request chunks that start with an HTTP method: about one per request.
    pub requests: AtomicU64,
    pub delayed: AtomicU64,
    pub resets: AtomicU64,
    pub swallowed: AtomicU64,
}

impl Stats {
    pub fn summary(&self) -> String {
        let n = |c: &AtomicU64| c.load(Ordering::Relaxed);
        format!(
            "{} connections, ~{} HTTP requests, {} chunks delayed, {} connections reset, {} black-holed",
            n(&self.connections),
            n(&self.requests),
            n(&self.delayed),
            n(&self.resets),
            n(&self.swallowed)
        )
    }
}

/// A fault-injecting proxy to one target; stops when dropped.
pub struct FaultProxy {
    pub name: &'static str,
    pub addr: SocketAddr,
    pub stats: Arc<Stats>,
    fault: watch::Sender<Fault>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    pub async fn spawn(name: &'static str, target: SocketAddr) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (fault, watcher) = watch::channel(Fault::PASS);
        let stats = Arc::new(Stats::default());
        let task = tokio::spawn(accept_faulty(listener, target, watcher, stats.clone()));
        Ok(Self {
            name,
            addr,
            stats,
            fault,
            task,
        })
    }

    pub fn set(&self, fault: Fault) {
        self.fault.send_replace(fault);
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept_faulty(
    listener: TcpListener,
    target: SocketAddr,
    fault: watch::Receiver<Fault>,
    stats: Arc<Stats>,
) {
    // Connection tasks live in the set, so aborting this task ends them all.
    let mut conns = JoinSet::new();
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        while conns.try_join_next().is_some() {}
        stats.connections.fetch_add(1, Ordering::Relaxed);
        conns.spawn(relay(client, target, fault.clone(), stats.clone()));
    }
}

/// Closes with RST instead of FIN.
fn reset(streams: &[&TcpStream], stats: &Stats) {
    stats.resets.fetch_add(1, Ordering::Relaxed);
    for s in streams {
        let _ = s.set_zero_linger();
    }
}

/// Reads and discards until the client gives up.
async fn swallow(mut client: TcpStream, stats: &Stats) {
    stats.swallowed.fetch_add(1, Ordering::Relaxed);
    let mut buf = vec![0u8; 16 * 1024];
    while matches!(client.read(&mut buf).await, Ok(n) if n > 0) {}
}

fn looks_like_request(chunk: &[u8]) -> bool {
    [&b"GET "[..], b"POST ", b"PUT ", b"PATCH ", b"DELETE "]
        .iter()
        .any(|m| chunk.starts_with(m))
}

async fn relay(
    mut client: TcpStream,
    target: SocketAddr,
    fault: watch::Receiver<Fault>,
    stats: Arc<Stats>,
) {
    let _ = client.set_nodelay(true);
    let first = *fault.borrow();
    match first.mode_for(true, true) {
        Mode::Reset if first.on == On::Everything => return reset(&[&client], &stats),
        Mode::BlackHole if first.on == On::Everything => return swallow(client, &stats).await,
        _ => {}
    }
    let Ok(mut upstream) = TcpStream::connect(target).await else {
        return reset(&[&client], &stats);
    };
    let _ = upstream.set_nodelay(true);
    let mut to_up = vec![0u8; 16 * 1024];
    let mut to_client = vec![0u8; 16 * 1024];
    // The request line of the call in progress on this connection.
    let mut request_line = String::new();
    loop {
        let (read, towards_upstream) = tokio::select! {
            r = client.read(&mut to_up) => (r, true),
            r = upstream.read(&mut to_client) => (r, false),
        };
        // Either side closing ends the relay; dropping both streams closes the other side.
        let n = match read {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if towards_upstream && looks_like_request(&to_up[..n]) {
            stats.requests.fetch_add(1, Ordering::Relaxed);
            let line = to_up[..n].split(|b| *b == b'\n').next().unwrap_or_default();
            request_line = String::from_utf8_lossy(line).into_owned();
        }
        let now = *fault.borrow();
        let matching = now.paths().iter().any(|p| request_line.contains(p));
        match now.mode_for(towards_upstream, matching) {
            Mode::Pass => {}
            Mode::Delay(d) => {
                stats.delayed.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(d).await;
            }
            Mode::Reset => return reset(&[&client, &upstream], &stats),
            Mode::BlackHole => {
                drop(upstream);
                return swallow(client, &stats).await;
            }
        }
        let written = if towards_upstream {
            upstream.write_all(&to_up[..n]).await
        } else {
            client.write_all(&to_client[..n]).await
        };
        if written.is_err() {
            return;
        }
    }
}

/// A round-robin TCP balancer over the orders-api replicas: a connection goes to the next
/// replica, or to the one after when that one refuses (killed, restarting).
pub struct Balancer {
    pub addr: SocketAddr,
    /// Connections relayed to each backend.
    pub served: Vec<Arc<AtomicU64>>,
    task: tokio::task::JoinHandle<()>,
}

impl Balancer {
    pub async fn spawn(backends: Vec<SocketAddr>) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let served: Vec<_> = backends
            .iter()
            .map(|_| Arc::new(AtomicU64::new(0)))
            .collect();
        let task = tokio::spawn(balance(listener, backends, served.clone()));
        Ok(Self { addr, served, task })
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn balance(listener: TcpListener, backends: Vec<SocketAddr>, served: Vec<Arc<AtomicU64>>) {
    let mut conns = JoinSet::new();
    let mut next = 0;
    loop {
        let Ok((mut client, _)) = listener.accept().await else {
            continue;
        };
        while conns.try_join_next().is_some() {}
        let first = next;
        next = (next + 1) % backends.len();
        let backends = backends.clone();
        let served = served.clone();
        conns.spawn(async move {
            let _ = client.set_nodelay(true);
            for k in 0..backends.len() {
                let i = (first + k) % backends.len();
                if let Ok(mut upstream) = TcpStream::connect(backends[i]).await {
                    let _ = upstream.set_nodelay(true);
                    served[i].fetch_add(1, Ordering::Relaxed);
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                    return;
                }
            }
            let _ = client.set_zero_linger();
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server that answers every request chunk with a fixed response.
    async fn server() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let (mut s, _) = listener.accept().await.unwrap();
                tokio::spawn(async move {
                    let mut buf = [0u8; 1024];
                    while matches!(s.read(&mut buf).await, Ok(n) if n > 0) {
                        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                        if s.write_all(ok).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        addr
    }

    /// Sends `request` through `proxy`; the answer, or `None` after 300 ms of silence.
    async fn ask(proxy: SocketAddr, request: &str) -> Option<String> {
        let mut s = TcpStream::connect(proxy).await.ok()?;
        s.write_all(request.as_bytes()).await.ok()?;
        let mut buf = [0u8; 1024];
        match tokio::time::timeout(Duration::from_millis(300), s.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => Some(String::from_utf8_lossy(&buf[..n]).into_owned()),
            _ => None,
        }
    }

    #[tokio::test]
    async fn faults_hit_only_the_calls_they_name() {
        let proxy = FaultProxy::spawn("test", server().await).await.unwrap();
        let confirm = "POST /orders/1/confirm HTTP/1.1\r\nhost: x\r\n\r\n";
        let get = "GET /orders/1 HTTP/1.1\r\nhost: x\r\n\r\n";
        assert!(ask(proxy.addr, confirm).await.is_some());

        proxy.set(Fault {
            mode: Mode::BlackHole,
            on: On::Answers(&["/confirm "]),
        });
        assert!(ask(proxy.addr, confirm).await.is_none());
        assert!(ask(proxy.addr, get).await.is_some());

        proxy.set(Fault::all(Mode::Reset));
        assert!(ask(proxy.addr, get).await.is_none());
        proxy.set(Fault::PASS);
        assert!(ask(proxy.addr, get).await.is_some());
    }
}
