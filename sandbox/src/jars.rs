//! Fetching and caching the jars of Kafka (and ZooKeeper, and the command-line tools).
//!
//! The two default jar sets are described by the poms shipped with this crate
//! (`kafka-3.9.pom.xml`, `kafka-4.pom.xml`, embedded at build time); any other Kafka version
//! (`ClusterSpec::version`, `kafsh-sandbox up --version`) gets a pom written here
//! ([`version_pom`]) with the fixes that version needs on Java 17. A set is copied from Maven
//! Central with `mvn -q -B -f <pom> dependency:copy-dependencies -DoutputDirectory=<dir>`;
//! nothing is built.
//!
//! The cache lives in `<base>/<3.9|4|version>/` where `<base>` is `$KAFSH_JARS_DIR` when set, else
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

/// The Kafka version the flavor runs by default.
pub fn kafka_version(flavor: Flavor) -> &'static str {
    match flavor {
        Flavor::ZooKeeper => "3.9.2",
        Flavor::KRaft => "4.4.0",
    }
}

fn pom(flavor: Flavor) -> &'static str {
    match flavor {
        Flavor::ZooKeeper => POM_39,
        Flavor::KRaft => POM_4,
    }
}

/// A Kafka release number, `major.minor.patch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl Version {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Version {
        Version {
            major,
            minor,
            patch,
        }
    }

    /// `2.8.2` (a release; `2.8` is read as `2.8.0`).
    pub fn parse(s: &str) -> Option<Version> {
        let mut it = s.trim().split('.');
        let major = it.next()?.parse().ok()?;
        let minor = it.next()?.parse().ok()?;
        let patch = match it.next() {
            Some(p) => p.parse().ok()?,
            None => 0,
        };
        it.next()
            .is_none()
            .then_some(Version::new(major, minor, patch))
    }

    /// Whether this version is at least `major.minor`.
    pub fn at_least(self, major: u32, minor: u32) -> bool {
        (self.major, self.minor) >= (major, minor)
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// The oldest Kafka the sandbox runs (2.3: the last with the pre-KIP-455 reassignment
/// znode only; older ones are untested).
pub const OLDEST: Version = Version::new(2, 3, 0);
/// The newest release with ZooKeeper mode.
pub const LAST_ZOOKEEPER: Version = Version::new(3, 9, 99);
/// The first release whose KRaft mode is production ready (KIP-833).
pub const FIRST_KRAFT: Version = Version::new(3, 3, 0);

/// Whether a Kafka `version` can run as a `flavor` cluster in the sandbox; the reason when
/// not.
pub fn check_version(version: Version, flavor: Flavor) -> Result<(), String> {
    if version < OLDEST {
        return Err(format!(
            "Kafka {version} is older than the oldest the sandbox runs ({OLDEST})"
        ));
    }
    match flavor {
        Flavor::ZooKeeper if version > LAST_ZOOKEEPER => Err(format!(
            "Kafka {version} has no ZooKeeper mode (removed in 4.0)"
        )),
        Flavor::KRaft if version < FIRST_KRAFT => Err(format!(
            "Kafka {version} has no production KRaft mode (from {FIRST_KRAFT})"
        )),
        _ => Ok(()),
    }
}

/// The Maven dependencies of Kafka `v`'s broker, its ZooKeeper and its tools, with the fixes
/// an old release needs to run on Java 17 and with the sandbox's logging configs.
pub fn version_pom(v: Version) -> String {
    // kafka_2.13 artifacts start with 2.4; before that the Scala 2.12 build is the newest.
    let scala = if v.at_least(2, 4) { "2.13" } else { "2.12" };
    let mut deps = String::new();
    let dep = |group: &str, artifact: &str, version: &str, exclusions: &[(&str, &str)]| {
        let ex: String = exclusions
            .iter()
            .map(|(g, a)| {
                format!("<exclusion><groupId>{g}</groupId><artifactId>{a}</artifactId></exclusion>")
            })
            .collect();
        let ex = if ex.is_empty() {
            ex
        } else {
            format!("<exclusions>{ex}</exclusions>")
        };
        format!(
            "    <dependency><groupId>{group}</groupId><artifactId>{artifact}</artifactId>\
             <version>{version}</version>{ex}</dependency>\n"
        )
    };
    let mut exclusions: Vec<(&str, &str)> = Vec::new();
    if !v.at_least(4, 0) {
        // Kafka before 3.2 (and its ZooKeeper) log through log4j 1.2.17 (slf4j-log4j12); every
        // 3.x-or-older set here logs through reload4j instead (the same log4j 1 API and
        // configs, as Kafka itself switched to in 3.2), so one logging config serves them all.
        exclusions.push(("log4j", "log4j"));
        exclusions.push(("org.slf4j", "slf4j-log4j12"));
    }
    let mut zookeeper_exclusions = exclusions.clone();
    if !v.at_least(2, 4) {
        // Kafka before 2.4 ships ZooKeeper 3.4.14, whose client cannot connect on Java 17
        // ("Unable to canonicalize address 127.0.0.1/<unresolved>:port": Java 14 changed
        // InetSocketAddress.toString). ZooKeeper 3.5.9's client (and server) speak the same
        // protocol and keep the 3.4 API Kafka 2.3 calls.
        zookeeper_exclusions.push(("org.apache.zookeeper", "zookeeper"));
    }
    let kafka = format!("kafka_{scala}");
    let version = v.to_string();
    deps.push_str(&dep(
        "org.apache.kafka",
        &kafka,
        &version,
        &zookeeper_exclusions,
    ));
    deps.push_str(&dep(
        "org.apache.kafka",
        "kafka-tools",
        &version,
        &zookeeper_exclusions,
    ));
    if !v.at_least(2, 4) {
        deps.push_str(&dep(
            "org.apache.zookeeper",
            "zookeeper",
            "3.5.9",
            &exclusions,
        ));
        // The ZooKeeper CLI (ZooKeeperMain) needs commons-cli, which Kafka 2.8's pom brings
        // and 2.3's does not.
        deps.push_str(&dep("commons-cli", "commons-cli", "1.4", &[]));
    }
    if v.at_least(4, 0) {
        deps.push_str(&dep("org.slf4j", "slf4j-api", "2.0.17", &[]));
        deps.push_str(&dep(
            "org.apache.logging.log4j",
            "log4j-slf4j2-impl",
            "2.24.3",
            &[],
        ));
        deps.push_str(&dep(
            "org.apache.logging.log4j",
            "log4j-core",
            "2.24.3",
            &[],
        ));
    } else {
        deps.push_str(&dep("org.slf4j", "slf4j-reload4j", "1.7.36", &[]));
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <!-- The jars of Kafka {version} (broker, ZooKeeper, tools), written by kafsh-sandbox. -->\n\
         <project xmlns=\"http://maven.apache.org/POM/4.0.0\">\n\
         <modelVersion>4.0.0</modelVersion>\n\
         <groupId>kafsh.sandbox</groupId><artifactId>kafka-{version}</artifactId>\
         <version>1</version><packaging>pom</packaging>\n\
         <dependencies>\n{deps}</dependencies>\n</project>\n"
    )
}

/// One cached jar set: its directory name, Kafka version and pom.
#[derive(Debug, Clone, PartialEq, Eq)]
struct JarSet {
    key: String,
    version: String,
    scala_jar: String,
    pom: String,
}

impl JarSet {
    fn of_flavor(flavor: Flavor) -> JarSet {
        JarSet {
            key: version_key(flavor).into(),
            version: kafka_version(flavor).into(),
            scala_jar: "kafka_2.13-".into(),
            pom: pom(flavor).into(),
        }
    }

    /// The set of Kafka `v`: a default set when `v` is the version of one (3.9.2 serves
    /// ZooKeeper and KRaft clusters alike), else one of its own keyed by the version.
    fn of_version(v: Version) -> JarSet {
        for flavor in [Flavor::ZooKeeper, Flavor::KRaft] {
            if Version::parse(kafka_version(flavor)) == Some(v) {
                return JarSet::of_flavor(flavor);
            }
        }
        let scala = if v.at_least(2, 4) { "2.13" } else { "2.12" };
        JarSet {
            key: v.to_string(),
            version: v.to_string(),
            scala_jar: format!("kafka_{scala}-"),
            pom: version_pom(v),
        }
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

/// The jar directory of `flavor`'s default version, fetched first when missing. The
/// classpath is `<dir>/*`.
pub fn ensure(flavor: Flavor) -> io::Result<PathBuf> {
    let dir = ensure_in(&cache_base(), &JarSet::of_flavor(flavor))?;
    Ok(dir.canonicalize().unwrap_or(dir))
}

/// The jar directory of Kafka `version`, fetched first when missing.
pub fn ensure_version(version: Version) -> io::Result<PathBuf> {
    let dir = ensure_in(&cache_base(), &JarSet::of_version(version))?;
    Ok(dir.canonicalize().unwrap_or(dir))
}

/// The marker of a complete jar set: the Kafka version and the pom it was copied by, so
/// a changed pom (a new dependency) fetches the set again.
fn marker(set: &JarSet) -> String {
    format!("{}\n{}", set.version, set.pom)
}

fn is_complete(dir: &Path, set: &JarSet) -> bool {
    fs::read_to_string(dir.join(COMPLETE)).is_ok_and(|m| m == marker(set))
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

fn ensure_in(base: &Path, set: &JarSet) -> io::Result<PathBuf> {
    let key = set.key.as_str();
    let dest = base.join(key);
    if is_complete(&dest, set) {
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
                if is_complete(&dest, set) {
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
    if is_complete(&dest, set) {
        return Ok(dest);
    }
    let tmp = base.join(format!(".{key}.tmp-{}", std::process::id()));
    if tmp.exists() {
        fs::remove_dir_all(&tmp)?;
    }
    fs::create_dir_all(tmp.join("jars"))?;
    let result = fetch_into(&tmp, set).and_then(|()| {
        fs::write(tmp.join("jars").join(COMPLETE), marker(set))?;
        if dest.exists() {
            fs::remove_dir_all(&dest)?;
        }
        fs::rename(tmp.join("jars"), &dest)
    });
    let _ = fs::remove_dir_all(&tmp);
    result.map(|()| dest)
}

/// Runs Maven to copy the jar set `set` into `<work>/jars`.
fn fetch_into(work: &Path, set: &JarSet) -> io::Result<()> {
    let pom_path = work.join("pom.xml");
    fs::write(&pom_path, &set.pom)?;
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
                mvn, set.version
            ),
        )
    })?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "{:?} failed ({}) fetching the Kafka {} jars:\n{}{}",
            mvn,
            out.status,
            set.version,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    let has_kafka = fs::read_dir(work.join("jars"))?
        .filter_map(Result::ok)
        .any(|e| e.file_name().to_string_lossy().starts_with(&set.scala_jar));
    if !has_kafka {
        return Err(io::Error::other(format!(
            "mvn copied no {}*.jar into {}",
            set.scala_jar,
            work.join("jars").display()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_compare_and_fit_a_cluster_kind() {
        let v = Version::parse("2.8.2").unwrap();
        assert_eq!(v, Version::new(2, 8, 2));
        assert_eq!(Version::parse("3.9"), Some(Version::new(3, 9, 0)));
        assert_eq!(Version::parse("4.x"), None);
        assert_eq!(Version::parse("4.0.0.1"), None);
        assert!(v.at_least(2, 8) && !v.at_least(2, 9) && !v.at_least(3, 0));
        assert!(Version::new(3, 9, 2) < Version::new(4, 0, 0));
        assert!(check_version(Version::new(2, 3, 1), Flavor::ZooKeeper).is_ok());
        assert!(check_version(Version::new(3, 9, 2), Flavor::ZooKeeper).is_ok());
        assert!(check_version(Version::new(4, 0, 0), Flavor::ZooKeeper).is_err());
        assert!(check_version(Version::new(2, 2, 2), Flavor::ZooKeeper).is_err());
        assert!(check_version(Version::new(3, 2, 3), Flavor::KRaft).is_err());
        assert!(check_version(Version::new(3, 3, 0), Flavor::KRaft).is_ok());
    }

    #[test]
    fn each_version_gets_the_fixes_it_needs() {
        let old = version_pom(Version::new(2, 3, 1));
        assert!(old.contains("<artifactId>kafka_2.12</artifactId><version>2.3.1</version>"));
        assert!(old.contains("<artifactId>zookeeper</artifactId><version>3.5.9</version>"));
        assert!(old.contains("<artifactId>commons-cli</artifactId>"));
        assert!(old.contains("<artifactId>slf4j-reload4j</artifactId>"));
        let mid = version_pom(Version::new(2, 8, 2));
        assert!(mid.contains("<artifactId>kafka_2.13</artifactId><version>2.8.2</version>"));
        assert!(!mid.contains("<version>3.5.9</version>"));
        assert!(mid.contains("<artifactId>slf4j-log4j12</artifactId></exclusion>"));
        let new = version_pom(Version::new(4, 4, 0));
        assert!(new.contains("<artifactId>log4j-core</artifactId>"));
        assert!(!new.contains("reload4j"));
        // The defaults' own versions use the shipped poms (and their cache keys).
        assert_eq!(JarSet::of_version(Version::new(3, 9, 2)).key, "3.9");
        assert_eq!(JarSet::of_version(Version::new(4, 4, 0)).key, "4");
        assert_eq!(JarSet::of_version(Version::new(4, 2, 0)).key, "4.2.0");
        let other = JarSet::of_version(Version::new(2, 3, 1));
        assert_eq!(
            (other.key.as_str(), other.scala_jar.as_str()),
            ("2.3.1", "kafka_2.12-")
        );
    }
}
