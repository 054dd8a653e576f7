// Live progress on a job page: poll the job until it finishes, then show its summary.
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box) { return; }
  var status = box.getAttribute("data-status");
  if (status !== "queued" && status !== "running") { return; }
  var id = box.getAttribute("data-job-id");
  var bar = document.getElementById("job-progress");
  var note = document.getElementById("job-note");
  var label = document.getElementById("job-status");
  function poll() {
    fetch("/admin/jobs/" + id + ".json", { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (job) {
        label.textContent = job.status;
        label.className = "status status-" + job.status;
        if (job.percent !== null) { bar.value = job.percent; bar.textContent = job.percent + "%"; }
        note.textContent = job.progress_note || "";
        if (job.status === "succeeded" || job.status === "failed") {
          window.location.reload();
        } else {
          window.setTimeout(poll, 800);
        }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
