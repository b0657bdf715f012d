//! ACLs: the bindings Kafka's authorizer decides with (who may do which operation on which
//! resource pattern, from which host), listed, created and deleted through DescribeAcls,
//! CreateAcls and DeleteAcls. A delete first lists the exact bindings its filter matches
//! and then deletes exactly those (one exact filter per binding), so what was shown is what
//! goes, never more. The authorizer's decision itself is in `authorizer.rs`.

use super::client::{check_code, KafkaClient};
use crate::error::{Error, Result};
use kafka_protocol::messages::create_acls_request::AclCreation;
use kafka_protocol::messages::delete_acls_request::DeleteAclsFilter;
use kafka_protocol::messages::{CreateAclsRequest, DeleteAclsRequest, DescribeAclsRequest};
use kafka_protocol::protocol::StrBytes;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The name of the one cluster resource.
pub const CLUSTER_NAME: &str = "kafka-cluster";
/// The wildcard of resource names (literal pattern), principals' names and hosts.
pub const WILDCARD: &str = "*";
/// The principal that stands for every user.
pub const WILDCARD_PRINCIPAL: &str = "User:*";

/// Lower-case with `-`, `_` and spaces removed: "TRANSACTIONAL_ID", "transactional-id" and
/// "TransactionalId" are the same word.
fn squash(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '-' | '_' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

macro_rules! kafka_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal {
            $($(#[$vmeta:meta])* $variant:ident = $code:literal, $text:literal;)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            /// Every value, in Kafka's code order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// Kafka's wire code.
            pub fn code(self) -> i8 {
                match self {
                    $($name::$variant => $code,)*
                }
            }

            /// The value of a wire code.
            pub fn from_code(code: i8) -> Option<$name> {
                match code {
                    $($code => Some($name::$variant),)*
                    _ => None,
                }
            }

            /// kafsh's name ("transactional_id").
            pub fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            /// Parses kafsh's or Kafka's spelling, in any case.
            pub fn parse(text: &str) -> Result<$name> {
                let s = squash(text);
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| squash(v.name()) == s)
                    .ok_or_else(|| {
                        let known: Vec<&str> = $name::ALL.iter().map(|v| v.name()).collect();
                        Error::InvalidInput(format!(
                            "unknown {} {text:?} (known: {})",
                            $what,
                            known.join(", ")
                        ))
                    })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

kafka_enum! {
    /// What kind of object a binding is about.
    ResourceType, "resource type" {
        /// A topic.
        Topic = 2, "topic";
        /// A group (consumer, share, streams).
        Group = 3, "group";
        /// The cluster itself (name "kafka-cluster").
        Cluster = 4, "cluster";
        /// A producer's transactional id.
        TransactionalId = 5, "transactional_id";
        /// A delegation token.
        DelegationToken = 6, "delegation_token";
        /// A user (for delegation tokens on behalf of others).
        User = 7, "user";
    }
}

kafka_enum! {
    /// How a binding's resource name matches names.
    PatternType, "pattern type" {
        /// The name itself, or every name when it is "*".
        Literal = 3, "literal";
        /// Every name that starts with it.
        Prefixed = 4, "prefixed";
    }
}

kafka_enum! {
    /// An operation a binding allows or denies.
    Operation, "operation" {
        /// Every operation.
        All = 2, "all";
        /// Read.
        Read = 3, "read";
        /// Write.
        Write = 4, "write";
        /// Create.
        Create = 5, "create";
        /// Delete.
        Delete = 6, "delete";
        /// Alter.
        Alter = 7, "alter";
        /// Describe.
        Describe = 8, "describe";
        /// Inter-broker requests.
        ClusterAction = 9, "cluster_action";
        /// Describe configs.
        DescribeConfigs = 10, "describe_configs";
        /// Alter configs.
        AlterConfigs = 11, "alter_configs";
        /// Idempotent produce.
        IdempotentWrite = 12, "idempotent_write";
        /// Create delegation tokens.
        CreateTokens = 13, "create_tokens";
        /// Describe delegation tokens.
        DescribeTokens = 14, "describe_tokens";
        /// Two-phase commit of transactions (KIP-939).
        TwoPhaseCommit = 15, "two_phase_commit";
    }
}

kafka_enum! {
    /// Whether a binding allows or denies.
    Permission, "permission" {
        /// Denies (and wins over any allow).
        Deny = 2, "deny";
        /// Allows.
        Allow = 3, "allow";
    }
}

impl Operation {
    /// The operations a binding may name on `resource` (besides "all"), as kafka-acls.sh
    /// accepts them.
    pub fn supported_on(resource: ResourceType) -> &'static [Operation] {
        use Operation::*;
        match resource {
            ResourceType::Topic => &[
                Read,
                Write,
                Create,
                Describe,
                Delete,
                Alter,
                DescribeConfigs,
                AlterConfigs,
            ],
            ResourceType::Group => &[Read, Describe, Delete, DescribeConfigs, AlterConfigs],
            ResourceType::Cluster => &[
                Create,
                ClusterAction,
                DescribeConfigs,
                AlterConfigs,
                IdempotentWrite,
                Alter,
                Describe,
            ],
            ResourceType::TransactionalId => &[Describe, Write, TwoPhaseCommit],
            ResourceType::DelegationToken => &[Describe],
            ResourceType::User => &[CreateTokens, DescribeTokens],
        }
    }
}

/// One ACL binding: `principal` is allowed or denied `operation` on the resources that
/// `name` matches (by `pattern_type`), from `host`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AclBinding {
    /// The kind of resource.
    pub resource_type: ResourceType,
    /// The resource name (or prefix); "*" with a literal pattern matches every name.
    pub name: String,
    /// Literal or prefixed.
    pub pattern_type: PatternType,
    /// `Type:name`, e.g. "User:alice"; "User:*" is every user.
    pub principal: String,
    /// The client's IP address, or "*" for any host.
    pub host: String,
    /// The operation.
    pub operation: Operation,
    /// Allow or deny.
    pub permission: Permission,
}

impl AclBinding {
    /// `allow User:bob read on topic "orders" from any host`, as messages say it.
    pub fn describe(&self) -> String {
        let pattern = match (self.pattern_type, self.name.as_str()) {
            (PatternType::Literal, WILDCARD) => format!("every {}", self.resource_type),
            (PatternType::Literal, name) => format!("{} {name:?}", self.resource_type),
            (PatternType::Prefixed, name) => format!("{}s prefixed {name:?}", self.resource_type),
        };
        let host = if self.host == WILDCARD {
            "any host".to_string()
        } else {
            format!("host {}", self.host)
        };
        format!(
            "{} {} {} on {pattern} from {host}",
            self.permission, self.principal, self.operation
        )
    }

    /// Whether the binding's pattern covers the resource `name` of its type.
    pub fn covers(&self, resource_type: ResourceType, name: &str) -> bool {
        self.resource_type == resource_type
            && match self.pattern_type {
                PatternType::Literal => self.name == name || self.name == WILDCARD,
                PatternType::Prefixed => name.starts_with(&self.name),
            }
    }

    /// Checks a binding before it is created: a principal `Type:name`, an IP address or
    /// "*" as host, an operation the resource type has, the cluster's one name.
    pub fn validate(&self) -> Result<()> {
        validate_principal(&self.principal)?;
        validate_host(&self.host)?;
        if self.name.is_empty() {
            return Err(Error::InvalidInput(format!(
                "a {} binding needs a resource name",
                self.resource_type
            )));
        }
        if self.resource_type == ResourceType::Cluster && self.name != CLUSTER_NAME {
            return Err(Error::InvalidInput(format!(
                "the cluster resource is named {CLUSTER_NAME:?}, not {:?}",
                self.name
            )));
        }
        if self.pattern_type == PatternType::Prefixed && self.name == WILDCARD {
            return Err(Error::InvalidInput(
                "a prefixed pattern \"*\" is not allowed; a literal \"*\" matches every name"
                    .into(),
            ));
        }
        let supported = Operation::supported_on(self.resource_type);
        if self.operation != Operation::All && !supported.contains(&self.operation) {
            let names: Vec<&str> = supported.iter().map(|o| o.name()).collect();
            return Err(Error::InvalidInput(format!(
                "operation {} does not apply to a {} (it takes all, {})",
                self.operation,
                self.resource_type,
                names.join(", ")
            )));
        }
        Ok(())
    }

    /// Whether this binding could shut out every non-super user: a deny for every user on
    /// every resource of its type (or on the cluster).
    pub fn denies_everyone(&self) -> bool {
        self.permission == Permission::Deny
            && self.principal == WILDCARD_PRINCIPAL
            && self.host == WILDCARD
            && (self.resource_type == ResourceType::Cluster
                || (self.pattern_type == PatternType::Literal && self.name == WILDCARD))
    }
}

/// `bob` → `User:bob`; `User:bob` and `Group:ops` as they are.
pub fn normalize_principal(principal: &str) -> String {
    let p = principal.trim();
    if p.contains(':') {
        p.to_string()
    } else {
        format!("User:{p}")
    }
}

/// A principal is `Type:name` with both parts non-empty.
pub fn validate_principal(principal: &str) -> Result<()> {
    match principal.split_once(':') {
        Some((kind, name)) if !kind.is_empty() && !name.is_empty() => Ok(()),
        _ => Err(Error::InvalidInput(format!(
            "principal {principal:?} is not of the form Type:name (e.g. User:alice)"
        ))),
    }
}

/// A host is "*" or an IP address: the authorizer compares the client's address, never a
/// host name.
pub fn validate_host(host: &str) -> Result<()> {
    if host == WILDCARD || host.parse::<std::net::IpAddr>().is_ok() {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "host {host:?} is not an IP address or \"*\" (the authorizer compares the client's IP address)"
        )))
    }
}

