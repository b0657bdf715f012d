//! Kafka's (and ZooKeeper's) command-line tools run with the cluster's jars: the reference
//! answers of kafsh's tests, and what the sandbox itself uses (StorageTool, ConfigCommand).

use std::fs;
use std::process::{Command, Output};
use std::time::Duration;

use super::{zk_hosts_of, Cluster};
use crate::config;
use crate::error::{Error, Result};
use crate::layout;
use crate::process;
use crate::spec::Flavor;

/// Default time allowed for a command-line tool.
const TOOL_TIMEOUT: Duration = Duration::from_secs(120);

impl Cluster {
    /// Runs `java -cp <jars>/* <main_class> <args>` (small heap, warnings-only logging to
    /// stderr), e.g. `org.apache.kafka.tools.TopicCommand --bootstrap-server .. --list`.
    /// Killed after 120 s.
    pub fn kafka_tool(&self, main_class: &str, args: &[&str]) -> Result<Output> {
        self.kafka_tool_timeout(main_class, args, TOOL_TIMEOUT)
    }

    /// [`Cluster::kafka_tool`] with its own time limit.
    pub fn kafka_tool_timeout(
        &self,
        main_class: &str,
        args: &[&str],
        timeout: Duration,
    ) -> Result<Output> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let cmd = self.tool_command(main_class, &args)?;
        Ok(process::output_with_timeout(cmd, timeout)?)
    }

    /// Kafka's ConfigCommand (`kafka-configs.sh`) in the cluster's tool jars: in core
    /// (`kafka.admin`) up to 4.3, in the tools module (`org.apache.kafka.tools`) from 4.4.
    pub fn config_command(&self) -> &'static str {
        if self.state.kafka_version().at_least(4, 4) {
            "org.apache.kafka.tools.ConfigCommand"
        } else {
            "kafka.admin.ConfigCommand"
        }
    }

    /// Runs ZooKeeper's CLI (`org.apache.zookeeper.ZooKeeperMain`) against the ensemble without
    /// the chroot, e.g. `zk_cli(&["ls", "/kafka/brokers/ids"])` (ZooKeeper flavor only).
    pub fn zk_cli(&self, args: &[&str]) -> Result<Output> {
        let st = self.current();
        if st.flavor != Flavor::ZooKeeper {
            return Err(Error::Unsupported("a KRaft cluster has no ZooKeeper"));
        }
        let hosts = zk_hosts_of(&st);
        let mut full = vec!["-server", hosts.as_str()];
        full.extend_from_slice(args);
        self.kafka_tool("org.apache.zookeeper.ZooKeeperMain", &full)
    }

    /// The command [`Cluster::kafka_tool`] runs, for callers that want to run it themselves
    /// (e.g. with inherited stdio).
    pub fn kafka_tool_command(&self, main_class: &str, args: &[String]) -> Result<Command> {
        self.tool_command(main_class, args)
    }

    pub(super) fn tool_command(&self, main_class: &str, args: &[String]) -> Result<Command> {
        let tools = layout::tools_dir(&self.dir);
        if !tools.join("log4j.properties").exists() || !tools.join("log4j2.properties").exists() {
            fs::create_dir_all(&tools)?;
            self.write_tool_configs()?;
        }
        let mut opts = process::base_jvm_opts("256m");
        opts.push(format!(
            "-Dlog4j.configuration=file:{}",
            tools.join("log4j.properties").display()
        ));
        opts.push(format!(
            "-Dlog4j2.configurationFile={}",
            tools.join("log4j2.properties").display()
        ));
        Ok(process::java_command(
            &opts,
            &self.state.jars_dir,
            main_class,
            args,
        ))
    }

    pub(super) fn write_tool_configs(&self) -> Result<()> {
        let tools = layout::tools_dir(&self.dir);
        fs::write(tools.join("log4j.properties"), config::LOG4J1_TOOLS)?;
        fs::write(tools.join("log4j2.properties"), config::LOG4J2_TOOLS)?;
        Ok(())
    }

    /// Creates the SCRAM-SHA-256/512 credentials of `user` with Kafka's own ConfigCommand
    /// (through the PLAINTEXT listener), one mechanism per call: Kafka 4's ConfigCommand
    /// refuses both in one ("A user credential cannot be altered twice in the same request").
    pub(super) fn add_scram_user(&self, user: &str, password: &str) -> Result<()> {
        for mechanism in ["SCRAM-SHA-512", "SCRAM-SHA-256"] {
            let config = format!("{mechanism}=[password={password}]");
            let out = self.kafka_tool(
                self.config_command(),
                &[
                    "--bootstrap-server",
                    &self.bootstrap_servers(),
                    "--alter",
                    "--add-config",
                    &config,
                    "--entity-type",
                    "users",
                    "--entity-name",
                    user,
                ],
            )?;
            if !out.status.success() {
                return Err(Error::Tool {
                    what: format!("creating the {mechanism} credential of {user}"),
                    status: out.status,
                    output: String::from_utf8_lossy(&out.stderr).into_owned(),
                });
            }
        }
        Ok(())
    }
}
