//! Rhai functions for access control: ACLs (list, create, delete after showing exactly
//! what goes, kafka-acls' producer/consumer shorthands), effective permissions (`can`,
//! `who_can`), SCRAM users and client quotas.

use crate::error::{Error, Result};
use crate::kafka::acls::{
    normalize_principal, AclBinding, AclFilter, Operation, PatternFilter, PatternType, Permission,
    ResourceType, CLUSTER_NAME, WILDCARD,
};
use crate::kafka::authorizer::{AuthorizerRules, Resource};
use crate::kafka::quotas::{Name, QuotaEntity};
use rhai::plugin::*;
use rhai::{Array, Map};

/// Access control
///
/// Who may do what: ACL bindings (what `kafka-acls.sh` lists, adds and removes; a delete
/// shows the exact bindings it removes and asks above `confirm_above`), effective
/// permissions as the brokers' authorizer decides them — `can()` names the bindings that
/// decide, `who_can()` lists the principals — with the super users the context names
/// (`super_users`), SCRAM users (passwords only from an environment variable or a file,
/// salted here, never shown), and client quotas of users, client ids, user+client pairs,
/// IPs and their defaults (what `kafka-configs.sh --entity-type users|clients|ips` does).
/// Resources are written `#{topic: "orders"}`, `#{group: "g"}`,
/// `#{transactional_id: "tx"}`, `#{delegation_token: "t"}`, `#{user: "bob"}` (the user as a
/// resource, for CreateTokens / DescribeTokens), `#{cluster: true}`, or `"topic:orders"`.
#[export_module]
pub mod api {
    use super::*;
    use crate::kafka::{acls, authorizer, quotas, users};
    use crate::script::convert::{scalar_text, to_array, to_map, Options};
    use crate::script::{kafka_call as call, script_error, session_of};
    use rhai::{Dynamic, EvalAltResult, NativeCallContext};

