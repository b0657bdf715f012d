//! Rhai functions for desired state: plan and apply a reviewed file of topics, configs,
//! ACLs and quotas, and export a cluster as such a file.

use crate::desired::{self, Change};
use crate::kafka::{acls, configs, quotas, topics};
use rhai::plugin::*;
use std::collections::BTreeMap;

/// Desired state
///
/// Topics (partitions, replication factor, configs), ACLs and quotas kept in a TOML file
/// under review, as JulieOps or kafka-gitops keep them: `desired_plan(file)` compares the
/// file with the cluster and lists the changes and what it will not do (remove partitions,
/// change a replication factor, delete topics unless the file says so for a prefix);
/// `desired_apply(plan)` makes them with the guard rails, `--dry-run` and the audit trail;
/// `desired_export()` writes the cluster as such a file. `kafsh apply FILE` and
/// `kafsh export` do the same from the command line. An apply re-plans from the cluster,
/// so one that was stopped is finished by running it again.
#[export_module]
pub mod api {
    use super::apply_one;
    use crate::desired::{self, Change, DesiredPlan};
    use crate::script::convert::{to_map, Options};
    use crate::script::{kafka_call as call, script_error, session_of};
    use rhai::{Array, Dynamic, EvalAltResult, Map, NativeCallContext};

