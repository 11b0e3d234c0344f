//! `pods/exec` over WebSocket, the way kube-apiserver serves it to kubectl 1.30+ and kube-rs:
//! subprotocol `v5.channel.k8s.io` (or `v4`), each binary message prefixed with its channel
//! (0 stdin, 1 stdout, 2 stderr, 3 the final `Status`, 255 a v5 close signal). The command
//! runs as a local process with the container's environment and mounts (see
//! `kubelet::exec_command`), so only project-image containers can be exec'd into. SPDY is
//! not offered.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use http::{header, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::{error_response, full, Body};
use crate::api::{ApiError, Cluster};

const STDIN: u8 = 0;
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const STATUS: u8 = 3;
const CLOSE: u8 = 255;

/// The subprotocols served, preferred first.
const PROTOCOLS: [&str; 2] = ["v5.channel.k8s.io", "v4.channel.k8s.io"];

/// What the query asked for.
#[derive(Debug, Default, PartialEq)]
struct ExecQuery {
    command: Vec<String>,
    container: Option<String>,
    stdin: bool,
    stdout: bool,
    stderr: bool,
    tty: bool,
}

fn parse_query(query: &str) -> ExecQuery {
    let mut parsed = ExecQuery::default();
    let flag = |value: &str| matches!(value, "true" | "1");
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            "command" => parsed.command.push(value.into_owned()),
            "container" => parsed.container = Some(value.into_owned()),
            "stdin" => parsed.stdin = flag(&value),
            "stdout" => parsed.stdout = flag(&value),
            "stderr" => parsed.stderr = flag(&value),
            "tty" => parsed.tty = flag(&value),
            _ => {}
        }
    }
    parsed
}

/// The first subprotocol we serve among those the client offered.
fn choose_protocol(offered: &str) -> Option<&'static str> {
    let offered: Vec<&str> = offered.split(',').map(str::trim).collect();
    PROTOCOLS.into_iter().find(|p| offered.contains(p))
}

/// The `Status` sent on channel 3 when the command ends.
fn exit_status(code: i32) -> Value {
    if code == 0 {
        return json!({"metadata": {}, "status": "Success"});
    }
    json!({
        "metadata": {},
        "status": "Failure",
        "message": format!("command terminated with non-zero exit code: exit status {code}"),
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]},
    })
}

fn header_text(request: &Request<Incoming>, name: header::HeaderName) -> &str {
    request
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// Serves `GET .../namespaces/{namespace}/pods/{name}/exec`.
pub(crate) async fn serve(
    cluster: Arc<Cluster>,
    mut request: Request<Incoming>,
    namespace: &str,
    name: &str,
) -> Response<Body> {
    let query = parse_query(request.uri().query().unwrap_or_default());
    let pods = cluster.builtin("", "pods");
    let pod = match cluster.get(&pods, namespace, name) {
        Ok(pod) => pod,
        Err(error) => return error_response(&error),
    };
    if query.tty {
        return error_response(&ApiError::bad_request(
            "tty is not supported by the sandbox's exec",
        ));
    }
    let websocket = header_text(&request, header::UPGRADE).eq_ignore_ascii_case("websocket");
    let key = header_text(&request, header::SEC_WEBSOCKET_KEY).to_string();
    if !websocket || key.is_empty() {
        return error_response(&ApiError::bad_request(
            "exec needs a WebSocket upgrade (v5.channel.k8s.io or v4.channel.k8s.io); the sandbox does not serve SPDY",
        ));
    }
    let Some(protocol) = choose_protocol(header_text(&request, header::SEC_WEBSOCKET_PROTOCOL))
    else {
        return error_response(&ApiError::bad_request(format!(
            "no supported WebSocket subprotocol offered (supported: {})",
            PROTOCOLS.join(", ")
        )));
    };
    let command = match crate::controllers::kubelet::exec_command(
        &cluster,
        &pod,
        query.container.as_deref(),
        &query.command,
    ) {
        Ok(command) => command,
        Err((500, message)) => return error_response(&ApiError::internal(message)),
        Err((_, message)) => return error_response(&ApiError::bad_request(message)),
    };
    let upgrade = hyper::upgrade::on(&mut request);
    let v5 = protocol.starts_with("v5");
    tokio::spawn(async move {
        match upgrade.await {
            Ok(upgraded) => {
                let socket =
                    WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None)
                        .await;
                session(socket, command, query, v5).await;
            }
            Err(error) => tracing::debug!(%error, "exec upgrade failed"),
        }
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, "Upgrade")
        .header(header::UPGRADE, "websocket")
        .header(
            header::SEC_WEBSOCKET_ACCEPT,
            derive_accept_key(key.as_bytes()),
        )
        .header(header::SEC_WEBSOCKET_PROTOCOL, protocol)
        .body(full(Bytes::new()))
        .expect("static headers are valid")
}

/// A normal closure: clients (client-go above all) read it as the end of the streams.
fn normal_close() -> Message {
    Message::Close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    }))
}