    /// ACL bindings, like `kafka-acls.sh --list`: each with resource_type, name,
    /// pattern_type, principal, host, operation and permission. A filter narrows them:
    /// `topic` / `group` / `transactional_id` / `cluster: true` (or `resource_type` and
    /// `name`), `pattern_type` ("literal" — the default when a name is given — "prefixed",
    /// "any", or "match": every binding that applies to the named resource, wildcard and
    /// prefixes included), `principal` ("User:bob", or "bob"), `host`, `operation`,
    /// `permission` ("allow" / "deny").
    ///
    /// ```rhai
    /// let all = list_acls();
    /// let bobs = list_acls(#{principal: "User:bob"});
    /// let on_orders = list_acls(#{topic: "orders", pattern_type: "match"});
    /// ```
    #[rhai_fn(return_raw, name = "list_acls")]
    pub fn list_acls_with(
        ctx: NativeCallContext,
        filter: Map,
    ) -> Result<Array, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "list_acls";
        let filter = acl_filter(&filter, false).map_err(|e| script_error(&session, f, e))?;
        let result = call(&session, f, |k| async move {
            acls::list_acls(&k, &filter).await
        })?;
        to_array(&result)
    }

    /// Every ACL binding.
    #[rhai_fn(return_raw, name = "list_acls")]
    pub fn list_acls(ctx: NativeCallContext) -> Result<Array, Box<EvalAltResult>> {
        list_acls_with(ctx, Map::new())
    }

    /// Create ACL bindings: a list of maps with a resource (`topic: "orders"`, or
    /// `resource_type` and `name`), `principal`, `operation`, and optionally `pattern_type`
    /// ("literal" or "prefixed"; literal "*" matches every name), `host` (an IP address;
    /// "*" by default) and `permission` ("allow" by default, or "deny"). Bindings that
    /// exist already are reported, not created twice. A DENY for every user on every
    /// resource of a type needs `#{force: true}`. Honours --dry-run.
    ///
    /// ```rhai
    /// create_acls([
    ///     #{topic: "orders", principal: "User:bob", operation: "read"},
    ///     #{group: "billing", principal: "User:bob", operation: "read"},
    ///     #{topic: "tmp-", pattern_type: "prefixed", principal: "User:bob", operation: "all", permission: "deny"},
    /// ]);
    /// ```
    #[rhai_fn(return_raw, name = "create_acls")]
    pub fn create_acls_with(
        ctx: NativeCallContext,
        bindings: Array,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "create_acls";
        let opts = Options::new(f, &options, &["force"])?;
        let force = opts.bool("force")?.unwrap_or(false);
        let bindings = bindings
            .iter()
            .map(binding_of)
            .collect::<Result<Vec<_>>>()
            .map_err(|e| script_error(&session, f, e))?;
        create(&session, f, bindings, force, serde_json::Value::Null)
    }

    /// Create ACL bindings (a list of binding maps).
    #[rhai_fn(return_raw, name = "create_acls")]
    pub fn create_acls(ctx: NativeCallContext, bindings: Array) -> Result<Map, Box<EvalAltResult>> {
        create_acls_with(ctx, bindings, Map::new())
    }

    /// Delete the ACL bindings a filter matches (the filter of `list_acls`; `#{}` matches
    /// every binding). The bindings are listed first and exactly those are deleted; the
    /// result names each. More than the context's `confirm_above` asks in a terminal (after
    /// showing them) and is refused without one unless --yes or `force: true` (in the
    /// filter map). With --dry-run it lists what would go and changes nothing.
    ///
    /// ```rhai
    /// let gone = delete_acls(#{principal: "User:bob", topic: "orders"});
    /// print(gone.deleted.len());
    /// delete_acls(#{principal: "User:bob", force: true});
    /// ```
    #[rhai_fn(return_raw)]
    pub fn delete_acls(ctx: NativeCallContext, filter: Map) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "delete_acls";
        let force = filter
            .get("force")
            .map(|v| {
                v.as_bool()
                    .map_err(|t| format!("{f}: force must be a bool, not {t}"))
            })
            .transpose()?
            .unwrap_or(false);
        let filter = acl_filter(&filter, true).map_err(|e| script_error(&session, f, e))?;
        let listed = {
            let filter = filter.clone();
            call(&session, f, |k| async move {
                acls::list_acls(&k, &filter).await
            })?
        };
        let lines: Vec<String> = listed.iter().map(AclBinding::describe).collect();
        crate::script::confirm_many_listing(
            &session,
            f,
            listed.len(),
            &format!("{} ACL bindings ({})", listed.len(), filter.describe()),
            &lines,
            force,
        )?;
        let dry_run = session.options.dry_run;
        let result = {
            let filter = filter.clone();
            call(&session, f, |k| async move {
                acls::delete_exactly(&k, &filter, listed, dry_run).await
            })?
        };
        if !result.deleted.is_empty() {
            session.mutation(
                f,
                &result.filter,
                &format!(
                    "delete {} binding(s): {}",
                    result.deleted.len(),
                    summary(&result.deleted)
                ),
                serde_json::json!({"deleted": result.deleted}),
            );
        }
        to_map(&result)
    }

    /// Allow a principal to produce to a topic, as `kafka-acls.sh --producer` does: Write,
    /// Describe and Create on the topic; with `transactional_id`, Write and Describe on it;
    /// with `idempotent: true`, IdempotentWrite on the cluster. Options: `pattern_type`
    /// ("prefixed" for every topic starting with the name), `host`. Honours --dry-run.
    ///
    /// ```rhai
    /// allow_producer("User:bob", "orders");
    /// allow_producer("User:bob", "payments-", #{pattern_type: "prefixed", transactional_id: "pay-tx", idempotent: true});
    /// ```
    #[rhai_fn(return_raw, name = "allow_producer")]
    pub fn allow_producer_with(
        ctx: NativeCallContext,
        principal: &str,
        topic: &str,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "allow_producer";
        let opts = Options::new(
            f,
            &options,
            &[
                "transactional_id",
                "idempotent",
                "pattern_type",
                "host",
                "force",
            ],
        )?;
        let pattern =
            pattern_type(opts.string("pattern_type")?).map_err(|e| script_error(&session, f, e))?;
        let host = opts.string("host")?.unwrap_or_else(|| WILDCARD.to_string());
        let bindings = acls::producer_bindings(
            &normalize_principal(principal),
            topic,
            pattern,
            &host,
            opts.string("transactional_id")?.as_deref(),
            opts.bool("idempotent")?.unwrap_or(false),
        );
        let force = opts.bool("force")?.unwrap_or(false);
        create(
            &session,
            f,
            bindings,
            force,
            serde_json::json!({"topic": topic}),
        )
    }

    /// Allow a principal to produce to a topic (Write, Describe, Create).
    #[rhai_fn(return_raw, name = "allow_producer")]
    pub fn allow_producer(
        ctx: NativeCallContext,
        principal: &str,
        topic: &str,
    ) -> Result<Map, Box<EvalAltResult>> {
        allow_producer_with(ctx, principal, topic, Map::new())
    }

    /// Allow a principal to consume a topic in a group, as `kafka-acls.sh --consumer` does:
    /// Read and Describe on the topic, Read on the group. Options: `pattern_type`
    /// ("prefixed" applies to topic and group names alike), `host`. Honours --dry-run.
    ///
    /// ```rhai
    /// allow_consumer("User:bob", "orders", "billing");
    /// ```
    #[rhai_fn(return_raw, name = "allow_consumer")]
    pub fn allow_consumer_with(
        ctx: NativeCallContext,
        principal: &str,
        topic: &str,
        group: &str,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "allow_consumer";
        let opts = Options::new(f, &options, &["pattern_type", "host", "force"])?;
        let pattern =
            pattern_type(opts.string("pattern_type")?).map_err(|e| script_error(&session, f, e))?;
        let host = opts.string("host")?.unwrap_or_else(|| WILDCARD.to_string());
        let bindings = acls::consumer_bindings(
            &normalize_principal(principal),
            topic,
            group,
            pattern,
            &host,
        );
        let force = opts.bool("force")?.unwrap_or(false);
        create(
            &session,
            f,
            bindings,
            force,
            serde_json::json!({"topic": topic, "group": group}),
        )
    }

    /// Allow a principal to consume a topic in a group (Read, Describe; group Read).
    #[rhai_fn(return_raw, name = "allow_consumer")]
    pub fn allow_consumer(
        ctx: NativeCallContext,
        principal: &str,
        topic: &str,
        group: &str,
    ) -> Result<Map, Box<EvalAltResult>> {
        allow_consumer_with(ctx, principal, topic, group, Map::new())
    }

    /// Whether the brokers' authorizer lets `principal` do `operation` on `resource`, and
    /// why: `allowed`, `reason` (super_user, allowed, denied, no_allow, no_acl,
    /// no_acl_allow_everyone) and `deciding`, the bindings that decide it (the DENY that
    /// wins, or the ALLOWs that allow). Kafka's rules: a super user (the context's
    /// `super_users`) may do anything; a DENY wins; prefixed and literal "*" patterns and
    /// the principal "User:*" apply; Read, Write, Delete and Alter imply Describe,
    /// AlterConfigs implies DescribeConfigs. Options: `host` (the client's IP; default a
    /// host no binding names), `acls` (decide on a saved `list_acls()` instead of asking
    /// the cluster), `super_users` (instead of the context's).
    ///
    /// ```rhai
    /// let d = can("User:bob", "write", #{topic: "orders"});
    /// if !d.allowed { print(`denied: ${d.reason}`); }
    /// can("bob", "read", "topic:orders", #{host: "10.0.0.7"});
    /// ```
    #[rhai_fn(return_raw, name = "can")]
    pub fn can_with(
        ctx: NativeCallContext,
        principal: &str,
        operation: &str,
        resource: Dynamic,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "can";
        let opts = Options::new(f, &options, &["host", "acls", "super_users"])?;
        let host = opts.string("host")?.unwrap_or_else(|| WILDCARD.to_string());
        let question = (|| -> Result<_> {
            let op = Operation::parse(operation)?;
            let res = resource_of(&resource)?;
            acls::validate_host(&host)?;
            Ok((op, res))
        })()
        .map_err(|e| script_error(&session, f, e))?;
        let (op, res) = question;
        let rules = rules_of(&session, &opts)?;
        let bindings = bindings_for(&session, f, options.get("acls"), &res)?;
        let d = authorizer::authorize(
            &rules,
            &bindings,
            &normalize_principal(principal),
            op,
            &res,
            &host,
        );
        to_map(&d)
    }

    /// Whether the authorizer lets `principal` do `operation` on `resource` from any host.
    #[rhai_fn(return_raw, name = "can")]
    pub fn can(
        ctx: NativeCallContext,
        principal: &str,
        operation: &str,
        resource: Dynamic,
    ) -> Result<Map, Box<EvalAltResult>> {
        can_with(ctx, principal, operation, resource, Map::new())
    }

    /// The principals the authorizer lets do `operation` on `resource`: the super users, and
    /// every principal a binding on the resource names ("User:*" stands for any user no
    /// DENY shuts out), each with `host` ("*" or the one host it may act from),
    /// `except_hosts` and `via`, the bindings that allow it. Options: `acls`, `super_users`
    /// (as for `can`).
    ///
    /// ```rhai
    /// let readers = who_can("read", #{topic: "orders"});
    /// let acls = list_acls();
    /// let writers = who_can("write", "topic:orders", #{acls: acls});
    /// ```
    #[rhai_fn(return_raw, name = "who_can")]
    pub fn who_can_with(
        ctx: NativeCallContext,
        operation: &str,
        resource: Dynamic,
        options: Map,
    ) -> Result<Array, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "who_can";
        let opts = Options::new(f, &options, &["acls", "super_users"])?;
        let (op, res) =
            (|| -> Result<_> { Ok((Operation::parse(operation)?, resource_of(&resource)?)) })()
                .map_err(|e| script_error(&session, f, e))?;
        let rules = rules_of(&session, &opts)?;
        let bindings = bindings_for(&session, f, options.get("acls"), &res)?;
        to_array(&authorizer::who_can(&rules, &bindings, op, &res))
    }

    /// The principals the authorizer lets do `operation` on `resource`.
    #[rhai_fn(return_raw, name = "who_can")]
    pub fn who_can(
        ctx: NativeCallContext,
        operation: &str,
        resource: Dynamic,
    ) -> Result<Array, Box<EvalAltResult>> {
        who_can_with(ctx, operation, resource, Map::new())
    }

    /// Every SCRAM user with its credentials (mechanism and iterations), as
    /// `kafka-configs.sh --describe --entity-type users` shows them.
    ///
    /// ```rhai
    /// for u in list_users() { print(u.user); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn list_users(ctx: NativeCallContext) -> Result<Array, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let result = call(&session, "list_users", |k| async move {
            users::list_users(&k).await
        })?;
        to_array(&result)
    }

    /// One SCRAM user's credentials; an error when it has none.
    ///
    /// ```rhai
    /// let alice = describe_user("alice");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn describe_user(ctx: NativeCallContext, user: &str) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let user = user.to_string();
        let result = call(&session, "describe_user", |k| async move {
            users::describe_user(&k, &user).await
        })?;
        to_map(&result)
    }

    /// Create a SCRAM user or change its password (AlterUserScramCredentials). The password
    /// comes from `password_env` (an environment variable's name) or `password_file` (a
    /// file's first line) — never inline, so it reaches no history, log or audit entry; it
    /// is salted here and only the salted password is sent. Options: `mechanism`
    /// ("SCRAM-SHA-512" by default, or "SCRAM-SHA-256"), `iterations` (4096 to 16384;
    /// default 4096). Changing the password of the user kafsh itself connects as needs
    /// `force: true`. Honours --dry-run (the password source is still read and checked).
    ///
    /// ```rhai
    /// set_password("carol", #{password_env: "CAROL_PASSWORD"});
    /// set_password("carol", #{password_file: "/etc/kafsh/carol.pw", mechanism: "SCRAM-SHA-256", iterations: 8192});
    /// ```
    #[rhai_fn(return_raw)]
    pub fn set_password(
        ctx: NativeCallContext,
        user: &str,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "set_password";
        if options.contains_key("password") {
            return Err(script_error(
                &session,
                f,
                Error::InvalidInput(
                    "a password is never taken inline (it would stay in the history and the logs); give #{password_env: \"NAME\"} or #{password_file: \"path\"}".into(),
                ),
            ));
        }
        let opts = Options::new(
            f,
            &options,
            &[
                "password_env",
                "password_file",
                "mechanism",
                "iterations",
                "force",
            ],
        )?;
        let password = match (opts.string("password_env")?, opts.string("password_file")?) {
            (Some(env), None) => users::Secret::from_env(&env),
            (None, Some(path)) => users::Secret::from_file(std::path::Path::new(&path)),
            _ => Err(Error::InvalidInput(
                "give exactly one of #{password_env: \"NAME\"} and #{password_file: \"path\"}"
                    .into(),
            )),
        }
        .map_err(|e| script_error(&session, f, e))?;
        let mechanism = opts
            .string("mechanism")?
            .map(|m| users::ScramMechanism::parse(&m))
            .transpose()
            .map_err(|e| script_error(&session, f, e))?
            .unwrap_or(users::ScramMechanism::Sha512);
        let iterations = match opts.int("iterations")? {
            Some(n) => u32::try_from(n).map_err(|_| {
                script_error(
                    &session,
                    f,
                    Error::InvalidInput(format!("{n} iterations is not a count")),
                )
            })?,
            None => users::MIN_ITERATIONS,
        };
        let force = opts.bool("force")?.unwrap_or(false);
        refuse_own_user(
            &session,
            f,
            user,
            "change the password kafsh itself logs in with",
            force,
        )?;
        let dry_run = session.options.dry_run;
        let user = user.to_string();
        let result = call(&session, f, |k| async move {
            users::set_password(&k, &user, mechanism, iterations, &password, dry_run).await
        })?;
        session.mutation(
            f,
            &format!("user {:?}", result.user),
            &format!(
                "{} {} credential ({} iterations)",
                if result.new_credential {
                    "create"
                } else {
                    "replace"
                },
                result.mechanism.name(),
                result.iterations
            ),
            serde_json::json!({
                "user": result.user,
                "mechanism": result.mechanism,
                "iterations": result.iterations,
                "new_credential": result.new_credential,
            }),
        );
        to_map(&result)
    }

    /// Delete a SCRAM user's credentials (all of them, or one `mechanism`): it can no longer
    /// log in with SCRAM; its ACLs and quotas stay. The user kafsh itself connects as, or a
    /// super user the context names, needs `force: true`. Honours --dry-run.
    ///
    /// ```rhai
    /// delete_user("carol");
    /// delete_user("carol", #{mechanism: "SCRAM-SHA-256"});
    /// ```
    #[rhai_fn(return_raw, name = "delete_user")]
    pub fn delete_user_with(
        ctx: NativeCallContext,
        user: &str,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "delete_user";
        let opts = Options::new(f, &options, &["mechanism", "force"])?;
        let mechanism = opts
            .string("mechanism")?
            .map(|m| users::ScramMechanism::parse(&m))
            .transpose()
            .map_err(|e| script_error(&session, f, e))?;
        let force = opts.bool("force")?.unwrap_or(false);
        refuse_own_user(
            &session,
            f,
            user,
            "delete the user kafsh itself logs in with",
            force,
        )?;
        let principal = normalize_principal(user);
        if !force
            && session
                .settings
                .authorizer
                .super_users
                .iter()
                .flatten()
                .any(|s| s == &principal)
        {
            return Err(script_error(
                &session,
                f,
                Error::OutOfProportion(format!("{user:?} is a super user of this cluster")),
            ));
        }
        let dry_run = session.options.dry_run;
        let user = user.to_string();
        let result = call(&session, f, |k| async move {
            users::delete_user(&k, &user, mechanism, dry_run).await
        })?;
        let mechanisms: Vec<&str> = result.deleted.iter().map(|c| c.mechanism.name()).collect();
        session.mutation(
            f,
            &format!("user {:?}", result.user),
            &format!("delete {} credential(s)", mechanisms.join(", ")),
            serde_json::json!({"user": result.user, "deleted": result.deleted, "kept": result.kept}),
        );
        to_map(&result)
    }

    /// Delete every SCRAM credential of a user.
    #[rhai_fn(return_raw, name = "delete_user")]
    pub fn delete_user(ctx: NativeCallContext, user: &str) -> Result<Map, Box<EvalAltResult>> {
        delete_user_with(ctx, user, Map::new())
    }

    /// Client quotas: one entry per entity (`user`, `client_id`, both, or `ip`; "<default>"
    /// for a default) with its `quotas` (producer_byte_rate, consumer_byte_rate,
    /// request_percentage, controller_mutation_rate; connection_creation_rate for IPs), as
    /// `kafka-configs.sh --describe --entity-type users|clients|ips` shows them. Options
    /// narrow: `user`, `client_id`, `ip` (a name or "<default>"), `defaults: true` (only
    /// entities with a default part).
    ///
    /// ```rhai
    /// let all = describe_quotas();
    /// let alice = describe_quotas(#{user: "alice"});
    /// let defaults = describe_quotas(#{defaults: true});
    /// ```
    #[rhai_fn(return_raw, name = "describe_quotas")]
    pub fn describe_quotas_with(
        ctx: NativeCallContext,
        options: Map,
    ) -> Result<Array, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "describe_quotas";
        let opts = Options::new(f, &options, &["user", "client_id", "ip", "defaults"])?;
        let filter = quotas::QuotaFilter {
            user: opts.string("user")?.as_deref().map(Name::parse),
            client_id: opts.string("client_id")?.as_deref().map(Name::parse),
            ip: opts.string("ip")?.as_deref().map(Name::parse),
            defaults: opts.bool("defaults")?.unwrap_or(false),
        };
        let result = call(&session, f, |k| async move {
            quotas::describe_quotas(&k, &filter).await
        })?;
        to_array(&result)
    }

    /// Every client quota entry.
    #[rhai_fn(return_raw, name = "describe_quotas")]
    pub fn describe_quotas(ctx: NativeCallContext) -> Result<Array, Box<EvalAltResult>> {
        describe_quotas_with(ctx, Map::new())
    }

    /// Set quotas of an entity — `#{user: "alice"}`, `#{client_id: "app"}`, both,
    /// `#{ip: "10.0.0.7"}`, or "<default>" for any of them — keeping its other quotas
    /// (AlterClientQuotas): `producer_byte_rate`, `consumer_byte_rate`,
    /// `request_percentage`, `controller_mutation_rate`, `connection_creation_rate` (IPs).
    /// A rate so low it would all but stop the clients (a byte rate under 1 KiB/s, another
    /// rate under 1) needs `force: true`. The result lists each old and new value. Honours
    /// --dry-run (the broker validates the change).
    ///
    /// ```rhai
    /// set_quota(#{user: "alice"}, #{producer_byte_rate: 1048576, consumer_byte_rate: 2097152});
    /// set_quota(#{user: "<default>"}, #{request_percentage: 200});
    /// set_quota(#{ip: "10.0.0.7"}, #{connection_creation_rate: 10});
    /// ```
    #[rhai_fn(return_raw)]
    pub fn set_quota(
        ctx: NativeCallContext,
        entity: Map,
        values: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "set_quota";
        let entity = quota_entity(&entity).map_err(|e| script_error(&session, f, e))?;
        let mut set = std::collections::BTreeMap::new();
        let mut force = false;
        for (k, v) in &values {
            if k.as_str() == "force" {
                force = v
                    .as_bool()
                    .map_err(|t| format!("{f}: force must be a bool, not {t}"))?;
                continue;
            }
            let n = v
                .as_float()
                .or_else(|_| v.as_int().map(|i| i as f64))
                .map_err(|t| format!("{f}: quota {:?} must be a number, not {t}", k.as_str()))?;
            set.insert(k.to_string(), n);
        }
        let dry_run = session.options.dry_run;
        let result = call(&session, f, |k| async move {
            quotas::alter_quotas(&k, &entity, &set, &[], force, dry_run).await
        })?;
        record_quota_change(&session, f, &result);
        to_map(&result)
    }

    /// Remove quotas of an entity (`keys`: a name or a list; the entity then has no limit
    /// of that kind but a default's). Removing a default entity's quotas lifts the limit of
    /// every client it covers and needs `force: true`. The result lists the old values.
    /// Honours --dry-run.
    ///
    /// ```rhai
    /// delete_quota(#{user: "alice"}, ["producer_byte_rate"]);
    /// delete_quota(#{user: "alice", client_id: "app"}, "request_percentage");
    /// delete_quota(#{user: "<default>"}, "request_percentage", #{force: true});
    /// ```
    #[rhai_fn(return_raw, name = "delete_quota")]
    pub fn delete_quota_with(
        ctx: NativeCallContext,
        entity: Map,
        keys: Dynamic,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "delete_quota";
        let opts = Options::new(f, &options, &["force"])?;
        let force = opts.bool("force")?.unwrap_or(false);
        let entity = quota_entity(&entity).map_err(|e| script_error(&session, f, e))?;
        let keys: Vec<String> = if let Some(list) = keys.clone().try_cast::<Array>() {
            list.iter()
                .map(|k| scalar_text(k).ok_or_else(|| format!("{f}: quota names are strings")))
                .collect::<std::result::Result<_, _>>()?
        } else {
            vec![scalar_text(&keys).ok_or_else(|| format!("{f}: quota names are strings"))?]
        };
        if entity.is_default() && !force {
            return Err(script_error(
                &session,
                f,
                Error::OutOfProportion(format!(
                    "removing {} of {} lifts the limit of every client it covers",
                    keys.join(", "),
                    entity.describe()
                )),
            ));
        }
        let dry_run = session.options.dry_run;
        let result = call(&session, f, |k| async move {
            quotas::alter_quotas(&k, &entity, &Default::default(), &keys, force, dry_run).await
        })?;
        record_quota_change(&session, f, &result);
        to_map(&result)
    }

    /// Remove quotas of an entity.
    #[rhai_fn(return_raw, name = "delete_quota")]
    pub fn delete_quota(
        ctx: NativeCallContext,
        entity: Map,
        keys: Dynamic,
    ) -> Result<Map, Box<EvalAltResult>> {
        delete_quota_with(ctx, entity, keys, Map::new())
    }
}