/// How a filter matches resource patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PatternFilter {
    /// Any pattern type.
    #[default]
    Any,
    /// Every binding that applies to the named resource: the same literal name, the literal
    /// "*", and prefixes of the name.
    Match,
    /// Literal patterns only.
    Literal,
    /// Prefixed patterns only.
    Prefixed,
}

impl PatternFilter {
    fn code(self) -> i8 {
        match self {
            PatternFilter::Any => 1,
            PatternFilter::Match => 2,
            PatternFilter::Literal => 3,
            PatternFilter::Prefixed => 4,
        }
    }

    /// "any", "match", "literal" or "prefixed".
    pub fn parse(text: &str) -> Result<PatternFilter> {
        match squash(text).as_str() {
            "any" => Ok(PatternFilter::Any),
            "match" => Ok(PatternFilter::Match),
            "literal" => Ok(PatternFilter::Literal),
            "prefixed" => Ok(PatternFilter::Prefixed),
            _ => Err(Error::InvalidInput(format!(
                "unknown pattern type {text:?} (known: any, match, literal, prefixed)"
            ))),
        }
    }
}

/// Which bindings a listing or a delete means; every field left out matches anything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AclFilter {
    /// The resource type.
    pub resource_type: Option<ResourceType>,
    /// The resource name (or prefix).
    pub name: Option<String>,
    /// How names match.
    pub pattern_type: PatternFilter,
    /// `Type:name`.
    pub principal: Option<String>,
    /// The host.
    pub host: Option<String>,
    /// The operation.
    pub operation: Option<Operation>,
    /// Allow or deny.
    pub permission: Option<Permission>,
}

