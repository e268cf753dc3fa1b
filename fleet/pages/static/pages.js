// fleet pages: progressive enhancement only; every page works without this file.
(function () {
  "use strict";
  // After signing in, send the action that was started before the session ended.
  var resume = document.querySelector("form[data-autosubmit]");
  if (resume) { resume.submit(); }
  // Buttons that ask before they act: data-confirm="question".
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var question = (button && button.getAttribute("data-confirm")) || event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });
})();
// Proof of visit (the field visit page): only when the box is ticked, ask the browser for
// the phone's position. (In this file, not inline: the pages' CSP runs no inline script.)
(function () {
  var box = document.getElementById("f-share_location");
  if (!box || !navigator.geolocation) { return; }
  var form = box.form, status = document.getElementById("proof-status"), sending = false;
  function put(lat, lng, acc) { form.lat.value = lat; form.lng.value = lng; form.accuracy_m.value = acc; }
  function done() { if (sending) { form.submit(); } }
  function locate() {
    status.textContent = box.dataset.finding;
    navigator.geolocation.getCurrentPosition(function (p) {
      put(p.coords.latitude.toFixed(6), p.coords.longitude.toFixed(6), Math.round(p.coords.accuracy));
      status.textContent = box.dataset.found.replace("{m}", Math.round(p.coords.accuracy));
      done();
    }, function () { put("", "", ""); status.textContent = box.dataset.failed; done(); },
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  }
  box.addEventListener("change", function () { put("", "", ""); if (box.checked) { locate(); } else { status.textContent = ""; } });
  form.addEventListener("submit", function (event) {
    if (box.checked && !form.lat.value) { event.preventDefault(); sending = true; locate(); }
  });
  if (box.checked && !form.lat.value) { locate(); }
})();
