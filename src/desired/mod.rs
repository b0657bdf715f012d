//! Desired state: topics (partitions, replication factor, configs), ACLs and quotas kept in
//! a reviewed TOML file, compared with a cluster and applied. `parse` reads and checks the
//! file (errors name the file, line and key before anything is sent); `gather` reads what
//! the cluster has; `plan` (pure) lists the changes and what it will not do; the changes
//! are applied one by one by the script layer through the domain functions, so guard
//! rails, dry runs and the audit trail are those of every other change. `export` writes a
//! cluster's state as such a file.

use crate::error::{Error, Result};
use crate::kafka::acls::{self, AclBinding};
use crate::kafka::client::KafkaClient;
use crate::kafka::quotas::{self, Name, QuotaEntity, QuotaFilter};
use futures::StreamExt;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[cfg(test)]
mod tests;

/// The file.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DesiredFile {
    /// What may be deleted.
    #[serde(default)]
    pub settings: Settings,
    /// Topics.
    #[serde(default)]
    pub topics: Vec<DesiredTopic>,
    /// ACL bindings.
    #[serde(default)]
    pub acls: Vec<DesiredAcl>,
    /// Client quotas.
    #[serde(default)]
    pub quotas: Vec<DesiredQuota>,
}

/// What an apply may delete besides changing what the file lists.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Topic name prefixes whose topics the file does not list are deleted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delete_unlisted: Vec<String>,
    /// ACL bindings the file does not list are deleted (else only reported).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub delete_unlisted_acls: bool,
}

/// One topic as it should be.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DesiredTopic {
    /// Its name.
    pub name: String,
    /// Its partition count.
    pub partitions: u32,
    /// Its replication factor.
    pub replication_factor: u16,
    /// The configs set on it; any other config set on the topic is deleted (back to the
    /// broker's default).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub configs: BTreeMap<String, String>,
    /// Only on these contexts (names or tags); every context when left out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contexts: Vec<String>,
}

/// One ACL binding as it should be (the fields of `kafka-acls.sh`'s listing).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DesiredAcl {
    /// topic, group, cluster, transactional_id, delegation_token, user.
    pub resource_type: acls::ResourceType,
    /// The resource name or prefix.
    pub name: String,
    /// literal (the default) or prefixed.
    #[serde(default = "literal")]
    pub pattern_type: acls::PatternType,
    /// `User:name`.
    pub principal: String,
    /// An IP address, or "*" (the default).
    #[serde(default = "any_host")]
    pub host: String,
    /// read, write, describe, ...
    pub operation: acls::Operation,
    /// allow (the default) or deny.
    #[serde(default = "allow")]
    pub permission: acls::Permission,
    /// Only on these contexts (names or tags).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contexts: Vec<String>,
}

fn literal() -> acls::PatternType {
    acls::PatternType::Literal
}

fn any_host() -> String {
    "*".into()
}

fn allow() -> acls::Permission {
    acls::Permission::Allow
}

impl DesiredAcl {
    /// The binding it describes.
    pub fn binding(&self) -> AclBinding {
        AclBinding {
            resource_type: self.resource_type,
            name: self.name.clone(),
            pattern_type: self.pattern_type,
            principal: acls::normalize_principal(&self.principal),
            host: self.host.clone(),
            operation: self.operation,
            permission: self.permission,
        }
    }

    fn of(b: &AclBinding) -> DesiredAcl {
        DesiredAcl {
            resource_type: b.resource_type,
            name: b.name.clone(),
            pattern_type: b.pattern_type,
            principal: b.principal.clone(),
            host: b.host.clone(),
            operation: b.operation,
            permission: b.permission,
            contexts: Vec::new(),
        }
    }
}

/// One quota entity's quotas as they should be.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DesiredQuota {
    /// The user, or "<default>".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The client id, or "<default>".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The IP address, or "<default>".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// Quota key → value; the entity's other keys are removed.
    pub quotas: BTreeMap<String, f64>,
    /// Only on these contexts (names or tags).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contexts: Vec<String>,
}

impl DesiredQuota {
    /// The entity it names.
    pub fn entity(&self) -> QuotaEntity {
        QuotaEntity {
            user: self.user.as_deref().map(Name::parse),
            client_id: self.client_id.as_deref().map(Name::parse),
            ip: self.ip.as_deref().map(Name::parse),
        }
    }
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The line where `[[section]]` number `index` starts.
fn item_line(text: &str, section: &str, index: usize) -> Option<usize> {
    let header = format!("[[{section}]]");
    let mut seen = 0;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim() == header {
            if seen == index {
                return Some(line_of(text, offset));
            }
            seen += 1;
        }
        offset += line.len();
    }
    None
}