impl AclFilter {
    /// Checks what Kafka would refuse, before sending.
    pub fn validate(&self) -> Result<()> {
        if self.pattern_type == PatternFilter::Match && self.name.is_none() {
            return Err(Error::InvalidInput(
                "the pattern type \"match\" needs a resource name to match".into(),
            ));
        }
        if let Some(p) = &self.principal {
            validate_principal(p)?;
        }
        Ok(())
    }

    /// Whether `binding` passes the filter, as the broker decides it.
    pub fn matches(&self, binding: &AclBinding) -> bool {
        let type_ok = self
            .resource_type
            .is_none_or(|t| t == binding.resource_type);
        let name_ok = match (self.pattern_type, &self.name) {
            (_, None) => match self.pattern_type {
                PatternFilter::Any | PatternFilter::Match => true,
                PatternFilter::Literal => binding.pattern_type == PatternType::Literal,
                PatternFilter::Prefixed => binding.pattern_type == PatternType::Prefixed,
            },
            (PatternFilter::Any, Some(n)) => &binding.name == n,
            (PatternFilter::Literal, Some(n)) => {
                binding.pattern_type == PatternType::Literal && &binding.name == n
            }
            (PatternFilter::Prefixed, Some(n)) => {
                binding.pattern_type == PatternType::Prefixed && &binding.name == n
            }
            (PatternFilter::Match, Some(n)) => match binding.pattern_type {
                PatternType::Literal => &binding.name == n || binding.name == WILDCARD,
                PatternType::Prefixed => n.starts_with(&binding.name),
            },
        };
        type_ok
            && name_ok
            && self
                .principal
                .as_ref()
                .is_none_or(|p| p == &binding.principal)
            && self.host.as_ref().is_none_or(|h| h == &binding.host)
            && self.operation.is_none_or(|o| o == binding.operation)
            && self.permission.is_none_or(|p| p == binding.permission)
    }

