//! A minimal Lambda Runtime API on loopback (the documented
//! `/2018-06-01/runtime/...` endpoints and headers), to run a rule's real
//! binary as Lambda would.

use std::collections::VecDeque;
use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::http::read_message;

/// What the function answered for one invocation.
#[derive(Debug, Clone)]
pub enum Answer {
    Response(Value),
    Error { error_type: String, body: Value },
    InitError(Value),
}

#[derive(Default)]
struct State {
    events: VecDeque<(String, Value)>,
    answers: Vec<(String, Answer)>,
    first_next: Option<Instant>,
}

/// The server; stops accepting when dropped.
pub struct RuntimeApi {
    pub address: String,
    state: Arc<(Mutex<State>, Condvar)>,
    stop: Arc<AtomicBool>,
}

impl RuntimeApi {
    /// Serves `events`, one per `invocation/next`, in order.
    pub fn start(events: Vec<Value>) -> RuntimeApi {
        let listener = TcpListener::bind("127.0.0.1:0").expect("loopback port");
        let address = listener.local_addr().expect("bound").to_string();
        let state = Arc::new((Mutex::new(State::default()), Condvar::new()));
        {
            let mut s = state.0.lock().unwrap();
            for (i, e) in events.into_iter().enumerate() {
                s.events.push_back((format!("request-{i}"), e));
            }
        }
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        listener.set_nonblocking(true).expect("non-blocking listener");
        std::thread::spawn(move || {
            while !sp.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (st, sp) = (st.clone(), sp.clone());
                        std::thread::spawn(move || serve(stream, &st, &sp));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        RuntimeApi { address, state, stop }
    }

    /// Waits for the answer to the first invocation.
    pub fn wait_answer(&self, timeout: Duration) -> Option<Answer> {
        let (lock, cvar) = &*self.state;
        let deadline = Instant::now() + timeout;
        let mut s = lock.lock().unwrap();
        loop {
            if let Some((_, a)) = s.answers.first() {
                return Some(a.clone());
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            s = cvar.wait_timeout(s, left).unwrap().0;
        }
    }

    /// When the function first asked for an invocation.
    pub fn first_next(&self) -> Option<Instant> {
        self.state.0.lock().unwrap().first_next
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.state.1.notify_all();
    }
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let (head, body) = read_message(reader)?;
    let mut request_line = head.first()?.split_whitespace();
    let method = request_line.next()?.to_owned();
    let path = request_line.next()?.to_owned();
    let headers = head
        .iter()
        .skip(1)
        .filter_map(|h| h.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}

fn respond(stream: &mut TcpStream, status: &str, headers: &[(&str, String)], body: &[u8]) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\n", body.len());
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()
}

fn serve(stream: TcpStream, state: &Arc<(Mutex<State>, Condvar)>, stop: &AtomicBool) {
    let Ok(mut writer) = stream.try_clone() else { return };
    let mut reader = BufReader::new(stream);
    while let Some(req) = read_request(&mut reader) {
        let (lock, cvar) = &**state;
        let path = req.path.trim_start_matches("/2018-06-01/runtime/");
        if req.method == "GET" && path == "invocation/next" {
            let next = {
                let mut s = lock.lock().unwrap();
                s.first_next.get_or_insert_with(Instant::now);
                loop {
                    if let Some(e) = s.events.pop_front() {
                        break Some(e);
                    }
                    if stop.load(Ordering::SeqCst) {
                        break None;
                    }
                    s = cvar.wait_timeout(s, Duration::from_millis(50)).unwrap().0;
                }
            };
            let Some((id, event)) = next else { return };
            let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default() + Duration::from_secs(300);
            let headers = [
                ("content-type", "application/json".to_owned()),
                ("lambda-runtime-aws-request-id", id),
                ("lambda-runtime-deadline-ms", deadline.as_millis().to_string()),
                (
                    "lambda-runtime-invoked-function-arn",
                    "arn:aws:lambda:eu-west-1:123456789012:function:atrest-e2e".to_owned(),
                ),
                (
                    "lambda-runtime-trace-id",
                    "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1".to_owned(),
                ),
            ];
            if respond(&mut writer, "200 OK", &headers, event.to_string().as_bytes()).is_err() {
                return;
            }
            continue;
        }
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        let answer = if path == "init/error" {
            Some(("init".to_owned(), Answer::InitError(body)))
        } else if let Some(id) = path
            .strip_prefix("invocation/")
            .and_then(|p| p.strip_suffix("/response"))
        {
            Some((id.to_owned(), Answer::Response(body)))
        } else if let Some(id) = path.strip_prefix("invocation/").and_then(|p| p.strip_suffix("/error")) {
            let error_type = req
                .headers
                .iter()
                .find(|(k, _)| k == "lambda-runtime-function-error-type")
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            Some((id.to_owned(), Answer::Error { error_type, body }))
        } else {
            None
        };
        let status = match answer {
            Some(a) => {
                lock.lock().unwrap().answers.push(a);
                cvar.notify_all();
                "202 Accepted"
            }
            None => "404 Not Found",
        };
        if respond(
            &mut writer,
            status,
            &[("content-type", "application/json".to_owned())],
            b"{}",
        )
        .is_err()
        {
            return;
        }
    }
}
