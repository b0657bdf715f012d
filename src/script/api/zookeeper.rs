//! Rhai functions for ZooKeeper.

use rhai::plugin::*;

/// ZooKeeper
///
/// The ensemble's health (from the four-letter words `srvr` and `mntr`), its membership as
/// ZooKeeper sees it and its dynamic reconfiguration (3.5+), znodes under the context's
/// chroot, the brokers registered in ZooKeeper, and the context's inventory of servers.
/// Kafka's own znodes are protected unless `force: true`.
#[export_module]
pub mod api {
    use super::{
        data_bytes, dry_run_map, ensemble, guard, inventory_matches, members_of, session_settings,
    };
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
        let known = session
            .settings
            .inventory
            .zookeeper_servers
            .iter()
            .find(|z| format!("{}:{}", z.host, z.client_port) == server);
        let id = known.map(|z| z.id);
        let role = known.map(|z| super::role_of(z.role));
        let timeout = session.settings.node_timeouts.four_letter;
        let tls = session.settings.zookeeper_tls.clone();
        let mut result = session
            .block_on("zk_status", async move {
                Ok(status::server_status(&server, id, timeout, tls.as_ref()).await)
            })
            .map_err(|e| crate::script::script_error(&session, "zk_status", e))?;
        if result.role.is_none() {
            result.role = role;
        }
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
    /// election_port, client_port, role}` (ports default to 2888/3888; `role: "observer"`
    /// makes a non-voting server, written `:observer`; `inventory().zookeeper_servers`
    /// fits), `base` the other settings (dataDir, clientPort, ...). Refuses duplicate ids or
    /// ports, and a list of observers only. ZooKeeper 3.5+ takes a server's role from its
    /// line; a 3.4 observer also needs `peerType=observer` in its own file's `base`.
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
                role: match m.get("role").and_then(|r| r.clone().into_string().ok()) {
                    None => crate::zk::config::Role::Participant,
                    Some(r) => crate::zk::config::Role::parse(&r)
                        .map_err(|e| format!("{f}: server {i}: {e}"))?,
                },
            });
        }
        health::render_zoo_cfg(&list, &base).map_err(|e| script_error(&session, f, e))
    }

    /// Render a static zoo.cfg for `servers` with default settings.
    #[rhai_fn(return_raw, name = "zoo_cfg")]
    pub fn zoo_cfg(ctx: NativeCallContext, servers: Array) -> Result<String, Box<EvalAltResult>> {
        zoo_cfg_with(ctx, servers, Map::new())
    }

    /// The ensemble's membership as ZooKeeper sees it: `servers` (id, host, peer and
    /// election ports, `role` participant or observer, client address), `voters`,
    /// `observers`, the config `version` (hex, as ZooKeeper prints it; ZooKeeper 3.5+),
    /// `reconfig_enabled` with the reason in `reconfig`, and `views`: each server's id, role
    /// and the version it has applied (`agreed` when all report the same). Read from
    /// `/zookeeper/config` and each server's `conf` four-letter word (a server whose `conf`
    /// is not whitelisted is read over a session of its own); ZooKeeper 3.4, which has
    /// neither membership nor version, is described by each server's `conf`. ZooKeeper
    /// has no read for `reconfigEnabled`: the leader is asked for a reconfiguration from a
    /// config version that never exists, which it refuses without changing anything.
    ///
    /// ```rhai
    /// let c = zk_config();
    /// if c.reconfig_enabled { print(`voters ${c.voters}, version ${c.version}`); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn zk_config(ctx: NativeCallContext) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "zk_config";
        to_map(&super::read_config(&session, f)?)
    }

    /// Change the ensemble's membership with ZooKeeper's dynamic reconfiguration (3.5+,
    /// `reconfigEnabled=true`), as `zkCli.sh reconfig` does: `add` servers (or change one's
    /// address or role: same id), `remove` ids, or give all `members` at once. A server is an
    /// inventory id, a map `#{id, host, peer_port, election_port, client_port, role}`
    /// (inventory entries fit; ports default to 2888/3888/2181) or a line
    /// `"server.4=zk4:2888:3888:participant;2181"`. Sent conditionally on the configuration
    /// version it was planned from — `from_config` names one read earlier (hex, as
    /// `zk_config()` shows it) and is refused when the configuration changed since. Waits
    /// until every running server of the new configuration reports the new version
    /// (`timeout`, default 60s; `wait: false` does not wait); servers not running are
    /// listed in `not_running` and take it from the leader when they start. Refused with
    /// the reason when reconfiguration is disabled, the session lacks the rights (only a
    /// ZooKeeper super user may: `zookeeper_auth`), no synced quorum of the new
    /// configuration exists, or the configuration changed meanwhile; more than one voter
    /// added, removed or changed at once needs `force: true`. Asking for what already is
    /// sends nothing (`unchanged`). Honours --dry-run (which cannot check the rights).
    ///
    /// ```rhai
    /// zk_reconfig(#{add: [4]});
    /// zk_reconfig(#{add: ["server.6=zk6:2888:3888:observer;2181"]});
    /// let v = zk_config().version;
    /// zk_reconfig(#{remove: [5], from_config: v});
    /// ```
    #[rhai_fn(return_raw)]
    pub fn zk_reconfig(ctx: NativeCallContext, options: Map) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "zk_reconfig";
        let opts = Options::new(
            f,
            &options,
            &[
                "add",
                "remove",
                "members",
                "from_config",
                "force",
                "timeout",
                "wait",
            ],
        )?;
        let force = opts.bool("force")?.unwrap_or(false);
        // The version the caller planned from: hex as zk_config() shows it, or a number.
        let from_config = match options.get("from_config").filter(|v| !v.is_unit()) {
            None => None,
            Some(v) => Some(match v.as_int() {
                Ok(n) => u64::try_from(n).ok(),
                Err(_) => v
                    .clone()
                    .into_string()
                    .ok()
                    .and_then(|t| u64::from_str_radix(t.trim().trim_start_matches("0x"), 16).ok()),
            }
            .ok_or_else(|| {
                script_error(
                    &session,
                    f,
                    crate::error::Error::InvalidInput(format!(
                        "from_config must be a config version like \"100000003\" (hex, as zk_config() shows it), not {v}"
                    )),
                )
            })?),
        };
        let wait = opts.bool("wait")?.unwrap_or(true);
        let timeout = opts.duration("timeout", std::time::Duration::from_secs(60))?;
        let add = members_of(&session, f, "add", options.get("add"))?;
        let members = members_of(&session, f, "members", options.get("members"))?;
        // Servers given as server.N= lines say their client address themselves.
        let explicit: Vec<u32> = add
            .iter()
            .chain(members.iter())
            .flatten()
            .filter(|(_, line)| *line)
            .map(|(m, _)| m.id)
            .collect();
        let strip = |v: Option<Vec<(ZkMember, bool)>>| {
            v.map(|v| v.into_iter().map(|(m, _)| m).collect::<Vec<_>>())
        };
        let change = crate::zk::reconfig::Change {
            add: strip(add).unwrap_or_default(),
            remove: opts
                .int_list("remove")?
                .into_iter()
                .map(|id| {
                    u32::try_from(id)
                        .map_err(|_| format!("{f}: remove: {id} is not a server id").into())
                })
                .collect::<Result<Vec<u32>, Box<EvalAltResult>>>()?,
            members: strip(members),
        };
        let mut change = change;
        let whole = change.members.is_some();
        let current = zk_call(&session, f, |z| async move {
            match z.config().await {
                Err(crate::error::Error::NotFound(_)) => Err(crate::error::Error::Unsupported(
                    "this ZooKeeper has no /zookeeper/config (before 3.5): no dynamic reconfiguration"
                        .into(),
                )),
                other => other,
            }
        })?;
        // Servers given without a client host follow the ensemble's convention: when every
        // member names its own host as its client address, so do they (else ZooKeeper binds
        // the client port on every address).
        if !current.members.is_empty()
            && current
                .members
                .iter()
                .all(|m| m.client_host.as_deref() == Some(m.host.as_str()))
        {
            for m in change
                .add
                .iter_mut()
                .chain(change.members.iter_mut().flatten())
            {
                if m.client_host.is_none() && !explicit.contains(&m.id) {
                    m.client_host = Some(m.host.clone());
                }
            }
        }
        if let Some(wanted) = from_config.filter(|v| Some(*v) != current.version) {
            return Err(script_error(
                &session,
                f,
                crate::error::Error::Refused(format!(
                    "the configuration is version {}, not from_config {}: it changed since; read zk_config() again",
                    current.version.map(crate::zk::config::hex).unwrap_or_else(|| "?".into()),
                    crate::zk::config::hex(wanted)
                )),
            ));
        }
        let mut planned = crate::zk::reconfig::plan(&current, &change, force)
            .map_err(|e| script_error(&session, f, e))?;
        if planned.unchanged {
            planned.version = planned.version_before.clone();
            planned.dry_run = session.options.dry_run;
            return to_map(&planned);
        }
        let what = super::reconfig_summary(&planned);
        let target = format!(
            "ZooKeeper ensemble {}",
            session
                .zookeeper_connect()
                .map(|c| c.servers.join(","))
                .unwrap_or_default()
        );
        let details = serde_json::json!({
            "version_before": planned.version_before,
            "before": planned.before.iter().filter_map(|m| m.spec().ok()).collect::<Vec<_>>(),
            "after": planned.servers.iter().filter_map(|m| m.spec().ok()).collect::<Vec<_>>(),
        });
        if session.options.dry_run {
            let state = zk_call(&session, f, |z| async move {
                crate::zk::config::reconfig_state(&z).await
            })?;
            if let crate::zk::config::ReconfigState::Disabled(why) = state {
                return Err(script_error(
                    &session,
                    f,
                    crate::error::Error::Refused(format!(
                        "dynamic reconfiguration is not possible on this ensemble ({why}): change its membership with a configuration rewrite and a rolling restart"
                    )),
                ));
            }
            session.mutation(f, &target, &format!("would {what}"), details);
            planned.dry_run = true;
            return to_map(&planned);
        }
        let sent = planned.clone();
        let committed = zk_call(&session, f, |z| async move {
            crate::zk::reconfig::send(&z, &sent, whole).await
        })?;
        planned.version = committed.version.map(crate::zk::config::hex);
        let mut details = details;
        details["version"] = serde_json::json!(planned.version);
        session.mutation(
            f,
            &target,
            &format!(
                "{what} (version {} -> {})",
                planned.version_before.as_deref().unwrap_or("?"),
                planned.version.as_deref().unwrap_or("?")
            ),
            details,
        );
        if let (true, Some(version)) = (wait, committed.version) {
            let members = committed.members.clone();
            let settings = session_settings(&session);
            let four = session.settings.node_timeouts.four_letter;
            planned.not_running = session
                .bridge()
                .call(f, timeout + std::time::Duration::from_secs(5), async move {
                    let deadline = std::time::Instant::now() + timeout;
                    crate::zk::reconfig::wait_reported(&members, version, deadline, four, &settings)
                        .await
                })
                .map_err(|e| script_error(&session, f, e))?;
        }
        planned.servers = committed.members;
        to_map(&planned)
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
use crate::script::{script_error, zk_call, Session};
use crate::zk::config::{self, Role, SessionSettings, ZkMember};
use crate::zk::{status, znodes};
use rhai::{Dynamic, EvalAltResult, Map};