    /// The filter that matches exactly `binding`.
    pub fn exactly(binding: &AclBinding) -> AclFilter {
        AclFilter {
            resource_type: Some(binding.resource_type),
            name: Some(binding.name.clone()),
            pattern_type: match binding.pattern_type {
                PatternType::Literal => PatternFilter::Literal,
                PatternType::Prefixed => PatternFilter::Prefixed,
            },
            principal: Some(binding.principal.clone()),
            host: Some(binding.host.clone()),
            operation: Some(binding.operation),
            permission: Some(binding.permission),
        }
    }

    /// "topic \"orders\" (literal), principal User:bob", or "every binding".
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(t) = self.resource_type {
            parts.push(t.to_string());
        }
        if let Some(n) = &self.name {
            parts.push(format!("{n:?}"));
        }
        if self.pattern_type != PatternFilter::Any {
            parts.push(format!("({})", serde_plain(&self.pattern_type)));
        }
        if let Some(p) = &self.principal {
            parts.push(format!("principal {p}"));
        }
        if let Some(h) = &self.host {
            parts.push(format!("host {h}"));
        }
        if let Some(o) = self.operation {
            parts.push(format!("operation {o}"));
        }
        if let Some(p) = self.permission {
            parts.push(p.to_string());
        }
        if parts.is_empty() {
            "every binding".to_string()
        } else {
            format!("bindings of {}", parts.join(" "))
        }
    }
}

fn serde_plain(p: &PatternFilter) -> &'static str {
    match p {
        PatternFilter::Any => "any",
        PatternFilter::Match => "match",
        PatternFilter::Literal => "literal",
        PatternFilter::Prefixed => "prefixed",
    }
}

fn text(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_string())
}

fn binding_of(
    resource_type: i8,
    name: &StrBytes,
    pattern_type: i8,
    principal: &StrBytes,
    host: &StrBytes,
    operation: i8,
    permission: i8,
) -> Result<AclBinding> {
    let unknown = |what: &str, code: i8| {
        Error::Unsupported(format!(
            "the broker returned a binding with {what} code {code}, which kafsh does not know"
        ))
    };
    Ok(AclBinding {
        resource_type: ResourceType::from_code(resource_type)
            .ok_or_else(|| unknown("resource type", resource_type))?,
        name: name.as_str().to_string(),
        pattern_type: PatternType::from_code(pattern_type)
            .ok_or_else(|| unknown("pattern type", pattern_type))?,
        principal: principal.as_str().to_string(),
        host: host.as_str().to_string(),
        operation: Operation::from_code(operation)
            .ok_or_else(|| unknown("operation", operation))?,
        permission: Permission::from_code(permission)
            .ok_or_else(|| unknown("permission", permission))?,
    })
}

/// The bindings `filter` matches (DescribeAcls), sorted by resource, then principal.
pub async fn list_acls(client: &KafkaClient, filter: &AclFilter) -> Result<Vec<AclBinding>> {
    filter.validate()?;
    let request = DescribeAclsRequest::default()
        .with_resource_type_filter(filter.resource_type.map_or(1, ResourceType::code))
        .with_resource_name_filter(filter.name.as_deref().map(text))
        .with_pattern_type_filter(filter.pattern_type.code())
        .with_principal_filter(filter.principal.as_deref().map(text))
        .with_host_filter(filter.host.as_deref().map(text))
        .with_operation(filter.operation.map_or(1, Operation::code))
        .with_permission_type(filter.permission.map_or(1, Permission::code));
    let response = client.send_any(&request).await.map_err(no_authorizer)?;
    check_code(
        response.error_code,
        response.error_message.as_ref(),
        "DescribeAcls",
    )
    .map_err(no_authorizer)?;
    let mut out = Vec::new();
    for r in &response.resources {
        for a in &r.acls {
            out.push(binding_of(
                r.resource_type,
                &r.resource_name,
                r.pattern_type,
                &a.principal,
                &a.host,
                a.operation,
                a.permission_type,
            )?);
        }
    }
    out.sort();
    Ok(out)
}

