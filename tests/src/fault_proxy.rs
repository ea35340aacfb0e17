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

/// A failure to answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    AccessDenied,
    NotFound,
    Throttling,
}

/// Which requests fail, and how.
#[derive(Debug, Clone)]
enum Plan {
    /// A share of all requests is throttled.
    Share(u64),
    /// A share of all requests meets a mix of faults: throttling, a 500, a
    /// connection reset before the request is forwarded, or a slow answer.
    Mixed(u64),
    /// The first PutEvaluations reaches the server, but its answer lists the
    /// batch's first two evaluations as FailedEvaluations.
    RejectTwoOnce(Arc<AtomicBool>),
    /// Every request of one operation (`service:Operation`) fails so.
    Operation(String, Fault),
    /// The requests of one operation whose body holds a text fail so.
    OperationWith(String, String, Fault),
}

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
        Self::with_plan(upstream, Plan::Share(percent))
    }

    /// Meets `percent` of requests with a mix of throttling, 500s, resets
    /// and slow answers.
    pub fn mixed(upstream: &str, percent: u64) -> FaultProxy {
        Self::with_plan(upstream, Plan::Mixed(percent))
    }

    /// Reports the first PutEvaluations' first two evaluations as failed.
    pub fn rejecting_two_evaluations_once(upstream: &str) -> FaultProxy {
        Self::with_plan(upstream, Plan::RejectTwoOnce(Arc::new(AtomicBool::new(false))))
    }

    /// Fails every request of `operation` (`service:Operation`) with `fault`.
    pub fn failing(upstream: &str, operation: &str, fault: Fault) -> FaultProxy {
        Self::with_plan(upstream, Plan::Operation(operation.to_owned(), fault))
    }

    /// Fails the requests of `operation` whose body holds `text` (e.g. the
    /// AssumeRole of one account's role) with `fault`.
    pub fn failing_when(upstream: &str, operation: &str, text: &str, fault: Fault) -> FaultProxy {
        Self::with_plan(
            upstream,
            Plan::OperationWith(operation.to_owned(), text.to_owned(), fault),
        )
    }

    fn with_plan(upstream: &str, plan: Plan) -> FaultProxy {
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
                        let (upstream, th, fw, counter, plan) =
                            (upstream.clone(), th.clone(), fw.clone(), counter.clone(), plan.clone());
                        std::thread::spawn(move || {
                            let _ = serve(stream, &upstream, &plan, &counter, &th, &fw);
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

/// The protocol's own answer for `fault`.
fn failure(head: &[String], body: &[u8], fault: Fault) -> (Vec<String>, Vec<u8>) {
    let has = |name: &str| head.iter().skip(1).any(|h| h.to_ascii_lowercase().starts_with(name));
    let service = head
        .iter()
        .find_map(|h| h.split("Credential=").nth(1))
        .and_then(|c| c.split('/').nth(3))
        .unwrap_or("")
        .to_owned();
    let query_protocol = std::str::from_utf8(body).is_ok_and(|b| b.contains("Action="));
    use Fault::*;
    let (status, content_type, error_type, text) = if has("x-amz-target:") {
        let code = match fault {
            AccessDenied => "AccessDeniedException",
            NotFound => "NotFoundException",
            Throttling => "ThrottlingException",
        };
        let status = "400 Bad Request";
        (
            status,
            "application/x-amz-json-1.1",
            code,
            format!(r#"{{"__type":"{code}","message":"injected"}}"#),
        )
    } else if service == "ec2" {
        let (status, code) = match fault {
            AccessDenied => ("403 Forbidden", "UnauthorizedOperation"),
            NotFound => ("400 Bad Request", "InvalidVolume.NotFound"),
            Throttling => ("503 Service Unavailable", "RequestLimitExceeded"),
        };
        (status, "text/xml", code, format!("<Response><Errors><Error><Code>{code}</Code><Message>injected</Message></Error></Errors><RequestID>x</RequestID></Response>"))
    } else if service == "s3" {
        let (status, code) = match fault {
            AccessDenied => ("403 Forbidden", "AccessDenied"),
            NotFound => ("404 Not Found", "NoSuchBucket"),
            Throttling => ("503 Slow Down", "SlowDown"),
        };
        (
            status,
            "application/xml",
            code,
            format!("<Error><Code>{code}</Code><Message>injected</Message></Error>"),
        )
    } else if query_protocol {
        let (status, code) = match fault {
            AccessDenied => ("403 Forbidden", "AccessDenied"),
            NotFound => ("404 Not Found", "DBInstanceNotFound"),
            Throttling => ("400 Bad Request", "Throttling"),
        };
        (status, "text/xml", code, format!("<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>injected</Message></Error><RequestId>x</RequestId></ErrorResponse>"))
    } else {
        let (status, code) = match fault {
            AccessDenied => ("403 Forbidden", "AccessDeniedException"),
            NotFound => ("404 Not Found", "ResourceNotFoundException"),
            Throttling => ("429 Too Many Requests", "TooManyRequestsException"),
        };
        (
            status,
            "application/json",
            code,
            r#"{"Type":"User","message":"injected"}"#.to_owned(),
        )
    };
    (
        vec![
            format!("HTTP/1.1 {status}"),
            format!("content-type: {content_type}"),
            format!("x-amzn-errortype: {error_type}"),
        ],
        text.into_bytes(),
    )
}

fn serve(
    stream: TcpStream,
    upstream: &str,
    plan: &Plan,
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
    let fault = match plan {
        Plan::Share(percent) => ((n * 37) % 100 < *percent).then_some(Fault::Throttling),
        Plan::Mixed(percent) if (n * 37) % 100 < *percent => {
            throttled.fetch_add(1, Ordering::SeqCst);
            match n % 4 {
                0 => Some(Fault::Throttling),
                1 => {
                    let head = vec![
                        "HTTP/1.1 500 Internal Server Error".to_owned(),
                        "content-type: text/plain".to_owned(),
                    ];
                    return write_message(&mut writer, &head, b"injected");
                }
                2 => return Ok(()), // reset: close without answering (the request never reached the server)
                _ => {
                    std::thread::sleep(Duration::from_millis(300));
                    None
                }
            }
        }
        Plan::Mixed(_) => None,
        Plan::RejectTwoOnce(done) => {
            let is_put = head
                .iter()
                .any(|h| h.to_ascii_lowercase().ends_with("starlingdoveservice.putevaluations"));
            if is_put && !done.swap(true, Ordering::SeqCst) {
                return reject_two(&mut writer, upstream, &head, &body, throttled, forwarded);
            }
            None
        }
        Plan::OperationWith(_, text, _) if !String::from_utf8_lossy(&body).contains(text.as_str()) => None,
        Plan::Operation(operation, fault) | Plan::OperationWith(operation, _, fault) => {
            let path = head.first().and_then(|l| l.split_whitespace().nth(1)).unwrap_or("/");
            let header = |name: &str| {
                head.iter().skip(1).find_map(|h| {
                    h.split_once(':')
                        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                        .map(|(_, v)| v.trim())
                })
            };
            let method = head.first().and_then(|l| l.split_whitespace().next()).unwrap_or("GET");
            (crate::operation_of(method, &format!("http://proxy{path}"), header, &body) == *operation).then_some(*fault)
        }
    };
    if let Some(fault) = fault {
        throttled.fetch_add(1, Ordering::SeqCst);
        let (h, b) = failure(&head, &body, fault);
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

/// Forwards a PutEvaluations, then answers that its first two evaluations
/// failed (the server did record them: the retry sends them again).
fn reject_two(
    writer: &mut TcpStream,
    upstream: &str,
    head: &[String],
    body: &[u8],
    throttled: &AtomicU64,
    forwarded: &AtomicU64,
) -> std::io::Result<()> {
    forwarded.fetch_add(1, Ordering::SeqCst);
    throttled.fetch_add(1, Ordering::SeqCst);
    let mut up = TcpStream::connect(upstream)?;
    write_message(&mut up, head, body)?;
    let mut up_reader = BufReader::new(up);
    let Some((rh, _)) = read_message(&mut up_reader) else {
        return Ok(());
    };
    let request: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let failed: Vec<serde_json::Value> = request["Evaluations"]
        .as_array()
        .map(|e| e.iter().take(2).cloned().collect())
        .unwrap_or_default();
    let answer = serde_json::json!({"FailedEvaluations": failed}).to_string();
    write_message(writer, &rh, answer.as_bytes())
}
