// Live campaign progress: follows the server-sent events and updates the bar and the percentage.
// Without JavaScript the page refreshes itself (meta refresh), so this is an improvement, not a need.
(function () {
  var section = document.getElementById('progress');
  if (!section || !window.EventSource) return;
  var refresh = document.querySelector('meta[http-equiv="refresh"]');
  if (refresh) refresh.parentNode.removeChild(refresh);
  var bar = section.querySelector('progress');
  var percent = section.querySelector('[data-field="percent"]');
  var source = new EventSource(section.getAttribute('data-events'));
  source.addEventListener('progress', function (event) {
    var data = JSON.parse(event.data);
    var value = data.total > 0 ? Math.floor((100 * data.settled) / data.total) : 0;
    bar.value = value;
    percent.textContent = String(value);
    if (data.fanoutDone && data.settled >= data.total) {
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