/// Creates bindings and records the mutation under `function`'s name.
fn create(
    session: &crate::script::Session,
    function: &str,
    bindings: Vec<AclBinding>,
    force: bool,
    context: serde_json::Value,
) -> std::result::Result<Map, Box<rhai::EvalAltResult>> {
    let dry_run = session.options.dry_run;
    let result = crate::script::kafka_call(session, function, |k| async move {
        crate::kafka::acls::create_acls(&k, &bindings, force, dry_run).await
    })?;
    if !result.created.is_empty() {
        session.mutation(
            function,
            &format!("{} ACL binding(s)", result.created.len()),
            &format!("create {}", summary(&result.created)),
            serde_json::json!({"created": result.created, "existing": result.existing, "for": context}),
        );
    }
    crate::script::convert::to_map(&result)
}

/// The bindings in one line each, joined (the first few, then how many more).
fn summary(bindings: &[AclBinding]) -> String {
    let mut parts: Vec<String> = bindings.iter().take(5).map(AclBinding::describe).collect();
    if bindings.len() > 5 {
        parts.push(format!("and {} more", bindings.len() - 5));
    }
    parts.join("; ")
}

fn record_quota_change(
    session: &crate::script::Session,
    function: &str,
    change: &crate::kafka::quotas::QuotaChange,
) {
    let lines: Vec<String> = change
        .changes
        .iter()
        .map(|c| match c.new {
            Some(v) => format!("set {}={v}", c.key),
            None => format!("remove {}", c.key),
        })
        .collect();
    session.mutation(
        function,
        &change.entity,
        &lines.join(", "),
        serde_json::json!({"entity": change.subject, "changes": change.changes}),
    );
}

