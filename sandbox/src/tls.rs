//! Certificates for a secure sandbox cluster, made with the `openssl` command in `<dir>`:
//!
//! - `ca.pem`: the cluster's CA; `other-ca.pem`: a CA that signed nothing of the cluster's,
//!   for "untrusted" tests.
//! - `broker-keystore.pem`: the brokers' key and certificate (for 127.0.0.1 and localhost) in
//!   one PEM keystore, as Kafka's `ssl.keystore.type=PEM` takes it.
//! - `client.pem` + `client.key`: a client certificate signed by the CA, for mutual TLS; the
//!   same key encrypted with [`crate::CLIENT_KEY_PASSWORD`] as PKCS#8
//!   (`client-encrypted.key`) and the legacy OpenSSL way (`client-legacy-encrypted.key`).
//! - `untrusted-client.pem` + `untrusted-client.key`: a client certificate from the other CA.

use std::fs;
use std::io;
use std::path::Path;
use std::process::Command;

/// Makes the files in `dir` (created if needed).
pub(crate) fn make_certificates(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    let file = |name: &str| dir.join(name).display().to_string();
    new_ca(dir, "ca", "kafsh-sandbox-ca")?;
    new_ca(dir, "other-ca", "kafsh-sandbox-other-ca")?;
    signed_certificate(
        dir,
        "broker",
        "localhost",
        "ca",
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )?;
    let keystore = format!(
        "{}{}",
        fs::read_to_string(dir.join("broker.key"))?,
        fs::read_to_string(dir.join("broker.pem"))?
    );
    fs::write(dir.join("broker-keystore.pem"), keystore)?;

    let client_usage = "extendedKeyUsage=clientAuth\n";
    signed_certificate(dir, "client", "kafsh-client", "ca", client_usage)?;
    signed_certificate(
        dir,
        "untrusted-client",
        "kafsh-untrusted-client",
        "other-ca",
        client_usage,
    )?;
    let pass = format!("pass:{}", crate::CLIENT_KEY_PASSWORD);
    openssl(&[
        "pkcs8",
        "-topk8",
        "-v2",
        "aes-256-cbc",
        "-in",
        &file("client.key"),
        "-out",
        &file("client-encrypted.key"),
        "-passout",
        &pass,
    ])?;
    openssl(&[
        "rsa",
        "-aes256",
        "-traditional",
        "-in",
        &file("client.key"),
        "-out",
        &file("client-legacy-encrypted.key"),
        "-passout",
        &pass,
    ])
}

/// A self-signed CA: `<name>.pem` and `<name>.key`.
fn new_ca(dir: &Path, name: &str, common_name: &str) -> io::Result<()> {
    let file = |ext: &str| dir.join(format!("{name}.{ext}")).display().to_string();
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "7",
        "-subj",
        &format!("/CN={common_name}"),
        "-keyout",
        &file("key"),
        "-out",
        &file("pem"),
    ])
}

/// A key (`<name>.key`, unencrypted PKCS#8) and a certificate (`<name>.pem`) signed by the
/// CA `<ca>.pem`, with the X.509 v3 `extensions`.
fn signed_certificate(
    dir: &Path,
    name: &str,
    common_name: &str,
    ca: &str,
    extensions: &str,
) -> io::Result<()> {
    let file = |file_name: String| dir.join(file_name).display().to_string();
    fs::write(dir.join(format!("{name}.ext")), extensions)?;
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        &format!("/CN={common_name}"),
        "-keyout",
        &file(format!("{name}.key")),
        "-out",
        &file(format!("{name}.csr")),
    ])?;
    openssl(&[
        "x509",
        "-req",
        "-in",
        &file(format!("{name}.csr")),
        "-CA",
        &file(format!("{ca}.pem")),
        "-CAkey",
        &file(format!("{ca}.key")),
        "-CAcreateserial",
        "-days",
        "7",
        "-extfile",
        &file(format!("{name}.ext")),
        "-out",
        &file(format!("{name}.pem")),
    ])
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