/// The servers this run's ZooKeeper means, each with its id and role when the inventory
/// knows them: the inventory's servers (which may include servers not yet in the connect
/// string, during a scale-out), unless `--zookeeper` named another ensemble; then the
/// servers of the connect string.
type Known = (String, Option<u32>, Option<Role>);

fn ensemble_servers(session: &Session, f: &str) -> Result<Vec<Known>, Box<EvalAltResult>> {
    let inventory = &session.settings.inventory;
    if inventory.zookeeper_servers.is_empty() || inventory.zookeeper_mismatch.is_some() {
        let connect = session
            .zookeeper_connect()
            .map_err(|e| script_error(session, f, e))?;
        Ok(connect
            .servers
            .iter()
            .map(|s| {
                let known = inventory
                    .zookeeper_servers
                    .iter()
                    .find(|z| &format!("{}:{}", z.host, z.client_port) == s);
                (
                    s.clone(),
                    known.map(|z| z.id),
                    known.map(|z| role_of(z.role)),
                )
            })
            .collect())
    } else {
        Ok(inventory
            .zookeeper_servers
            .iter()
            .map(|z| {
                (
                    format!("{}:{}", z.host, z.client_port),
                    Some(z.id),
                    Some(role_of(z.role)),
                )
            })
            .collect())
    }
}