/// Refuses (without `force`) a change to the SASL user this session logs in as.
fn refuse_own_user(
    session: &crate::script::Session,
    function: &str,
    user: &str,
    what: &str,
    force: bool,
) -> std::result::Result<(), Box<rhai::EvalAltResult>> {
    let me = crate::audit::identity::kafka_principal(&session.settings.properties);
    if !force && me.as_deref() == Some(normalize_principal(user).as_str()) {
        return Err(crate::script::script_error(
            session,
            function,
            Error::OutOfProportion(format!(
                "{user:?} is the user this context connects as: this would {what}"
            )),
        ));
    }
    Ok(())
}

/// The authorizer rules: the context's, or `super_users` given to the call.
fn rules_of(
    session: &crate::script::Session,
    opts: &crate::script::convert::Options<'_>,
) -> std::result::Result<AuthorizerRules, Box<rhai::EvalAltResult>> {
    let mut rules = session.settings.authorizer.clone();
    let given = opts.string_list("super_users")?;
    if !given.is_empty() {
        rules.super_users = Some(given.iter().map(|s| normalize_principal(s)).collect());
    }
    Ok(rules)
}

/// The bindings a decision about `resource` needs: those given in `acls`, or the ones the
/// cluster says apply to it (DescribeAcls, pattern "match").
fn bindings_for(
    session: &crate::script::Session,
    function: &str,
    given: Option<&Dynamic>,
    resource: &Resource,
) -> std::result::Result<Vec<AclBinding>, Box<rhai::EvalAltResult>> {
    if let Some(given) = given.filter(|g| !g.is_unit()) {
        let list = given
            .clone()
            .into_array()
            .map_err(|t| format!("{function}: option \"acls\" must be a list of bindings (from list_acls()), not {t}"))?;
        return list
            .iter()
            .map(binding_of_listing)
            .collect::<Result<Vec<_>>>()
            .map_err(|e| crate::script::script_error(session, function, e));
    }
    let filter = AclFilter {
        resource_type: Some(resource.resource_type),
        name: Some(resource.name.clone()),
        pattern_type: PatternFilter::Match,
        ..AclFilter::default()
    };
    crate::script::kafka_call(session, function, |k| async move {
        crate::kafka::acls::list_acls(&k, &filter).await
    })
}

