//! The client side of SASL GSSAPI (Kerberos V5, RFC 4752) as Kafka brokers run it, through
//! the system's MIT krb5 (`libgssapi-sys`): credentials from a keytab
//! (`sasl.kerberos.keytab` + `sasl.kerberos.principal`, kept in a private in-memory ticket
//! cache, so the user's own cache is left alone) or from the user's ticket cache
//! (`kinit`); the broker's service principal is `<sasl.kerberos.service.name>/<host>`. The
//! security layer negotiated after the context is "none" (Kafka wraps nothing).
//!
//! `libgssapi`'s safe wrapper cannot acquire credentials from a given keytab
//! (`gss_acquire_cred_from`), so this module calls the C API directly; every handle it
//! gets is released by a guard.

use crate::error::{Error, Result};
use libgssapi_sys as sys;
use std::ffi::{c_void, CString};
use std::ptr;

/// Where the Kerberos credentials come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KerberosSettings {
    /// `sasl.kerberos.service.name` (default "kafka").
    pub service_name: String,
    /// `sasl.kerberos.principal`: the client's principal (from the ticket cache's default
    /// principal when absent).
    pub principal: Option<String>,
    /// `sasl.kerberos.keytab`: log in from this keytab instead of the ticket cache.
    pub keytab: Option<String>,
}

// OIDs, DER contents.
const MECH_KRB5: &[u8] = b"\x2a\x86\x48\x86\xf7\x12\x01\x02\x02";
const NT_HOSTBASED_SERVICE: &[u8] = b"\x2a\x86\x48\x86\xf7\x12\x01\x02\x01\x04";
const NT_KRB5_PRINCIPAL: &[u8] = b"\x2a\x86\x48\x86\xf7\x12\x01\x02\x02\x01";

fn oid(bytes: &'static [u8]) -> sys::gss_OID_desc {
    sys::gss_OID_desc {
        length: bytes.len() as u32,
        elements: bytes.as_ptr() as *mut c_void,
    }
}

fn failed(major: u32) -> bool {
    // The calling and routine error fields (the supplementary bits are informational).
    major & 0xffff_0000 != 0
}

/// The text of a GSS status (major and minor), as MIT words it.
fn status_text(major: u32, minor: u32) -> String {
    let mut parts = Vec::new();
    for (code, kind) in [(major, 1), (minor, 2)] {
        if kind == 2 && code == 0 {
            continue;
        }
        let mut context: u32 = 0;
        loop {
            let mut min = 0u32;
            let mut buf = sys::gss_buffer_desc {
                length: 0,
                value: ptr::null_mut(),
            };
            let mech = if kind == 2 {
                &mut oid(MECH_KRB5) as *mut _
            } else {
                ptr::null_mut()
            };
            // SAFETY: plain out-parameters; the buffer is released below.
            let r = unsafe {
                sys::gss_display_status(&mut min, code, kind, mech, &mut context, &mut buf)
            };
            if failed(r) {
                break;
            }
            if !buf.value.is_null() {
                // SAFETY: gss_display_status filled `length` bytes at `value`.
                let text = unsafe {
                    std::slice::from_raw_parts(buf.value as *const u8, buf.length as usize)
                };
                parts.push(String::from_utf8_lossy(text).into_owned());
                // SAFETY: the buffer came from GSS.
                unsafe { sys::gss_release_buffer(&mut min, &mut buf) };
            }
            if context == 0 {
                break;
            }
        }
    }
    parts.join(": ")
}

struct Name(sys::gss_name_t);

impl Name {
    fn import(text: &str, kind: &'static [u8]) -> Result<Name> {
        let mut minor = 0u32;
        let mut buf = sys::gss_buffer_desc {
            length: text.len(),
            value: text.as_ptr() as *mut c_void,
        };
        let mut kind = oid(kind);
        let mut name: sys::gss_name_t = ptr::null_mut();
        // SAFETY: the buffer and OID outlive the call; GSS copies them.
        let major = unsafe { sys::gss_import_name(&mut minor, &mut buf, &mut kind, &mut name) };
        if failed(major) {
            return Err(Error::Config(format!(
                "Kerberos name {text:?}: {}",
                status_text(major, minor)
            )));
        }
        Ok(Name(name))
    }
}

