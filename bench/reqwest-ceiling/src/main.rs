//! The ceiling for wx-openapi-native on this machine: a bare reqwest client sending the same
//! message with the same concurrency, as a Rust program would with no JS in the way.
//!
//! Same protocol as bench/lib/worker.js: fetch the token (POST /cgi-bin/stable_token), warm up at
//! the concurrency for `--warmup-seconds`, print `@@bench {"type":"ready",...}`, wait for a line
//! on stdin, send `--n` messages (or, with `--target-seconds`, as many as the warm-up rate says
//! fill that time), print `@@bench {"type":"result",...}`.
//!
//! Trust: the platform verifier, as the addon's (`SSL_CERT_FILE` is read by rustls-native-certs).

use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

#[derive(Serialize)]
struct Text<'a> {
  content: &'a str,
}

#[derive(Serialize)]
struct Message<'a> {
  touser: &'a str,
  msgtype: &'a str,
  text: Text<'a>,
}

const MESSAGE: Message<'static> = Message {
  touser: "OPENID",
  msgtype: "text",
  text: Text {
    content: "Hello World",
  },
};

#[derive(Deserialize)]
struct Token {
  access_token: String,
}

#[derive(Deserialize)]
struct Reply {
  errcode: i64,
}

struct Args {
  base: String,
  concurrency: usize,
  n: Option<usize>,
  target_seconds: f64,
  warmup_seconds: f64,
  http1_only: bool,
  threads: Option<usize>,
}

fn parse_args() -> Args {
  let mut args = Args {
    base: String::new(),
    concurrency: 1,
    n: None,
    target_seconds: 2.5,
    warmup_seconds: 1.0,
    http1_only: false,
    threads: None,
  };
  let mut it = std::env::args().skip(1);
  while let Some(flag) = it.next() {
    let mut value = || it.next().unwrap_or_else(|| panic!("{flag} wants a value"));
    match flag.as_str() {
      "--base" => args.base = value(),
      "--concurrency" => args.concurrency = value().parse().expect("--concurrency"),
      "--n" => args.n = Some(value().parse().expect("--n")),
      "--target-seconds" => args.target_seconds = value().parse().expect("--target-seconds"),
      "--warmup-seconds" => args.warmup_seconds = value().parse().expect("--warmup-seconds"),
      "--threads" => args.threads = Some(value().parse().expect("--threads")),
      "--http1-only" => args.http1_only = true,
      other => panic!("unknown argument {other}"),
    }
  }
  assert!(!args.base.is_empty(), "--base is required");
  args
}

fn cpu_seconds() -> (f64, f64) {
  let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
  unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
  let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
  (secs(usage.ru_utime), secs(usage.ru_stime))
}

fn max_rss_kb() -> i64 {
  let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
  unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
  usage.ru_maxrss
}

async fn send_one(client: &reqwest::Client, url: &reqwest::Url) -> Result<(), String> {
  let body = serde_json::to_vec(&MESSAGE).map_err(|e| e.to_string())?;
  let response = client
    .post(url.clone())
    .header(reqwest::header::CONTENT_TYPE, "application/json; charset=utf-8")
    .body(body)
    .send()
    .await
    .map_err(|e| format!("{e:?}"))?;
  let status = response.status();
  let bytes = response.bytes().await.map_err(|e| format!("{e:?}"))?;
  let reply: Reply = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
  if !status.is_success() || reply.errcode != 0 {
    return Err(format!("HTTP {status}: {}", String::from_utf8_lossy(&bytes)));
  }
  Ok(())
}

struct Phase {
  count: usize,
  errors: usize,
  first_error: Option<String>,
  latencies_ms: Vec<f64>,
  seconds: f64,
}