/// Reads a desired-state file: unknown keys, wrong types and values out of range are
/// errors naming the file, line and key; so are duplicate topics, zero partitions or
/// replication factor, bad topic or config names, bad bindings and quota entities.
pub fn parse(text: &str, file: &str) -> Result<DesiredFile> {
    let desired: DesiredFile = toml::from_str(text).map_err(|e| {
        let at = e
            .span()
            .map(|s| format!(":{}", line_of(text, s.start)))
            .unwrap_or_default();
        Error::InvalidInput(format!("{file}{at}: {}", e.message()))
    })?;
    let at = |section: &str, i: usize| {
        item_line(text, section, i)
            .map(|l| format!("{file}:{l}"))
            .unwrap_or_else(|| file.to_string())
    };
    let mut names = BTreeSet::new();
    for (i, t) in desired.topics.iter().enumerate() {
        let bad = |what: String| {
            Error::InvalidInput(format!(
                "{}: topics[{i}] {:?}: {what}",
                at("topics", i),
                t.name
            ))
        };
        crate::kafka::topics::validate_topic_name(&t.name).map_err(|e| bad(e.to_string()))?;
        if t.partitions == 0 {
            return Err(bad("partitions must be at least 1".into()));
        }
        if t.replication_factor == 0 {
            return Err(bad("replication_factor must be at least 1".into()));
        }
        for key in t.configs.keys() {
            crate::kafka::configs::validate_config_name(key)
                .map_err(|e| bad(format!("configs: {e}")))?;
        }
        if t.contexts.is_empty() && !names.insert(t.name.clone()) {
            return Err(bad("listed twice".into()));
        }
    }
    for (i, a) in desired.acls.iter().enumerate() {
        a.binding()
            .validate()
            .map_err(|e| Error::InvalidInput(format!("{}: acls[{i}]: {e}", at("acls", i))))?;
    }
    for (i, q) in desired.quotas.iter().enumerate() {
        let bad = |e: Error| Error::InvalidInput(format!("{}: quotas[{i}]: {e}", at("quotas", i)));
        q.entity().validate().map_err(bad)?;
        quotas::check_values(&q.entity(), &q.quotas, true).map_err(bad)?;
    }
    for prefix in &desired.settings.delete_unlisted {
        if prefix.is_empty() {
            return Err(Error::InvalidInput(format!(
                "{file}: settings.delete_unlisted: an empty prefix would delete every unlisted topic; name the prefixes"
            )));
        }
    }
    Ok(desired)
}

/// A topic as the cluster has it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActualTopic {
    /// Partition count.
    pub partitions: u32,
    /// Replication factor.
    pub replication_factor: u16,
    /// Configs set on the topic.
    pub configs: BTreeMap<String, String>,
}

/// What the cluster has, of what a file can describe.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ActualState {
    /// Non-internal topics by name.
    pub topics: BTreeMap<String, ActualTopic>,
    /// Every ACL binding (none read when the file names none and deletes none).
    pub acls: Option<Vec<AclBinding>>,
    /// Quotas by entity (none read when the file names none).
    pub quotas: Option<Vec<(QuotaKey, BTreeMap<String, f64>)>>,
}

/// A quota entity as text parts (`<default>` for a default part).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct QuotaKey {
    /// The user part.
    pub user: Option<String>,
    /// The client id part.
    pub client_id: Option<String>,
    /// The IP part.
    pub ip: Option<String>,
}

impl QuotaKey {
    fn of_entity(e: &QuotaEntity) -> QuotaKey {
        let text = |n: &Option<Name>| {
            n.as_ref().map(|n| match n {
                Name::Named(s) => s.clone(),
                Name::Default => quotas::DEFAULT_NAME.to_string(),
            })
        };
        QuotaKey {
            user: text(&e.user),
            client_id: text(&e.client_id),
            ip: text(&e.ip),
        }
    }

    /// The entity of this key.
    pub fn entity(&self) -> QuotaEntity {
        QuotaEntity {
            user: self.user.as_deref().map(Name::parse),
            client_id: self.client_id.as_deref().map(Name::parse),
            ip: self.ip.as_deref().map(Name::parse),
        }
    }

