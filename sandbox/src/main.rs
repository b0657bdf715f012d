//! `kafsh-sandbox`: start, inspect and break a local ZooKeeper/Kafka sandbox cluster from the
//! command line. Every command works on the cluster directory's `sandbox.json`, so the cluster
//! outlives `up` and any later command (or a runbook) can act on it. Run `kafsh-sandbox help`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use kafsh_sandbox::{jars, Cluster, ClusterSpec, Flavor};

const USAGE: &str = "\
kafsh-sandbox: real ZooKeeper and Kafka processes on 127.0.0.1 for trying and testing kafsh

USAGE:
  kafsh-sandbox up [--kind zookeeper|kraft] [--dir D] [--brokers N] [--zk N]
                   [--chroot /path|none] [--racks r1,r2,...]
      Start a cluster (or restart the stopped nodes of the one in D) and leave it running.
      Prints KAFSH_BOOTSTRAP=... and KAFSH_ZOOKEEPER=... lines.
  kafsh-sandbox down [--dir D] [--keep-data]
      Kill every node and remove the directory (--keep-data: stop the nodes gracefully and
      keep the directory, for a later `up`).
  kafsh-sandbox status [--dir D]
  kafsh-sandbox env [--dir D]
  kafsh-sandbox context [NAME] [--dir D]
      Print a kafsh config.toml section [contexts.NAME] (default: sandbox) for this cluster:
      its addresses and an inventory whose commands (restart, start, stop, and for ZooKeeper
      write_config and write_myid) drive this sandbox the way ssh/systemctl drive real servers.
  kafsh-sandbox start|stop|kill|restart|pause|resume zk|broker ID [--dir D]
      stop = SIGTERM (SIGKILL after 30 s), kill = SIGKILL, pause/resume = SIGSTOP/SIGCONT;
      start and restart wait until the node serves again (start --no-wait does not).
  kafsh-sandbox add broker [--rack R] [--dir D]
      Add a broker (KRaft: a broker-only node), start it and wait until it is registered.
  kafsh-sandbox add zk [--id N] [--start] [--dir D]
      Add a ZooKeeper server whose zoo.cfg lists the current servers plus itself; the other
      servers' configs are left alone. Started only with --start.
  kafsh-sandbox zk-servers ID SERVER_IDS [--dir D]
      Rewrite the zoo.cfg of ZooKeeper server ID to list the servers SERVER_IDS (e.g. 1,2,3,4,
      or - to take them from the server.N= lines of a zoo.cfg on stdin); it takes effect when
      ID next (re)starts.
  kafsh-sandbox tool [--dir D] CLASS [ARGS...]
      Run a Kafka/ZooKeeper command-line class with the cluster's jars, e.g.
      `tool org.apache.kafka.tools.TopicCommand --bootstrap-server @bootstrap --list`.
      The arguments @bootstrap and @zk are replaced by the cluster's addresses.
  kafsh-sandbox jars [--kind zookeeper|kraft]
      Fetch the jars (with mvn) into the cache and print their directory.

Without --dir, D is $KAFSH_SANDBOX_DIR, else $XDG_STATE_HOME/kafsh/sandbox-KIND (default
~/.local/state/kafsh/sandbox-KIND), KIND from --kind or, when only one exists, the existing one.
--kind defaults to zookeeper for `up`.
";

