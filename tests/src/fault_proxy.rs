//! A fault-injecting HTTP proxy between the SDK and moto: it answers a
//! chosen share of requests with the protocol's real throttling error
//! (JSON `ThrottlingException`, EC2 `RequestLimitExceeded`, query
//! `Throttling`, S3 `SlowDown`) and forwards the rest.

use std::io::{BufReader, Write};

use crate::http::read_message;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The proxy; stops accepting when dropped.
pub struct FaultProxy {
    pub endpoint: String,
    stop: Arc<AtomicBool>,
    pub throttled: Arc<AtomicU64>,
    pub forwarded: Arc<AtomicU64>,
}

impl FaultProxy {
    /// Forwards to `upstream` (`http://127.0.0.1:PORT`), throttling
    /// `percent` of requests (deterministically spread: request n is
    /// throttled when `(n * 37) % 100 < percent`).
    pub fn start(upstream: &str, percent: u64) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("loopback port");
        listener.set_nonblocking(true).expect("non-blocking listener");
        let endpoint = format!("http://{}", listener.local_addr().expect("bound"));
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let stop = Arc::new(AtomicBool::new(false));
        let throttled = Arc::new(AtomicU64::new(0));
        let forwarded = Arc::new(AtomicU64::new(0));
        let counter = Arc::new(AtomicU64::new(0));
        let (sp, th, fw) = (stop.clone(), throttled.clone(), forwarded.clone());
        std::thread::spawn(move || {
            while !sp.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (upstream, th, fw, counter) = (upstream.clone(), th.clone(), fw.clone(), counter.clone());
                        std::thread::spawn(move || {
                            let _ = serve(stream, &upstream, percent, &counter, &th, &fw);
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        FaultProxy {
            endpoint,
            stop,
            throttled,
            forwarded,
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn write_message(stream: &mut TcpStream, head: &[String], body: &[u8]) -> std::io::Result<()> {
    let mut text = String::new();
    for (i, line) in head.iter().enumerate() {
        let lower = line.to_ascii_lowercase();
        if i > 0
            && (lower.starts_with("content-length:")
                || lower.starts_with("transfer-encoding:")
                || lower.starts_with("connection:"))
        {
            continue;
        }
        text.push_str(line);
        text.push_str("\r\n");
    }
    text.push_str(&format!("content-length: {}\r\nconnection: close\r\n\r\n", body.len()));
    stream.write_all(text.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()
}

/// The throttling answer of the request's protocol.
fn throttle(head: &[String], body: &[u8]) -> (Vec<String>, Vec<u8>) {
    let has = |name: &str| head.iter().skip(1).any(|h| h.to_ascii_lowercase().starts_with(name));
    let service = head
        .iter()
        .find_map(|h| h.split("Credential=").nth(1))
        .and_then(|c| c.split('/').nth(3))
        .unwrap_or("")
        .to_owned();
    let (status, content_type, text) = if has("x-amz-target:") {
        (
            "400 Bad Request",
            "application/x-amz-json-1.1",
            r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.to_owned(),
        )
    } else if service == "ec2" {
        ("503 Service Unavailable", "text/xml", "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>x</RequestID></Response>".to_owned())
    } else if service == "s3" {
        (
            "503 Slow Down",
            "application/xml",
            "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>".to_owned(),
        )
    } else if std::str::from_utf8(body).is_ok_and(|b| b.contains("Action=")) {
        ("400 Bad Request", "text/xml", "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>x</RequestId></ErrorResponse>".to_owned())
    } else {
        (
            "429 Too Many Requests",
            "application/json",
            r#"{"Type":"User","message":"Rate exceeded"}"#.to_owned(),
        )
    };
    (
        vec![
            format!("HTTP/1.1 {status}"),
            format!("content-type: {content_type}"),
            "x-amzn-errortype: ThrottlingException".to_owned(),
        ],
        text.into_bytes(),
    )
}

fn serve(
    stream: TcpStream,
    upstream: &str,
    percent: u64,
    counter: &AtomicU64,
    throttled: &AtomicU64,
    forwarded: &AtomicU64,
) -> std::io::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    // One request per connection (answers say `connection: close`).
    let Some((head, body)) = read_message(&mut reader) else {
        return Ok(());
    };
    let n = counter.fetch_add(1, Ordering::SeqCst);
    if (n * 37) % 100 < percent {
        throttled.fetch_add(1, Ordering::SeqCst);
        let (h, b) = throttle(&head, &body);
        return write_message(&mut writer, &h, &b);
    }
    forwarded.fetch_add(1, Ordering::SeqCst);
    let mut up = TcpStream::connect(upstream)?;
    write_message(&mut up, &head, &body)?;
    let mut up_reader = BufReader::new(up);
    if let Some((rh, rb)) = read_message(&mut up_reader) {
        write_message(&mut writer, &rh, &rb)?;
    }
    Ok(())
}
