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
(async () => {
  const r = await control("/.corsproof-confirm/jobs", { cache: "no-store" });
  const b = JSON.parse(r.body);
  const results = [];
  for (const job of b.jobs) {
    await control("/.corsproof-confirm/arm/" + job.key, { cache: "no-store" });
    const result = job.step.api === "xhr" ? await runXhr(job.step) : await runFetch(job.step);
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
