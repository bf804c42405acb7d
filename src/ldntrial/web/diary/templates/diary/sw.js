// The diary's service worker: keeps the page, its script and its style for offline use.
// API answers are never kept (standards.md SEC-WF-7); entries wait in IndexedDB instead.
const SHELL = {{ shell|safe }};
const CACHE = "ldntrial-diary-" + {{ version|safe }};

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin) return;
  if (url.pathname.startsWith("/api/")) return;  // always the network
  const page = url.pathname === "/diary/";
  const key = page ? "/diary/" : url.pathname;
  if (page || SHELL.includes(url.pathname)) {
    // The network first, so a new version arrives; the kept copy when there is none.
    event.respondWith(
      fetch(event.request).then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(key, copy));
        }
        return response;
      }).catch(() => caches.match(key))
    );
  }
});
