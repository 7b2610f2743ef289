//! The confirm page, served on each finding's own origin: it fetches the jobs of its origin,
//! runs them one after the other (arming each first, so the proxy files what reaches the
//! target under it), posts what script saw, and goes on to the next origin's page.

/// The page's HTML (the script inline).
pub const PAGE: &str = concat!(
    r#"<!doctype html>
<meta charset="utf-8">
<title>corsproof confirm</title>
<script>
"use strict";
"#,
    crate::page::runners!(),
    r#"
// A case from an opaque origin runs in a frame sandboxed to scripts only (its origin is
// `null`), which gets the step by message and posts back what its script saw.
const FRAME_SCRIPT = "\"use strict\";const STEP_TIMEOUT_MS = " + STEP_TIMEOUT_MS + ";" +
  makeBody.toString() + runFetch.toString() + runXhr.toString() +
  "onmessage = async (e) => { const s = e.data;" +
  " const r = s.api === \"xhr\" ? await runXhr(s) : await runFetch(s); parent.postMessage(r, \"*\"); };";
function runSandboxed(step) {
  return new Promise((resolve) => {
    const frame = document.createElement("iframe");
    frame.setAttribute("sandbox", "allow-scripts");
    let timer = null;
    const done = (r) => {
      clearTimeout(timer);
      window.removeEventListener("message", onMessage);
      frame.remove();
      resolve(r);
    };
    const onMessage = (e) => { if (e.source === frame.contentWindow) done(e.data); };
    window.addEventListener("message", onMessage);
    timer = setTimeout(() => done({ resolved: false, error: "sandboxed frame timed out" }),
      STEP_TIMEOUT_MS + 5000);
    frame.onload = () => frame.contentWindow.postMessage(step, "*");
    frame.srcdoc = "<script>" + FRAME_SCRIPT + "<" + "/script>";
    (document.body || document.documentElement).appendChild(frame);
  });
}
(async () => {
  const r = await control("/.corsproof-confirm/jobs", { cache: "no-store" });
  const b = JSON.parse(r.body);
  const results = [];
  for (const job of b.jobs) {
    await control("/.corsproof-confirm/arm/" + job.key, { cache: "no-store" });
    const result = job.sandboxed ? await runSandboxed(job.step)
      : job.step.api === "xhr" ? await runXhr(job.step) : await runFetch(job.step);
    result.key = job.key;
    results.push(result);
  }
  await control("/.corsproof-confirm/arm/-", { cache: "no-store" });
  await control("/.corsproof-confirm/report", { method: "POST", body: JSON.stringify({ results }) });
  if (b.next) location.href = b.next; else document.title = "done";
})().catch((e) => fetch("/.corsproof-confirm/report",
  { method: "POST", body: JSON.stringify({ fatal: String(e) }) }));
</script>
"#
);
