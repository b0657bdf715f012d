//! Rhai functions for ZooKeeper.

use rhai::plugin::*;

/// ZooKeeper
///
/// The ensemble's health (from the four-letter words `srvr` and `mntr`), znodes under the
/// context's chroot, the brokers registered in ZooKeeper, and the context's inventory of
/// servers. Kafka's own znodes are protected unless `force: true`.
#[export_module]
pub mod api {
    use super::{data_bytes, dry_run_map, ensemble, guard, inventory_matches};
    use crate::script::convert::{to_array, to_map, Options};
    use crate::script::{script_error, session_of, zk_call};
    use crate::zk::{health, status, znodes};
    use rhai::{Array, Dynamic, EvalAltResult, Map, NativeCallContext};

    /// Status of every server of the ensemble, from the `srvr` and `mntr` four-letter words:
    /// mode (leader, follower, observer, standalone, down, not_serving, refused), version,
    /// zxid and epoch, latency, connections, outstanding requests, znode count, and on the
    /// leader `followers` and `synced_followers`. A server that refuses connections, or
    /// accepts them but does not answer within the context's `four_letter_timeout` (default
    /// 5s), is reported as `down`, its `error` saying which ("hung: ..."); the call itself
    /// does not fail.
    ///
    /// ```rhai
    /// let leader = zk_status().filter(|s| s.mode == "leader");
    /// ```
    #[rhai_fn(return_raw, name = "zk_status")]
    pub fn zk_status(ctx: NativeCallContext) -> Result<rhai::Array, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        to_array(&ensemble(&session, "zk_status")?)
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
        let timeout = session.settings.node_timeouts.four_letter;
        let result = session
            .block_on("zk_status", async move {
                Ok(status::server_status(&server, id, timeout).await)
            })
            .map_err(|e| crate::script::script_error(&session, "zk_status", e))?;
        to_map(&result)
    }

    /// The leader of the ensemble as `host:port` (unit when there is none).
    ///
    /// ```rhai
    /// let leader = zk_leader();
    /// ```
    #[rhai_fn(return_raw)]
    pub fn zk_leader(ctx: NativeCallContext) -> Result<Dynamic, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let statuses = ensemble(&session, "zk_leader")?;
        Ok(statuses
            .iter()
            .find(|s| s.mode == "leader" || s.mode == "standalone")
            .map(|s| Dynamic::from(s.server.clone()))
            .unwrap_or(Dynamic::UNIT))
    }

    /// Whether the ensemble is healthy — a quorum serving, exactly one leader, every
    /// follower synced, one epoch — with the reasons when it is not.
    ///
    /// ```rhai
    /// let h = zk_healthy();
    /// if !h.healthy { fail(`ZooKeeper is unhealthy: ${h.reasons}`); }
    /// ```
    #[rhai_fn(return_raw, name = "zk_healthy")]
    pub fn zk_healthy(ctx: NativeCallContext) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let statuses = ensemble(&session, "zk_healthy")?;
        to_map(&health::judge(&statuses))
    }

    /// Health of some servers of the inventory only: `#{servers: [1, 2, 3]}` (ids) — e.g.
    /// the old ensemble before a scale-out adds servers 4 and 5.
    ///
    /// ```rhai
    /// let old = zk_healthy(#{servers: [1, 2, 3]});
    /// ```
    #[rhai_fn(return_raw, name = "zk_healthy")]
    pub fn zk_healthy_of(ctx: NativeCallContext, options: Map) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let opts = Options::new("zk_healthy", &options, &["servers"])?;
        inventory_matches(&session, "zk_healthy", "zk")?;
        let ids = opts.int_list("servers")?;
        let known: Vec<i64> = session
            .settings
            .inventory
            .zookeeper_servers
            .iter()
            .map(|z| i64::from(z.id))
            .collect();
        if let Some(missing) = ids.iter().find(|id| !known.contains(id)) {
            return Err(script_error(
                &session,
                "zk_healthy",
                crate::error::Error::InvalidInput(format!(
                    "ZooKeeper server {missing} is not in the inventory"
                )),
            ));
        }
        let statuses: Vec<status::ZkServerStatus> = ensemble(&session, "zk_healthy")?
            .into_iter()
            .filter(|s| s.id.is_some_and(|id| ids.contains(&i64::from(id))))
            .collect();
        to_map(&health::judge(&statuses))
    }

    /// Children of a znode (under the context's chroot), sorted; numeric names sort as
    /// numbers — the seed's `zkCli.sh ls /brokers/ids`.
    ///
    /// ```rhai
    /// let ids = zk_ls("/brokers/ids");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn zk_ls(ctx: NativeCallContext, path: &str) -> Result<Array, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let path = path.to_string();
        let result = zk_call(&session, "zk_ls", |z| async move { z.ls(&path).await })?;
        to_array(&result)
    }

    /// A znode's data (`data` as text, `json` when it parses as JSON) and its stat
    /// (version, children, ctime, mtime, ephemeral owner, zxids).
    ///
    /// ```rhai
    /// let reg = zk_get("/brokers/ids/1").json;
    /// ```
    #[rhai_fn(return_raw)]
    pub fn zk_get(ctx: NativeCallContext, path: &str) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let path = path.to_string();
        let result = zk_call(&session, "zk_get", |z| async move { z.get(&path).await })?;
        to_map(&result)
    }

    /// A znode and its descendants, depth-first. Option `depth` (default 2).
    ///
    /// ```rhai
    /// let t = zk_tree("/brokers", #{depth: 1});
    /// ```
    #[rhai_fn(return_raw, name = "zk_tree")]
    pub fn zk_tree_with(
        ctx: NativeCallContext,
        path: &str,
        options: Map,
    ) -> Result<Array, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let opts = Options::new("zk_tree", &options, &["depth"])?;
        let depth = opts.int("depth")?.unwrap_or(2);
        if depth < 0 {
            return Err(format!("zk_tree: option \"depth\" must be 0 or more, not {depth}").into());
        }
        let depth = depth as usize;
        let path = path.to_string();
        let result = zk_call(&session, "zk_tree", |z| async move {
            z.tree(&path, depth).await
        })?;
        to_array(&result)
    }

    /// A znode and its descendants two levels deep.
    #[rhai_fn(return_raw, name = "zk_tree")]
    pub fn zk_tree(ctx: NativeCallContext, path: &str) -> Result<Array, Box<EvalAltResult>> {
        zk_tree_with(ctx, path, Map::new())
    }

    /// Set a znode's data. Refused on Kafka's own paths (/brokers, /admin, /config, ...)
    /// unless `force: true`; `version` makes it conditional. Honours --dry-run.
    ///
    /// ```rhai
    /// zk_set("/kafsh/note", "maintenance until 04:00", #{});
    /// ```
    #[rhai_fn(return_raw, name = "zk_set")]
    pub fn zk_set(
        ctx: NativeCallContext,
        path: &str,
        data: Dynamic,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "zk_set";
        let opts = Options::new(f, &options, &["force", "version"])?;
        guard(&session, f, path, opts.bool("force")?.unwrap_or(false))?;
        let data = data_bytes(f, &data)?;
        let version = opts.int("version")?.map(|v| v as i32);
        let path = path.to_string();
        if session.options.dry_run {
            let exists = zk_call(&session, f, |z| async move { z.get(&path).await })?;
            return dry_run_map(
                &session,
                f,
                &exists.path,
                &format!(
                    "would set {} bytes (now version {})",
                    data.len(),
                    exists.version
                ),
            );
        }
        let result = zk_call(&session, f, |z| async move {
            z.set(&path, &data, version).await
        })?;
        session.mutation(
            "zk_set",
            &result.path,
            &format!("set (now version {})", result.version),
            serde_json::json!({}),
        );
        to_map(&result)
    }

    /// Create a znode. Options: `ephemeral` (lives as long as this session), `parents`
    /// (create missing parents), `force` (allow Kafka's own paths), `acl`: "open" (default,
    /// anyone), "creator" (only sessions with the same digest auth) or "read" (creator may
    /// write, anyone may read). Honours --dry-run.
    ///
    /// ```rhai
    /// zk_create("/kafsh/runbooks/last-run", "2026-11-24", #{parents: true});
    /// zk_create("/kafsh/secrets", "x", #{acl: "creator"});
    /// ```
    #[rhai_fn(return_raw, name = "zk_create")]
    pub fn zk_create(
        ctx: NativeCallContext,
        path: &str,
        data: Dynamic,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "zk_create";
        let opts = Options::new(f, &options, &["ephemeral", "parents", "force", "acl"])?;
        let acl = match opts.string("acl")? {
            Some(text) => {
                crate::zk::znodes::ZkAcl::parse(&text).map_err(|e| script_error(&session, f, e))?
            }
            None => crate::zk::znodes::ZkAcl::Open,
        };
        guard(&session, f, path, opts.bool("force")?.unwrap_or(false))?;
        let data = data_bytes(f, &data)?;
        let ephemeral = opts.bool("ephemeral")?.unwrap_or(false);
        let parents = opts.bool("parents")?.unwrap_or(false);
        let path = path.to_string();
        if session.options.dry_run {
            let p = path.clone();
            let exists = zk_call(&session, f, |z| async move { z.exists(&p).await })?;
            if exists {
                return Err(script_error(
                    &session,
                    f,
                    crate::error::Error::InvalidInput(format!("znode {path:?} already exists")),
                ));
            }
            return dry_run_map(
                &session,
                f,
                &path,
                &format!("would create it with {} bytes", data.len()),
            );
        }
        let result = zk_call(&session, f, |z| async move {
            z.create(&path, &data, ephemeral, parents, acl).await
        })?;
        session.mutation(
            "zk_create",
            &result.path,
            "create",
            serde_json::json!({"ephemeral": ephemeral}),
        );
        to_map(&result)
    }

    /// Delete a znode (`recursive: true` for its children too). Refused on Kafka's own
    /// paths unless `force: true`; more than the context's `confirm_above` (10) znodes asks
    /// first in a terminal and, without one, needs --yes or `force`. Honours --dry-run.
    ///
    /// ```rhai
    /// zk_delete("/kafsh/runbooks", #{recursive: true});
    /// ```
    #[rhai_fn(return_raw, name = "zk_delete")]
    pub fn zk_delete(
        ctx: NativeCallContext,
        path: &str,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "zk_delete";
        let opts = Options::new(f, &options, &["recursive", "force"])?;
        let force = opts.bool("force")?.unwrap_or(false);
        guard(&session, f, path, force)?;
        let recursive = opts.bool("recursive")?.unwrap_or(false);
        let path = path.to_string();
        let p = path.clone();
        let tree = zk_call(&session, f, |z| async move {
            z.tree(&p, if recursive { usize::MAX } else { 0 }).await
        })?;
        crate::script::confirm_many(
            &session,
            f,
            tree.len(),
            &format!("{} znodes under {path:?}", tree.len()),
            force,
        )?;
        if session.options.dry_run {
            return dry_run_map(
                &session,
                f,
                &path,
                &format!("would delete {} znode(s)", tree.len()),
            );
        }
        let p = path.clone();
        let count = zk_call(
            &session,
            f,
            |z| async move { z.delete(&p, recursive).await },
        )?;
        session.mutation(
            f,
            &path,
            &format!("delete {count} znode(s)"),
            serde_json::json!({"recursive": recursive}),
        );
        let mut m = Map::new();
        m.insert("path".into(), path.into());
        m.insert("deleted".into(), Dynamic::from_int(count as i64));
        m.insert("dry_run".into(), Dynamic::FALSE);
        Ok(m)
    }

    /// Delete a znode without children.
    #[rhai_fn(return_raw, name = "zk_delete")]
    pub fn zk_delete_one(ctx: NativeCallContext, path: &str) -> Result<Map, Box<EvalAltResult>> {
        zk_delete(ctx, path, Map::new())
    }

    /// Brokers registered under `<chroot>/brokers/ids` with host, port, rack, endpoints
    /// and the whole registration — the seed's `ls /peter-kafka/brokers/ids`, with detail.
    ///
    /// ```rhai
    /// let ids = zk_brokers().map(|b| b.id);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn zk_brokers(ctx: NativeCallContext) -> Result<Array, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let result = zk_call(&session, "zk_brokers", |z| async move {
            znodes::zk_brokers(&z).await
        })?;
        to_array(&result)
    }

    /// Render a static zoo.cfg: `servers` is a list of maps `#{id, host, peer_port,
    /// election_port}` (ports default to 2888/3888; `inventory().zookeeper_servers` fits),
    /// `base` the other settings (dataDir, clientPort, ...). Refuses duplicate ids or ports.
    ///
    /// ```rhai
    /// let cfg = zoo_cfg([#{id: 1, host: "zk1"}, #{id: 2, host: "zk2"}, #{id: 3, host: "zk3"}],
    ///                   #{base: #{dataDir: "/data", clientPort: 2181}});
    /// ```
    #[rhai_fn(return_raw, name = "zoo_cfg")]
    pub fn zoo_cfg_with(
        ctx: NativeCallContext,
        servers: Array,
        options: Map,
    ) -> Result<String, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "zoo_cfg";
        let opts = Options::new(f, &options, &["base"])?;
        let base: std::collections::BTreeMap<String, String> =
            opts.string_map("base")?.into_iter().collect();
        let mut list = Vec::new();
        for (i, s) in servers.into_iter().enumerate() {
            let m = s.try_cast::<Map>().ok_or_else(|| {
                format!("{f}: server {i} must be a map like #{{id: 1, host: \"zk1\"}}")
            })?;
            let int = |k: &str, default: Option<i64>| -> Result<i64, Box<EvalAltResult>> {
                match m.get(k) {
                    Some(v) => v.as_int().map_err(|t| {
                        format!("{f}: server {i}: {k} must be an integer, not {t}").into()
                    }),
                    None => default.ok_or_else(|| format!("{f}: server {i} has no {k}").into()),
                }
            };
            let host = m
                .get("host")
                .and_then(|h| h.clone().into_string().ok())
                .ok_or_else(|| format!("{f}: server {i} has no host"))?;
            list.push(health::CfgServer {
                id: int("id", None)?.clamp(0, i64::from(u32::MAX)) as u32,
                host,
                peer_port: int("peer_port", Some(2888))?.clamp(0, 65535) as u16,
                election_port: int("election_port", Some(3888))?.clamp(0, 65535) as u16,
                client_port: m
                    .get("client_port")
                    .and_then(|v| v.as_int().ok())
                    .map(|p| p.clamp(0, 65535) as u16),
            });
        }
        health::render_zoo_cfg(&list, &base).map_err(|e| script_error(&session, f, e))
    }

    /// Render a static zoo.cfg for `servers` with default settings.
    #[rhai_fn(return_raw, name = "zoo_cfg")]
    pub fn zoo_cfg(ctx: NativeCallContext, servers: Array) -> Result<String, Box<EvalAltResult>> {
        zoo_cfg_with(ctx, servers, Map::new())
    }

    /// The context's inventory: ZooKeeper servers (id, host, ports, commands) and brokers.
    /// When `--zookeeper` or `--bootstrap-server` named other servers than the context's,
    /// `zookeeper_mismatch` / `brokers_mismatch` say so, and the functions that act through
    /// the inventory (restart_zk, restart_broker, zk_healthy with `servers`) refuse.
    ///
    /// ```rhai
    /// let ids = inventory().zookeeper_servers.map(|z| z.id);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn inventory(ctx: NativeCallContext) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        to_map(&session.settings.inventory)
    }
}

