//! `jot-serve`'s run: clean up strays, listen, start the service, print the
//! endpoint, serve until a signal, then stop gracefully.

pub mod credentials;
pub mod settings;

use std::io::Write;

use jot_core::{Error, Result, cli, output};
use jot_run::{Options, Served, Service};

/// Serves `served` on `bind:port` until SIGINT/SIGTERM; ends with the
/// signal's exit. The user's credentials go to `credentials_file` (else a
/// file of jot-serve's own), removed at the end.
pub async fn run(
    bind: &str,
    port: u16,
    served: Vec<Served>,
    options: Options,
    credentials_file: Option<std::path::PathBuf>,
) -> Result<()> {
    let loopback = bind
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
        || bind == "localhost";
    if !loopback {
        output::warn(format!(
            "warning: --bind {} exposes your functions beyond this machine",
            bind
        ));
    }
    let docker = jot_docker::connect().await?;
    let strays = jot_run::owner::remove_strays(&docker).await?;
    if strays > 0 {
        output::note(format!(
            "removed {strays} sandbox(es) left by a jot-serve that is no longer running"
        ));
    }
    let listener = tokio::net::TcpListener::bind((bind, port))
        .await
        .map_err(|e| match e.kind() {
            // One line naming the port, exit 5 (bad input), not an internal error.
            std::io::ErrorKind::AddrInUse => Error::InvalidInput(format!(
                "port {port} on {bind} is in use (another jot-serve?): choose another with --port, or --port 0 for a free one"
            )),
            _ => Error::io(format!("listening on {}:{}", bind, port), e),
        })?;
    let address = listener
        .local_addr()
        .map_err(|e| Error::io("reading the listening address", e))?;
    let credentials =
        credentials::CredentialsFile::write(credentials_file, address.port(), &options.keys.user)?;
    let region = options.region.clone();
    let service = tokio::select! {
        service = Service::start(&docker, served, options, address) => service?,
        signal = cli::stop_requested() => {
            jot_run::owner::remove_own(&docker).await;
            return Err(cli::interrupted(signal, "stopped while starting; every sandbox was removed"));
        }
    };
    let endpoint = format!("http://{address}");
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{endpoint}")
        .and_then(|_| stdout.flush())
        .map_err(|e| Error::io("writing the endpoint to stdout", e))?;
    for function in service.functions() {
        output::note(format!(
            "serving {} at {endpoint}/2015-03-31/functions/{}/invocations",
            function.name, function.name
        ));
    }
    output::note(format!(
        "for the control plane (list, get, versions, aliases): {}",
        credentials.export_line(&endpoint, &region)
    ));
    let server = tokio::spawn(service.clone().serve(listener));
    let signal = cli::stop_requested().await;
    output::note("stopping: finishing the invocations in flight, then removing the sandboxes");
    let recorded_before = service.dead_letter_count();
    service.stop();
    let graceful = {
        let service = service.clone();
        async move {
            let _ = server.await;
            service.shutdown().await
        }
    };
    // A second signal while finishing means "now": cut what runs, clean up.
    let events = tokio::select! {
        done = graceful => {
            if done.unfinished > 0 {
                output::warn(format!(
                    "warning: {} invocation(s) did not finish in time and were cut",
                    done.unfinished
                ));
            }
            recorded(service.dead_letter_count() - recorded_before, service.dead_letter_path())
        }
        again = cli::stop_requested() => {
            output::warn("warning: second signal: cutting the invocations in flight");
            service.abort().await;
            let events = recorded(
                service.dead_letter_count() - recorded_before,
                service.dead_letter_path(),
            );
            return Err(cli::interrupted(
                again,
                format!("stopped at once; invocations in flight were cut{events}, every sandbox was removed"),
            ));
        }
    };
    Err(cli::interrupted(
        signal,
        format!("stopped{events}; every sandbox was removed"),
    ))
}

/// The exit message's account of Events written to the dead-letter file.
fn recorded(count: usize, path: &std::path::Path) -> String {
    if count == 0 {
        String::new()
    } else {
        format!(
            "; {count} Event invocation(s) not run to the end were written to {}",
            path.display()
        )
    }
}