type Result<T> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("kafsh-sandbox: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// Options and positional arguments of one command line.
#[derive(Debug, Default)]
struct Opts {
    positional: Vec<String>,
    dir: Option<PathBuf>,
    kind: Option<Flavor>,
    brokers: Option<usize>,
    zk: Option<usize>,
    chroot: Option<String>,
    racks: Option<Vec<String>>,
    rack: Option<String>,
    id: Option<u32>,
    start: bool,
    keep_data: bool,
    no_wait: bool,
    /// `tool` only: the class and its arguments, passed through untouched.
    passthrough: Vec<String>,
}

fn parse_num<T: std::str::FromStr>(opt: &str, v: &str) -> Result<T> {
    v.parse()
        .map_err(|_| format!("{opt} wants a number, got {v:?}"))
}

/// Parses everything after the command word. For `tool`, parsing stops at the first
/// non-option word (the class); it and the rest go to `passthrough`.
fn parse(cmd: &str, args: &[String]) -> Result<Opts> {
    let mut o = Opts::default();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if !a.starts_with("--") || a == "--" {
            if cmd == "tool" {
                let rest = if a == "--" {
                    &args[i + 1..]
                } else {
                    &args[i..]
                };
                o.passthrough = rest.to_vec();
                break;
            }
            o.positional.push(a.clone());
            i += 1;
            continue;
        }
        let (name, inline) = match a.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (a.clone(), None),
        };
        let flag = matches!(
            name.as_str(),
            "--start" | "--keep-data" | "--no-wait" | "--help"
        );
        let value = if flag {
            None
        } else if let Some(v) = inline {
            Some(v)
        } else {
            i += 1;
            Some(
                args.get(i)
                    .cloned()
                    .ok_or_else(|| format!("{name} needs a value"))?,
            )
        };
        let v = value.as_deref().unwrap_or("");
        match name.as_str() {
            "--dir" => o.dir = Some(PathBuf::from(v)),
            "--kind" => o.kind = Some(v.parse::<Flavor>()?),
            "--brokers" => o.brokers = Some(parse_num(&name, v)?),
            "--zk" => o.zk = Some(parse_num(&name, v)?),
            "--chroot" => o.chroot = Some(v.to_string()),
            "--racks" => o.racks = Some(v.split(',').map(str::to_string).collect()),
            "--rack" => o.rack = Some(v.to_string()),
            "--id" => o.id = Some(parse_num(&name, v)?),
            "--start" => o.start = true,
            "--keep-data" => o.keep_data = true,
            "--no-wait" => o.no_wait = true,
            "--help" => o.positional.insert(0, "help".into()),
            _ => return Err(format!("unknown option {name} (see kafsh-sandbox help)")),
        }
        i += 1;
    }
    Ok(o)
}

fn state_home() -> Result<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(x).join("kafsh"));
    }
    let home = std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .ok_or("HOME is not set; pass --dir")?;
    Ok(PathBuf::from(home).join(".local/state/kafsh"))
}

fn default_dir(kind: Flavor) -> Result<PathBuf> {
    if let Some(d) = std::env::var_os("KAFSH_SANDBOX_DIR").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(d));
    }
    Ok(state_home()?.join(format!("sandbox-{kind}")))
}

/// The directory of an existing cluster named by the options.
fn existing_dir(o: &Opts) -> Result<PathBuf> {
    if let Some(d) = &o.dir {
        return Ok(d.clone());
    }
    if let Some(k) = o.kind {
        return default_dir(k);
    }
    let found: Vec<PathBuf> = [Flavor::ZooKeeper, Flavor::KRaft]
        .into_iter()
        .filter_map(|k| default_dir(k).ok())
        .filter(|d| d.join("sandbox.json").exists())
        .collect();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => {
            Err("no sandbox cluster found; start one with `kafsh-sandbox up` or pass --dir".into())
        }
        _ => Err("several sandbox clusters exist; pass --kind or --dir".into()),
    }
}

fn open(o: &Opts) -> Result<Cluster> {
    let dir = existing_dir(o)?;
    Cluster::open(&dir).map_err(|e| e.to_string())
}

fn env_lines(c: &Cluster) -> String {
    let mut s = String::new();
    if !c.brokers().is_empty() {
        s.push_str(&format!("KAFSH_BOOTSTRAP={}\n", c.bootstrap_servers()));
    }
    if let Some(zk) = c.zk_connect() {
        s.push_str(&format!("KAFSH_ZOOKEEPER={zk}\n"));
    }
    s
}

