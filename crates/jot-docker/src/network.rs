//! The one place that decides how sandboxes and build steps are networked,
//! and so which address jot's servers listen on for them and which address
//! they are told to reach.

use std::net::{IpAddr, Ipv4Addr};

/// How the engine networks jot's containers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkMode {
    /// The host's network: a sandbox reaches jot's servers on loopback (and
    /// so can any local process, which is why each Runtime API sits under a
    /// path prefix only its sandbox is told).
    Host,
    /// A bridge network of the engine: a sandbox reaches jot's servers at
    /// the network's gateway, where they must listen.
    Bridge { network: String, gateway: IpAddr },
}

impl NetworkMode {
    /// The mode jot uses: host networking (engines here run without a bridge).
    pub(crate) fn chosen() -> NetworkMode {
        NetworkMode::Host
    }

    /// The engine's name for the mode (`NetworkMode` of a container, a build's `networkmode`).
    pub fn engine_name(&self) -> &str {
        match self {
            NetworkMode::Host => "host",
            NetworkMode::Bridge { network, .. } => network,
        }
    }

    /// The address a server meant for sandboxes binds.
    pub fn listen_address(&self) -> IpAddr {
        match self {
            NetworkMode::Host => IpAddr::V4(Ipv4Addr::LOCALHOST),
            NetworkMode::Bridge { gateway, .. } => *gateway,
        }
    }

    /// The address a sandbox is told to reach such a server at.
    pub fn host_address(&self) -> IpAddr {
        self.listen_address()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_mode_serves_and_reaches_loopback() {
        let host = NetworkMode::Host;
        assert_eq!(host.engine_name(), "host");
        assert_eq!(host.listen_address().to_string(), "127.0.0.1");
        assert_eq!(host.host_address(), host.listen_address());
        let bridge = NetworkMode::Bridge {
            network: "jot".into(),
            gateway: "172.18.0.1".parse().unwrap(),
        };
        assert_eq!(bridge.engine_name(), "jot");
        assert_eq!(bridge.host_address().to_string(), "172.18.0.1");
    }
}