use crate::script::convert::scalar_text;
use crate::script::{script_error, Session};
use crate::zk::{status, znodes};
use rhai::{Dynamic, EvalAltResult, Map};

/// The status of every server this run's ZooKeeper means: the inventory's servers (which
/// may include servers not yet in the connect string, during a scale-out), unless
/// `--zookeeper` named another ensemble; then the servers of the connect string.
fn ensemble(session: &Session, f: &str) -> Result<Vec<status::ZkServerStatus>, Box<EvalAltResult>> {
    let inventory = &session.settings.inventory;
    let servers: Vec<(String, Option<u32>)> =
        if inventory.zookeeper_servers.is_empty() || inventory.zookeeper_mismatch.is_some() {
            let connect = session
                .zookeeper_connect()
                .map_err(|e| script_error(session, f, e))?;
            connect
                .servers
                .iter()
                .map(|s| {
                    let id = inventory
                        .zookeeper_servers
                        .iter()
                        .find(|z| &format!("{}:{}", z.host, z.client_port) == s)
                        .map(|z| z.id);
                    (s.clone(), id)
                })
                .collect()
        } else {
            inventory
                .zookeeper_servers
                .iter()
                .map(|z| (format!("{}:{}", z.host, z.client_port), Some(z.id)))
                .collect()
        };
    let timeout = session.settings.node_timeouts.four_letter;
    session
        .block_on(f, async move {
            Ok(status::ensemble_status(&servers, timeout).await)
        })
        .map_err(|e| script_error(session, f, e))
}