/// A TOML basic string.
fn toml_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The `[contexts.NAME]` section for this cluster; see USAGE.
fn context_toml(c: &Cluster, name: &str, sandbox_bin: &Path) -> String {
    let dir = c.dir().display().to_string();
    let command = |verb: &str, what: &str, id: &str, extra: &str| {
        toml_str(&format!(
            "{} {verb} {what} {id}{extra} --dir {dir}",
            sandbox_bin.display()
        ))
    };
    let mut s = format!("[contexts.{name}]\n");
    if !c.brokers().is_empty() {
        s.push_str(&format!(
            "bootstrap_servers = {}\n",
            toml_str(&c.bootstrap_servers())
        ));
    }
    if let Some(zk) = c.zk_connect() {
        s.push_str(&format!("zookeeper = {}\n", toml_str(&zk)));
    }
    for z in c.zk_servers() {
        let id = z.id.to_string();
        s.push_str(&format!(
            "\n[[contexts.{name}.zookeeper_servers]]\nid = {id}\nhost = \"127.0.0.1\"\n\
             client_port = {}\npeer_port = {}\nelection_port = {}\n\
             restart = {}\nstart = {}\nstop = {}\nwrite_config = {}\nwrite_myid = {}\n",
            z.client_port,
            z.peer_port,
            z.election_port,
            command("restart", "zk", &id, ""),
            command("start", "zk", &id, " --no-wait"),
            command("stop", "zk", &id, ""),
            toml_str(&format!(
                "{} zk-servers {id} - --dir {dir}",
                sandbox_bin.display()
            )),
            toml_str(&format!(
                "cat > {}",
                z.dir.join("data").join("myid").display()
            )),
        ));
    }
    for b in c.brokers() {
        let id = b.id.to_string();
        s.push_str(&format!(
            "\n[[contexts.{name}.brokers]]\nid = {id}\nhost = \"127.0.0.1\"\n\
             restart = {}\nstart = {}\nstop = {}\n",
            command("restart", "broker", &id, ""),
            command("start", "broker", &id, ""),
            command("stop", "broker", &id, ""),
        ));
    }
    s
}

