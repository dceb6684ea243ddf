//! HTTPS for the simulator: a CA (new, or the one a previous run wrote into its
//! kubeconfig) and a server certificate it signs for `localhost` / `127.0.0.1`, made at
//! start-up. kubectl sends bearer tokens only over TLS (client-go reads a kubeconfig's
//! credentials only for TLS transports), so the simulator serves HTTPS by default and
//! writes the CA into its kubeconfig. Also the TCP side of every listener the simulator
//! serves from ([`no_delay`]).
//!
//! May import: nothing else in the crate.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::serve::{Listener, ListenerExt};
use rcgen::{BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

pub struct TlsMaterial {
    /// PEM of the CA that signed the server certificate (for `certificate-authority-data`).
    pub ca_pem: String,
    pub server: Arc<rustls::ServerConfig>,
}

/// The simulator's certificate authority: what a restart needs to serve a certificate the
/// clients of the previous run still trust.
#[derive(Clone)]
pub struct Ca {
    pub cert_pem: String,
    /// The CA's private key (PKCS#8 PEM). Secret: never logged or printed.
    pub key_pem: String,
}

impl std::fmt::Debug for Ca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ca").field("key_pem", &"<redacted>").finish_non_exhaustive()
    }
}

fn err(e: &dyn std::fmt::Display) -> String {
    format!("generating the simulator's TLS certificate: {e}")
}

fn ca_params() -> Result<CertificateParams, String> {
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(|e| err(&e))?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "daemonscope-sim-ca");
    ca.distinguished_name = dn;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    Ok(ca)
}

impl Ca {
    /// A new CA with a new key.
    pub fn generate() -> Result<Ca, String> {
        let key = KeyPair::generate().map_err(|e| err(&e))?;
        let cert = ca_params()?.self_signed(&key).map_err(|e| err(&e))?;
        Ok(Ca { cert_pem: cert.pem(), key_pem: key.serialize_pem() })
    }

    /// A server configuration whose certificate (for `localhost`, `127.0.0.1` and `hosts`)
    /// this CA signs; the certificate itself is new each start, the CA is not.
    pub fn server_config(&self, hosts: &[String]) -> Result<Arc<rustls::ServerConfig>, String> {
        let ca_key = KeyPair::from_pem(&self.key_pem).map_err(|e| format!("the CA key in the kubeconfig: {e}"))?;
        // Signing needs the issuer's name and key; both are the same as when the CA was made.
        let issuer = Issuer::new(ca_params()?, ca_key);
        let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
        names.extend(hosts.iter().filter(|h| !names.contains(h)).cloned().collect::<Vec<_>>());
        let mut server = CertificateParams::new(names).map_err(|e| err(&e))?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "daemonscope-sim");
        server.distinguished_name = dn;
        let server_key = KeyPair::generate().map_err(|e| err(&e))?;
        let server_cert = server.signed_by(&server_key, &issuer).map_err(|e| err(&e))?;
        let ca_der = rustls::pki_types::pem::PemObject::from_pem_slice(self.cert_pem.as_bytes())
            .map_err(|e| format!("the CA certificate in the kubeconfig: {e}"))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| err(&e))?
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(server_cert.der().to_vec()), ca_der],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
            )
            .map_err(|e| err(&e))?;
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(cfg))
    }
}

/// A throwaway CA and a server configuration it signs.
pub fn generate() -> Result<TlsMaterial, String> {
    let ca = Ca::generate()?;
    let server = ca.server_config(&[])?;
    Ok(TlsMaterial { ca_pem: ca.cert_pem, server })
}

/// `tcp` as every listener the simulator serves from: its connections send at once, as a
/// Go server's do (Go turns Nagle's algorithm off on every TCP connection:
/// `net.TCPConn.SetNoDelay` defaults to true). With Nagle on, the last part of each
/// response waited for the client's delayed acknowledgement: a paged list of 5,000 nodes'
/// pods took twice as long to fetch as from a real server, most of it waiting. Accept
/// errors are axum's to handle, as for any `TcpListener`.
pub fn no_delay(tcp: TcpListener) -> impl Listener<Io = TcpStream, Addr = SocketAddr> {
    tcp.tap_io(|stream: &mut TcpStream| {
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set");
        }
    })
}

/// A TLS listener for `axum::serve`; handshakes run in their own tasks so a slow
/// client cannot hold up the others.
pub struct TlsListener {
    rx: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
    _accept: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    pub fn new(mut tcp: impl Listener<Io = TcpStream, Addr = SocketAddr>, cfg: Arc<rustls::ServerConfig>) -> std::io::Result<Self> {
        let local = tcp.local_addr()?;
        let acceptor = TlsAcceptor::from(cfg);
        let (tx, rx) = mpsc::channel(64);
        let accept = tokio::spawn(async move {
            loop {
                let (stream, addr) = tcp.accept().await;
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(std::time::Duration::from_secs(10), acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, addr)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%addr, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%addr, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(TlsListener { rx, local, _accept: accept })
    }
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(c) => c,
            // The accept task is gone: nothing more will come.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn connections_are_accepted_without_nagle_delay() {
        let mut l = no_delay(TcpListener::bind("127.0.0.1:0").await.unwrap());
        let addr = l.local_addr().unwrap();
        let client = TcpStream::connect(addr).await.unwrap();
        let (accepted, from) = l.accept().await;
        assert_eq!(from, client.local_addr().unwrap());
        assert!(accepted.nodelay().unwrap(), "a Go server turns Nagle off on every connection");
    }
}