fn text_of(key: &str, v: &Dynamic) -> Result<String> {
    crate::script::convert::scalar_text(v).ok_or_else(|| {
        Error::InvalidInput(format!("{key} must be a string, not {}", v.type_name()))
    })
}

/// The resource named by shorthand keys (`topic: "x"`, `cluster: true`, ...) or by
/// `resource_type` and `name`; none when the map names none.
fn resource_in(map: &Map) -> Result<Option<(ResourceType, Option<String>)>> {
    let mut found = Vec::new();
    for (key, rt) in [
        ("topic", ResourceType::Topic),
        ("group", ResourceType::Group),
        ("transactional_id", ResourceType::TransactionalId),
        ("delegation_token", ResourceType::DelegationToken),
        ("user", ResourceType::User),
    ] {
        if let Some(v) = map.get(key) {
            found.push((rt, Some(text_of(key, v)?)));
        }
    }
    if let Some(v) = map.get("cluster") {
        if v.as_bool() == Ok(false) {
            return Err(Error::InvalidInput(
                "cluster: false names no resource".into(),
            ));
        }
        found.push((ResourceType::Cluster, Some(CLUSTER_NAME.to_string())));
    }
    if let Some(v) = map.get("resource_type") {
        let rt = ResourceType::parse(&text_of("resource_type", v)?)?;
        let name = map.get("name").map(|n| text_of("name", n)).transpose()?;
        let name = match (rt, name) {
            (ResourceType::Cluster, None) => Some(CLUSTER_NAME.to_string()),
            (_, n) => n,
        };
        found.push((rt, name));
    } else if map.contains_key("name") && found.is_empty() {
        return Err(Error::InvalidInput(
            "name without resource_type: say what it names (topic, group, ...)".into(),
        ));
    }
    if found.len() > 1 {
        return Err(Error::InvalidInput(
            "name one resource (topic, group, transactional_id, cluster or resource_type)".into(),
        ));
    }
    Ok(found.pop())
}

