//! Fetching and caching the jars of Kafka (and ZooKeeper, and the command-line tools).
//!
//! The jar sets are described by the two poms shipped with this crate (`kafka-3.9.pom.xml`,
//! `kafka-4.pom.xml`, embedded at build time) and copied from Maven Central with
//! `mvn -q -B -f <pom> dependency:copy-dependencies -DoutputDirectory=<dir>`; nothing is built.
//!
//! The cache lives in `<base>/<3.9|4>/` where `<base>` is `$KAFSH_JARS_DIR` when set, else
//! `<cargo target dir>/kafka-jars` (`$CARGO_TARGET_DIR`, else the workspace's `target/`). A
//! set is copied to a temp directory, marked complete, then renamed into place, under a lock
//! file, so concurrent test binaries neither download twice nor see a half-filled directory.
//! `$KAFSH_MVN` names another `mvn`.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use crate::cluster::Flavor;
use crate::process;

const POM_39: &str = include_str!("../kafka-3.9.pom.xml");
const POM_4: &str = include_str!("../kafka-4.pom.xml");
/// Marker file of a complete jar directory.
const COMPLETE: &str = ".complete";
/// A lock older than this is taken as abandoned.
const STALE_LOCK: Duration = Duration::from_secs(20 * 60);

/// The cache key (directory name) of a flavor's jar set.
pub fn version_key(flavor: Flavor) -> &'static str {
    match flavor {
        Flavor::ZooKeeper => "3.9",
        Flavor::KRaft => "4",
    }
}

/// The Kafka version the flavor runs.
pub fn kafka_version(flavor: Flavor) -> &'static str {
    match flavor {
        Flavor::ZooKeeper => "3.9.2",
        Flavor::KRaft => "4.2.0",
    }
}

fn pom(flavor: Flavor) -> &'static str {
    match flavor {
        Flavor::ZooKeeper => POM_39,
        Flavor::KRaft => POM_4,
    }
}

/// The cargo target directory of the workspace this crate was built in.
pub fn target_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let from_env = std::env::var_os("CARGO_TARGET_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| option_env!("CARGO_TARGET_DIR").map(PathBuf::from));
    match from_env {
        Some(p) if p.is_absolute() => p,
        Some(p) => workspace.join(p),
        None => workspace.join("target"),
    }
}

/// The directory holding the cached jar sets.
pub fn cache_base() -> PathBuf {
    match std::env::var_os("KAFSH_JARS_DIR").filter(|v| !v.is_empty()) {
        Some(p) => PathBuf::from(p),
        None => target_dir().join("kafka-jars"),
    }
}

/// The jar directory of `flavor`, fetched first when missing. The classpath is `<dir>/*`.
pub fn ensure(flavor: Flavor) -> io::Result<PathBuf> {
    let dir = ensure_in(&cache_base(), flavor)?;
    Ok(dir.canonicalize().unwrap_or(dir))
}

/// The marker of a complete jar set: the Kafka version and the pom it was copied by, so
/// a changed pom (a new dependency) fetches the set again.
fn marker(flavor: Flavor) -> String {
    format!("{}\n{}", kafka_version(flavor), pom(flavor))
}

fn is_complete(dir: &Path, flavor: Flavor) -> bool {
    fs::read_to_string(dir.join(COMPLETE)).is_ok_and(|m| m == marker(flavor))
}

/// Removes the lock file when dropped.
struct LockGuard(PathBuf);

impl Drop for LockGuard {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

fn lock_is_stale(lock: &Path) -> bool {
    let Ok(meta) = fs::metadata(lock) else {
        return false;
    };
    let old = meta
        .modified()
        .ok()
        .and_then(|m| SystemTime::now().duration_since(m).ok())
        .is_some_and(|age| age > STALE_LOCK);
    let holder_dead = fs::read_to_string(lock)
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .is_some_and(|pid| {
            pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists()
        });
    old || (cfg!(target_os = "linux") && holder_dead)
}

fn ensure_in(base: &Path, flavor: Flavor) -> io::Result<PathBuf> {
    let key = version_key(flavor);
    let dest = base.join(key);
    if is_complete(&dest, flavor) {
        return Ok(dest);
    }
    fs::create_dir_all(base).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot create jar cache {}: {e}", base.display()),
        )
    })?;
    let lock = base.join(format!("{key}.lock"));
    let started = Instant::now();
    let _guard = loop {
        match OpenOptions::new().write(true).create_new(true).open(&lock) {
            Ok(mut f) => {
                let _ = writeln!(f, "{}", std::process::id());
                break LockGuard(lock.clone());
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                if is_complete(&dest, flavor) {
                    return Ok(dest);
                }
                if lock_is_stale(&lock) {
                    let _ = fs::remove_file(&lock);
                    continue;
                }
                if started.elapsed() > STALE_LOCK {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("timed out waiting for the jar lock {}", lock.display()),
                    ));
                }
                thread::sleep(Duration::from_millis(300));
            }
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("cannot create {}: {e}", lock.display()),
                ))
            }
        }
    };
    if is_complete(&dest, flavor) {
        return Ok(dest);
    }
    let tmp = base.join(format!(".{key}.tmp-{}", std::process::id()));
    if tmp.exists() {
        fs::remove_dir_all(&tmp)?;
    }
    fs::create_dir_all(tmp.join("jars"))?;
    let result = fetch_into(&tmp, flavor).and_then(|()| {
        fs::write(tmp.join("jars").join(COMPLETE), marker(flavor))?;
        if dest.exists() {
            fs::remove_dir_all(&dest)?;
        }
        fs::rename(tmp.join("jars"), &dest)
    });
    let _ = fs::remove_dir_all(&tmp);
    result.map(|()| dest)
}

/// Runs Maven to copy the jar set of `flavor` into `<work>/jars`.
fn fetch_into(work: &Path, flavor: Flavor) -> io::Result<()> {
    let pom_path = work.join("pom.xml");
    fs::write(&pom_path, pom(flavor))?;
    let mvn = std::env::var_os("KAFSH_MVN")
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "mvn".into());
    let mut cmd = Command::new(&mvn);
    cmd.current_dir(work)
        .arg("-q")
        .arg("-B")
        .arg("-f")
        .arg(&pom_path)
        .arg("dependency:copy-dependencies")
        .arg(format!("-DoutputDirectory={}", work.join("jars").display()));
    let out = process::output_with_timeout(cmd, Duration::from_secs(30 * 60)).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "cannot run {:?} to fetch the Kafka {} jars: {e}",
                mvn,
                kafka_version(flavor)
            ),
        )
    })?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "{:?} failed ({}) fetching the Kafka {} jars:\n{}{}",
            mvn,
            out.status,
            kafka_version(flavor),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    let has_kafka = fs::read_dir(work.join("jars"))?
        .filter_map(Result::ok)
        .any(|e| e.file_name().to_string_lossy().starts_with("kafka_2.13-"));
    if !has_kafka {
        return Err(io::Error::other(format!(
            "mvn copied no kafka_2.13 jar into {}",
            work.join("jars").display()
        )));
    }
    Ok(())
}
