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