/// The inventory's role as the domain's.
fn role_of(role: crate::config::ZkRole) -> Role {
    match role {
        crate::config::ZkRole::Participant => Role::Participant,
        crate::config::ZkRole::Observer => Role::Observer,
    }
}

/// How this run opens a session with one server (digest auth and limits of the context).
fn session_settings(session: &Session) -> SessionSettings {
    SessionSettings {
        auth: session.zookeeper_auth(),
        timeout: session.settings.call_timeout,
        connect_timeout: session.settings.node_timeouts.connect,
    }
}

/// The status of every server of [`ensemble_servers`]. Servers the inventory does not
/// know get their id and role from their `conf` four-letter word (or their place in the
/// membership another server's `conf` reports); servers found down are not asked again.
fn ensemble(session: &Session, f: &str) -> Result<Vec<status::ZkServerStatus>, Box<EvalAltResult>> {
    let servers = ensemble_servers(session, f)?;
    let timeout = session.settings.node_timeouts.four_letter;
    let tls = session.settings.zookeeper_tls.clone();
    session
        .block_on(f, async move {
            let pairs: Vec<(String, Option<u32>)> =
                servers.iter().map(|(s, id, _)| (s.clone(), *id)).collect();
            let mut statuses = status::ensemble_status(&pairs, timeout, tls.as_ref()).await;
            for (st, (_, _, role)) in statuses.iter_mut().zip(&servers) {
                if st.role.is_none() {
                    st.role = *role;
                }
            }
            let unknown: Vec<String> = statuses
                .iter()
                .filter(|s| s.id.is_none() && s.mode != "down")
                .map(|s| s.server.clone())
                .collect();
            if unknown.is_empty() {
                return Ok(statuses);
            }
            let views = config::server_views(&unknown, timeout, tls.as_ref(), None).await;
            let newest = views
                .iter()
                .filter_map(|v| v.membership.as_ref())
                .max_by_key(|m| m.version.unwrap_or(0));
            for st in statuses.iter_mut().filter(|s| s.id.is_none()) {
                let view = views.iter().find(|v| v.server == st.server);
                st.id = view
                    .and_then(|v| v.id)
                    .or_else(|| newest.and_then(|m| m.id_of(&st.server)));
                if st.role.is_none() {
                    st.role = view.and_then(|v| v.role).or_else(|| {
                        let id = st.id?;
                        Some(newest?.member(id)?.role)
                    });
                }
            }
            Ok(statuses)
        })
        .map_err(|e| script_error(session, f, e))
}