    /// What applying a desired-state file would change on this cluster: `changes` (each
    /// with `action`, the target and the values now and wanted), `refused` (differences no
    /// apply makes, with the reason) and `unmanaged_acls` (bindings the file does not list,
    /// kept unless it says `delete_unlisted_acls = true`). Items restricted with `contexts`
    /// apply to contexts of those names or tags. A bad file is refused naming its line and
    /// key before anything is read from the cluster.
    ///
    /// ```rhai
    /// let p = desired_plan("state/topics.toml");
    /// for c in p.changes { print(`${c.action} ${c}`); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn desired_plan(ctx: NativeCallContext, file: &str) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "desired_plan";
        let text = std::fs::read_to_string(file).map_err(|e| {
            script_error(
                &session,
                f,
                crate::error::Error::InvalidInput(format!("cannot read {file}: {e}")),
            )
        })?;
        let wanted = desired::parse(&text, file).map_err(|e| script_error(&session, f, e))?;
        let acls_too = !wanted.acls.is_empty() || wanted.settings.delete_unlisted_acls;
        let quotas_too = !wanted.quotas.is_empty();
        let actual = call(&session, f, |k| async move {
            desired::gather(&k, acls_too, quotas_too).await
        })?;
        let context = session.settings.context_name.clone();
        let tags = context
            .as_deref()
            .and_then(|name| {
                crate::config::contexts()
                    .ok()?
                    .into_iter()
                    .find(|c| c.name == name)
                    .map(|c| c.tags)
            })
            .unwrap_or_default();
        to_map(&desired::plan(&wanted, &actual, context.as_deref(), &tags))
    }

    /// Applies a plan from `desired_plan` on the cluster it was made for: topics created,
    /// partitions added, configs set and deleted incrementally, ACLs created (and deleted
    /// with `delete_unlisted_acls`), quotas set, unlisted topics under a `delete_unlisted`
    /// prefix deleted last (above `confirm_above` asked for, or `force`). Each change goes
    /// through the guard rails, `--dry-run` and the audit trail like the function that
    /// makes it alone. Each change made is journaled in the state directory until the
    /// apply ends, so an apply killed midway is finished by planning and applying again,
    /// which names what the stopped run had done. Returns `applied` (the changes made, or
    /// planned in a dry run), `refused`, `unmanaged_acls`, `dry_run` and `resumed` (the
    /// changes an interrupted earlier apply on this context had made). Options: `force`.
    ///
    /// ```rhai
    /// let done = desired_apply(desired_plan("state/topics.toml"));
    /// ```
    #[rhai_fn(return_raw, name = "desired_apply")]
    pub fn desired_apply_with(
        ctx: NativeCallContext,
        plan: Map,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "desired_apply";
        let opts = Options::new(f, &options, &["force"])?;
        let force = opts.bool("force")?.unwrap_or(false);
        let plan: DesiredPlan =
            rhai::serde::from_dynamic(&Dynamic::from_map(plan)).map_err(|e| {
                script_error(
                    &session,
                    f,
                    crate::error::Error::InvalidInput(format!("not a plan from desired_plan: {e}")),
                )
            })?;
        if plan.context != session.settings.context_name {
            return Err(script_error(
                &session,
                f,
                crate::error::Error::Refused(format!(
                    "the plan was made for context {}, this is {}: plan again here",
                    plan.context.as_deref().unwrap_or("(none)"),
                    session.settings.context_name.as_deref().unwrap_or("(none)")
                )),
            ));
        }
        let deletions: Vec<String> = plan
            .changes
            .iter()
            .filter(|c| matches!(c, Change::DeleteTopic { .. } | Change::DeleteAcl { .. }))
            .map(|c| c.target())
            .collect();
        if !deletions.is_empty() {
            crate::script::confirm_many_listing(
                &session,
                f,
                deletions.len(),
                &format!("{} deletion(s) of topics or ACLs", deletions.len()),
                &deletions,
                force,
            )?;
        }
        let dry_run = session.options.dry_run;
        let guard = (!force).then_some(session.settings.guard_rails);
        // The journal of this context's applies: an apply that was killed midway left the
        // changes it made there. The plan is made from the cluster, so what is left is
        // already all that this plan holds; the journal says what the interrupted run did.
        let journal_key = [session
            .settings
            .context_name
            .clone()
            .unwrap_or_else(|| "(none)".into())];
        let mut journal = crate::journal::Journal::open(
            std::path::Path::new("desired_apply"),
            &journal_key,
            crate::journal::JournalMode::Resume,
            dry_run,
        )
        .ok();
        let resumed: Vec<String> = journal
            .as_ref()
            .map(|j| j.finished_names())
            .unwrap_or_default();
        if !resumed.is_empty() {
            crate::output::print_note(&format!(
                "desired_apply: an earlier apply on this context stopped after {} change(s) ({}); planned again from the cluster, {} change(s) left",
                resumed.len(),
                resumed.join(", "),
                plan.changes.len()
            ));
        }
        let mut applied = Array::new();
        for change in &plan.changes {
            let c = change.clone();
            let done = call(&session, f, |k| async move {
                apply_one(&k, &c, dry_run, guard.as_ref(), force).await
            })?;
            if done {
                if let Some(j) = journal.as_mut() {
                    j.finish(
                        &change.target(),
                        serde_json::Value::String(change.summary()),
                    )
                    .map_err(|e| {
                        script_error(
                            &session,
                            f,
                            crate::error::Error::Failed(format!(
                                "cannot write the apply journal: {e}"
                            )),
                        )
                    })?;
                }
                session.mutation(
                    match change {
                        Change::CreateTopic { .. } => "create_topic",
                        Change::AddPartitions { .. } => "add_partitions",
                        Change::AlterConfigs { .. } => "alter_config",
                        Change::DeleteTopic { .. } => "delete_topic",
                        Change::CreateAcl { .. } => "create_acls",
                        Change::DeleteAcl { .. } => "delete_acls",
                        Change::SetQuotas { .. } => "set_quota",
                    },
                    &change.target(),
                    &change.summary(),
                    serde_json::to_value(change).unwrap_or_default(),
                );
            }
            let mut row = to_map(change)?;
            row.insert("target".into(), change.target().into());
            row.insert("summary".into(), change.summary().into());
            applied.push(Dynamic::from_map(row));
        }
        let mut out = Map::new();
        out.insert(
            "context".into(),
            plan.context
                .clone()
                .map(Dynamic::from)
                .unwrap_or(Dynamic::UNIT),
        );
        out.insert("applied".into(), Dynamic::from_array(applied));
        out.insert(
            "refused".into(),
            crate::script::convert::to_dynamic(&plan.refused)?,
        );
        out.insert(
            "unmanaged_acls".into(),
            crate::script::convert::to_dynamic(&plan.unmanaged_acls)?,
        );
        out.insert("dry_run".into(), dry_run.into());
        out.insert(
            "resumed".into(),
            Dynamic::from_array(resumed.into_iter().map(Dynamic::from).collect()),
        );
        if let Some(j) = journal {
            j.complete();
        }
        Ok(out)
    }

    /// Applies a plan from `desired_plan` (see the options form).
    #[rhai_fn(return_raw, name = "desired_apply")]
    pub fn desired_apply(ctx: NativeCallContext, plan: Map) -> Result<Map, Box<EvalAltResult>> {
        desired_apply_with(ctx, plan, Map::new())
    }

    /// The cluster as a desired-state file (TOML): every non-internal topic with its
    /// partitions, replication factor and the configs set on it; with `acls: true` its ACL
    /// bindings, with `quotas: true` its quotas. Options: `topics` (a regular expression of
    /// names), `acls`, `quotas`.
    ///
    /// ```rhai
    /// write_file("state.toml", desired_export(#{topics: "orders.*"}));
    /// ```
    #[rhai_fn(return_raw, name = "desired_export")]
    pub fn desired_export_with(
        ctx: NativeCallContext,
        options: Map,
    ) -> Result<String, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "desired_export";
        let opts = Options::new(f, &options, &["topics", "acls", "quotas"])?;
        let pattern = opts
            .string("topics")?
            .map(|p| {
                regex::Regex::new(&format!("^(?:{p})$")).map_err(|e| {
                    script_error(
                        &session,
                        f,
                        crate::error::Error::InvalidInput(format!(
                            "topics: {p:?} is not a regular expression: {e}"
                        )),
                    )
                })
            })
            .transpose()?;
        let acls_too = opts.bool("acls")?.unwrap_or(false);
        let quotas_too = opts.bool("quotas")?.unwrap_or(false);
        let actual = call(&session, f, |k| async move {
            desired::gather(&k, acls_too, quotas_too).await
        })?;
        desired::export(&actual, pattern.as_ref()).map_err(|e| script_error(&session, f, e))
    }

    /// The cluster as a desired-state file, every non-internal topic (see the options form).
    #[rhai_fn(return_raw, name = "desired_export")]
    pub fn desired_export(ctx: NativeCallContext) -> Result<String, Box<EvalAltResult>> {
        desired_export_with(ctx, Map::new())
    }
}

