//! [`Net`]: how a runtime reaches the server and runs the connection.
//!
//! tokio-postgres is built without its `runtime` feature: it speaks the
//! protocol over any stream with tokio's I/O traits and leaves the socket
//! and the executor to us. A [`Net`] value supplies both: it opens the
//! socket for a [`Target`] and spawns the tasks that drive the connection
//! and fetch pages. Implementations for aiter's runtime values come with
//! the crate's features:
//!
//! - `tokio`: `aiter_rt_tokio::Tokio` uses `tokio::net::{TcpStream,
//!   UnixStream}` and `tokio::spawn` (call it inside a tokio runtime).
//! - `smol`: `aiter_rt_smol::Smol` uses `smol::net::{TcpStream,
//!   unix::UnixStream}` (async-io, futures-io traits) behind tokio-util's
//!   [`Compat`](tokio_util::compat::Compat) wrapper, and `smol::spawn`
//!   (smol's global executor: works under any `block_on`).
//! - `async-std`: `aiter_rt_async_std::AsyncStd` uses
//!   `async_std::net::TcpStream` and `async_std::os::unix::net::UnixStream`
//!   behind the same wrapper, and `async_std::task::spawn`.
//!
//! Any other executor implements the trait itself in a few lines.

use std::fmt;
use std::future::Future;
use std::io;
use std::path::PathBuf;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio_postgres::config::Host;
use tokio_postgres::Config;

use crate::Error;

/// Where a server listens.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Target {
    /// A unix-domain socket file (`DIR/.s.PGSQL.PORT`).
    Unix(PathBuf),
    /// A TCP host name or address, and port.
    Tcp {
        /// Host name or address.
        host: String,
        /// Port.
        port: u16,
    },
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Unix(path) => write!(f, "socket {}", path.display()),
            Target::Tcp { host, port } => write!(f, "{host}:{port}"),
        }
    }
}

/// A runtime's sockets and spawner, as this crate needs them.
///
/// # Examples
/// A `Net` for an executor of your own (here: threads, with smol's
/// sockets):
/// ```
/// use std::future::Future;
///
/// use aiter_postgres::{Net, Target};
/// use tokio_util::compat::{Compat, FuturesAsyncReadCompatExt};
///
/// #[derive(Clone)]
/// struct Threads;
///
/// impl Net for Threads {
///     type Socket = Compat<smol::net::unix::UnixStream>;
///
///     async fn connect(&self, target: &Target) -> std::io::Result<Self::Socket> {
///         match target {
///             Target::Unix(path) => Ok(smol::net::unix::UnixStream::connect(path).await?.compat()),
///             _ => Err(std::io::ErrorKind::Unsupported.into()),
///         }
///     }
///
///     fn spawn<F: Future<Output = ()> + Send + 'static>(&self, task: F) {
///         std::thread::spawn(move || smol::block_on(task));
///     }
/// }
/// ```
pub trait Net: Clone + Send + Sync + 'static {
    /// A connected socket.
    type Socket: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    /// Opens a socket to `target`.
    ///
    /// # Errors
    /// The socket's error: no such socket file, connection refused, …
    fn connect(&self, target: &Target) -> impl Future<Output = io::Result<Self::Socket>> + Send;

    /// Runs `task` to completion in the background, independently of its
    /// caller (the connection must make progress while the consumer is
    /// busy).
    fn spawn<F: Future<Output = ()> + Send + 'static>(&self, task: F);
}

/// The places `config` says to try, in order: each host with its port
/// (one port for all hosts, one per host, or 5432).
pub(crate) fn targets(config: &Config) -> Result<Vec<Target>, Error> {
    let hosts = config.get_hosts();
    if hosts.is_empty() {
        return Err(Error::NoHost);
    }
    let ports = config.get_ports();
    Ok(hosts
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let port = match ports {
                [] => 5432,
                [port] => *port,
                ports => ports.get(i).copied().unwrap_or(5432),
            };
            match host {
                Host::Tcp(host) => Target::Tcp {
                    host: host.clone(),
                    port,
                },
                #[cfg(unix)]
                Host::Unix(dir) => Target::Unix(dir.join(format!(".s.PGSQL.{port}"))),
            }
        })
        .collect())
}

