//! A Kerberos realm of its own for tests: MIT's `krb5kdc` (Debian's `krb5-kdc`), the realm
//! made with `kdb5_util` and `kadmin.local`, a keytab per principal; the KDC and the realm's
//! files go when the test process ends.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// The test realm.
pub const REALM: &str = "KAFSH.TEST";

/// A Kerberos realm of its own: `krb5kdc` in the foreground, killed with this process.
pub struct Kdc {
    pub dir: tempfile::TempDir,
    /// `krb5kdc` and the watchdog that ends it, kept for as long as the process lives.
    processes: Vec<std::process::Child>,
}

impl Kdc {
    pub fn krb5_conf(&self) -> PathBuf {
        self.dir.path().join("krb5.conf")
    }

    /// A command with this realm's configuration.
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("KRB5_CONFIG", self.krb5_conf())
            .env("KRB5_KDC_PROFILE", self.dir.path().join("kdc.conf"));
        cmd
    }

    /// The keytab of principal `name` (its first component: `kafka` for
    /// `kafka/127.0.0.1`), as [`Kdc::start`] made it.
    pub fn keytab(&self, name: &str) -> PathBuf {
        self.dir.path().join(format!("{name}.keytab"))
    }

    pub fn kadmin(&self, query: &str) {
        let out = self
            .command("kadmin.local")
            .args(["-r", REALM, "-q", query])
            .output()
            .expect("kadmin.local (krb5-admin-server)");
        assert!(
            out.status.success() && !String::from_utf8_lossy(&out.stderr).contains("rror"),
            "kadmin.local {query}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Kdc {
    /// A running KDC with `principals` (without the realm: `kafka/127.0.0.1`, `kafsh`),
    /// each with a random key in its own keytab (see [`Kdc::keytab`]).
    pub fn start(principals: &[&str]) -> Kdc {
        let dir = tempfile::tempdir().expect("tmp");
        let d = dir.path().display().to_string();
        let port = kafsh_sandbox::free_port().expect("a free port");
        std::fs::write(
            dir.path().join("krb5.conf"),
            format!(
                "[libdefaults]\n default_realm = {REALM}\n dns_lookup_kdc = false\n dns_lookup_realm = false\n\
                 dns_canonicalize_hostname = false\n rdns = false\n udp_preference_limit = 1\n\
                 [realms]\n {REALM} = {{\n  kdc = 127.0.0.1:{port}\n }}\n\
                 [domain_realm]\n 127.0.0.1 = {REALM}\n localhost = {REALM}\n"
            ),
        )
        .expect("krb5.conf");
        std::fs::write(
            dir.path().join("kdc.conf"),
            format!(
                "[kdcdefaults]\n kdc_listen = 127.0.0.1:{port}\n kdc_tcp_listen = 127.0.0.1:{port}\n\
                 [realms]\n {REALM} = {{\n  database_name = {d}/principal\n  key_stash_file = {d}/stash\n\
                   acl_file = {d}/kadm5.acl\n  kdc_listen = 127.0.0.1:{port}\n  kdc_tcp_listen = 127.0.0.1:{port}\n\
                   supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal\n }}\n\
                 [logging]\n kdc = FILE:{d}/kdc.log\n"
            ),
        )
        .expect("kdc.conf");
        let mut kdc = Kdc {
            dir,
            processes: Vec::new(),
        };
        let out = kdc
            .command("kdb5_util")
            .args(["create", "-s", "-r", REALM, "-P", "Mk-kafsh-realm-1"])
            .output()
            .expect("kdb5_util (krb5-kdc)");
        assert!(
            out.status.success(),
            "kdb5_util: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for principal in principals {
            let name = principal.split('/').next().unwrap_or(principal);
            kdc.kadmin(&format!("addprinc -randkey {principal}@{REALM}"));
            kdc.kadmin(&format!("ktadd -k {d}/{name}.keytab {principal}@{REALM}"));
        }
        let child = kdc
            .command("krb5kdc")
            .args(["-n", "-r", REALM])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("krb5kdc");
        let kdc_pid = child.id();
        kdc.processes.push(child);
        // Ends the KDC and removes its realm (keytabs included) when this test process
        // ends (statics are never dropped).
        Command::new("/bin/sh")
            .args([
                "-c",
                "while kill -0 $0 2>/dev/null; do sleep 1; done; kill $1; rm -rf -- \"$2\"",
                &std::process::id().to_string(),
                &kdc_pid.to_string(),
                &d,
            ])
            .stdin(std::process::Stdio::null())
            .spawn()
            .map(|watchdog| kdc.processes.push(watchdog))
            .expect("the KDC's watchdog");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "krb5kdc did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        kdc
    }
}
