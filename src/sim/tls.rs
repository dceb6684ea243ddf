//! HTTPS for the simulator: a throwaway CA and a server certificate for `localhost` /
//! `127.0.0.1`, made at start-up. kubectl sends bearer tokens only over TLS
//! (client-go reads a kubeconfig's credentials only for TLS transports), so a
//! simulator with tokens serves HTTPS and writes the CA into its kubeconfig.
//!
//! May import: nothing else in the crate.

use std::net::SocketAddr;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

pub struct TlsMaterial {
    /// PEM of the CA that signed the server certificate (for `certificate-authority-data`).
    pub ca_pem: String,
    pub server: Arc<rustls::ServerConfig>,
}

pub fn generate() -> Result<TlsMaterial, String> {
    let err = |e: &dyn std::fmt::Display| format!("generating the simulator's TLS certificate: {e}");
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(|e| err(&e))?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "daemonscope-sim-ca");
    ca.distinguished_name = dn;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let ca_key = KeyPair::generate().map_err(|e| err(&e))?;
    let ca_cert = ca.self_signed(&ca_key).map_err(|e| err(&e))?;
    let issuer = Issuer::new(ca, ca_key);
    let mut server = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).map_err(|e| err(&e))?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "daemonscope-sim");
    server.distinguished_name = dn;
    let server_key = KeyPair::generate().map_err(|e| err(&e))?;
    let server_cert = server.signed_by(&server_key, &issuer).map_err(|e| err(&e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| err(&e))?
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(server_cert.der().to_vec()), CertificateDer::from(ca_cert.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
        )
        .map_err(|e| err(&e))?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsMaterial { ca_pem: ca_cert.pem(), server: Arc::new(cfg) })
}

/// A TLS listener for `axum::serve`; handshakes run in their own tasks so a slow
/// client cannot hold up the others.
pub struct TlsListener {
    rx: mpsc::Receiver<(TlsStream<tokio::net::TcpStream>, SocketAddr)>,
    local: SocketAddr,
    _accept: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    pub fn new(tcp: TcpListener, cfg: Arc<rustls::ServerConfig>) -> std::io::Result<Self> {
        let local = tcp.local_addr()?;
        let acceptor = TlsAcceptor::from(cfg);
        let (tx, rx) = mpsc::channel(64);
        let accept = tokio::spawn(async move {
            loop {
                let Ok((stream, addr)) = tcp.accept().await else {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                };
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

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<tokio::net::TcpStream>;
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
