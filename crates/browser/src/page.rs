//! The page the browser loads from the page origin: it pulls batches of jobs, runs each job's
//! steps with `fetch()` (or XHR with an upload listener, R13), and posts what script could
//! observe back to the page origin. A job's steps run in order (a cache sequence waits until
//! each step's time); the jobs of a batch run concurrently.

/// The script functions both pages share: `sleep`, the body kinds, `control` (the page's own
/// requests to its origin, retried), `runFetch` and `runXhr` (one step, what script saw).
macro_rules! runners {
    () => {
        r#"const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const STEP_TIMEOUT_MS = 15000;
function makeBody(kind) {
  if (kind === null || kind === undefined) return undefined;
  if (kind === "text") return "x";
  if (kind === "urlsearchparams") return new URLSearchParams("a=b");
  if (kind === "formdata") { const f = new FormData(); f.append("a", "b"); return f; }
  if (kind === "blob") return new Blob(["x"]);
  if (kind.startsWith("blob:")) return new Blob(["x"], { type: kind.slice(5) });
  return "x";
}
// The page's own requests to its origin (batches, arming, reports) are retried: a keep-alive
// connection closed under it must not end the run.
async function control(url, init) {
  let last = null;
  for (let attempt = 0; attempt < 6; attempt++) {
    try {
      const r = await fetch(url, init);
      const body = await r.text();
      return { status: r.status, body };
    } catch (e) {
      last = e;
      await sleep(100 * (attempt + 1));
    }
  }
  throw new Error("control request " + url + " failed: " + last);
}
async function runFetch(s) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), STEP_TIMEOUT_MS);
  try {
    const init = { method: s.method, headers: s.headers, credentials: s.credentials,
                   mode: s.mode, redirect: s.redirect, signal: ctl.signal };
    if (s.cache) init.cache = s.cache;
    const b = makeBody(s.body);
    if (b !== undefined) init.body = b;
    const r = await fetch(s.url, init);
    const names = [];
    for (const k of r.headers.keys()) names.push(k);
    try { await r.arrayBuffer(); } catch (e) {}
    return { resolved: true, type: r.type, status: r.status, headers: names };
  } catch (e) {
    return { resolved: false, error: String(e) };
  } finally {
    clearTimeout(timer);
  }
}
function runXhr(s) {
  return new Promise((resolve) => {
    const x = new XMLHttpRequest();
    const fail = (what) => () => resolve({ resolved: false, error: "xhr " + what });
    try {
      x.open(s.method, s.url, true);
      x.timeout = STEP_TIMEOUT_MS;
      x.withCredentials = s.credentials === "include";
      for (const [n, v] of s.headers) x.setRequestHeader(n, v);
      if (s.upload_listener) x.upload.addEventListener("progress", () => {});
      x.onload = () => {
        const names = x.getAllResponseHeaders().split("\r\n")
          .filter((l) => l.includes(":")).map((l) => l.slice(0, l.indexOf(":")).toLowerCase());
        resolve({ resolved: true, type: null, status: x.status, headers: names });
      };
      x.onerror = fail("error");
      x.ontimeout = fail("timeout");
      x.onabort = fail("abort");
      const b = makeBody(s.body);
      x.send(b === undefined ? null : b);
    } catch (e) {
      resolve({ resolved: false, error: String(e) });
    }
  });
}
"#
    };
}

pub(crate) use runners;

/// The page's HTML (the script inline).
pub const PAGE: &str = concat!(
    r#"<!doctype html>
<meta charset="utf-8">
<title>corsproof browser differential</title>
<script>
"use strict";
// A cookie for the page's host: credentialed requests to it carry `Cookie: corsproof=1`.
document.cookie = "corsproof=1; path=/";
"#,
    runners!(),
    r#"async function runJob(job) {
  const t0 = performance.now();
  const steps = [];
  for (let i = 0; i < job.steps.length; i++) {
    const s = job.steps[i];
    const wait = t0 + s.at_ms - performance.now();
    if (wait > 0) await sleep(wait);
    if (job.steps.length > 1) {
      await control("/arm/" + job.key + "/" + i, { cache: "no-store" });
    }
    const started = performance.now() - t0;
    const result = s.api === "xhr" ? await runXhr(s) : await runFetch(s);
    result.at_ms = started;
    steps.push(result);
  }
  return { key: job.key, steps };
}
(async () => {
  for (;;) {
    const r = await control("/next", { cache: "no-store" });
    const b = JSON.parse(r.body);
    if (b.done) break;
    const results = await Promise.all(b.jobs.map(runJob));
    await control("/report", { method: "POST", body: JSON.stringify({ results }) });
  }
  document.title = "done";
})().catch((e) => fetch("/report", { method: "POST", body: JSON.stringify({ fatal: String(e) }) }));
</script>
"#
);
