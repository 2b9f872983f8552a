// Vigil's only page-wide script (no inline scripts: the Content-Security-Policy forbids them).
// The browser's time zone, for dates shown in it; the server falls back to UTC until it knows.
(function () {
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    return;
  }
  if (!zone) return;
  var cookie = 'vigil_tz=' + encodeURIComponent(zone);
  if (document.cookie.split('; ').indexOf(cookie) === -1) {
    document.cookie = cookie + '; path=/web; max-age=31536000; samesite=lax';
  }
})();