impl Drop for Name {
    fn drop(&mut self) {
        let mut minor = 0;
        // SAFETY: a name from gss_import_name, released once.
        unsafe { sys::gss_release_name(&mut minor, &mut self.0) };
    }
}

struct Cred(sys::gss_cred_id_t);

impl Drop for Cred {
    fn drop(&mut self) {
        let mut minor = 0;
        // SAFETY: a credential from gss_acquire_cred_from, released once.
        unsafe { sys::gss_release_cred(&mut minor, &mut self.0) };
    }
}

/// An owned GSS output buffer.
struct OutBuffer(sys::gss_buffer_desc);

impl OutBuffer {
    fn new() -> OutBuffer {
        OutBuffer(sys::gss_buffer_desc {
            length: 0,
            value: ptr::null_mut(),
        })
    }

    fn bytes(&self) -> Vec<u8> {
        if self.0.value.is_null() {
            return Vec::new();
        }
        // SAFETY: GSS filled `length` bytes at `value`.
        unsafe { std::slice::from_raw_parts(self.0.value as *const u8, self.0.length) }.to_vec()
    }
}

impl Drop for OutBuffer {
    fn drop(&mut self) {
        let mut minor = 0;
        // SAFETY: a buffer GSS allocated (or an empty one).
        unsafe { sys::gss_release_buffer(&mut minor, &mut self.0) };
    }
}

fn in_buffer(bytes: &[u8]) -> sys::gss_buffer_desc {
    sys::gss_buffer_desc {
        length: bytes.len(),
        value: bytes.as_ptr() as *mut c_void,
    }
}

/// The private in-memory ticket cache of a keytab login (one per keytab and principal in
/// this process).
pub fn private_ccache(keytab: &str, principal: Option<&str>) -> String {
    let id = ring::digest::digest(
        &ring::digest::SHA256,
        format!("{keytab}\0{}", principal.unwrap_or("")).as_bytes(),
    );
    let id: String = id.as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("MEMORY:kafsh-{}-{id}", std::process::id())
}

/// Logs in as `settings` say and gets a ticket for `<service>@<host>` (the first token of
/// a context, then dropped), so a login that cannot work fails here, clearly; returns the
/// ticket cache that now holds the tickets: the private cache of a keytab login, else
/// `None` (the user's ticket cache). For ZooKeeper, whose client library (rsasl) takes the
/// default credentials of the thread it runs on (see [`use_ccache_on_this_thread`]).
pub fn login(settings: &KerberosSettings, host: &str) -> Result<Option<String>> {
    let mut context = ClientContext::new(settings, host)?;
    context.step(None)?;
    Ok(settings
        .keytab
        .as_deref()
        .map(|k| private_ccache(k, settings.principal.as_deref())))
}

extern "C" {
    // MIT krb5's gssapi_krb5.h; libgssapi-sys does not bind it.
    fn gss_krb5_ccache_name(
        minor: *mut u32,
        name: *const std::ffi::c_char,
        out_name: *mut *const std::ffi::c_char,
    ) -> u32;
}

/// Makes `ccache` the default ticket cache of GSS calls on the calling thread (MIT keeps
/// it per thread), for a library that acquires default credentials.
pub fn use_ccache_on_this_thread(ccache: &str) -> Result<()> {
    let name = CString::new(ccache)
        .map_err(|_| Error::Config(format!("ticket cache {ccache:?} holds a NUL byte")))?;
    let mut minor = 0u32;
    // SAFETY: MIT copies the name; the old name's out-parameter is not asked for.
    let major = unsafe { gss_krb5_ccache_name(&mut minor, name.as_ptr(), ptr::null_mut()) };
    if failed(major) {
        return Err(Error::Config(format!(
            "Kerberos: cannot use the ticket cache {ccache}: {}",
            status_text(major, minor)
        )));
    }
    Ok(())
}

/// One client security context with a broker.
pub struct ClientContext {
    context: sys::gss_ctx_id_t,
    target: Name,
    cred: Cred,
    established: bool,
    who: String,
}