    /// `user=app client_id=<default>`, as messages say it.
    pub fn describe(&self) -> String {
        [
            ("user", &self.user),
            ("client_id", &self.client_id),
            ("ip", &self.ip),
        ]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .collect::<Vec<_>>()
        .join(" ")
    }
}

/// Reads the cluster's topics (every non-internal one), and its ACLs and quotas when
/// `acls` / `quotas` ask for them.
pub async fn gather(client: &KafkaClient, acls_too: bool, quotas_too: bool) -> Result<ActualState> {
    let names = crate::kafka::topics::list_topics(
        client,
        &crate::kafka::topics::ListOptions { internal: false },
    )
    .await?;
    let described = crate::kafka::topics::describe_topics(client, &names).await?;
    let described: Vec<_> = described.into_iter().filter(|t| !t.internal).collect();
    // Only the configs set on the topic itself: a broker's overrides (min.insync.replicas
    // set on the brokers, say) are not the topic's to declare.
    let own_configs = futures::stream::iter(described.iter().map(|t| {
        let entity = crate::kafka::configs::Entity::Topic(t.topic.clone());
        async move {
            let own = entity.own_source();
            crate::kafka::configs::describe_config(client, &entity)
                .await
                .map(|entries| {
                    entries
                        .into_iter()
                        .filter(|c| c.source == own)
                        .filter_map(|c| c.value.map(|v| (c.name, v)))
                        .collect::<BTreeMap<String, String>>()
                })
        }
    }))
    .buffered(16);
    let own_configs: Vec<Result<BTreeMap<String, String>>> = own_configs.collect().await;
    let mut topics = BTreeMap::new();
    for (t, configs) in described.into_iter().zip(own_configs) {
        let configs = configs.map_err(|e| {
            e.map_message(|m| format!("the configs of topic {:?} could not be read: {m}", t.topic))
        })?;
        topics.insert(
            t.topic.clone(),
            ActualTopic {
                partitions: t.partition_count as u32,
                replication_factor: t.replication_factor as u16,
                configs,
            },
        );
    }
    let acls = if acls_too {
        Some(acls::list_acls(client, &acls::AclFilter::default()).await?)
    } else {
        None
    };
    let quotas = if quotas_too {
        Some(
            quotas::describe_quotas(client, &QuotaFilter::default())
                .await?
                .into_iter()
                .map(|e| (QuotaKey::of_entity(&e.entity()), e.quotas))
                .collect(),
        )
    } else {
        None
    };
    Ok(ActualState {
        topics,
        acls,
        quotas,
    })
}

/// One change an apply makes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Change {
    /// Create a topic.
    CreateTopic {
        /// Its name.
        topic: String,
        /// Partitions.
        partitions: u32,
        /// Replication factor.
        replication_factor: u16,
        /// Configs.
        configs: BTreeMap<String, String>,
    },
    /// Add partitions to a topic.
    AddPartitions {
        /// Its name.
        topic: String,
        /// Partitions now.
        from: u32,
        /// Partitions wanted.
        to: u32,
    },
    /// Set and delete topic configs (incremental).
    AlterConfigs {
        /// Its name.
        topic: String,
        /// Configs to set, with their values now (none: not set).
        set: BTreeMap<String, (Option<String>, String)>,
        /// Configs to delete, with their values now.
        delete: BTreeMap<String, String>,
    },
    /// Delete a topic (its name has a `delete_unlisted` prefix and the file omits it).
    DeleteTopic {
        /// Its name.
        topic: String,
    },
    /// Create an ACL binding.
    CreateAcl {
        /// The binding.
        binding: AclBinding,
    },
    /// Delete an ACL binding (`delete_unlisted_acls`).
    DeleteAcl {
        /// The binding.
        binding: AclBinding,
    },
    /// Set and remove quota keys of an entity.
    SetQuotas {
        /// The entity.
        entity: QuotaKey,
        /// Keys to set, with their values now.
        set: BTreeMap<String, (Option<f64>, f64)>,
        /// Keys to remove, with their values now.
        remove: BTreeMap<String, f64>,
    },
}

