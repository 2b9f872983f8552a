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

// Destructive actions ask first: a form or button with `data-confirm="question"` is sent only when confirmed.
document.addEventListener(
  'submit',
  function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var question =
      (submitter && submitter.getAttribute('data-confirm')) || (form && form.getAttribute('data-confirm'));
    if (question && !document.defaultView.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  },
  true,
);
