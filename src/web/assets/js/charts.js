// Time-series charts with uPlot, from the page's <script type="application/json" id="chart-data"> block:
// { from, to, times: [unix seconds], timeZone, locale, timeLabel, series: [{ id, label, values }] }, one chart per series
// into the element `id`. The x-axis is exactly [from, to] (the requested range); null values are gaps.
(function () {
  var charts = {};
  window.vigilCharts = charts;
  function draw() {
    var source = document.getElementById('chart-data');
    if (!source || typeof uPlot === 'undefined') return;
    var data = JSON.parse(source.textContent || '{}');
    var timeZone = data.timeZone || 'UTC';
    var locale = document.documentElement.lang || data.locale || undefined;
    var tzDate = function (ts) {
      return uPlot.tzDate(new Date(ts * 1000), timeZone);
    };
    var span = (data.to || 0) - (data.from || 0);
    // Axis labels and the legend's date in the reader's language, through Intl (uPlot's own names are English).
    var tickFormat = new Intl.DateTimeFormat(
      locale,
      span <= 2 * 86400
        ? { hour: '2-digit', minute: '2-digit', timeZone: timeZone }
        : { day: 'numeric', month: 'short', timeZone: timeZone },
    );
    // Daily buckets (30 days) are days: their legend shows no time of day.
    var legendFormat = new Intl.DateTimeFormat(
      locale,
      span > 14 * 86400
        ? { dateStyle: 'medium', timeZone: timeZone }
        : { dateStyle: 'medium', timeStyle: 'short', timeZone: timeZone },
    );
    var number = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
    (data.series || []).forEach(function (serie) {
      var target = document.getElementById(serie.id);
      if (!target) return;
      target.textContent = '';
      var drawn = serie.values.filter(function (v) {
        return v !== null;
      }).length;
      target.setAttribute('data-points', String(drawn));
      var width = Math.max(240, target.clientWidth || 600);
      charts[serie.id] = new uPlot(
        {
          width: width,
          height: 200,
          tzDate: tzDate,
          scales: {
            x: {
              time: true,
              range: function () {
                return [data.from, data.to];
              },
            },
          },
          series: [
            {
              label: data.timeLabel || 'Time',
              value: function (u, ts) {
                return ts == null ? '–' : legendFormat.format(new Date(ts * 1000));
              },
            },
            {
              label: serie.label,
              stroke: '#1f5fbf',
              width: 2,
              spanGaps: false,
              value: function (u, v) {
                return v == null ? '–' : number.format(v);
              },
            },
          ],
          axes: [
            {
              values: function (u, ticks) {
                return ticks.map(function (ts) {
                  return tickFormat.format(new Date(ts * 1000));
                });
              },
            },
            {
              size: 50,
              // uPlot formats with the browser's language; the reader's is the page's.
              values: function (u, ticks) {
                return ticks.map(function (v) {
                  return number.format(v);
                });
              },
            },
          ],
        },
        [data.times, serie.values],
        target,
      );
    });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', draw);
  else draw();
})();