#[cfg(feature = "tokio")]
mod tokio_net {
    use super::*;
    use tokio::net::{TcpStream, UnixStream};
    use tokio_util::either::Either;

    /// tokio's own sockets; `spawn` is `tokio::spawn`, so use it inside a
    /// tokio runtime.
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    impl Net for aiter_rt_tokio::Tokio {
        type Socket = Either<TcpStream, UnixStream>;

        async fn connect(&self, target: &Target) -> io::Result<Self::Socket> {
            match target {
                Target::Unix(path) => UnixStream::connect(path).await.map(Either::Right),
                Target::Tcp { host, port } => {
                    let socket = TcpStream::connect((host.as_str(), *port)).await?;
                    socket.set_nodelay(true)?;
                    Ok(Either::Left(socket))
                }
            }
        }

        fn spawn<F: Future<Output = ()> + Send + 'static>(&self, task: F) {
            drop(tokio::spawn(task));
        }
    }
}

#[cfg(feature = "smol")]
mod smol_net {
    use super::*;
    use smol::net::unix::UnixStream;
    use smol::net::TcpStream;
    use tokio_util::compat::{Compat, FuturesAsyncReadCompatExt};
    use tokio_util::either::Either;

    /// smol's sockets behind tokio-util's `Compat`; `spawn` is
    /// `smol::spawn(…).detach()` (smol's global executor).
    #[cfg_attr(docsrs, doc(cfg(feature = "smol")))]
    impl Net for aiter_rt_smol::Smol {
        type Socket = Either<Compat<TcpStream>, Compat<UnixStream>>;

        async fn connect(&self, target: &Target) -> io::Result<Self::Socket> {
            match target {
                Target::Unix(path) => Ok(Either::Right(UnixStream::connect(path).await?.compat())),
                Target::Tcp { host, port } => {
                    let socket = TcpStream::connect((host.as_str(), *port)).await?;
                    socket.set_nodelay(true)?;
                    Ok(Either::Left(socket.compat()))
                }
            }
        }

        fn spawn<F: Future<Output = ()> + Send + 'static>(&self, task: F) {
            smol::spawn(task).detach();
        }
    }
}

#[cfg(feature = "async-std")]
mod async_std_net {
    use super::*;
    use async_std::net::TcpStream;
    use async_std::os::unix::net::UnixStream;
    use tokio_util::compat::{Compat, FuturesAsyncReadCompatExt};
    use tokio_util::either::Either;

    /// async-std's sockets behind tokio-util's `Compat`; `spawn` is
    /// `async_std::task::spawn` (detached).
    #[cfg_attr(docsrs, doc(cfg(feature = "async-std")))]
    impl Net for aiter_rt_async_std::AsyncStd {
        type Socket = Either<Compat<TcpStream>, Compat<UnixStream>>;

        async fn connect(&self, target: &Target) -> io::Result<Self::Socket> {
            match target {
                Target::Unix(path) => Ok(Either::Right(UnixStream::connect(path).await?.compat())),
                Target::Tcp { host, port } => {
                    let socket = TcpStream::connect((host.as_str(), *port)).await?;
                    socket.set_nodelay(true)?;
                    Ok(Either::Left(socket.compat()))
                }
            }
        }

        fn spawn<F: Future<Output = ()> + Send + 'static>(&self, task: F) {
            drop(async_std::task::spawn(task));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_pair_hosts_with_ports() {
        let config: Config = "host=/run/pg,db.example port=5433,5434".parse().unwrap();
        assert_eq!(
            targets(&config).unwrap(),
            [
                Target::Unix("/run/pg/.s.PGSQL.5433".into()),
                Target::Tcp {
                    host: "db.example".into(),
                    port: 5434
                }
            ]
        );
        let config: Config = "postgresql:///db?host=/tmp/x&user=postgres"
            .parse()
            .unwrap();
        assert_eq!(
            targets(&config).unwrap(),
            [Target::Unix("/tmp/x/.s.PGSQL.5432".into())]
        );
        assert!(matches!(targets(&Config::new()), Err(Error::NoHost)));
    }
}
