// Pre-select the phone's own time zone in a time zone list; without script the clinic's default stays.
(function () {
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone) { return; }
  document.querySelectorAll("select[data-detect-zone]").forEach(function (select) {
    if (select.dataset.touched) { return; }
    var found = Array.prototype.some.call(select.options, function (o) { return o.value === zone; });
    if (!found) { select.add(new Option(zone, zone)); }
    select.value = zone;
  });
})();
