//! The byte stream under a connection: TCP, a unix socket, or TLS over TCP
//! (rustls), opened with libpq's `sslmode` rules. Reads wake every
//! [`TICK`] at the latest (`SO_RCVTIMEO`, or `poll` on unix sockets) so the
//! client can notice a deadline or an interrupt without an extra system
//! call on the fast path.

use super::conninfo::{ConnInfo, Host, SslMode};
use super::error::WireError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme, StreamOwned};
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a read waits before the client looks at its deadline and the
/// interrupt flag again.
pub const TICK: Duration = Duration::from_millis(100);

/// Writes that block this long mean the server stopped reading.
const WRITE_TIMEOUT: Duration = Duration::from_secs(60);

pub enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

/// What a read brought.
pub enum Filled {
    Bytes(usize),
    /// Nothing arrived within one [`TICK`].
    Tick,
}

impl Stream {
    /// Connects to `info`'s host (a unix socket when it is a folder),
    /// negotiating TLS as its `sslmode` says.
    pub fn open(info: &ConnInfo) -> Result<Stream, WireError> {
        let deadline = info.connect_timeout.map(|t| Instant::now() + t);
        let left = || {
            deadline.map(|d| {
                d.saturating_duration_since(Instant::now())
                    .max(Duration::from_millis(1))
            })
        };
        let stream = match &info.host {
            Host::Socket(dir) => {
                let path = dir.join(format!(".s.PGSQL.{}", info.port));
                let s = UnixStream::connect(&path)
                    .map_err(|e| WireError::connect(format!("connecting to {}: {e}", path.display())))?;
                s.set_read_timeout(Some(left().unwrap_or(Duration::from_secs(60))))?;
                s.set_write_timeout(Some(WRITE_TIMEOUT))?;
                Stream::Unix(s)
            }
            Host::Tcp(host) => {
                let tcp = connect_tcp(host, info.port, left())?;
                tcp.set_nodelay(true)?;
                tcp.set_read_timeout(Some(left().unwrap_or(Duration::from_secs(60))))?;
                tcp.set_write_timeout(Some(WRITE_TIMEOUT))?;
                match info.sslmode {
                    SslMode::Disable => Stream::Tcp(tcp),
                    mode => negotiate_tls(tcp, host, info, mode)?,
                }
            }
        };
        Ok(stream)
    }

    /// After start-up: reads wake every [`TICK`].
    pub fn set_ticking(&self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_read_timeout(Some(TICK)),
            Stream::Unix(s) => s.set_read_timeout(Some(TICK)),
            Stream::Tls(s) => s.sock.set_read_timeout(Some(TICK)),
        }
    }

    pub fn fd(&self) -> RawFd {
        match self {
            Stream::Tcp(s) => s.as_raw_fd(),
            Stream::Unix(s) => s.as_raw_fd(),
            Stream::Tls(s) => s.sock.as_raw_fd(),
        }
    }

    pub fn is_unix(&self) -> bool {
        matches!(self, Stream::Unix(_))
    }

    pub fn is_tls(&self) -> bool {
        matches!(self, Stream::Tls(_))
    }

    /// Whether the socket has bytes to read now.
    pub fn readable_now(&self) -> bool {
        poll(self.fd(), 0)
    }

    /// Reads what is there into `buf`, waiting at most about one [`TICK`].
    /// With `poll_first` (unix sockets with one request out) the wait is
    /// in `poll`, which costs the client one context switch less per
    /// request there than a read that blocks.
    pub fn fill(&mut self, buf: &mut [u8], poll_first: bool) -> io::Result<Filled> {
        if poll_first && !poll(self.fd(), TICK.as_millis() as i32) {
            return Ok(Filled::Tick);
        }
        let r = match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        };
        match r {
            Ok(0) => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the connection",
            )),
            Ok(n) => Ok(Filled::Bytes(n)),
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => Ok(Filled::Tick),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(Filled::Tick),
            Err(e) => Err(e),
        }
    }

    pub fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.write_all(buf),
            Stream::Unix(s) => s.write_all(buf),
            Stream::Tls(s) => {
                s.write_all(buf)?;
                s.flush()
            }
        }
    }
}

/// Waits up to `ms` milliseconds for `fd` to be readable.
pub fn poll(fd: RawFd, ms: i32) -> bool {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one pollfd we own.
    unsafe { libc::poll(&mut p, 1, ms) > 0 }
}