fn run(args: &[String]) -> Result<ExitCode> {
    let Some(cmd) = args.first() else {
        eprint!("{USAGE}");
        return Ok(ExitCode::from(2));
    };
    let o = parse(cmd, &args[1..])?;
    let io = |e: std::io::Error| e.to_string();
    match cmd.as_str() {
        "help" | "-h" | "--help" => {
            print!("{USAGE}");
        }
        _ if o.positional.first().map(String::as_str) == Some("help") => {
            print!("{USAGE}");
        }
        "up" => up(&o)?,
        "down" => {
            let mut c = open(&o)?;
            if o.keep_data {
                c.stop_all().map_err(io)?;
                eprintln!("kafsh-sandbox: stopped every node of {}", c.dir().display());
            } else {
                let dir = c.dir().to_path_buf();
                c.teardown();
                eprintln!("kafsh-sandbox: removed {}", dir.display());
            }
        }
        "status" => status(&open(&o)?),
        "env" => print!("{}", env_lines(&open(&o)?)),
        "context" => {
            let name = o.positional.first().map_or("sandbox", String::as_str);
            let me = std::env::current_exe().map_err(io)?;
            print!("{}", context_toml(&open(&o)?, name, &me));
        }
        "start" | "stop" | "kill" | "restart" | "pause" | "resume" => node_command(cmd, &o)?,
        "add" => add(&o)?,
        "zk-servers" => zk_servers(&o)?,
        "tool" => return tool(&o),
        "jars" => {
            let kind = o.kind.unwrap_or(Flavor::ZooKeeper);
            let dir = jars::ensure(kind).map_err(io)?;
            println!("{}", dir.display());
        }
        other => {
            return Err(format!(
                "unknown command {other:?} (see kafsh-sandbox help)"
            ))
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn up(o: &Opts) -> Result<()> {
    let kind = o.kind.unwrap_or(Flavor::ZooKeeper);
    let dir = match &o.dir {
        Some(d) => d.clone(),
        None => default_dir(kind)?,
    };
    let t0 = Instant::now();
    let c = if dir.join("sandbox.json").exists() {
        let mut c = Cluster::open(&dir).map_err(|e| e.to_string())?;
        eprintln!(
            "kafsh-sandbox: starting the stopped nodes of the {} cluster in {}",
            c.flavor(),
            dir.display()
        );
        c.start_all().map_err(|e| e.to_string())?;
        c
    } else {
        let mut spec = ClusterSpec::of(kind).dir(&dir);
        if let Some(n) = o.brokers {
            spec = spec.brokers(n);
        }
        if let Some(n) = o.zk {
            if kind == Flavor::KRaft {
                return Err("--zk is for --kind zookeeper".into());
            }
            spec = spec.zk_servers(n);
        }
        if let Some(c) = &o.chroot {
            spec = spec.chroot(if c == "none" { None } else { Some(c) });
        }
        if let Some(r) = &o.racks {
            spec = spec.racks(r.clone());
        }
        eprintln!(
            "kafsh-sandbox: starting a {kind} cluster in {} (Kafka {})",
            dir.display(),
            jars::kafka_version(kind)
        );
        let mut c = Cluster::start(spec).map_err(|e| e.to_string())?;
        c.detach();
        c
    };
    eprintln!(
        "kafsh-sandbox: up in {:.1}s; logs in {}/*/server.log; stop it with `kafsh-sandbox down --dir {}`",
        t0.elapsed().as_secs_f64(),
        c.dir().display(),
        c.dir().display()
    );
    print!("{}", env_lines(&c));
    Ok(())
}

fn status(c: &Cluster) {
    println!(
        "cluster {} ({}, Kafka {})",
        c.dir().display(),
        c.flavor(),
        jars::kafka_version(c.flavor())
    );
    let state = |running: bool, paused: bool| {
        if paused {
            "paused"
        } else if running {
            "running"
        } else {
            "stopped"
        }
    };
    for z in c.zk_servers() {
        let mode = if z.running && !z.paused {
            c.zk_mode(z.id).unwrap_or_else(|| "not serving".into())
        } else {
            "-".into()
        };
        println!(
            "zk {:<3} {:<8} pid {:<8} client 127.0.0.1:{} peer {} election {} mode {mode}",
            z.id,
            state(z.running, z.paused),
            z.pid.map_or("-".into(), |p| p.to_string()),
            z.client_port,
            z.peer_port,
            z.election_port,
        );
    }
    for b in c.brokers() {
        let controller = b
            .controller_port
            .map_or(String::new(), |p| format!(" controller 127.0.0.1:{p}"));
        println!(
            "broker {:<3} {:<8} pid {:<8} 127.0.0.1:{}{controller} rack {}",
            b.id,
            state(b.running, b.paused),
            b.pid.map_or("-".into(), |p| p.to_string()),
            b.port,
            b.rack.as_deref().unwrap_or("-"),
        );
    }
}

fn node_command(cmd: &str, o: &Opts) -> Result<()> {
    let (what, id) = match o.positional.as_slice() {
        [w, id] => (w.as_str(), id.as_str()),
        _ => return Err(format!("usage: kafsh-sandbox {cmd} zk|broker ID [--dir D]")),
    };
    let mut c = open(o)?;
    let t0 = Instant::now();
    let r = match what {
        "zk" | "zookeeper" => {
            let id: u32 = parse_num("ID", id)?;
            match cmd {
                "start" if o.no_wait => c.start_zk_nowait(id),
                "start" => c.start_zk(id),
                "stop" => c.stop_zk(id),
                "kill" => c.kill_zk(id),
                "restart" => c.restart_zk(id),
                "pause" => c.pause_zk(id),
                _ => c.resume_zk(id),
            }
        }
        "broker" => {
            let id: i32 = parse_num("ID", id)?;
            match cmd {
                "start" if o.no_wait => c.start_broker_nowait(id),
                "start" => c.start_broker(id),
                "stop" => c.stop_broker(id),
                "kill" => c.kill_broker(id),
                "restart" => c.restart_broker(id),
                "pause" => c.pause_broker(id),
                _ => c.resume_broker(id),
            }
        }
        other => return Err(format!("{cmd} what? want zk or broker, got {other:?}")),
    };
    r.map_err(|e| e.to_string())?;
    eprintln!(
        "kafsh-sandbox: {cmd} {what} {id}: done in {:.1}s",
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

fn add(o: &Opts) -> Result<()> {
    let mut c = open(o)?;
    match o.positional.first().map(String::as_str) {
        Some("broker") => {
            let id = c.add_broker(o.rack.as_deref()).map_err(|e| e.to_string())?;
            println!(
                "broker {id} 127.0.0.1:{}",
                c.broker(id).map_err(|e| e.to_string())?.port
            );
        }
        Some("zk") | Some("zookeeper") => {
            let z = c.add_zk(o.id).map_err(|e| e.to_string())?;
            if o.start {
                c.start_zk(z.id).map_err(|e| e.to_string())?;
            }
            println!(
                "zk {} client 127.0.0.1:{} peer {} election {} config {}",
                z.id,
                z.client_port,
                z.peer_port,
                z.election_port,
                Path::new(&z.dir).join("zoo.cfg").display()
            );
        }
        _ => return Err("usage: kafsh-sandbox add broker|zk [--dir D]".into()),
    }
    Ok(())
}

fn zk_servers(o: &Opts) -> Result<()> {
    let (id, list) = match o.positional.as_slice() {
        [id, list] => (parse_num::<u32>("ID", id)?, list),
        _ => return Err("usage: kafsh-sandbox zk-servers ID 1,2,3 [--dir D]".into()),
    };
    let mut c = open(o)?;
    let all = c.zk_servers();
    let mut servers = Vec::new();
    // "-": the ids of the `server.N=` lines of a zoo.cfg on stdin (what a runbook renders).
    let list: String = if list.as_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|e| e.to_string())?;
        let ids: Vec<String> = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("server."))
            .filter_map(|l| l.split_once('=').map(|(id, _)| id.trim().to_string()))
            .collect();
        if ids.is_empty() {
            return Err("zk-servers ID -: no server.N= lines on stdin".into());
        }
        ids.join(",")
    } else {
        list.clone()
    };
    let list = &list;
    for s in list.split(',') {
        let sid: u32 = parse_num("SERVER_IDS", s.trim())?;
        let z = all
            .iter()
            .find(|z| z.id == sid)
            .ok_or_else(|| format!("no ZooKeeper server {sid} in this cluster"))?;
        servers.push(z.clone());
    }
    c.write_zk_config(id, &servers).map_err(|e| e.to_string())?;
    eprintln!(
        "kafsh-sandbox: {} now lists servers {list}",
        c.zk_dir(id).join("zoo.cfg").display()
    );
    Ok(())
}

fn tool(o: &Opts) -> Result<ExitCode> {
    let Some((class, rest)) = o.passthrough.split_first() else {
        return Err("usage: kafsh-sandbox tool [--dir D] CLASS [ARGS...]".into());
    };
    let c = open(o)?;
    let bootstrap = c.bootstrap_servers();
    let zk = c.zk_connect().unwrap_or_default();
    let args: Vec<String> = rest
        .iter()
        .map(|a| match a.as_str() {
            "@bootstrap" => bootstrap.clone(),
            "@zk" => zk.clone(),
            _ => a.clone(),
        })
        .collect();
    let mut cmd = c
        .kafka_tool_command(class, &args)
        .map_err(|e| e.to_string())?;
    let status = cmd.status().map_err(|e| format!("cannot run java: {e}"))?;
    Ok(match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(n) => ExitCode::from(u8::try_from(n).unwrap_or(1)),
        None => ExitCode::FAILURE,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_up_options() {
        let o = parse(
            "up",
            &strings(&[
                "--kind",
                "kraft",
                "--dir=/x",
                "--brokers",
                "4",
                "--racks",
                "a,b",
            ]),
        )
        .unwrap();
        assert_eq!(o.kind, Some(Flavor::KRaft));
        assert_eq!(o.dir, Some(PathBuf::from("/x")));
        assert_eq!(o.brokers, Some(4));
        assert_eq!(o.racks, Some(strings(&["a", "b"])));
        assert!(parse("up", &strings(&["--brokers", "x"])).is_err());
        assert!(parse("up", &strings(&["--bogus"])).is_err());
        assert!(parse("up", &strings(&["--dir"])).is_err());
    }

    #[test]
    fn tool_passes_arguments_through() {
        let o = parse(
            "tool",
            &strings(&[
                "--dir",
                "/x",
                "Cls",
                "--bootstrap-server",
                "@bootstrap",
                "--list",
            ]),
        )
        .unwrap();
        assert_eq!(o.dir, Some(PathBuf::from("/x")));
        assert_eq!(
            o.passthrough,
            strings(&["Cls", "--bootstrap-server", "@bootstrap", "--list"])
        );
    }

    #[test]
    fn node_command_positionals() {
        let o = parse("kill", &strings(&["broker", "2", "--dir", "/x"])).unwrap();
        assert_eq!(o.positional, strings(&["broker", "2"]));
    }
}