/// `concurrency` tasks over one client, each sending until `n` messages are taken (or, with no
/// `n`, until `deadline` and at least 3 messages per task, so every task has had its connection).
async fn run_phase(
  client: &reqwest::Client,
  url: &reqwest::Url,
  concurrency: usize,
  n: Option<usize>,
  deadline: Option<Instant>,
) -> Phase {
  let taken = Arc::new(AtomicUsize::new(0));
  let stop = Arc::new(AtomicBool::new(false));
  let start = Instant::now();
  let mut tasks = Vec::with_capacity(concurrency);
  for _ in 0..concurrency {
    let (client, url, taken, stop) = (client.clone(), url.clone(), taken.clone(), stop.clone());
    tasks.push(tokio::spawn(async move {
      let mut latencies = Vec::new();
      let mut errors = 0usize;
      let mut first_error = None;
      loop {
        if let Some(n) = n {
          if taken.fetch_add(1, Ordering::Relaxed) >= n {
            break;
          }
        } else if stop.load(Ordering::Relaxed)
          || (Instant::now() >= deadline.unwrap() && taken.load(Ordering::Relaxed) >= 3 * concurrency)
        {
          stop.store(true, Ordering::Relaxed);
          break;
        } else {
          taken.fetch_add(1, Ordering::Relaxed);
        }
        let t = Instant::now();
        if let Err(e) = send_one(&client, &url).await {
          errors += 1;
          first_error.get_or_insert(e);
        }
        latencies.push(t.elapsed().as_secs_f64() * 1e3);
      }
      (latencies, errors, first_error)
    }));
  }
  let mut phase = Phase {
    count: 0,
    errors: 0,
    first_error: None,
    latencies_ms: Vec::new(),
    seconds: 0.0,
  };
  for task in tasks {
    let (latencies, errors, first_error) = task.await.expect("a sending task panicked");
    phase.latencies_ms.extend(latencies);
    phase.errors += errors;
    if phase.first_error.is_none() {
      phase.first_error = first_error;
    }
  }
  phase.seconds = start.elapsed().as_secs_f64();
  phase.count = phase.latencies_ms.len();
  phase
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
  if sorted.is_empty() {
    return f64::NAN;
  }
  sorted[((sorted.len() - 1) as f64 * p).floor() as usize]
}

fn report(value: serde_json::Value) {
  let mut out = std::io::stdout().lock();
  writeln!(out, "@@bench {value}").unwrap();
  out.flush().unwrap();
}

fn main() {
  let args = parse_args();
  let _ = rustls::crypto::ring::default_provider().install_default();
  let mut runtime = tokio::runtime::Builder::new_multi_thread();
  runtime.enable_all();
  if let Some(threads) = args.threads {
    runtime.worker_threads(threads);
  }
  let runtime = runtime.build().expect("tokio runtime");

  let mut builder = reqwest::Client::builder()
    .redirect(reqwest::redirect::Policy::none())
    .pool_idle_timeout(Duration::from_secs(50))
    .tcp_nodelay(true)
    .timeout(Duration::from_secs(10));
  if args.http1_only {
    builder = builder.http1_only();
  }
  let client = builder.build().expect("reqwest client");

  let (url, warmup) = runtime.block_on(async {
    let token: Token = {
      let body = serde_json::json!({
        "grant_type": "client_credential",
        "appid": "wxbench0000000000",
        "secret": "bench-secret",
        "force_refresh": false,
      });
      let response = client
        .post(format!("{}/cgi-bin/stable_token", args.base))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("stable_token request");
      serde_json::from_slice(&response.bytes().await.expect("stable_token body")).expect("stable_token JSON")
    };
    let url = reqwest::Url::parse(&format!(
      "{}/cgi-bin/message/custom/send?access_token={}",
      args.base, token.access_token
    ))
    .expect("send URL");
    // Two halves, as bench/lib/worker.js: the second gives the steady rate that n is chosen from.
    let half = Duration::from_secs_f64(args.warmup_seconds / 2.0);
    let first = run_phase(&client, &url, args.concurrency, None, Some(Instant::now() + half)).await;
    let mut warmup = run_phase(&client, &url, args.concurrency, None, Some(Instant::now() + half)).await;
    warmup.errors += first.errors;
    if warmup.first_error.is_none() {
      warmup.first_error = first.first_error;
    }
    let steady_rate = warmup.count as f64 / warmup.seconds;
    warmup.count += first.count;
    (url, (warmup, steady_rate))
  });
  let (warmup, rate) = warmup;
  if warmup.errors > 0 {
    eprintln!("warm-up errors: {} (first: {:?})", warmup.errors, warmup.first_error);
  }
  let n = args
    .n
    .unwrap_or_else(|| ((rate * args.target_seconds).ceil() as usize).max(args.concurrency * 4));
  report(serde_json::json!({
    "type": "ready", "n": n, "warmup": { "count": warmup.count, "seconds": warmup.seconds, "errors": warmup.errors },
  }));

  let mut line = String::new();
  std::io::stdin().lock().read_line(&mut line).expect("stdin");

  let (u0, s0) = cpu_seconds();
  let mut phase = runtime.block_on(run_phase(&client, &url, args.concurrency, Some(n), None));
  let (u1, s1) = cpu_seconds();
  phase.latencies_ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
  report(serde_json::json!({
    "type": "result",
    "count": phase.count,
    "seconds": phase.seconds,
    "cpuUser": u1 - u0,
    "cpuSys": s1 - s0,
    "p50": percentile(&phase.latencies_ms, 0.50),
    "p99": percentile(&phase.latencies_ms, 0.99),
    "errors": phase.errors,
    "firstError": phase.first_error,
    "maxRssKb": max_rss_kb(),
  }));
}
