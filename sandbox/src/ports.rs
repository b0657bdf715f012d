//! Loopback port allocation: free ports that no node of the cluster, and nothing this
//! process handed out before, uses.

use std::collections::BTreeSet;
use std::io;
use std::net::TcpListener;
use std::sync::Mutex;

use crate::state::State;

/// The environment variable that confines the sandbox to a port range ("20000-25999"), so
/// that several test processes running side by side never hand out the same port, and no
/// port is taken meanwhile by the kernel for an outgoing connection (ranges below the
/// ephemeral range, 32768 and up on Linux, are never used for those).
pub const PORT_RANGE_VAR: &str = "KAFSH_SANDBOX_PORTS";

/// Reserves `n` distinct free loopback ports, avoiding `taken` and every port this process
/// handed out before: from the range in `KAFSH_SANDBOX_PORTS` when it is set, else whatever
/// the kernel gives.
pub(crate) fn free_ports(n: usize, taken: &BTreeSet<u16>) -> io::Result<Vec<u16>> {
    static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    let mut handed = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
    let mut candidates = candidates_from_env()?;
    // Held until every port is chosen, so the kernel hands out different ones.
    let mut listeners = Vec::new();
    let mut ports = Vec::new();
    let mut attempts = 0;
    while ports.len() < n {
        attempts += 1;
        if attempts > n * 50 + 50 {
            return Err(io::Error::other("cannot find free ports on 127.0.0.1"));
        }
        let l = match candidates.as_mut() {
            Some(range) => match range.next() {
                Some(p) => match TcpListener::bind(("127.0.0.1", p)) {
                    Ok(l) => l,
                    Err(_) => continue,
                },
                None => {
                    return Err(io::Error::other(format!(
                        "no free port left in {PORT_RANGE_VAR}"
                    )))
                }
            },
            None => TcpListener::bind("127.0.0.1:0")?,
        };
        let p = l.local_addr()?.port();
        if !taken.contains(&p) && handed.insert(p) {
            ports.push(p);
        }
        listeners.push(l);
    }
    Ok(ports)
}

/// One free loopback port, chosen as the sandbox chooses its nodes' ports (for tests that
/// start a process of their own beside a cluster).
pub fn free_port() -> io::Result<u16> {
    Ok(free_ports(1, &BTreeSet::new())?[0])
}

/// The ports of `KAFSH_SANDBOX_PORTS` in the order to try them: starting at a place that
/// depends on the process id (processes of one range rarely start at the same port) and
/// wrapping around once.
fn candidates_from_env() -> io::Result<Option<impl Iterator<Item = u16>>> {
    let Ok(spec) = std::env::var(PORT_RANGE_VAR) else {
        return Ok(None);
    };
    let (lo, hi) = parse_range(&spec).ok_or_else(|| {
        io::Error::other(format!(
            "{PORT_RANGE_VAR}={spec:?}: expected a range such as 20000-25999"
        ))
    })?;
    let span = u32::from(hi - lo) + 1;
    let start = std::process::id() * 97 % span;
    Ok(Some(
        (0..span).map(move |i| lo + ((start + i) % span) as u16),
    ))
}

fn parse_range(spec: &str) -> Option<(u16, u16)> {
    let (lo, hi) = spec.trim().split_once('-')?;
    let (lo, hi) = (
        lo.trim().parse::<u16>().ok()?,
        hi.trim().parse::<u16>().ok()?,
    );
    (lo > 0 && lo <= hi).then_some((lo, hi))
}

/// Every port a node of the cluster listens on.
pub(crate) fn used_ports(state: &State) -> BTreeSet<u16> {
    let mut s = BTreeSet::new();
    for z in &state.zk {
        s.extend([z.client_port, z.peer_port, z.election_port]);
        s.extend(z.secure_port);
    }
    for b in &state.brokers {
        s.insert(b.port);
        s.extend(b.controller_port);
        s.extend(b.secure_port);
        s.extend(b.mtls_port);
    }
    for c in &state.controllers {
        s.insert(c.port);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_are_distinct() {
        let taken: BTreeSet<u16> = BTreeSet::new();
        let p = free_ports(10, &taken).unwrap();
        let set: BTreeSet<u16> = p.iter().copied().collect();
        assert_eq!(set.len(), 10);
        let q = free_ports(5, &set).unwrap();
        assert!(q.iter().all(|x| !set.contains(x)));
    }

    #[test]
    fn port_ranges_parse() {
        assert_eq!(parse_range("20000-25999"), Some((20000, 25999)));
        assert_eq!(parse_range(" 5 - 5 "), Some((5, 5)));
        assert_eq!(parse_range("25999-20000"), None);
        assert_eq!(parse_range("0-10"), None);
        assert_eq!(parse_range("20000"), None);
    }
}
