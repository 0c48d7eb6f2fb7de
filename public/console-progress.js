// Live campaign progress: follows the server-sent events and updates the bar and the percentage.
// Without JavaScript the page refreshes itself (meta refresh), so this is an improvement, not a need.
(function () {
  // Only a live campaign's page follows events; a finished one is shown as it is.
  var section = document.getElementById('progress');
  var events = section && section.getAttribute('data-events');
  if (!events || !window.EventSource) return;
  var shownStatus = section.getAttribute('data-status');
  var refresh = document.querySelector('meta[http-equiv="refresh"]');
  if (refresh) refresh.parentNode.removeChild(refresh);
  var bar = section.querySelector('progress');
  var percent = section.querySelector('[data-field="percent"]');
  var source = new EventSource(events);
  source.addEventListener('progress', function (event) {
    var data = JSON.parse(event.data);
    var value = data.percent;
    bar.value = value;
    percent.textContent = String(value);
    // Reload once the campaign's status changes (completed, paused…), not merely at 100%: the status
    // moves a little after the last message settles, and reloading before it would loop.
    if (data.status !== shownStatus) {
      source.close();
      window.location.reload();
    }
  });
  source.addEventListener('error', function () {
    source.close();
    setTimeout(function () {
      window.location.reload();
    }, 5000);
  });
})();