/// A resource: `#{topic: "orders"}`, `"topic:orders"`, `"cluster"`.
fn resource_of(value: &Dynamic) -> Result<Resource> {
    let (resource_type, name) = if let Some(map) = value.clone().try_cast::<Map>() {
        let extra: Vec<String> = map
            .keys()
            .filter(|k| {
                ![
                    "topic",
                    "group",
                    "transactional_id",
                    "delegation_token",
                    "user",
                    "cluster",
                    "resource_type",
                    "name",
                ]
                .contains(&k.as_str())
            })
            .map(|k| k.to_string())
            .collect();
        if !extra.is_empty() {
            return Err(Error::InvalidInput(format!(
                "unknown resource key(s) {}",
                extra.join(", ")
            )));
        }
        resource_in(&map)?.ok_or_else(|| {
            Error::InvalidInput("name a resource: topic, group, transactional_id or cluster".into())
        })?
    } else {
        let text = value.to_string();
        match text.split_once(':') {
            Some((t, n)) => (ResourceType::parse(t)?, Some(n.to_string())),
            None => (ResourceType::parse(&text)?, None),
        }
    };
    let name = match (resource_type, name) {
        (ResourceType::Cluster, _) => CLUSTER_NAME.to_string(),
        (_, Some(n)) if !n.is_empty() => n,
        (t, _) => {
            return Err(Error::InvalidInput(format!("a {t} resource needs a name")));
        }
    };
    Ok(Resource {
        resource_type,
        name,
    })
}

