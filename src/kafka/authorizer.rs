//! Effective permissions: what Kafka's authorizer (AclAuthorizer in ZooKeeper mode,
//! StandardAuthorizer on KRaft; both decide alike) answers for one principal, operation,
//! resource and host, given the cluster's ACL bindings — and which bindings decide it.
//! Pure: bindings in, decision out, so it also runs on a saved listing.
//!
//! The rules, in order:
//! 1. A super user (the brokers' `super.users`, which the context names) may do anything.
//! 2. The bindings that apply are those whose pattern covers the resource (the same literal
//!    name, the literal "*", or a prefix of the name), whose principal is the principal or
//!    "User:*", and whose host is the client's address or "*".
//! 3. A DENY for the operation (or for All) wins over everything else.
//! 4. An ALLOW for the operation, for All, or for an operation that implies it (Read,
//!    Write, Delete and Alter imply Describe; AlterConfigs implies DescribeConfigs) allows.
//! 5. Otherwise denied — unless no binding at all names the resource and the brokers set
//!    `allow.everyone.if.no.acl.found`.

use super::acls::{AclBinding, Operation, Permission, ResourceType, WILDCARD, WILDCARD_PRINCIPAL};
use serde::Serialize;
use std::collections::BTreeSet;

/// What the context knows of the brokers' authorizer settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizerRules {
    /// The brokers' `super.users` (principals `Type:name`); `None` when the context does not
    /// say, so a super user's answer cannot be told.
    pub super_users: Option<Vec<String>>,
    /// The brokers' `allow.everyone.if.no.acl.found` (default false).
    pub allow_everyone_if_no_acl_found: bool,
}

/// The resource a question is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Resource {
    /// Its type.
    pub resource_type: ResourceType,
    /// Its name ("kafka-cluster" for the cluster).
    pub name: String,
}

impl Resource {
    /// `topic "orders"`, `the cluster`.
    pub fn describe(&self) -> String {
        match self.resource_type {
            ResourceType::Cluster => "the cluster".to_string(),
            t => format!("{t} {:?}", self.name),
        }
    }
}

/// Why a decision came out as it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The principal is a super user.
    SuperUser,
    /// A DENY binding applies.
    Denied,
    /// An ALLOW binding applies and no DENY does.
    Allowed,
    /// Bindings name the resource, but none allows this.
    NoAllow,
    /// No binding names the resource and the brokers deny by default.
    NoAcl,
    /// No binding names the resource and the brokers allow everyone then.
    NoAclAllowEveryone,
}

/// The authorizer's answer to one question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// `Type:name`.
    pub principal: String,
    /// The operation asked about.
    pub operation: Operation,
    /// The resource type.
    pub resource_type: ResourceType,
    /// The resource name.
    pub resource: String,
    /// The client's address ("*": a host no binding names).
    pub host: String,
    /// Whether the authorizer allows it.
    pub allowed: bool,
    /// Why.
    pub reason: Reason,
    /// The bindings that decide it: the DENY bindings when denied by one, else the ALLOW
    /// bindings that allow it; none for a super user or when nothing applies.
    pub deciding: Vec<AclBinding>,
    /// What the answer depends on that kafsh cannot see.
    pub notes: Vec<String>,
}

/// Whether an ALLOW binding for `granted` allows `asked`.
pub fn implies(granted: Operation, asked: Operation) -> bool {
    use Operation::*;
    granted == asked
        || granted == All
        || match asked {
            Describe => matches!(granted, Read | Write | Delete | Alter),
            DescribeConfigs => granted == AlterConfigs,
            _ => false,
        }
}

fn principal_applies(binding: &AclBinding, principal: &str) -> bool {
    binding.principal == principal || binding.principal == WILDCARD_PRINCIPAL
}

fn host_applies(binding: &AclBinding, host: &str) -> bool {
    binding.host == WILDCARD || binding.host == host
}