impl Change {
    /// What it changes, as the audit trail and dry runs name it.
    pub fn target(&self) -> String {
        match self {
            Change::CreateTopic { topic, .. }
            | Change::AddPartitions { topic, .. }
            | Change::AlterConfigs { topic, .. }
            | Change::DeleteTopic { topic } => topic.clone(),
            Change::CreateAcl { binding } | Change::DeleteAcl { binding } => binding.describe(),
            Change::SetQuotas { entity, .. } => entity.describe(),
        }
    }

    /// The change in words.
    pub fn summary(&self) -> String {
        match self {
            Change::CreateTopic {
                partitions,
                replication_factor,
                configs,
                ..
            } => format!(
                "create with {partitions} partition(s), replication factor {replication_factor}{}",
                if configs.is_empty() {
                    String::new()
                } else {
                    format!(", {} config(s)", configs.len())
                }
            ),
            Change::AddPartitions { from, to, .. } => format!("add partitions: {from} -> {to}"),
            Change::AlterConfigs { set, delete, .. } => {
                let mut parts: Vec<String> = set
                    .iter()
                    .map(|(k, (old, new))| match old {
                        Some(old) => format!("{k}: {old} -> {new}"),
                        None => format!("{k}: (default) -> {new}"),
                    })
                    .collect();
                parts.extend(
                    delete
                        .iter()
                        .map(|(k, old)| format!("{k}: {old} -> (default)")),
                );
                parts.join(", ")
            }
            Change::DeleteTopic { .. } => "delete (unlisted under a delete_unlisted prefix)".into(),
            Change::CreateAcl { .. } => "create ACL".into(),
            Change::DeleteAcl { .. } => "delete ACL (not in the file)".into(),
            Change::SetQuotas { set, remove, .. } => {
                let mut parts: Vec<String> = set
                    .iter()
                    .map(|(k, (old, new))| match old {
                        Some(old) => format!("{k}: {old} -> {new}"),
                        None => format!("{k}: (none) -> {new}"),
                    })
                    .collect();
                parts.extend(
                    remove
                        .iter()
                        .map(|(k, old)| format!("{k}: {old} -> (none)")),
                );
                parts.join(", ")
            }
        }
    }
}

/// What an apply would do on one cluster, and what it will not do.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DesiredPlan {
    /// The context planned for.
    pub context: Option<String>,
    /// The changes, in the order they are applied.
    pub changes: Vec<Change>,
    /// Differences no apply will make, with the reason.
    pub refused: Vec<Refusal>,
    /// ACL bindings the cluster has and the file does not (kept without
    /// `delete_unlisted_acls`).
    pub unmanaged_acls: Vec<AclBinding>,
}

/// A difference an apply will not make.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refusal {
    /// The topic (or entity).
    pub target: String,
    /// Why not.
    pub reason: String,
}

/// Whether an item restricted to `contexts` applies to the context `name` with `tags`.
fn applies(contexts: &[String], name: Option<&str>, tags: &[String]) -> bool {
    contexts.is_empty()
        || contexts
            .iter()
            .any(|c| Some(c.as_str()) == name || tags.contains(c))
}

