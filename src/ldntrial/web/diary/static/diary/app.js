// Her daily diary: offline first. An entry is kept on the phone (IndexedDB) the moment she
// sends it, with the phone's time, and goes to the server whenever there is a connection:
// on load, when the connection returns, when the page is shown again, and on "Send now"
// (Background Sync does not exist on Safari or Firefox: standards.md EPRO-2). The server
// recognises a resent entry by its id, so nothing is stored twice (EPRO-6).
"use strict";

const ALL_STRINGS = JSON.parse(document.getElementById("strings").textContent);
let T = ALL_STRINGS.en;
const $ = (id) => document.getElementById(id);

// -- storage: one IndexedDB database, three stores ------------------------------------
// session: the device token and who she is; me: her diary as last seen (for offline);
// outbox: entries not yet accepted by the server, keyed by client_id (D2: nothing else).
function openStore() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open("ldntrial-diary", 1);
    request.onupgradeneeded = () => {
      const db = request.result;
      db.createObjectStore("session");
      db.createObjectStore("outbox", { keyPath: "client_id" });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function tx(store, mode, work) {
  const db = await openStore();
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(store, mode);
    const result = work(transaction.objectStore(store));
    transaction.oncomplete = () => resolve(result && "result" in result ? result.result : result);
    transaction.onerror = () => reject(transaction.error);
  });
}

const getKey = (key) => tx("session", "readonly", (s) => s.get(key));
const setKey = (key, value) => tx("session", "readwrite", (s) => s.put(value, key));
const outbox = () => tx("outbox", "readonly", (s) => s.getAll());
const keep = (entry) => tx("outbox", "readwrite", (s) => s.put(entry));
const drop = (id) => tx("outbox", "readwrite", (s) => s.delete(id));

// -- talking to the server ------------------------------------------------------------
async function api(path, options = {}) {
  const token = await getKey("token");
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  return fetch("/api/v1" + path, { ...options, headers, credentials: "omit" });
}

async function tradeLink(code) {
  const response = await api("/participant/session", {
    method: "POST",
    body: JSON.stringify({ code }),
  });
  history.replaceState(null, "", "/diary/"); // the code leaves the address bar and history
  if (response.status === 429) return "paused"; // too many refused codes from this network
  if (response.status !== 201) return "refused";
  const session = await response.json();
  await setKey("token", session.token);
  await setKey("language", session.language);
  return "ok";
}

async function loadMe() {
  try {
    const response = await api("/participant/me");
    if (response.status === 401) return { revoked: true };
    if (response.ok) {
      const me = await response.json();
      await setKey("me", me);
      return { me, online: true };
    }
  } catch (error) {
    // no connection: her diary as last seen
  }
  const me = await getKey("me");
  return { me, online: false };
}

let syncing = false;
async function sync() {
  if (syncing) return;
  syncing = true;
  try {
    for (const entry of await outbox()) {
      let response;
      try {
        response = await api("/diary/entries", { method: "POST", body: JSON.stringify(entry.body) });
      } catch (error) {
        break; // still offline; the next chance will try again
      }
      if (response.status === 201 || response.status === 200) {
        await drop(entry.client_id);
        lastStatus = T.sent;
      } else if (response.status === 422 || response.status === 409) {
        const problem = await response.json();
        const reasons = (problem.errors || []).map((e) => e.message).join("; ") || problem.detail;
        await drop(entry.client_id); // it can never be accepted as it is: say why, once
        lastStatus = T.refused.replace("{reason}", reasons);
      } else if (response.status === 401) {
        lastStatus = T.signed_out;
        break;
      } else {
        break; // the server is busy or down: keep it for later
      }
    }
  } finally {
    syncing = false;
    await renderOutbox();
  }
}

// -- the page -------------------------------------------------------------------------
let lastStatus = "";
let me = null;

function localParts(zone, when = new Date()) {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  }).formatToParts(when);
  const get = (type) => parts.find((p) => p.type === type).value;
  return { date: `${get("year")}-${get("month")}-${get("day")}`, time: `${get("hour")}:${get("minute")}` };
}

