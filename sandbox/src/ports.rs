//! Loopback port allocation: free ports that no node of the cluster, and nothing this
//! process handed out before, uses.

use std::collections::BTreeSet;
use std::io;
use std::net::TcpListener;
use std::sync::Mutex;

use crate::state::State;

/// Reserves `n` distinct free loopback ports, avoiding `taken` and every port this process
/// handed out before.
pub(crate) fn free_ports(n: usize, taken: &BTreeSet<u16>) -> io::Result<Vec<u16>> {
    static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    let mut handed = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
    // Held until every port is chosen, so the kernel hands out different ones.
    let mut listeners = Vec::new();
    let mut ports = Vec::new();
    let mut attempts = 0;
    while ports.len() < n {
        attempts += 1;
        if attempts > n * 50 + 50 {
            return Err(io::Error::other("cannot find free ports on 127.0.0.1"));
        }
        let l = TcpListener::bind("127.0.0.1:0")?;
        let p = l.local_addr()?.port();
        if !taken.contains(&p) && handed.insert(p) {
            ports.push(p);
        }
        listeners.push(l);
    }
    Ok(ports)
}

/// Every port a node of the cluster listens on.
pub(crate) fn used_ports(state: &State) -> BTreeSet<u16> {
    let mut s = BTreeSet::new();
    for z in &state.zk {
        s.extend([z.client_port, z.peer_port, z.election_port]);
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
}
