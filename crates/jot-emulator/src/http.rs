//! The one HTTP/1.1 accept loop behind the emulator's Runtime API and the run
//! service's Invoke API.

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// How long the accept loop rests after a failed accept (out of file
/// descriptors, say), so it never spins a core while the condition lasts.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Serves every connection on `listener` with `handle`, keep-alive on and
/// Nagle off (small request/response messages must never wait), until the
/// task running it is dropped.
pub async fn serve<H, F>(listener: TcpListener, handle: H)
where
    H: Fn(Request<Incoming>) -> F + Clone + Send + 'static,
    F: Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send + 'static,
{
    let (_never, stop) = watch::channel(false);
    serve_until(listener, handle, stop, None).await
}

/// As [`serve`], until `stop` turns true: then it stops accepting, lets every
/// open connection finish the request it is serving (idle keep-alive
/// connections close at once), and returns when all have closed. With
/// `header_timeout`, a connection that has not sent a whole request head
/// within it (a half-sent request, or an idle keep-alive connection) is
/// closed, so no client holds a connection open for nothing.
pub async fn serve_until<H, F>(
    listener: TcpListener,
    handle: H,
    mut stop: watch::Receiver<bool>,
    header_timeout: Option<Duration>,
) where
    H: Fn(Request<Incoming>) -> F + Clone + Send + 'static,
    F: Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send + 'static,
{
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|stop| *stop) => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(_) => {
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let handle = handle.clone();
        let mut stop = stop.clone();
        connections.spawn(async move {
            let service = hyper::service::service_fn(handle);
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.keep_alive(true);
            if let Some(timeout) = header_timeout {
                builder
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(timeout);
            }
            let connection =
                builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            tokio::pin!(connection);
            let stopped = tokio::select! {
                _ = connection.as_mut() => false,
                _ = stop.wait_for(|stop| *stop) => true,
            };
            if stopped {
                connection.as_mut().graceful_shutdown();
                let _ = connection.await;
            }
        });
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}