fn connect_tcp(host: &str, port: u16, timeout: Option<Duration>) -> Result<TcpStream, WireError> {
    let addrs: Vec<_> = (host, port)
        .to_socket_addrs()
        .map_err(|e| WireError::connect(format!("cannot resolve host `{host}`: {e}")))?
        .collect();
    let mut last = None;
    for addr in &addrs {
        let r = match timeout {
            Some(t) => TcpStream::connect_timeout(addr, t),
            None => TcpStream::connect(addr),
        };
        match r {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    let why = last.map_or_else(|| "no address".to_string(), |e| e.to_string());
    Err(WireError::connect(format!("connecting to {host}:{port}: {why}")))
}

/// Sends SSLRequest and, if the server agrees, performs the TLS handshake.
fn negotiate_tls(mut tcp: TcpStream, host: &str, info: &ConnInfo, mode: SslMode) -> Result<Stream, WireError> {
    let mut buf = bytes::BytesMut::new();
    postgres_protocol::message::frontend::ssl_request(&mut buf);
    tcp.write_all(&buf)?;
    let mut answer = [0u8; 1];
    tcp.read_exact(&mut answer)
        .map_err(|e| WireError::connect(format!("TLS negotiation: {e}")))?;
    match answer[0] {
        b'S' => {}
        b'N' if mode == SslMode::Prefer => return Ok(Stream::Tcp(tcp)),
        b'N' => {
            return Err(WireError::connect(format!(
                "sslmode={} but the server does not accept TLS connections",
                mode.as_str()
            )));
        }
        other => {
            return Err(WireError::connect(format!(
                "TLS negotiation: unexpected answer byte {other:#04x}"
            )));
        }
    }
    let config = tls_config(info, mode)?;
    let name = ServerName::try_from(host.to_string())
        .map_err(|e| WireError::connect(format!("`{host}` is not a valid TLS server name: {e}")))?;
    let mut conn =
        ClientConnection::new(Arc::new(config), name).map_err(|e| WireError::connect(format!("TLS: {e}")))?;
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp)
            .map_err(|e| WireError::connect(format!("TLS handshake with {host}: {e}")))?;
    }
    Ok(Stream::Tls(Box::new(StreamOwned::new(conn, tcp))))
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The client configuration for `mode`: which certificates are trusted and
/// whether the host name is checked.
fn tls_config(info: &ConnInfo, mode: SslMode) -> Result<ClientConfig, WireError> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| WireError::connect(format!("TLS: {e}")))?;
    // libpq: `require` with a root certificate behaves like `verify-ca`.
    let verify = match mode {
        SslMode::VerifyCa | SslMode::VerifyFull => true,
        _ => info.sslrootcert.is_some(),
    };
    if !verify {
        let relaxed = Relaxed { chain: None, provider };
        return Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(relaxed))
            .with_no_client_auth());
    }
    let mut roots = rustls::RootCertStore::empty();
    match &info.sslrootcert {
        Some(path) => {
            use rustls::pki_types::pem::PemObject;
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .and_then(|i| i.collect::<Result<_, _>>())
                .map_err(|e| WireError::connect(format!("sslrootcert {}: {e}", path.display())))?;
            if certs.is_empty() {
                return Err(WireError::connect(format!(
                    "sslrootcert {}: no PEM certificate in the file",
                    path.display()
                )));
            }
            for c in certs {
                roots
                    .add(c)
                    .map_err(|e| WireError::connect(format!("sslrootcert {}: {e}", path.display())))?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for c in found.certs {
                let _ = roots.add(c);
            }
            if roots.is_empty() {
                return Err(WireError::connect(format!(
                    "sslmode={} needs trusted root certificates: none found in the system store; \
                     give sslrootcert=/path/to/ca.pem",
                    mode.as_str()
                )));
            }
        }
    }
    let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| WireError::connect(format!("TLS: {e}")))?;
    let builder = builder.dangerous();
    let verifier: Arc<dyn ServerCertVerifier> = if mode == SslMode::VerifyFull {
        webpki
    } else {
        Arc::new(Relaxed {
            chain: Some(webpki),
            provider,
        })
    };
    Ok(builder.with_custom_certificate_verifier(verifier).with_no_client_auth())
}

/// The libpq modes short of `verify-full`: `require` without a root
/// certificate accepts any certificate (encryption without authentication of
/// the server); `verify-ca` checks the chain to a trusted root but not the
/// name. Handshake signatures are checked either way.
#[derive(Debug)]
struct Relaxed {
    /// The chain check, for `verify-ca`; `None` for `require`.
    chain: Option<Arc<rustls::client::WebPkiServerVerifier>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for Relaxed {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        use rustls::{CertificateError, Error};
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}