/// Copies a pipe into channel messages until it ends.
async fn pump(mut reader: impl AsyncRead + Unpin, channel: u8, sender: mpsc::Sender<Message>) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        match reader.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => {
                let mut frame = Vec::with_capacity(read + 1);
                frame.push(channel);
                frame.extend_from_slice(&buffer[..read]);
                if sender.send(Message::binary(frame)).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// How long output may keep flowing after the command exits (a background process it left
/// holding the pipes); then its process group is killed and the exec ends.
const LINGER: Duration = Duration::from_secs(2);

/// Runs the process for one exec connection: stdin in, stdout/stderr out, then the exit
/// `Status` and a close. The command runs in its own process group; a client that goes away
/// kills the group.
async fn session<S>(
    socket: WebSocketStream<S>,
    mut command: tokio::process::Command,
    query: ExecQuery,
    v5: bool,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use std::process::Stdio;
    let pipe = |wanted: bool| {
        if wanted {
            Stdio::piped()
        } else {
            Stdio::null()
        }
    };
    command
        .stdin(pipe(query.stdin))
        .stdout(pipe(query.stdout))
        .stderr(pipe(query.stderr))
        .kill_on_drop(true)
        .process_group(0);
    let (mut sink, mut incoming) = socket.split();
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) => {
            let status = json!({"metadata": {}, "status": "Failure", "reason": "InternalError",
                                "message": format!("failed to start the command: {error}")});
            let mut frame = vec![STATUS];
            frame.extend(serde_json::to_vec(&status).unwrap_or_default());
            let _ = sink.send(Message::binary(frame)).await;
            let _ = sink.send(normal_close()).await;
            let _ = sink.close().await;
            return;
        }
    };
    let group = child.id().map(|id| id as i32);
    let kill_group = || {
        if let Some(group) = group {
            // SAFETY: kill(2) with a negative pid signals the process group created for this
            // command; it has no memory-safety preconditions.
            unsafe {
                libc::kill(-group, libc::SIGKILL);
            }
        }
    };
    let (sender, mut output) = mpsc::channel::<Message>(16);
    if let Some(stdout) = child.stdout.take() {
        tokio::spawn(pump(stdout, STDOUT, sender.clone()));
    }
    if let Some(stderr) = child.stderr.take() {
        tokio::spawn(pump(stderr, STDERR, sender.clone()));
    }
    drop(sender);
    // Stdin is written by its own task, so a command that stops reading never stalls the
    // loop; dropping the sender closes the pipe.
    let mut stdin = child.stdin.take().map(|mut pipe| {
        let (sender, mut receiver) = mpsc::unbounded_channel::<Vec<u8>>();
        tokio::spawn(async move {
            while let Some(data) = receiver.recv().await {
                if pipe.write_all(&data).await.is_err() {
                    return;
                }
            }
        });
        sender
    });
    let mut output_open = true;
    let mut exit: Option<i32> = None;
    let linger = tokio::time::sleep(Duration::from_secs(86_400));
    tokio::pin!(linger);
    while output_open || exit.is_none() {
        tokio::select! {
            message = output.recv(), if output_open => match message {
                Some(message) => {
                    if sink.send(message).await.is_err() {
                        kill_group();
                        return;
                    }
                }
                None => output_open = false,
            },
            status = child.wait(), if exit.is_none() => {
                use std::os::unix::process::ExitStatusExt;
                exit = Some(match status {
                    Ok(status) => status.code().or_else(|| status.signal().map(|s| 128 + s)).unwrap_or(1),
                    Err(_) => 1,
                });
                linger.as_mut().reset(tokio::time::Instant::now() + LINGER);
            },
            _ = &mut linger, if exit.is_some() && output_open => {
                kill_group();
                output_open = false;
            },
            message = incoming.next() => match message {
                Some(Ok(Message::Binary(data))) if !data.is_empty() => match data[0] {
                    STDIN => {
                        if let Some(pipe) = &stdin {
                            let _ = pipe.send(data[1..].to_vec());
                        }
                    }
                    CLOSE if v5 && data.get(1) == Some(&STDIN) => stdin = None,
                    _ => {}
                },
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                    // The client is gone: nobody reads the output any more.
                    kill_group();
                    return;
                }
                Some(Ok(_)) => {}
            },
        }
    }
    let mut frame = vec![STATUS];
    frame.extend(serde_json::to_vec(&exit_status(exit.unwrap_or(1))).unwrap_or_default());
    let _ = sink.send(Message::binary(frame)).await;
    let _ = sink.send(normal_close()).await;
    let _ = sink.close().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_collects_repeated_commands_and_flags() {
        let query = parse_query("command=sh&command=-c&command=echo%20hi&container=app&stdout=true&stderr=1&stdin=false");
        assert_eq!(query.command, ["sh", "-c", "echo hi"]);
        assert_eq!(query.container.as_deref(), Some("app"));
        assert!(query.stdout && query.stderr && !query.stdin && !query.tty);
    }

    #[test]
    fn v5_is_preferred_and_unknown_protocols_are_refused() {
        assert_eq!(
            choose_protocol("v4.channel.k8s.io, v5.channel.k8s.io"),
            Some("v5.channel.k8s.io")
        );
        assert_eq!(
            choose_protocol("v4.channel.k8s.io"),
            Some("v4.channel.k8s.io")
        );
        assert_eq!(choose_protocol("channel.k8s.io"), None);
    }

    #[test]
    fn a_non_zero_exit_is_a_failure_status_with_the_code() {
        assert_eq!(exit_status(0)["status"], "Success");
        let failed = exit_status(4);
        assert_eq!(failed["reason"], "NonZeroExitCode");
        assert_eq!(failed["details"]["causes"][0]["message"], "4");
    }
}