// SAFETY: the handles are used by one task at a time (the connection that authenticates);
// MIT krb5's GSS library is thread-safe for distinct contexts.
unsafe impl Send for ClientContext {}

impl Drop for ClientContext {
    fn drop(&mut self) {
        if !self.context.is_null() {
            let mut minor = 0;
            // SAFETY: a context from gss_init_sec_context, deleted once.
            unsafe { sys::gss_delete_sec_context(&mut minor, &mut self.context, ptr::null_mut()) };
        }
    }
}

impl ClientContext {
    /// Credentials as the settings say, and a context aimed at `<service>@<host>`.
    pub fn new(settings: &KerberosSettings, host: &str) -> Result<ClientContext> {
        let target = Name::import(
            &format!("{}@{host}", settings.service_name),
            NT_HOSTBASED_SERVICE,
        )?;
        let who = match (&settings.keytab, &settings.principal) {
            (Some(keytab), Some(p)) => format!("{p} (sasl.kerberos.keytab {keytab})"),
            (Some(keytab), None) => format!("sasl.kerberos.keytab {keytab}"),
            (None, Some(p)) => format!("{p} (the ticket cache)"),
            (None, None) => "the ticket cache's principal".to_string(),
        };
        let desired = settings
            .principal
            .as_deref()
            .map(|p| Name::import(p, NT_KRB5_PRINCIPAL))
            .transpose()?;
        let mut owned: Vec<CString> = Vec::new();
        let mut elements: Vec<sys::gss_key_value_element_desc> = Vec::new();
        let mut store = |key: &str, value: String| -> Result<()> {
            let k = CString::new(key).map_err(|_| Error::Config(format!("bad {key}")))?;
            let v = CString::new(value)
                .map_err(|_| Error::Config(format!("{key} holds a NUL byte")))?;
            elements.push(sys::gss_key_value_element_desc {
                key: k.as_ptr(),
                value: v.as_ptr(),
            });
            owned.push(k);
            owned.push(v);
            Ok(())
        };
        if let Some(keytab) = &settings.keytab {
            if !std::path::Path::new(keytab).exists() {
                return Err(Error::Config(format!(
                    "sasl.kerberos.keytab {keytab} does not exist"
                )));
            }
            store("client_keytab", keytab.clone())?;
            // A private cache, one per keytab and principal in this process: the user's own
            // tickets are neither used nor overwritten, and later connections reuse the
            // ticket-granting ticket (MIT gets a new one from the keytab when it runs out).
            store(
                "ccache",
                private_ccache(keytab, settings.principal.as_deref()),
            )?;
        }
        let store_set = sys::gss_key_value_set_desc {
            count: elements.len() as u32,
            elements: elements.as_mut_ptr(),
        };
        let mut mech = oid(MECH_KRB5);
        let mut mechs = sys::gss_OID_set_desc {
            count: 1,
            elements: &mut mech,
        };
        let mut minor = 0u32;
        let mut cred: sys::gss_cred_id_t = ptr::null_mut();
        // SAFETY: every pointer handed in outlives the call; `cred` is released by `Cred`.
        let major = unsafe {
            sys::gss_acquire_cred_from(
                &mut minor,
                desired.as_ref().map_or(ptr::null_mut(), |n| n.0),
                0xffff_ffff, // GSS_C_INDEFINITE
                &mut mechs,
                1, // GSS_C_INITIATE
                if elements.is_empty() {
                    ptr::null()
                } else {
                    &store_set
                },
                &mut cred,
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        drop(owned);
        if failed(major) {
            return Err(Error::Config(format!(
                "Kerberos: no credentials for {who}: {}",
                status_text(major, minor)
            )));
        }
        Ok(ClientContext {
            context: ptr::null_mut(),
            target,
            cred: Cred(cred),
            established: false,
            who,
        })
    }

    /// The client principal the credentials are for (from the keytab or the ticket cache).
    pub fn principal(&self) -> Result<String> {
        let mut minor = 0u32;
        let mut name: sys::gss_name_t = ptr::null_mut();
        // SAFETY: `name` is an out-parameter released by `Name`; the other outputs are
        // not asked for.
        let major = unsafe {
            sys::gss_inquire_cred(
                &mut minor,
                self.cred.0,
                &mut name,
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        if failed(major) {
            return Err(Error::Config(format!(
                "Kerberos: which principal {} is: {}",
                self.who,
                status_text(major, minor)
            )));
        }
        let name = Name(name);
        let mut text = OutBuffer::new();
        // SAFETY: a valid name; the output is released by `OutBuffer`.
        let major =
            unsafe { sys::gss_display_name(&mut minor, name.0, &mut text.0, ptr::null_mut()) };
        if failed(major) {
            return Err(Error::Config(format!(
                "Kerberos: which principal {} is: {}",
                self.who,
                status_text(major, minor)
            )));
        }
        Ok(String::from_utf8_lossy(&text.bytes()).into_owned())
    }

    /// Whether the context is established.
    pub fn is_established(&self) -> bool {
        self.established
    }

    /// One step of the context: the broker's last token (none at first) in, the token to
    /// send out.
    pub fn step(&mut self, input: Option<&[u8]>) -> Result<Vec<u8>> {
        let mut minor = 0u32;
        let mut mech = oid(MECH_KRB5);
        let mut input_buf = in_buffer(input.unwrap_or_default());
        let mut out = OutBuffer::new();
        let flags = 2 | 32; // GSS_C_MUTUAL_FLAG | GSS_C_INTEG_FLAG
                            // SAFETY: the context is created on the first call and kept in `self`.
        let major = unsafe {
            sys::gss_init_sec_context(
                &mut minor,
                self.cred.0,
                &mut self.context,
                self.target.0,
                &mut mech,
                flags,
                0,
                ptr::null_mut(),
                if input.is_some() {
                    &mut input_buf
                } else {
                    ptr::null_mut()
                },
                ptr::null_mut(),
                &mut out.0,
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        if failed(major) {
            return Err(Error::Config(format!(
                "Kerberos authentication of {} failed: {}",
                self.who,
                status_text(major, minor)
            )));
        }
        // GSS_S_CONTINUE_NEEDED is 1 in the supplementary field.
        self.established = major & 1 == 0;
        Ok(out.bytes())
    }

    /// The answer to the broker's security-layer offer (RFC 4752 section 3.1): no security
    /// layer, no maximum size, no authorization id.
    pub fn security_layer_answer(&mut self, offer: &[u8]) -> Result<Vec<u8>> {
        let mut minor = 0u32;
        let mut input = in_buffer(offer);
        let mut plain = OutBuffer::new();
        // SAFETY: an established context; the output is released by `OutBuffer`.
        let major = unsafe {
            sys::gss_unwrap(
                &mut minor,
                self.context,
                &mut input,
                &mut plain.0,
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        if failed(major) {
            return Err(Error::Config(format!(
                "Kerberos: cannot read the broker's security layer offer: {}",
                status_text(major, minor)
            )));
        }
        let offered = plain.bytes();
        if offered.first().is_none_or(|layers| layers & 1 == 0) {
            return Err(Error::Config(
                "Kerberos: the broker requires a SASL security layer, which Kafka clients do not use"
                    .into(),
            ));
        }
        let answer = [1u8, 0, 0, 0];
        let mut input = in_buffer(&answer);
        let mut wrapped = OutBuffer::new();
        // SAFETY: as above.
        let major = unsafe {
            sys::gss_wrap(
                &mut minor,
                self.context,
                0,
                0,
                &mut input,
                ptr::null_mut(),
                &mut wrapped.0,
            )
        };
        if failed(major) {
            return Err(Error::Config(format!(
                "Kerberos: cannot answer the broker's security layer offer: {}",
                status_text(major, minor)
            )));
        }
        Ok(wrapped.bytes())
    }
}

/// Logs in as the settings say and gets a service ticket for the broker at `host`, without
/// talking to the broker: what a wrong keytab, principal or an empty ticket cache does, it
/// does here, in a second, with the setting named. Answers the client principal.
pub fn check_login(settings: &KerberosSettings, host: &str) -> Result<String> {
    let mut context = ClientContext::new(settings, host)?;
    context.step(None)?;
    context.principal()
}
