// Time-series charts with uPlot, from the page's <script type="application/json" id="chart-data"> block:
// { times: [unix seconds], timeZone, series: [{ id, label, values }] }, one chart per series into the element `id`.
(function () {
  function draw() {
    var source = document.getElementById('chart-data');
    if (!source || typeof uPlot === 'undefined') return;
    var data = JSON.parse(source.textContent || '{}');
    var tzDate = function (ts) {
      return uPlot.tzDate(new Date(ts * 1000), data.timeZone || 'UTC');
    };
    (data.series || []).forEach(function (serie) {
      var target = document.getElementById(serie.id);
      if (!target) return;
      target.textContent = '';
      var width = Math.max(280, target.clientWidth || 600);
      new uPlot(
        {
          width: width,
          height: 200,
          tzDate: tzDate,
          series: [{}, { label: serie.label, stroke: '#1f5fbf', width: 2, spanGaps: false }],
          axes: [{}, { size: 50 }],
        },
        [data.times, serie.values],
        target,
      );
    });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', draw);
  else draw();
})();