fn pattern_type(text: Option<String>) -> Result<PatternType> {
    text.map_or(Ok(PatternType::Literal), |t| PatternType::parse(&t))
}

/// A binding to create from a map (defaults: literal pattern, any host, allow).
fn binding_of(value: &Dynamic) -> Result<AclBinding> {
    let map = value.clone().try_cast::<Map>().ok_or_else(|| {
        Error::InvalidInput(format!("a binding is a map, not {}", value.type_name()))
    })?;
    let known = [
        "topic",
        "group",
        "transactional_id",
        "delegation_token",
        "user",
        "cluster",
        "resource_type",
        "name",
        "pattern_type",
        "principal",
        "host",
        "operation",
        "permission",
    ];
    if let Some(k) = map.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(Error::InvalidInput(format!(
            "unknown binding key {:?} (known: {})",
            k.as_str(),
            known.join(", ")
        )));
    }
    let (resource_type, name) = resource_in(&map)?.ok_or_else(|| {
        Error::InvalidInput("a binding names its resource: topic, group, transactional_id, cluster or resource_type and name".into())
    })?;
    let get = |k: &str| map.get(k).map(|v| text_of(k, v)).transpose();
    let principal = get("principal")?
        .ok_or_else(|| Error::InvalidInput("a binding needs a principal (e.g. User:bob)".into()))?;
    let operation = get("operation")?
        .ok_or_else(|| Error::InvalidInput("a binding needs an operation (e.g. read)".into()))?;
    let binding = AclBinding {
        resource_type,
        name: name.unwrap_or_default(),
        pattern_type: pattern_type(get("pattern_type")?)?,
        principal: normalize_principal(&principal),
        host: get("host")?.unwrap_or_else(|| WILDCARD.to_string()),
        operation: Operation::parse(&operation)?,
        permission: get("permission")?
            .map(|p| Permission::parse(&p))
            .transpose()?
            .unwrap_or(Permission::Allow),
    };
    binding.validate()?;
    Ok(binding)
}