function addDays(isoDate, days) {
  const d = new Date(isoDate + "T12:00:00Z");
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

// The report day open now, worked out on the phone so that it is right offline too.
function openDay() {
  const { date, time } = localParts(me.timezone);
  const w = me.window;
  if (!w.closes_next_day) return time >= w.opens && time <= w.closes ? date : null;
  if (time >= w.opens) return date;
  return time <= w.closes ? addDays(date, -1) : null;
}

function isoWithOffset(when = new Date()) {
  const pad = (n) => String(Math.abs(n)).padStart(2, "0");
  const offset = -when.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  const local = new Date(when.getTime() + offset * 60000).toISOString().slice(0, 19);
  return `${local}${sign}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`;
}

function sayDate(isoDate) {
  return new Intl.DateTimeFormat(me.language, { weekday: "long", day: "numeric", month: "long", timeZone: "UTC" })
    .format(new Date(isoDate + "T12:00:00Z"));
}

function renderItems() {
  const box = $("items");
  box.replaceChildren();
  for (const item of me.items) {
    const wrap = document.createElement("div");
    wrap.className = "item";
    const id = "item-" + item.id;
    wrap.innerHTML =
      `<label for="${id}"></label><input type="range" id="${id}" name="${item.id}" ` +
      `min="${item.min}" max="${item.max}" step="1" value="${Math.round((item.min + item.max) / 2)}" ` +
      `aria-describedby="${id}-anchors"><div class="anchors" id="${id}-anchors">` +
      `<span></span><span></span></div><span class="value" id="${id}-value" aria-hidden="true"></span>`;
    wrap.querySelector("label").textContent = item.label;
    const [low, high] = wrap.querySelectorAll(".anchors span");
    low.textContent = item.low_anchor;
    high.textContent = item.high_anchor;
    const input = wrap.querySelector("input");
    // Until she moves it, the slider says "not set" (to the eye and to a screen reader).
    const value = wrap.querySelector(".value");
    value.textContent = T.not_set;
    input.setAttribute("aria-valuetext", T.not_set);
    input.dataset.touched = "";
    const touch = () => {
      input.dataset.touched = "yes";
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-valuetext");
      value.textContent = input.value;
    };
    input.addEventListener("input", touch);
    input.addEventListener("change", touch);
    box.append(wrap);
  }
  const list = $("effect-list");
  list.replaceChildren();
  for (const effect of me.side_effects) {
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.name = "side_effect";
    box.value = effect;
    label.append(box, " " + (T[effect] || effect.replaceAll("_", " ")));
    list.append(label);
  }
}

async function send(event) {
  event.preventDefault();
  if (!me) return;
  const day = openDay();
  if (!day) return;
  const items = {};
  let missing = null;
  for (const input of $("items").querySelectorAll("input[type=range]")) {
    const item = me.items.find((i) => i.id === input.name);
    if (input.dataset.touched) items[input.name] = Number(input.value);
    else if (item.required) {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-valuetext", T.missing);
      $(input.id + "-value").textContent = T.missing;
      missing = missing || input;
    }
  }
  if (missing) {
    missing.focus();
    return;
  }
  const side_effects = [...document.querySelectorAll("input[name=side_effect]:checked")].map((b) => b.value);
  const client_id = crypto.randomUUID();
  const body = { client_id, diary_date: day, recorded_at: isoWithOffset(), items, side_effects };
  await keep({ client_id, body });
  await setKey("entered", day);
  lastStatus = T.waiting;
  renderToday();
  await renderOutbox();
  await sync();
}

async function renderOutbox() {
  const waiting = await outbox();
  $("outbox").hidden = waiting.length === 0;
  $("waiting").textContent = T.waiting_count.replace("{n}", waiting.length);
  if (waiting.length && !navigator.onLine) lastStatus = T.waiting;
  $("status").textContent = lastStatus;
}

async function renderToday() {
  const { date } = localParts(me.timezone);
  const day = openDay();
  const entered = (await getKey("entered")) === day || (me.entered_today && me.report_day === day);
  const studyDay = Math.round((Date.parse(date) - Date.parse(me.first_day)) / 86400000) + 1;
  $("progress").textContent = T.day_of.replace("{day}", Math.min(studyDay, me.total_days)).replace("{total}", me.total_days);
  const inStudy = day && day >= me.first_day && day <= me.last_day;
  $("entry").hidden = !inStudy || entered;
  $("done").hidden = !(inStudy && entered);
  $("change").hidden = !(inStudy && entered);
  if (date > me.last_day && !inStudy) {
    $("window").textContent = T.ended;
  } else if (inStudy) {
    const closesOn = me.window.closes_next_day ? addDays(day, 1) : day;
    $("window").textContent = T.open_until.replace("{date}", sayDate(day))
      .replace("{time}", `${me.window.closes} (${sayDate(closesOn)})`);
  } else {
    const next = localParts(me.timezone).time < me.window.opens ? date : addDays(date, 1);
    $("window").textContent = T.next_opens.replace("{date}", sayDate(next)).replace("{time}", me.window.opens);
  }
}

function renderCalendar() {
  $("calendar-title").textContent = T.calendar;
  const visits = $("visits");
  visits.replaceChildren();
  for (const visit of me.visits) {
    const li = document.createElement("li");
    li.textContent = `${T.visit.replace("{n}", visit.visit)}: ${sayDate(visit.date)}`;
    visits.append(li);
  }
  const periods = $("periods");
  periods.replaceChildren();
  for (const period of me.periods || []) {
    const li = document.createElement("li");
    li.textContent = `${period.label}: ${sayDate(period.first)} – ${sayDate(period.last)}`;
    periods.append(li);
  }
  $("calendar").hidden = false;
}

function applyLanguage(language) {
  T = ALL_STRINGS[language] || ALL_STRINGS.en;
  document.documentElement.lang = ALL_STRINGS[language] ? language : "en";
  document.title = T.title;
  $("title").textContent = T.title;
  $("hint").textContent = T.move_each;
  $("effects-legend").textContent = T.side_effects;
  $("send").textContent = T.send;
  $("send-now").textContent = T.send_now;
  $("done").textContent = T.done_today;
  $("change").textContent = T.change;
  $("forget").textContent = T.forget;
  $("set-pin").textContent = T.pin_set;
  $("report").textContent = T.report;
}

// An optional PIN, checked on the phone (the diary must open offline): only a salted
// PBKDF2 hash of it is kept, so someone who picks up her phone cannot read or send.
async function pinHash(pin, salt) {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(pin), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", salt, iterations: 200000, hash: "SHA-256" }, key, 256);
  return [...new Uint8Array(bits)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function askPin(label) {
  return new Promise((resolve) => {
    const form = $("pin");
    $("pin-label").textContent = label;
    $("pin-button").textContent = T.pin_open;
    form.hidden = false;
    $("pin-code").value = "";
    $("pin-code").focus();
    form.onsubmit = (event) => {
      event.preventDefault();
      if (!/^[0-9]{4,8}$/.test($("pin-code").value)) return;
      form.hidden = true;
      resolve($("pin-code").value);
    };
  });
}

async function unlock() {
  const kept = await getKey("pin");
  if (!kept) return;
  for (;;) {
    const pin = await askPin(T.pin_enter);
    if ((await pinHash(pin, kept.salt)) === kept.hash) return;
    $("status").textContent = T.pin_wrong;
  }
}

async function setPin() {
  const pin = await askPin(T.pin_new);
  const salt = crypto.getRandomValues(new Uint8Array(16));
  await setKey("pin", { salt, hash: await pinHash(pin, salt) });
  $("set-pin").hidden = true;
  $("status").textContent = T.pin_saved;
}

// Her N-of-1 report, once her physician has released it: fetched with her token and
// shown as the self-contained page it is.
async function openReport() {
  const response = await api("/participant/report");
  if (!response.ok) return;
  const page = new Blob([await response.text()], { type: "text/html" });
  location.assign(URL.createObjectURL(page));
}

async function forget() {
  const waiting = await outbox();
  if (waiting.length && !confirm(T.forget_unsent)) return;
  indexedDB.deleteDatabase("ldntrial-diary");
  location.replace("/diary/");
}

async function start() {
  // Listeners first, before anything waits: a quick tap must never submit the form natively.
  $("entry").addEventListener("submit", send);
  $("send-now").addEventListener("click", sync);
  $("change").addEventListener("click", () => {
    $("entry").hidden = false;
    $("done").hidden = true;
    $("change").hidden = true;
  });
  $("forget").addEventListener("click", forget);
  $("report").addEventListener("click", openReport);
  $("set-pin").addEventListener("click", setPin);
  window.addEventListener("online", sync);
  document.addEventListener("visibilitychange", () => document.visibilityState === "visible" && sync());
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/diary/sw.js", { scope: "/diary/" });
  applyLanguage((await getKey("language")) || document.documentElement.lang);
  // Her link: /diary/#code=... (a fragment is never sent to the server, so never logged).
  const match = location.hash.match(/^#code=([A-Za-z0-9_-]+)$/);
  const traded = match ? await tradeLink(match[1]) : "ok";
  if (traded !== "ok") {
    $("status").textContent = traded === "paused" ? T.link_paused : T.link_refused;
    return;
  }
  if (!(await getKey("token"))) {
    $("status").textContent = T.open_link;
    return;
  }
  await unlock();
  const seen = await loadMe();
  if (seen.revoked) {
    $("status").textContent = T.signed_out;
    return;
  }
  if (!seen.me) {
    $("status").textContent = T.offline;
    return;
  }
  me = seen.me;
  applyLanguage(me.language);
  if (!seen.online) lastStatus = T.offline;
  renderItems();
  await renderToday();
  renderCalendar();
  $("today").hidden = false;
  $("forget").hidden = false;
  $("set-pin").hidden = Boolean(await getKey("pin"));
  $("report").hidden = !me.report_released;
  await renderOutbox();
  await sync();
}

start();