/// The changes that make `actual` what `desired` describes for the context `context`
/// (with `tags`). Pure.
pub fn plan(
    desired: &DesiredFile,
    actual: &ActualState,
    context: Option<&str>,
    tags: &[String],
) -> DesiredPlan {
    let mut out = DesiredPlan {
        context: context.map(str::to_string),
        ..DesiredPlan::default()
    };
    let mut listed = BTreeSet::new();
    let (mut creates, mut grows, mut alters) = (Vec::new(), Vec::new(), Vec::new());
    for t in desired
        .topics
        .iter()
        .filter(|t| applies(&t.contexts, context, tags))
    {
        listed.insert(t.name.clone());
        let Some(have) = actual.topics.get(&t.name) else {
            creates.push(Change::CreateTopic {
                topic: t.name.clone(),
                partitions: t.partitions,
                replication_factor: t.replication_factor,
                configs: t.configs.clone(),
            });
            continue;
        };
        if t.partitions > have.partitions {
            grows.push(Change::AddPartitions {
                topic: t.name.clone(),
                from: have.partitions,
                to: t.partitions,
            });
        } else if t.partitions < have.partitions {
            out.refused.push(Refusal {
                target: t.name.clone(),
                reason: format!(
                    "has {} partitions, the file says {}: Kafka cannot remove partitions",
                    have.partitions, t.partitions
                ),
            });
        }
        if t.replication_factor != have.replication_factor {
            out.refused.push(Refusal {
                target: t.name.clone(),
                reason: format!(
                    "replication factor {} where the file says {}: that needs a reassignment (scripts/increase_replication_factor.rhai), not an apply",
                    have.replication_factor, t.replication_factor
                ),
            });
        }
        let set: BTreeMap<String, (Option<String>, String)> = t
            .configs
            .iter()
            .filter(|(k, v)| have.configs.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), (have.configs.get(k).cloned(), v.clone())))
            .collect();
        let delete: BTreeMap<String, String> = have
            .configs
            .iter()
            .filter(|(k, _)| !t.configs.contains_key(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !set.is_empty() || !delete.is_empty() {
            alters.push(Change::AlterConfigs {
                topic: t.name.clone(),
                set,
                delete,
            });
        }
    }
    out.changes.extend(creates);
    out.changes.extend(grows);
    out.changes.extend(alters);

    let wanted_owned: Vec<AclBinding> = desired
        .acls
        .iter()
        .filter(|a| applies(&a.contexts, context, tags))
        .map(DesiredAcl::binding)
        .collect();
    let wanted_acls: BTreeSet<&AclBinding> = wanted_owned.iter().collect();
    if let Some(have) = &actual.acls {
        let have_set: BTreeSet<&AclBinding> = have.iter().collect();
        for b in &wanted_acls {
            if !have_set.contains(b) {
                out.changes.push(Change::CreateAcl {
                    binding: (*b).clone(),
                });
            }
        }
        for b in have_set.iter().filter(|b| !wanted_acls.contains(*b)) {
            if desired.settings.delete_unlisted_acls {
                out.changes.push(Change::DeleteAcl {
                    binding: (*b).clone(),
                });
            } else {
                out.unmanaged_acls.push((*b).clone());
            }
        }
    }

    if let Some(have) = &actual.quotas {
        for q in desired
            .quotas
            .iter()
            .filter(|q| applies(&q.contexts, context, tags))
        {
            let key = QuotaKey::of_entity(&q.entity());
            let now = have
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            let set: BTreeMap<String, (Option<f64>, f64)> = q
                .quotas
                .iter()
                .filter(|(k, v)| now.get(*k) != Some(*v))
                .map(|(k, v)| (k.clone(), (now.get(k).copied(), *v)))
                .collect();
            let remove: BTreeMap<String, f64> = now
                .iter()
                .filter(|(k, _)| !q.quotas.contains_key(*k))
                .map(|(k, v)| (k.clone(), *v))
                .collect();
            if !set.is_empty() || !remove.is_empty() {
                out.changes.push(Change::SetQuotas {
                    entity: key,
                    set,
                    remove,
                });
            }
        }
    }

    for name in actual.topics.keys() {
        if !listed.contains(name)
            && desired
                .settings
                .delete_unlisted
                .iter()
                .any(|p| name.starts_with(p.as_str()))
        {
            out.changes.push(Change::DeleteTopic {
                topic: name.clone(),
            });
        }
    }
    out
}

/// The cluster's state as a desired-state file (topics matching `pattern`, and the ACLs
/// and quotas when they were gathered).
pub fn export(actual: &ActualState, pattern: Option<&regex::Regex>) -> Result<String> {
    let file = DesiredFile {
        settings: Settings::default(),
        topics: actual
            .topics
            .iter()
            .filter(|(name, _)| pattern.is_none_or(|p| p.is_match(name)))
            .map(|(name, t)| DesiredTopic {
                name: name.clone(),
                partitions: t.partitions,
                replication_factor: t.replication_factor,
                configs: t.configs.clone(),
                contexts: Vec::new(),
            })
            .collect(),
        acls: actual.acls.iter().flatten().map(DesiredAcl::of).collect(),
        quotas: actual
            .quotas
            .iter()
            .flatten()
            .map(|(k, q)| DesiredQuota {
                user: k.user.clone(),
                client_id: k.client_id.clone(),
                ip: k.ip.clone(),
                quotas: q.clone(),
                contexts: Vec::new(),
            })
            .collect(),
    };
    toml::to_string(&file)
        .map_err(|e| Error::InvalidInput(format!("cannot write the state as TOML: {e}")))
}

/// Configs as the domain's alter call takes them.
pub fn config_map(set: &BTreeMap<String, (Option<String>, String)>) -> IndexMap<String, String> {
    set.iter()
        .map(|(k, (_, v))| (k.clone(), v.clone()))
        .collect()
}