/// A binding as `list_acls()` returned it (for decisions on a saved listing).
fn binding_of_listing(value: &Dynamic) -> Result<AclBinding> {
    let map = value.clone().try_cast::<Map>().ok_or_else(|| {
        Error::InvalidInput(format!("a binding is a map, not {}", value.type_name()))
    })?;
    let get = |k: &str| {
        map.get(k)
            .map(|v| text_of(k, v))
            .transpose()?
            .ok_or_else(|| Error::InvalidInput(format!("a listed binding lacks {k:?}")))
    };
    Ok(AclBinding {
        resource_type: ResourceType::parse(&get("resource_type")?)?,
        name: get("name")?,
        pattern_type: PatternType::parse(&get("pattern_type")?)?,
        principal: get("principal")?,
        host: get("host")?,
        operation: Operation::parse(&get("operation")?)?,
        permission: Permission::parse(&get("permission")?)?,
    })
}

/// A filter from a map; `deleting` allows the `force` key.
fn acl_filter(map: &Map, deleting: bool) -> Result<AclFilter> {
    let mut known = vec![
        "topic",
        "group",
        "transactional_id",
        "delegation_token",
        "user",
        "cluster",
        "resource_type",
        "name",
        "pattern_type",
        "principal",
        "host",
        "operation",
        "permission",
    ];
    if deleting {
        known.push("force");
    }
    if let Some(k) = map.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(Error::InvalidInput(format!(
            "unknown filter key {:?} (known: {})",
            k.as_str(),
            known.join(", ")
        )));
    }
    let get = |k: &str| map.get(k).map(|v| text_of(k, v)).transpose();
    let (resource_type, name) = match resource_in(map)? {
        Some((t, n)) => (Some(t), n),
        None => (None, None),
    };
    let pattern_type = match get("pattern_type")? {
        Some(p) => PatternFilter::parse(&p)?,
        // As kafka-acls.sh: a named resource means that literal pattern.
        None if name.is_some() => PatternFilter::Literal,
        None => PatternFilter::Any,
    };
    let filter = AclFilter {
        resource_type,
        name,
        pattern_type,
        principal: get("principal")?.map(|p| normalize_principal(&p)),
        host: get("host")?,
        operation: get("operation")?
            .map(|o| Operation::parse(&o))
            .transpose()?,
        permission: get("permission")?
            .map(|p| Permission::parse(&p))
            .transpose()?,
    };
    filter.validate()?;
    Ok(filter)
}

/// A quota entity from `#{user, client_id, ip}` ("<default>" for a default).
fn quota_entity(map: &Map) -> Result<QuotaEntity> {
    if let Some(k) = map
        .keys()
        .find(|k| !["user", "client_id", "ip"].contains(&k.as_str()))
    {
        return Err(Error::InvalidInput(format!(
            "unknown entity key {:?} (known: user, client_id, ip)",
            k.as_str()
        )));
    }
    let get = |k: &str| -> Result<Option<Name>> {
        map.get(k)
            .map(|v| text_of(k, v).map(|t| Name::parse(&t)))
            .transpose()
    };
    let entity = QuotaEntity {
        user: get("user")?,
        client_id: get("client_id")?,
        ip: get("ip")?,
    };
    entity.validate()?;
    Ok(entity)
}