/// A broker without an authorizer answers SECURITY_DISABLED: say so plainly.
fn no_authorizer(e: Error) -> Error {
    match e {
        Error::Cluster(m) if m.contains("SECURITY_DISABLED") => Error::Unsupported(format!(
            "the cluster has no authorizer configured (authorizer.class.name), so it keeps no ACLs ({m})"
        )),
        other => other,
    }
}

/// What `create_acls` did.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CreatedAcls {
    /// The bindings created (or, in a dry run, that would be).
    pub created: Vec<AclBinding>,
    /// Bindings asked for that existed already (Kafka keeps one of each).
    pub existing: Vec<AclBinding>,
    /// True when nothing was changed.
    pub dry_run: bool,
}

/// Creates `bindings` (CreateAcls), after checking each; those that exist already are
/// reported, not created twice. `force` allows a binding that denies every user.
pub async fn create_acls(
    client: &KafkaClient,
    bindings: &[AclBinding],
    force: bool,
    dry_run: bool,
) -> Result<CreatedAcls> {
    if bindings.is_empty() {
        return Err(Error::InvalidInput("no bindings to create".into()));
    }
    for b in bindings {
        b.validate()?;
        if b.denies_everyone() && !force {
            return Err(Error::OutOfProportion(format!(
                "{} would shut out every user but the super users",
                b.describe()
            )));
        }
    }
    let mut wanted: Vec<AclBinding> = bindings.to_vec();
    wanted.sort();
    wanted.dedup();
    let before = list_acls(client, &AclFilter::default()).await?;
    let (existing, created): (Vec<AclBinding>, Vec<AclBinding>) =
        wanted.into_iter().partition(|b| before.contains(b));
    if !dry_run && !created.is_empty() {
        let request = CreateAclsRequest::default().with_creations(
            created
                .iter()
                .map(|b| {
                    AclCreation::default()
                        .with_resource_type(b.resource_type.code())
                        .with_resource_name(text(&b.name))
                        .with_resource_pattern_type(b.pattern_type.code())
                        .with_principal(text(&b.principal))
                        .with_host(text(&b.host))
                        .with_operation(b.operation.code())
                        .with_permission_type(b.permission.code())
                })
                .collect(),
        );
        let response = client.send_any(&request).await.map_err(no_authorizer)?;
        for (r, b) in response.results.iter().zip(&created) {
            check_code(r.error_code, r.error_message.as_ref(), &b.describe())
                .map_err(no_authorizer)?;
        }
        wait_visible(client, &created, true).await;
    }
    Ok(CreatedAcls {
        created,
        existing,
        dry_run,
    })
}

/// What `delete_acls` did.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DeletedAcls {
    /// The filter, in words.
    pub filter: String,
    /// The bindings deleted (or, in a dry run, that would be).
    pub deleted: Vec<AclBinding>,
    /// True when nothing was changed.
    pub dry_run: bool,
}

/// Deletes exactly the bindings in `matched` (what a listing with the caller's filter
/// showed), one exact filter per binding, so a binding created since is never swept up.
pub async fn delete_exactly(
    client: &KafkaClient,
    filter: &AclFilter,
    matched: Vec<AclBinding>,
    dry_run: bool,
) -> Result<DeletedAcls> {
    if dry_run || matched.is_empty() {
        return Ok(DeletedAcls {
            filter: filter.describe(),
            deleted: matched,
            dry_run,
        });
    }
    let request = DeleteAclsRequest::default().with_filters(
        matched
            .iter()
            .map(|b| {
                DeleteAclsFilter::default()
                    .with_resource_type_filter(b.resource_type.code())
                    .with_resource_name_filter(Some(text(&b.name)))
                    .with_pattern_type_filter(b.pattern_type.code())
                    .with_principal_filter(Some(text(&b.principal)))
                    .with_host_filter(Some(text(&b.host)))
                    .with_operation(b.operation.code())
                    .with_permission_type(b.permission.code())
            })
            .collect(),
    );
    let response = client.send_any(&request).await.map_err(no_authorizer)?;
    let mut deleted = Vec::new();
    for (result, b) in response.filter_results.iter().zip(&matched) {
        check_code(
            result.error_code,
            result.error_message.as_ref(),
            &b.describe(),
        )
        .map_err(no_authorizer)?;
        for m in &result.matching_acls {
            check_code(m.error_code, m.error_message.as_ref(), &b.describe())?;
            deleted.push(binding_of(
                m.resource_type,
                &m.resource_name,
                m.pattern_type,
                &m.principal,
                &m.host,
                m.operation,
                m.permission_type,
            )?);
        }
    }
    deleted.sort();
    wait_visible(client, &deleted, false).await;
    Ok(DeletedAcls {
        filter: filter.describe(),
        deleted,
        dry_run,
    })
}

