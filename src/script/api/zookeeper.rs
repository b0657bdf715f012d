//! Rhai functions for ZooKeeper.

use rhai::plugin::*;

#[export_module]
pub mod api {
    use crate::script::convert::{to_array, to_map};
    use crate::script::session_of;
    use crate::zk::status;
    use rhai::{EvalAltResult, NativeCallContext};

    /// Status of every server of the ensemble, from the `srvr` and `mntr` four-letter words:
    /// mode (leader, follower, observer, standalone, down, not_serving, refused), version,
    /// zxid and epoch, latency, connections, outstanding requests, znode count, and on the
    /// leader `followers` and `synced_followers`. A server that does not answer within the
    /// timeout is reported as `down`; the call itself does not fail.
    ///
    /// ```rhai
    /// let leader = zk_status().filter(|s| s.mode == "leader");
    /// ```
    #[rhai_fn(return_raw, name = "zk_status")]
    pub fn zk_status(ctx: NativeCallContext) -> Result<rhai::Array, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let inventory = &session.settings.inventory.zookeeper_servers;
        let servers: Vec<(String, Option<u32>)> = if inventory.is_empty() {
            session
                .settings
                .zookeeper
                .servers
                .iter()
                .map(|s| (s.clone(), None))
                .collect()
        } else {
            inventory
                .iter()
                .map(|z| (format!("{}:{}", z.host, z.client_port), Some(z.id)))
                .collect()
        };
        let timeout = session
            .settings
            .call_timeout
            .min(std::time::Duration::from_secs(5));
        let result = session
            .block_on("zk_status", async move {
                Ok(status::ensemble_status(&servers, timeout).await)
            })
            .unwrap_or_default();
        to_array(&result)
    }

    /// Status of one ZooKeeper server given as `host:port`.
    ///
    /// ```rhai
    /// let s = zk_status("127.0.0.1:2181");
    /// print(s.mode);
    /// ```
    #[rhai_fn(return_raw, name = "zk_status")]
    pub fn zk_status_of(
        ctx: NativeCallContext,
        server: &str,
    ) -> Result<rhai::Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let server = if server.contains(':') {
            server.to_string()
        } else {
            format!("{server}:2181")
        };
        let id = session
            .settings
            .inventory
            .zookeeper_servers
            .iter()
            .find(|z| format!("{}:{}", z.host, z.client_port) == server)
            .map(|z| z.id);
        let timeout = session
            .settings
            .call_timeout
            .min(std::time::Duration::from_secs(5));
        let result = session
            .block_on("zk_status", async move {
                Ok(status::server_status(&server, id, timeout).await)
            })
            .map_err(|e| crate::script::script_error(&session, "zk_status", e))?;
        to_map(&result)
    }
}