/// `zk_config()`: every server's view, `/zookeeper/config` through the session, and
/// whether the leader would reconfigure.
fn read_config(session: &Session, f: &str) -> Result<config::ZkConfig, Box<EvalAltResult>> {
    let servers: Vec<String> = ensemble_servers(session, f)?
        .into_iter()
        .map(|(s, _, _)| s)
        .collect();
    let timeout = session.settings.node_timeouts.four_letter;
    let settings = session_settings(session);
    let views = session
        .block_on(f, async move {
            Ok(config::server_views(
                &servers,
                timeout,
                settings.auth.tls.as_ref(),
                Some(&settings),
            )
            .await)
        })
        .map_err(|e| script_error(session, f, e))?;
    let (membership, state) = zk_call(session, f, |z| async move {
        let membership = match z.config().await {
            Ok(m) => Some(m),
            Err(crate::error::Error::NotFound(_)) => None,
            Err(e) => return Err(e),
        };
        let state = match &membership {
            Some(_) => config::reconfig_state(&z).await.ok(),
            None => None,
        };
        Ok((membership, state))
    })?;
    Ok(config::assemble(membership, views, state))
}

/// "add 4; remove 5; change 2" of a planned reconfiguration.
fn reconfig_summary(p: &crate::zk::reconfig::ReconfigResult) -> String {
    let ids = |v: &[u32]| v.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
    let mut parts = Vec::new();
    if !p.added.is_empty() {
        parts.push(format!("add {}", ids(&p.added)));
    }
    if !p.removed.is_empty() {
        parts.push(format!("remove {}", ids(&p.removed)));
    }
    if !p.changed.is_empty() {
        parts.push(format!("change {}", ids(&p.changed)));
    }
    format!("reconfigure: {}", parts.join("; "))
}