/// Makes one change through the domain function that makes it alone; whether it
/// changed (or, in a dry run, would change) something.
async fn apply_one(
    client: &crate::kafka::client::KafkaClient,
    change: &Change,
    dry_run: bool,
    guard: Option<&crate::guard::GuardRails>,
    force: bool,
) -> crate::error::Result<bool> {
    match change {
        Change::CreateTopic {
            topic,
            partitions,
            replication_factor,
            configs: wanted,
        } => {
            let new_topic = topics::NewTopic {
                name: topic.clone(),
                partitions: Some(*partitions as i32),
                replication_factor: Some(*replication_factor as i16),
                config: wanted.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                assignment: None,
                if_not_exists: true,
            };
            Ok(topics::create_topic(client, &new_topic, dry_run, guard)
                .await?
                .changes)
        }
        Change::AddPartitions { topic, to, .. } => {
            topics::add_partitions(client, topic, *to as i64, dry_run, guard).await?;
            Ok(true)
        }
        Change::AlterConfigs { topic, set, delete } => {
            let delete: Vec<String> = delete.keys().cloned().collect();
            configs::alter_config(
                client,
                &configs::Entity::Topic(topic.clone()),
                &desired::config_map(set),
                &delete,
                dry_run,
            )
            .await?;
            Ok(true)
        }
        Change::DeleteTopic { topic } => {
            topics::delete_topic(client, topic, dry_run).await?;
            Ok(true)
        }
        Change::CreateAcl { binding } => {
            let created =
                acls::create_acls(client, std::slice::from_ref(binding), force, dry_run).await?;
            Ok(!created.created.is_empty())
        }
        Change::DeleteAcl { binding } => {
            let filter = acls::AclFilter::exactly(binding);
            let deleted =
                acls::delete_exactly(client, &filter, vec![binding.clone()], dry_run).await?;
            Ok(!deleted.deleted.is_empty())
        }
        Change::SetQuotas {
            entity,
            set,
            remove,
        } => {
            let set: BTreeMap<String, f64> =
                set.iter().map(|(k, (_, v))| (k.clone(), *v)).collect();
            let remove: Vec<String> = remove.keys().cloned().collect();
            quotas::alter_quotas(client, &entity.entity(), &set, &remove, force, dry_run).await?;
            Ok(true)
        }
    }
}