/// Waits (up to 10 s, within the call's limit) until a listing shows the change: ZooKeeper
/// watches and the KRaft metadata log bring ACLs to every broker a moment after the call.
async fn wait_visible(client: &KafkaClient, bindings: &[AclBinding], present: bool) {
    let deadline =
        tokio::time::Instant::now() + client.timeout().min(std::time::Duration::from_secs(10));
    loop {
        if let Ok(now) = list_acls(client, &AclFilter::default()).await {
            if bindings.iter().all(|b| now.contains(b) == present) {
                return;
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// The bindings `kafka-acls.sh --producer` adds: Write, Describe and Create on the topic
/// pattern; Write and Describe on the transactional id when given; IdempotentWrite on the
/// cluster when asked.
pub fn producer_bindings(
    principal: &str,
    topic: &str,
    pattern_type: PatternType,
    host: &str,
    transactional_id: Option<&str>,
    idempotent: bool,
) -> Vec<AclBinding> {
    let allow = |resource_type, name: &str, pattern_type, operation| AclBinding {
        resource_type,
        name: name.to_string(),
        pattern_type,
        principal: principal.to_string(),
        host: host.to_string(),
        operation,
        permission: Permission::Allow,
    };
    let mut out: Vec<AclBinding> = [Operation::Write, Operation::Describe, Operation::Create]
        .into_iter()
        .map(|op| allow(ResourceType::Topic, topic, pattern_type, op))
        .collect();
    if let Some(t) = transactional_id {
        out.extend(
            [Operation::Write, Operation::Describe]
                .into_iter()
                .map(|op| allow(ResourceType::TransactionalId, t, pattern_type, op)),
        );
    }
    if idempotent {
        out.push(allow(
            ResourceType::Cluster,
            CLUSTER_NAME,
            PatternType::Literal,
            Operation::IdempotentWrite,
        ));
    }
    out
}

/// The bindings `kafka-acls.sh --consumer` adds: Read and Describe on the topic pattern,
/// Read on the group.
pub fn consumer_bindings(
    principal: &str,
    topic: &str,
    group: &str,
    pattern_type: PatternType,
    host: &str,
) -> Vec<AclBinding> {
    let allow = |resource_type, name: &str, operation| AclBinding {
        resource_type,
        name: name.to_string(),
        pattern_type,
        principal: principal.to_string(),
        host: host.to_string(),
        operation,
        permission: Permission::Allow,
    };
    vec![
        allow(ResourceType::Topic, topic, Operation::Read),
        allow(ResourceType::Topic, topic, Operation::Describe),
        allow(ResourceType::Group, group, Operation::Read),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(
        rt: ResourceType,
        name: &str,
        pt: PatternType,
        principal: &str,
        op: Operation,
        perm: Permission,
    ) -> AclBinding {
        AclBinding {
            resource_type: rt,
            name: name.into(),
            pattern_type: pt,
            principal: principal.into(),
            host: "*".into(),
            operation: op,
            permission: perm,
        }
    }

    #[test]
    fn names_parse_in_kafka_and_kafsh_spelling() {
        assert_eq!(
            ResourceType::parse("TRANSACTIONAL_ID").unwrap(),
            ResourceType::TransactionalId
        );
        assert_eq!(
            ResourceType::parse("transactional-id").unwrap(),
            ResourceType::TransactionalId
        );
        assert_eq!(
            Operation::parse("IdempotentWrite").unwrap(),
            Operation::IdempotentWrite
        );
        assert_eq!(
            Operation::parse("describe_configs").unwrap(),
            Operation::DescribeConfigs
        );
        assert_eq!(Permission::parse("ALLOW").unwrap(), Permission::Allow);
        let err = Operation::parse("reed").unwrap_err().to_string();
        assert!(err.contains("unknown operation \"reed\""), "{err}");
        assert!(err.contains("read"), "{err}");
        for op in Operation::ALL {
            assert_eq!(Operation::from_code(op.code()), Some(*op));
        }
    }

    #[test]
    fn validation_catches_what_kafka_acls_refuses() {
        let ok = b(
            ResourceType::Topic,
            "orders",
            PatternType::Literal,
            "User:bob",
            Operation::Read,
            Permission::Allow,
        );
        assert!(ok.validate().is_ok());
        let mut bad = ok.clone();
        bad.principal = "bob".into();
        assert!(bad.validate().is_err());
        let mut bad = ok.clone();
        bad.host = "client.example.com".into();
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("IP address"));
        let mut bad = ok.clone();
        bad.operation = Operation::IdempotentWrite;
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("does not apply"));
        let mut bad = ok.clone();
        bad.resource_type = ResourceType::Cluster;
        bad.operation = Operation::Alter;
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("kafka-cluster"));
        let mut bad = ok.clone();
        bad.pattern_type = PatternType::Prefixed;
        bad.name = "*".into();
        assert!(bad.validate().is_err());
        assert_eq!(normalize_principal("bob"), "User:bob");
        assert_eq!(normalize_principal("Group:ops"), "Group:ops");
    }

    #[test]
    fn a_deny_for_every_user_on_everything_is_out_of_proportion() {
        let deny_all = b(
            ResourceType::Topic,
            "*",
            PatternType::Literal,
            "User:*",
            Operation::All,
            Permission::Deny,
        );
        assert!(deny_all.denies_everyone());
        let mut one_topic = deny_all.clone();
        one_topic.name = "orders".into();
        assert!(!one_topic.denies_everyone());
        let mut one_user = deny_all.clone();
        one_user.principal = "User:bob".into();
        assert!(!one_user.denies_everyone());
    }

    #[test]
    fn filters_match_as_the_broker_does() {
        let lit = b(
            ResourceType::Topic,
            "orders",
            PatternType::Literal,
            "User:bob",
            Operation::Read,
            Permission::Allow,
        );
        let wild = b(
            ResourceType::Topic,
            "*",
            PatternType::Literal,
            "User:*",
            Operation::Describe,
            Permission::Allow,
        );
        let pre = b(
            ResourceType::Topic,
            "ord",
            PatternType::Prefixed,
            "User:bob",
            Operation::Write,
            Permission::Deny,
        );
        let group = b(
            ResourceType::Group,
            "orders",
            PatternType::Literal,
            "User:bob",
            Operation::Read,
            Permission::Allow,
        );
        let all = [&lit, &wild, &pre, &group];
        let matching = |f: &AclFilter| -> Vec<&AclBinding> {
            all.iter().copied().filter(|x| f.matches(x)).collect()
        };
        let m = AclFilter {
            resource_type: Some(ResourceType::Topic),
            name: Some("orders".into()),
            pattern_type: PatternFilter::Match,
            ..AclFilter::default()
        };
        assert_eq!(matching(&m), vec![&lit, &wild, &pre]);
        let any_named = AclFilter {
            name: Some("orders".into()),
            ..AclFilter::default()
        };
        assert_eq!(matching(&any_named), vec![&lit, &group]);
        let prefixed = AclFilter {
            pattern_type: PatternFilter::Prefixed,
            ..AclFilter::default()
        };
        assert_eq!(matching(&prefixed), vec![&pre]);
        let bob_allow = AclFilter {
            principal: Some("User:bob".into()),
            permission: Some(Permission::Allow),
            ..AclFilter::default()
        };
        assert_eq!(matching(&bob_allow), vec![&lit, &group]);
        for x in all {
            assert_eq!(matching(&AclFilter::exactly(x)), vec![x]);
        }
    }

    #[test]
    fn producer_and_consumer_shorthands_add_what_kafka_acls_adds() {
        let p = producer_bindings(
            "User:bob",
            "orders",
            PatternType::Literal,
            "*",
            Some("tx"),
            true,
        );
        let ops: Vec<(ResourceType, Operation)> =
            p.iter().map(|b| (b.resource_type, b.operation)).collect();
        assert_eq!(
            ops,
            vec![
                (ResourceType::Topic, Operation::Write),
                (ResourceType::Topic, Operation::Describe),
                (ResourceType::Topic, Operation::Create),
                (ResourceType::TransactionalId, Operation::Write),
                (ResourceType::TransactionalId, Operation::Describe),
                (ResourceType::Cluster, Operation::IdempotentWrite),
            ]
        );
        assert!(p.iter().all(|b| b.validate().is_ok()));
        let c = consumer_bindings("User:bob", "orders", "g", PatternType::Literal, "*");
        assert_eq!(c.len(), 3);
        assert!(c.iter().all(|b| b.validate().is_ok()));
    }
}
