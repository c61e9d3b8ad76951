//! TLS between proxies: the inbound listener terminates it, outbound
//! connections originate it. rustls with ring as the crypto provider, chosen
//! explicitly (not as a process-wide default), so the binary carries exactly
//! one provider: ring's C and assembly, compiled for the target arch.

use std::fmt;
use std::sync::Arc;

use rustls::crypto::ring;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore, ServerConfig};

use crate::config::{ClientTls, PemSource, ServerTls};

/// A TLS setting that cannot be used: which variable, what is wrong, the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsError {
    pub var: &'static str,
    pub problem: String,
    pub hint: String,
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}\n  hint: {}", self.var, self.problem, self.hint)
    }
}

impl std::error::Error for TlsError {}

/// What the outbound side needs per connection: the client config and the
/// name the upstream's certificate must carry.
#[derive(Clone)]
pub struct Originate {
    pub config: Arc<ClientConfig>,
    pub name: ServerName<'static>,
}

/// PEM text as given, or read from the file the value names.
fn pem_bytes(source: &PemSource) -> Result<Vec<u8>, TlsError> {
    if source.value.starts_with("-----BEGIN") {
        return Ok(source.value.clone().into_bytes());
    }
    std::fs::read(&source.value).map_err(|e| TlsError {
        var: source.var,
        problem: format!("cannot read {:?}: {}", source.value, e),
        hint: format!("set {} to a readable PEM file, or to the PEM text itself", source.var),
    })
}

fn certificates(source: &PemSource) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = pem_bytes(source)?;
    let bad = |problem: String| TlsError {
        var: source.var,
        problem,
        hint: "give PEM certificates (-----BEGIN CERTIFICATE-----), leaf first".to_string(),
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .map_err(|e| bad(format!("holds malformed PEM: {:?}", e)))?;
    if certs.is_empty() {
        return Err(bad("holds no certificate".to_string()));
    }
    Ok(certs)
}

fn private_key(source: &PemSource) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = pem_bytes(source)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| TlsError {
        var: source.var,
        problem: format!("holds no usable private key: {:?}", e),
        hint: "give a PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC)".to_string(),
    })
}

/// The inbound listener's server config: the certificate chain and its key.
pub fn server_config(tls: &ServerTls) -> Result<Arc<ServerConfig>, TlsError> {
    let certs = certificates(&tls.cert)?;
    let key = private_key(&tls.key)?;
    let config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError { var: tls.cert.var, problem: format!("no TLS protocol version available: {}", e), hint: "this is a build problem of the proxy".to_string() })?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| TlsError {
            var: tls.key.var,
            problem: format!("does not fit the certificate of {}: {}", tls.cert.var, e),
            hint: "give the key that belongs to the first certificate of the chain".to_string(),
        })?;
    Ok(Arc::new(config))
}

/// The outbound side's client config: trust exactly the configured roots.
pub fn client_config(tls: &ClientTls) -> Result<Originate, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in certificates(&tls.ca)? {
        roots.add(cert).map_err(|e| TlsError {
            var: tls.ca.var,
            problem: format!("holds a certificate that cannot be a trust root: {}", e),
            hint: "give the CA certificate(s) that issued the inbound proxies' certificates".to_string(),
        })?;
    }
    let name = ServerName::try_from(tls.name.clone()).map_err(|e| TlsError {
        var: crate::config::OUTBOUND_TLS_NAME,
        problem: format!("{:?} is not a DNS name or IP address: {}", tls.name, e),
        hint: "set it to the name in the inbound proxy's certificate, e.g. web.default.svc".to_string(),
    })?;
    let config = ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError { var: tls.ca.var, problem: format!("no TLS protocol version available: {}", e), hint: "this is a build problem of the proxy".to_string() })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Originate { config: Arc::new(config), name })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{INBOUND_TLS_CERT, INBOUND_TLS_KEY, OUTBOUND_TLS_CA};

    fn source(var: &'static str, value: &str) -> PemSource {
        PemSource { var, value: value.to_string() }
    }

    #[test]
    fn names_the_variable_of_an_unreadable_file() {
        let tls = ServerTls {
            cert: source(INBOUND_TLS_CERT, "/nonexistent/crt.pem"),
            key: source(INBOUND_TLS_KEY, "/nonexistent/key.pem"),
        };
        let err = server_config(&tls).err().expect("an unreadable file is an error");
        assert_eq!(err.var, INBOUND_TLS_CERT);
        assert!(err.problem.contains("/nonexistent/crt.pem"), "{}", err);
    }

    #[test]
    fn rejects_pem_text_without_a_certificate() {
        let tls = ClientTls {
            ca: source(OUTBOUND_TLS_CA, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
            name: "web".to_string(),
        };
        let err = client_config(&tls).err().expect("no certificate is an error");
        assert_eq!(err.var, OUTBOUND_TLS_CA);
        assert!(err.problem.contains("no certificate"), "{}", err);
    }
}