/// The authorizer's decision for `principal` doing `operation` on `resource` from `host`
/// ("*" for a host that no binding names).
pub fn authorize(
    rules: &AuthorizerRules,
    acls: &[AclBinding],
    principal: &str,
    operation: Operation,
    resource: &Resource,
    host: &str,
) -> Decision {
    let mut decision = Decision {
        principal: principal.to_string(),
        operation,
        resource_type: resource.resource_type,
        resource: resource.name.clone(),
        host: host.to_string(),
        allowed: false,
        reason: Reason::NoAcl,
        deciding: Vec::new(),
        notes: Vec::new(),
    };
    match &rules.super_users {
        Some(supers) if supers.iter().any(|s| s == principal) => {
            decision.allowed = true;
            decision.reason = Reason::SuperUser;
            return decision;
        }
        Some(_) => {}
        None => decision.notes.push(
            "the context does not name the brokers' super users (super_users), so a super user would be answered wrongly".to_string(),
        ),
    }
    let on_resource: Vec<&AclBinding> = acls
        .iter()
        .filter(|b| b.covers(resource.resource_type, &resource.name))
        .collect();
    let applying: Vec<&AclBinding> = on_resource
        .iter()
        .copied()
        .filter(|b| principal_applies(b, principal) && host_applies(b, host))
        .collect();
    let denies: Vec<AclBinding> = applying
        .iter()
        .filter(|b| {
            b.permission == Permission::Deny
                && (b.operation == operation || b.operation == Operation::All)
        })
        .map(|b| (*b).clone())
        .collect();
    let allows: Vec<AclBinding> = applying
        .iter()
        .filter(|b| b.permission == Permission::Allow && implies(b.operation, operation))
        .map(|b| (*b).clone())
        .collect();
    if host == WILDCARD {
        let elsewhere: BTreeSet<&str> = on_resource
            .iter()
            .filter(|b| principal_applies(b, principal) && b.host != WILDCARD)
            .map(|b| b.host.as_str())
            .collect();
        if !elsewhere.is_empty() {
            decision.notes.push(format!(
                "bindings for hosts {} answer differently for clients there",
                elsewhere.into_iter().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    if !denies.is_empty() {
        decision.reason = Reason::Denied;
        decision.deciding = denies;
    } else if !allows.is_empty() {
        decision.allowed = true;
        decision.reason = Reason::Allowed;
        decision.deciding = allows;
    } else if !on_resource.is_empty() {
        decision.reason = Reason::NoAllow;
    } else if rules.allow_everyone_if_no_acl_found {
        decision.allowed = true;
        decision.reason = Reason::NoAclAllowEveryone;
    }
    decision
}

/// One principal that may do an operation, and from where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Allowed {
    /// `Type:name`; "User:*" stands for every user no DENY shuts out.
    pub principal: String,
    /// "*" from any host (but those in `except_hosts`), else the one host.
    pub host: String,
    /// Hosts a DENY shuts out although the principal may act from any other.
    pub except_hosts: Vec<String>,
    /// Why.
    pub reason: Reason,
    /// The bindings that allow it (none for a super user).
    pub via: Vec<AclBinding>,
}

/// Every principal the authorizer lets do `operation` on `resource`: the super users, and
/// each principal a binding on the resource names (the wildcard "User:*" included), from
/// any host or from the hosts the bindings name.
pub fn who_can(
    rules: &AuthorizerRules,
    acls: &[AclBinding],
    operation: Operation,
    resource: &Resource,
) -> Vec<Allowed> {
    let mut out = Vec::new();
    for s in rules.super_users.iter().flatten() {
        out.push(Allowed {
            principal: s.clone(),
            host: WILDCARD.to_string(),
            except_hosts: Vec::new(),
            reason: Reason::SuperUser,
            via: Vec::new(),
        });
    }
    let on_resource: Vec<&AclBinding> = acls
        .iter()
        .filter(|b| b.covers(resource.resource_type, &resource.name))
        .collect();
    let mut principals: BTreeSet<&str> = on_resource.iter().map(|b| b.principal.as_str()).collect();
    principals.insert(WILDCARD_PRINCIPAL);
    let supers = rules.super_users.clone().unwrap_or_default();
    for p in principals {
        if supers.iter().any(|s| s == p) {
            continue;
        }
        let hosts: BTreeSet<&str> = on_resource
            .iter()
            .filter(|b| principal_applies(b, p) && b.host != WILDCARD)
            .map(|b| b.host.as_str())
            .collect();
        let anywhere = authorize(rules, acls, p, operation, resource, WILDCARD);
        if anywhere.allowed {
            let except: Vec<String> = hosts
                .iter()
                .filter(|h| !authorize(rules, acls, p, operation, resource, h).allowed)
                .map(|h| h.to_string())
                .collect();
            out.push(Allowed {
                principal: p.to_string(),
                host: WILDCARD.to_string(),
                except_hosts: except,
                reason: anywhere.reason,
                via: anywhere.deciding,
            });
        } else {
            for h in hosts {
                let d = authorize(rules, acls, p, operation, resource, h);
                if d.allowed {
                    out.push(Allowed {
                        principal: p.to_string(),
                        host: h.to_string(),
                        except_hosts: Vec::new(),
                        reason: d.reason,
                        via: d.deciding,
                    });
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::acls::PatternType;
    use proptest::prelude::*;

    fn bind(
        name: &str,
        pattern: PatternType,
        principal: &str,
        host: &str,
        op: Operation,
        perm: Permission,
    ) -> AclBinding {
        AclBinding {
            resource_type: ResourceType::Topic,
            name: name.into(),
            pattern_type: pattern,
            principal: principal.into(),
            host: host.into(),
            operation: op,
            permission: perm,
        }
    }

    fn topic(name: &str) -> Resource {
        Resource {
            resource_type: ResourceType::Topic,
            name: name.into(),
        }
    }

    fn rules() -> AuthorizerRules {
        AuthorizerRules {
            super_users: Some(vec!["User:admin".into()]),
            allow_everyone_if_no_acl_found: false,
        }
    }

    use Operation::*;
    use PatternType::*;
    use Permission::*;

    #[test]
    fn deny_wins_over_allow_and_names_the_deny() {
        let acls = vec![
            bind("orders", Literal, "User:bob", "*", Read, Allow),
            bind("ord", Prefixed, "User:bob", "*", Read, Deny),
        ];
        let d = authorize(&rules(), &acls, "User:bob", Read, &topic("orders"), "*");
        assert!(!d.allowed);
        assert_eq!(d.reason, Reason::Denied);
        assert_eq!(d.deciding, vec![acls[1].clone()]);
    }

    #[test]
    fn prefixed_and_wildcard_patterns_apply_and_others_do_not() {
        let acls = vec![
            bind("pay", Prefixed, "User:bob", "*", Write, Allow),
            bind("*", Literal, "User:*", "*", Read, Allow),
            bind("orders-eu", Literal, "User:bob", "*", Delete, Allow),
        ];
        let r = rules();
        assert!(authorize(&r, &acls, "User:bob", Write, &topic("payments"), "*").allowed);
        assert!(!authorize(&r, &acls, "User:bob", Write, &topic("orders"), "*").allowed);
        assert!(authorize(&r, &acls, "User:carol", Read, &topic("anything"), "*").allowed);
        // A literal name is not a prefix.
        assert!(!authorize(&r, &acls, "User:bob", Delete, &topic("orders-eu-2"), "*").allowed);
        // A prefixed "pay" does not cover "pa".
        assert!(!authorize(&r, &acls, "User:bob", Write, &topic("pa"), "*").allowed);
    }

    #[test]
    fn implied_operations_allow_but_never_deny() {
        let acls = vec![
            bind("t", Literal, "User:bob", "*", Write, Allow),
            bind("t", Literal, "User:bob", "*", AlterConfigs, Allow),
            bind("u", Literal, "User:bob", "*", Read, Allow),
            bind("u", Literal, "User:bob", "*", Read, Deny),
            bind("u", Literal, "User:bob", "*", Describe, Allow),
        ];
        let r = rules();
        let d = authorize(&r, &acls, "User:bob", Describe, &topic("t"), "*");
        assert!(d.allowed);
        assert_eq!(d.deciding, vec![acls[0].clone()]);
        assert!(authorize(&r, &acls, "User:bob", DescribeConfigs, &topic("t"), "*").allowed);
        assert!(!authorize(&r, &acls, "User:bob", Read, &topic("t"), "*").allowed);
        // A DENY of Read does not deny Describe.
        assert!(authorize(&r, &acls, "User:bob", Describe, &topic("u"), "*").allowed);
    }

    #[test]
    fn super_users_hosts_and_the_default() {
        let acls = vec![
            bind("t", Literal, "User:bob", "10.0.0.1", Read, Allow),
            bind("t", Literal, "User:bob", "*", Read, Deny),
        ];
        let r = rules();
        let d = authorize(&r, &acls, "User:admin", All, &topic("t"), "*");
        assert!(d.allowed);
        assert_eq!(d.reason, Reason::SuperUser);
        // Bob's deny applies from every host, the allow only from 10.0.0.1: denied anyway.
        assert!(!authorize(&r, &acls, "User:bob", Read, &topic("t"), "10.0.0.1").allowed);
        let only_host = vec![bind("t", Literal, "User:bob", "10.0.0.1", Read, Allow)];
        assert!(authorize(&r, &only_host, "User:bob", Read, &topic("t"), "10.0.0.1").allowed);
        let elsewhere = authorize(&r, &only_host, "User:bob", Read, &topic("t"), "*");
        assert!(!elsewhere.allowed);
        assert!(elsewhere.notes[0].contains("10.0.0.1"), "{elsewhere:?}");
        // No binding on the resource: the brokers' default.
        let d = authorize(&r, &[], "User:bob", Read, &topic("t"), "*");
        assert_eq!((d.allowed, d.reason), (false, Reason::NoAcl));
        let open = AuthorizerRules {
            allow_everyone_if_no_acl_found: true,
            ..rules()
        };
        assert!(authorize(&open, &[], "User:bob", Read, &topic("t"), "*").allowed);
        // ...but any binding on the resource, for anyone, turns the default off.
        let other = vec![bind("t", Literal, "User:carol", "*", Write, Allow)];
        let d = authorize(&open, &other, "User:bob", Read, &topic("t"), "*");
        assert_eq!((d.allowed, d.reason), (false, Reason::NoAllow));
        let unknown = AuthorizerRules::default();
        assert!(
            !authorize(&unknown, &[], "User:admin", Read, &topic("t"), "*")
                .notes
                .is_empty()
        );
    }

    #[test]
    fn who_can_lists_supers_wildcards_and_hosts() {
        let acls = vec![
            bind("t", Literal, "User:bob", "*", Read, Allow),
            bind("t", Literal, "User:bob", "10.0.0.9", Read, Deny),
            bind("t", Literal, "User:carol", "10.0.0.2", All, Allow),
            bind("t", Literal, "User:dave", "*", Read, Deny),
            bind("*", Literal, "User:*", "*", Read, Allow),
        ];
        let rows = who_can(&rules(), &acls, Read, &topic("t"));
        let summary: Vec<(String, String, Vec<String>)> = rows
            .iter()
            .map(|r| (r.principal.clone(), r.host.clone(), r.except_hosts.clone()))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("User:admin".into(), "*".into(), vec![]),
                ("User:*".into(), "*".into(), vec![]),
                ("User:bob".into(), "*".into(), vec!["10.0.0.9".to_string()]),
                ("User:carol".into(), "*".into(), vec![]),
            ]
        );
        let writers = who_can(&rules(), &acls, Write, &topic("t"));
        let summary: Vec<(String, String)> = writers
            .iter()
            .map(|r| (r.principal.clone(), r.host.clone()))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("User:admin".into(), "*".into()),
                ("User:carol".into(), "10.0.0.2".into())
            ]
        );
    }

    fn operation() -> impl Strategy<Value = Operation> {
        prop::sample::select(Operation::ALL.to_vec())
    }

    fn binding() -> impl Strategy<Value = AclBinding> {
        (
            prop::sample::select(vec!["t", "te", "*", "x", "tes"]),
            prop::sample::select(vec![Literal, Prefixed]),
            prop::sample::select(vec!["User:bob", "User:*", "User:carol"]),
            prop::sample::select(vec!["*", "10.0.0.1"]),
            operation(),
            prop::sample::select(vec![Allow, Deny]),
        )
            .prop_filter("no prefixed *", |(n, p, ..)| !(*n == "*" && *p == Prefixed))
            .prop_map(|(n, p, who, host, op, perm)| bind(n, p, who, host, op, perm))
    }

    proptest! {
        /// The decision is the authorizer's rule written the other way round: allowed exactly
        /// when no applicable DENY names the operation or All and some applicable ALLOW
        /// implies it; the deciding bindings all apply; more DENY bindings never allow more.
        #[test]
        fn decisions_follow_the_rules(
            acls in prop::collection::vec(binding(), 0..12),
            op in operation(),
            name in prop::sample::select(vec!["t", "test", "x", "y"]),
            host in prop::sample::select(vec!["*", "10.0.0.1", "10.0.0.2"]),
            extra_deny in binding(),
        ) {
            let r = rules();
            let res = topic(name);
            let d = authorize(&r, &acls, "User:bob", op, &res, host);
            let applies = |b: &AclBinding| b.covers(ResourceType::Topic, name)
                && (b.principal == "User:bob" || b.principal == "User:*")
                && (b.host == "*" || b.host == host);
            let denied = acls.iter().any(|b| applies(b) && b.permission == Deny
                && (b.operation == op || b.operation == All));
            let allowed = acls.iter().any(|b| applies(b) && b.permission == Allow
                && implies(b.operation, op));
            prop_assert_eq!(d.allowed, !denied && allowed);
            prop_assert!(d.deciding.iter().all(applies));
            prop_assert_eq!(d.deciding.is_empty(), !denied && !allowed);
            let mut more = acls.clone();
            let mut deny = extra_deny;
            deny.permission = Deny;
            more.push(deny);
            let after = authorize(&r, &more, "User:bob", op, &res, host);
            prop_assert!(!after.allowed || d.allowed);
            // A super user is always allowed, whatever the bindings.
            prop_assert!(authorize(&r, &more, "User:admin", op, &res, host).allowed);
        }

        /// Every principal who_can lists from any host is allowed by authorize from a host no
        /// binding names, and every named principal it leaves out is not.
        #[test]
        fn who_can_agrees_with_authorize(
            acls in prop::collection::vec(binding(), 0..12),
            op in operation(),
        ) {
            let r = rules();
            let res = topic("test");
            let rows = who_can(&r, &acls, op, &res);
            for p in ["User:bob", "User:carol", "User:*"] {
                // A principal no binding on the resource names is covered by the User:* row.
                let named = p == "User:*"
                    || acls.iter().any(|b| b.principal == p && b.covers(ResourceType::Topic, "test"));
                if !named {
                    continue;
                }
                let anywhere = authorize(&r, &acls, p, op, &res, "*").allowed;
                let listed = rows.iter().any(|row| row.principal == p && row.host == "*");
                prop_assert_eq!(anywhere, listed, "{}", p);
                let h = "10.0.0.1";
                let from_h = authorize(&r, &acls, p, op, &res, h).allowed;
                let listed_h = rows.iter().any(|row| row.principal == p
                    && ((row.host == "*" && !row.except_hosts.iter().any(|x| x == h))
                        || row.host == h));
                prop_assert_eq!(from_h, listed_h, "{} from {}", p, h);
            }
        }
    }
}