/// The servers of option `key` of `f`: inventory ids, maps `#{id, host, peer_port,
/// election_port, client_port, client_host, role}` or `server.N=...` lines (marked true);
/// none when the option is absent.
fn members_of(
    session: &Session,
    f: &str,
    key: &str,
    value: Option<&Dynamic>,
) -> Result<Option<Vec<(ZkMember, bool)>>, Box<EvalAltResult>> {
    let Some(value) = value.filter(|v| !v.is_unit()) else {
        return Ok(None);
    };
    let items = match value.clone().into_array() {
        Ok(a) => a,
        Err(_) => vec![value.clone()],
    };
    let bad = |i: usize, why: String| -> Box<EvalAltResult> {
        script_error(
            session,
            f,
            crate::error::Error::InvalidInput(format!("{key}[{i}]: {why}")),
        )
    };
    let mut out = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        if let Ok(id) = item.as_int() {
            let z = session
                .settings
                .inventory
                .zookeeper_servers
                .iter()
                .find(|z| i64::from(z.id) == id)
                .ok_or_else(|| bad(i, format!("ZooKeeper server {id} is not in the inventory")))?;
            out.push((
                ZkMember {
                    id: z.id,
                    host: z.host.clone(),
                    peer_port: z.peer_port,
                    election_port: z.election_port,
                    role: role_of(z.role),
                    client_host: None,
                    client_port: Some(z.client_port),
                },
                false,
            ));
        } else if let Ok(line) = item.clone().into_string() {
            let (k, v) = line
                .trim()
                .split_once('=')
                .ok_or_else(|| bad(i, format!("{line:?} is not a server.N=... line")))?;
            let id: u32 = k
                .trim()
                .trim_start_matches("server.")
                .parse()
                .map_err(|_| bad(i, format!("{k:?} names no server id")))?;
            out.push((
                ZkMember::parse(id, v).map_err(|e| bad(i, e.to_string()))?,
                true,
            ));
        } else if let Some(m) = item.clone().try_cast::<Map>() {
            let int = |k: &str, default: Option<i64>| -> Result<i64, Box<EvalAltResult>> {
                match m.get(k).filter(|v| !v.is_unit()) {
                    Some(v) => v
                        .as_int()
                        .map_err(|t| bad(i, format!("{k} must be an integer, not {t}"))),
                    None => default.ok_or_else(|| bad(i, format!("no {k}"))),
                }
            };
            let port = |k: &str, default: i64| -> Result<u16, Box<EvalAltResult>> {
                let p = int(k, Some(default))?;
                u16::try_from(p).map_err(|_| bad(i, format!("{k} {p} is not a port")))
            };
            let text = |k: &str| m.get(k).and_then(|v| v.clone().into_string().ok());
            let id = int("id", None)?;
            out.push((
                ZkMember {
                    id: u32::try_from(id)
                        .ok()
                        .filter(|&id| id > 0)
                        .ok_or_else(|| bad(i, format!("{id} is not a server id")))?,
                    host: text("host").ok_or_else(|| bad(i, "no host".into()))?,
                    peer_port: port("peer_port", 2888)?,
                    election_port: port("election_port", 3888)?,
                    role: match text("role") {
                        None => Role::Participant,
                        Some(r) => Role::parse(&r).map_err(|e| bad(i, e.to_string()))?,
                    },
                    client_host: text("client_host"),
                    client_port: Some(port("client_port", 2181)?),
                },
                false,
            ));
        } else {
            return Err(bad(
                i,
                format!(
                    "a server is an inventory id, a map #{{id, host, ...}} or a server.N= line, not {}",
                    item.type_name()
                ),
            ));
        }
    }
    Ok(Some(out))
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
