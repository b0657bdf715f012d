//! Certificates for a secure sandbox cluster, made with the `openssl` command: a CA
//! (`ca.pem`), a broker certificate for 127.0.0.1 and localhost signed by it together with
//! its key in one PEM keystore (`broker-keystore.pem`, as Kafka's `ssl.keystore.type=PEM`
//! takes it), and a second CA that signed nothing (`other-ca.pem`) for "untrusted" tests.

use std::fs;
use std::io;
use std::path::Path;
use std::process::Command;

/// Makes the files in `dir` (created if needed).
pub(crate) fn make_certificates(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    let file = |name: &str| dir.join(name).display().to_string();
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "7",
        "-subj",
        "/CN=kafsh-sandbox-ca",
        "-keyout",
        &file("ca.key"),
        "-out",
        &file("ca.pem"),
    ])?;
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "7",
        "-subj",
        "/CN=kafsh-sandbox-other-ca",
        "-keyout",
        &file("other-ca.key"),
        "-out",
        &file("other-ca.pem"),
    ])?;
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        &file("broker.key"),
        "-out",
        &file("broker.csr"),
    ])?;
    fs::write(
        dir.join("broker.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )?;
    openssl(&[
        "x509",
        "-req",
        "-in",
        &file("broker.csr"),
        "-CA",
        &file("ca.pem"),
        "-CAkey",
        &file("ca.key"),
        "-CAcreateserial",
        "-days",
        "7",
        "-extfile",
        &file("broker.ext"),
        "-out",
        &file("broker.pem"),
    ])?;
    let keystore = format!(
        "{}{}",
        fs::read_to_string(dir.join("broker.key"))?,
        fs::read_to_string(dir.join("broker.pem"))?
    );
    fs::write(dir.join("broker-keystore.pem"), keystore)
}

fn openssl(args: &[&str]) -> io::Result<()> {
    let out = Command::new("openssl").args(args).output().map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot run openssl (apt-get install openssl): {e}"),
        )
    })?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "openssl {}: {}",
            args.first().unwrap_or(&""),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(())
}