/// Refuses inventory-driven work when the inventory may describe other servers than the
/// ones this run talks to.
pub(crate) fn inventory_matches(
    session: &Session,
    f: &str,
    kind: &str,
) -> Result<(), Box<EvalAltResult>> {
    let inventory = &session.settings.inventory;
    let mismatch = if kind == "zk" {
        &inventory.zookeeper_mismatch
    } else {
        &inventory.brokers_mismatch
    };
    match mismatch {
        Some(why) => Err(script_error(
            session,
            f,
            crate::error::Error::Refused(format!(
                "{why}: refusing to act on servers that may belong to another cluster; use a context whose inventory describes these servers"
            )),
        )),
        None => Ok(()),
    }
}

fn guard(session: &Session, f: &str, path: &str, force: bool) -> Result<(), Box<EvalAltResult>> {
    if znodes::is_protected(path) && !force {
        return Err(script_error(
            session,
            f,
            crate::error::Error::Refused(format!(
                "{path:?} belongs to Kafka or ZooKeeper; pass #{{force: true}} if you really mean it"
            )),
        ));
    }
    Ok(())
}

fn data_bytes(f: &str, data: &Dynamic) -> Result<Vec<u8>, Box<EvalAltResult>> {
    if let Some(text) = scalar_text(data) {
        return Ok(text.into_bytes());
    }
    if data.is_map() || data.is_array() {
        let json: serde_json::Value = rhai::serde::from_dynamic(data)?;
        return Ok(json.to_string().into_bytes());
    }
    Err(format!("{f}: data must be a string, number, map or array").into())
}

fn dry_run_map(
    session: &Session,
    f: &str,
    path: &str,
    what: &str,
) -> Result<Map, Box<EvalAltResult>> {
    session.mutation(f, path, what, serde_json::json!({}));
    let mut m = Map::new();
    m.insert("path".into(), path.into());
    m.insert("dry_run".into(), Dynamic::TRUE);
    m.insert("message".into(), format!("{f}: {what}").into());
    Ok(m)
}
